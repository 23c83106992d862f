"""Fix Joey NMT 2.3.0's RecurrentEncoder for bidirectional: False.

Upstream always reads the backward direction's final state (hidden_layerwise[-1:, 1]) and raises
IndexError for a unidirectional encoder; this feeds only the forward final state in that case.
Run with the Joey venv's python; idempotent."""

import pathlib

import joeynmt.encoders as enc

path = pathlib.Path(enc.__file__)
src = path.read_text()
OLD = """        bwd_hidden_last = hidden_layerwise[-1:, 1]

        # only feed the final state of the top-most layer to the decoder
        # pylint: disable=no-member
        hidden_concat = torch.cat([fwd_hidden_last, bwd_hidden_last], dim=2).squeeze(0)"""
NEW = """        if self.rnn.bidirectional:
            bwd_hidden_last = hidden_layerwise[-1:, 1]
            hidden_concat = torch.cat([fwd_hidden_last, bwd_hidden_last], dim=2).squeeze(0)
        else:  # patched (bench/peers/patch_joey.py): unidirectional encoder
            hidden_concat = fwd_hidden_last.squeeze(0)"""
if "patched (bench/peers/patch_joey.py)" in src:
    print("already patched:", path)
else:
    assert OLD in src, f"unexpected encoders.py, cannot patch {path}"
    path.write_text(src.replace(OLD, NEW))
    print("patched:", path)

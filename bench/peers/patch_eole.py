"""Fix Eole 0.6.4's StdRNNDecoder (input_feed 0, the no-attention model) for CPU training.

Without attention the decoder returns the LSTM's batch_first output as is; on CPU that is a
transposed, non-contiguous view, and the loss's `_bottle` (`.view(-1, hidden)`) raises "view size is
not compatible with input tensor's size and stride" at step 1.  This makes that output contiguous
(one copy of the batch x tgt_len x 512 decoder states per step).  Run with the Eole venv's python;
idempotent."""

import pathlib

import eole.decoders.rnn_decoder as dec

path = pathlib.Path(dec.__file__)
src = path.read_text()
OLD = """        if not self.attentional:
            dec_outs = rnn_out
"""
NEW = """        if not self.attentional:  # patched (bench/peers/patch_eole.py) for .view
            dec_outs = rnn_out.contiguous()
"""
if "patched (bench/peers/patch_eole.py)" in src:
    print("already patched:", path)
else:
    assert src.count(OLD) == 1, f"unexpected rnn_decoder.py, cannot patch {path}"
    path.write_text(src.replace(OLD, NEW))
    print("patched:", path)

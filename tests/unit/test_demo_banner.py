"""The demo's banner names the model its config builds, not always the paper's LSTM."""

from seq2seq.config import load_config
from seq2seq.demo import demo_config_path, describe


def banner(*overrides: str) -> str:
    return describe(load_config(demo_config_path(), list(overrides)))


def test_default_demo_is_announced_as_the_papers_model():
    text = banner()
    assert "Sutskever" in text and "no attention" in text and "reversed source" in text


def test_attention_and_transformer_demos_are_not():
    attn = banner(
        "model.attention=general", "model.bidirectional=true", "data.reverse_source=false"
    )
    assert "Sutskever" not in attn and "general attention" in attn and "bidirectional" in attn
    assert "reversed" not in attn
    tr = banner("model={type: transformer, layers: 2, d_model: 64, heads: 4, ff_size: 128}")
    assert tr.startswith("a Transformer (2 layers, d_model 64, 4 heads)")

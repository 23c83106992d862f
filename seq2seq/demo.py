"""`seq2seq demo`: train the embedded default (G2P on CMUdict) and show what it learned."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from .config import load_config
from .data.io import read_tsv
from .data.splits import references
from .runs import evaluate_run
from .training import train
from .translator import Translator

INVENTED = ["blorptastic", "snarfle", "quibbleworth", "zindrome", "glimmerous", "frabjously"]


def demo_config_path() -> Path:
    return Path(str(resources.files("seq2seq") / "configs" / "demo.yaml"))


def describe(cfg) -> str:
    """One line naming the model, so the demo's banner stays true when its config changes."""
    m = cfg.model
    if m.type == "transformer":
        return f"a Transformer ({m.layers} layers, d_model {m.d_model}, {m.heads} heads)"
    cell = m.cell.upper()
    name = "the Sutskever et al. deep " + cell if m.attention == "none" else f"a deep {cell}"
    parts = [f"{m.layers}x{m.hidden_size}"]
    parts.append("bidirectional encoder" if m.bidirectional else "")
    parts.append("no attention" if m.attention == "none" else f"{m.attention} attention")
    parts.append("reversed source" if cfg.data.reverse_source else "")
    return f"{name} ({', '.join(p for p in parts if p)})"


def run_demo(out: Path, overrides: list[str] = ()) -> dict:
    cfg = load_config(demo_config_path(), overrides)
    print(
        f"seq2seq demo: grapheme-to-phoneme on CMUdict with {describe(cfg)}, stress "
        f"{'stripped' if cfg.data.cmudict.strip_stress else 'kept'}"
    )
    summary = train(cfg, out)
    metrics = evaluate_run(out)
    test = metrics["test"]
    translator = Translator.load(out)
    words, refs = references(read_tsv(out / "test.tsv"))
    shown = words[:: max(1, len(words) // 6)][:6]
    print(
        f"\ntest ({len(words):,} held-out words, beam {translator.cfg.decode.beam}): "
        f"WER {100 * test['wer']:.1f}%  PER {100 * test['per']:.1f}%"
    )
    print(
        f"training: {summary['steps']:,} steps, {summary['train_seconds']:.0f} s, "
        f"{summary['tokens_per_second']:,} target tokens/s"
    )
    print("\nheld-out words (model -> reference):")
    for w, hyp in zip(shown, translator.translate(shown)):
        ok = "ok " if hyp in refs[words.index(w)] else "   "
        print(f"  {ok}{w:<16} {hyp:<28} {refs[words.index(w)][0]}")
    print("\ninvented words (not in CMUdict):")
    for w, hyp in zip(INVENTED, translator.translate(INVENTED)):
        print(f"  {w:<16} {hyp}")
    print(f"\nrun directory: {out}  (config.yaml, metrics.json, train/dev/test.tsv, checkpoints/)")
    print(f"try: echo hello | .venv/bin/seq2seq translate --model {out}")
    return {"summary": summary, **metrics}

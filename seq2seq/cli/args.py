"""The subcommands' arguments: one small function per subcommand, shared option helpers.

Each parser names its command (`command="translate"`); `commands.cmd_<command>` runs it.
"""

from __future__ import annotations

import argparse

from ..evaluation import BLEU_TOKENIZERS, DECODED_METRICS
from .speech import add_transcribe


class _Parser(argparse.ArgumentParser):
    """argparse, with its usage errors as one line (its default prints the usage first)."""

    def error(self, message: str):
        self.exit(2, f"error: {message} (see `{self.prog} --help`)\n")


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="seq2seq", description="Sequence to sequence learning (Sutskever et al., 2014)."
    )
    sub = p.add_subparsers(metavar="COMMAND")
    for add in (
        _add_train,
        _add_translate,
        _add_evaluate,
        _add_breakdown,
        _add_score,
        _add_rescore,
        _add_data,
        _add_forecast,
        _add_embed,
        _add_reproduce,
        _add_average,
        _add_export,
        _add_distill,
        _add_plot,
        _add_demo,
        _add_serve,
        _add_generate,
        add_transcribe,
    ):
        add(sub)
    return p


# -- the shared options --------------------------------------------------------------------


def _models(p: argparse.ArgumentParser, help: str = "run directory/checkpoint; several = ensemble"):
    p.add_argument("--model", required=True, nargs="+", help=help)


def _overrides(p: argparse.ArgumentParser, help: str | None = None) -> None:
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help=help)


def _input_output(p: argparse.ArgumentParser, input_help: str, output_help: str) -> None:
    p.add_argument("--input", "-i", help=input_help)
    p.add_argument("--output", "-o", help=output_help)


def _search_options(p: argparse.ArgumentParser) -> None:
    """Sampling beside greedy and beam search, and constrained decoding (every model)."""
    p.add_argument("--greedy", action="store_true", help="greedy search")
    p.add_argument(
        "--sample", action="store_true", help="sampling instead of beam search (see --top-k)"
    )
    p.add_argument("--temperature", type=float, help="sampling: divide log-probs by T (0: greedy)")
    p.add_argument("--top-k", type=int, help="sampling: only the K most probable tokens (0: all)")
    p.add_argument(
        "--top-p", type=float, help="sampling: the fewest tokens holding this probability (1: all)"
    )
    p.add_argument("--seed", type=int, help="sampling: the random seed (default decode.seed)")
    p.add_argument(
        "--length",
        choices=["free", "source"],
        help="source: exactly as many output tokens as the input has (default decode.length)",
    )
    p.add_argument(
        "--copy-tokens",
        nargs="*",
        metavar="TOKEN",
        help="where the input has one of these tokens the output has it too, and nowhere "
        "else (e.g. --copy-tokens ，); none given: no such tokens (default decode.copy_tokens)",
    )


# -- one function per subcommand's arguments ----------------------------------------------


def _add_train(sub) -> None:
    t = sub.add_parser("train", help="train a model from a YAML config (resumes if the run exists)")
    t.add_argument("config", help="YAML config, e.g. configs/g2p-cmudict-lstm.yaml")
    t.add_argument("--out", help="run directory (default: runs/<config name>)")
    _overrides(t, "override, e.g. train.lr=0.5")
    t.add_argument("--no-progress", action="store_true", help="no progress bar")
    t.set_defaults(command="train")


def _add_translate(sub) -> None:
    tr = sub.add_parser("translate", help="translate lines from stdin (or --input) to stdout")
    _models(tr, "run directory or checkpoint file; several = an ensemble (average log-probs)")
    _input_output(tr, "input file (default: stdin)", "output file (default: stdout)")
    tr.add_argument("--beam", type=int, help="beam size (default: the model's decode.beam)")
    _search_options(tr)
    tr.add_argument("--nbest", type=int, help="write N best per input as `id ||| text ||| score`")
    tr.add_argument("--length-penalty", type=float, help="alpha in score / length**alpha")
    tr.add_argument(
        "--early-stop",
        action="store_true",
        default=None,
        help="end a sentence's search once a finished hypothesis scores above its best live "
        "one (as OpenNMT-py), instead of once it has beam-size finished hypotheses",
    )
    tr.add_argument(
        "--ban-unk",
        action="store_true",
        default=None,
        help="never output <unk> (default: the model's decode.ban_unk)",
    )
    tr.add_argument("--batch-size", type=int, help="sentences per batch")
    tr.add_argument(
        "--max-input-tokens",
        type=int,
        help="refuse longer input lines (default: decode.max_input_tokens, else 4 x the trained "
        "data.max_src_len)",
    )
    tr.add_argument(
        "--warn-unknown",
        type=float,
        default=0.5,
        metavar="SHARE",
        help="warn (stderr) about each input line with at least this share of tokens the model "
        "does not know (default 0.5; 1.1 = never)",
    )
    tr.add_argument(
        "--engine",
        default="torch",
        choices=["torch", "ctranslate2", "onnx"],
        help="torch (default): --model is a run; ctranslate2 / onnx: --model is a folder from "
        "`seq2seq export` with that --format",
    )
    tr.add_argument("--device", help="cpu or cuda (default: cuda if available)")
    tr.add_argument(
        "--attention-plots", metavar="DIR", help="write one attention heatmap PNG per sentence"
    )
    tr.add_argument(
        "--precision",
        default="auto",
        choices=["auto", "fp32", "bf16", "int8"],
        help="auto (default): bf16 where the hardware has it natively, else int8 on CPUs with "
        "VNNI, else fp32; or force bf16 autocast, int8 dynamic quantisation (CPU), fp32",
    )
    tr.set_defaults(command="translate")


def _add_evaluate(sub) -> None:
    e = sub.add_parser("evaluate", help="score hypotheses against references")
    e.add_argument("--hyp", required=True, help="hypotheses, one per line")
    e.add_argument(
        "--ref",
        required=True,
        nargs="+",
        help="reference files, line-aligned with --hyp; or one TSV (source<TAB>reference, "
        "repeated sources = extra references; --hyp then follows its unique sources)",
    )
    e.add_argument("--metric", default="bleu", choices=DECODED_METRICS)
    e.add_argument(
        "--tokenize",
        default="13a",
        choices=BLEU_TOKENIZERS,
        help="BLEU's sacreBLEU tokenizer (default 13a; zh for Chinese: per character)",
    )
    e.add_argument(
        "--same-shape",
        metavar="SRC",
        help="also print the share of hypotheses with the shape of their line of SRC: as many "
        "characters, and the --marks where SRC has them and nowhere else (couplets)",
    )
    e.add_argument("--marks", nargs="+", default=["，"], help="for --same-shape (default ，)")
    e.set_defaults(command="evaluate")


def _add_breakdown(sub) -> None:
    b = sub.add_parser(
        "breakdown",
        help="the paper's Figure 3 for any systems: BLEU by source length (and word rarity)",
    )
    b.add_argument("--src", required=True, help="the source sentences the systems translated")
    b.add_argument("--ref", required=True, nargs="+", help="reference files, line-aligned")
    b.add_argument("--hyp", required=True, nargs="+", help="one hypothesis file per system")
    b.add_argument("--label", nargs="+", help="one name per --hyp (default: the file names)")
    b.add_argument(
        "--train-src", help="the training sources: also BLEU by average word-frequency rank"
    )
    b.add_argument("--tokenize", default="13a", choices=BLEU_TOKENIZERS)
    b.add_argument("--plot", metavar="PREFIX", help="write PREFIX_length.png (and _rarity.png)")
    b.add_argument("--json", metavar="FILE", help="also write the buckets as JSON")
    b.set_defaults(command="breakdown")


def _add_score(sub) -> None:
    sc = sub.add_parser(
        "score", help="log-probability of given (source, target) pairs, one per line"
    )
    _models(sc)
    sc.add_argument("--src", required=True, help="source sentences, one per line")
    sc.add_argument("--tgt", required=True, help="target sentences, line-aligned with --src")
    sc.set_defaults(command="score")


def _add_rescore(sub) -> None:
    rs = sub.add_parser(
        "rescore", help="re-rank another system's n-best list with the model's score"
    )
    _models(rs)
    rs.add_argument(
        "--nbest", required=True, help="Moses n-best: id ||| hypothesis ||| features ||| score"
    )
    rs.add_argument(
        "--src", required=True, help="the sources the n-best list translates (line = id)"
    )
    rs.add_argument(
        "--weight",
        type=float,
        help="w in (1-w)*old + w*model score, 0..1 (default: tuned on --dev-*)",
    )
    rs.add_argument("--dev-nbest", help="dev n-best list to tune the weight on")
    rs.add_argument("--dev-src", help="dev sources")
    rs.add_argument("--dev-ref", help="dev references (the weight maximises BLEU on them)")
    rs.add_argument(
        "--output", "-o", help="re-ranked 1-best, one per source line (default: stdout)"
    )
    rs.set_defaults(command="rescore")


TEXT_CORPORA = ["multi30k", "tatoeba-en-fr", "bible-en-es", "aeslc"]
CHINESE = ["couplet-zh", "tang-poems"]  # data/chinese.py
SERIES = ["sunspots", "co2", "elnino", "macrodata", "nile", "msft"]  # data/series_datasets.py
SPEECH = ["speech-synth"]  # data/speech_synth.py


def _add_data(sub) -> None:
    da = sub.add_parser(
        "data",
        help="prepare a built-in corpus (multi30k, tatoeba-en-fr, bible-en-es, aeslc, "
        "couplet-zh, tang-poems) or write a built-in real series as CSV (sunspots, co2, elnino, macrodata, "
        "nile, msft), or render the speech-synth corpus with espeak-ng, flite and festival",
    )
    da.add_argument("corpus", choices=TEXT_CORPORA + CHINESE + SERIES + SPEECH)
    da.add_argument(
        "--pair", help="SRC-TGT languages of a translation corpus, e.g. de-en (required there)"
    )
    da.add_argument(
        "--script",
        choices=["simplified", "traditional"],
        help="tang-poems: the characters (default simplified; the source is traditional)",
    )
    da.add_argument(
        "--from", dest="from_dir", help="a local copy (default: download from the public URL)"
    )
    da.add_argument(
        "--out",
        help="output folder (default: data/CORPUS-PAIR, data/CORPUS; for a series, data/)",
    )
    sp = da.add_argument_group("speech-synth (docs/speech.md)")
    sp.add_argument("--hours", type=float, default=3.5, help="training audio (default 3.5)")
    sp.add_argument("--seed", type=int, default=1, help="every draw's seed (default 1)")
    sp.add_argument(
        "--eval-utterances", type=int, default=300, help="per dev / test / test_engine (300)"
    )
    sp.add_argument("--workers", type=int, default=2, help="synthesis processes (default 2)")
    da.set_defaults(command="data")


def _add_forecast(sub) -> None:
    fc = sub.add_parser(
        "forecast", help="forecast the series of a CSV with a series model; plot the intervals"
    )
    fc.add_argument(
        "--model",
        required=True,
        nargs="+",
        help="a run directory of a series model; several: their ensemble (e.g. seeds)",
    )
    fc.add_argument(
        "--combine",
        choices=["median", "mean"],
        default="median",
        help="an ensemble's point forecast: the members' median (default) or mean; "
        "its sampled paths are the members' pooled",
    )
    fc.add_argument("--csv", required=True, help="a CSV with the columns the model was trained on")
    fc.add_argument("--plot", help="write a PNG: history, forecast and 80 / 95 %% intervals")
    fc.add_argument("--output", "-o", help="write the forecasts as CSV (default: stdout)")
    fc.add_argument(
        "--holdout",
        type=int,
        default=0,
        metavar="N",
        help="forecast from N values before the end (and plot the actual values); default 0: "
        "forecast past the end",
    )
    fc.add_argument("--samples", type=int, default=200, help="sampled paths (default 200)")
    fc.add_argument("--seed", type=int, default=0, help="the samples' random seed (default 0)")
    fc.set_defaults(command="forecast")


def _add_embed(sub) -> None:
    em = sub.add_parser(
        "embed", help="sentence vectors (the encoder's final state); neighbours; PCA plot"
    )
    _models(em, "run directory or checkpoint file")
    _input_output(
        em,
        "sentences, one per line (default: stdin)",
        "write the vectors as a tab-separated matrix",
    )
    em.add_argument(
        "--neighbours", type=int, default=0, metavar="K", help="print each line's K nearest lines"
    )
    em.add_argument("--plot", help="write a 2-D PCA plot (PNG) of the sentences")
    em.set_defaults(command="embed")


def _add_reproduce(sub) -> None:
    rp = sub.add_parser(
        "reproduce", help="reproduce a paper's results with one command (sutskever2014)"
    )
    rp.add_argument("paper", choices=["sutskever2014"])  # EXPERIMENTS, without importing it
    rp.add_argument("--data", choices=["multi30k"], default="multi30k")
    rp.add_argument("--pair", default="de-en")
    rp.add_argument(
        "--from", dest="from_dir", help="a local copy of the corpus (default: download)"
    )
    rp.add_argument(
        "--preset",
        default="cpu",
        choices=["cpu", "paper", "tiny"],
        help="cpu: a few hours on 2 cores; paper: 4x1000 (a GPU); tiny: a smoke test",
    )
    rp.add_argument(
        "--work", default="runs/sutskever2014", help="checkpoints and caches (resumable)"
    )
    rp.add_argument("--report", default="reports/sutskever2014", help="where the report goes")
    rp.add_argument(
        "--jobs",
        type=int,
        default=1,
        help="train N models at once, each in its own process with 1/N of the cores (default 1)",
    )
    rp.set_defaults(command="reproduce")


def _add_average(sub) -> None:
    av = sub.add_parser("average", help="average the weights of a run's last N checkpoints")
    av.add_argument("run", help="run directory trained with train.keep_checkpoints > 0")
    av.add_argument("--last", type=int, default=5, help="how many recent checkpoints (default 5)")
    av.add_argument("--out", help="output checkpoint (default: RUN/checkpoints/averaged.pt)")
    av.set_defaults(command="average")


def _add_export(sub) -> None:
    ex = sub.add_parser(
        "export", help="export a run for CTranslate2 (Transformer) or ONNX Runtime (all models)"
    )
    ex.add_argument("--format", required=True, choices=["ctranslate2", "onnx"])
    ex.add_argument("--model", required=True, help="run directory or checkpoint file")
    ex.add_argument("--out", required=True, help="a new folder for the exported model")
    ex.set_defaults(command="export")


def _add_distill(sub) -> None:
    di = sub.add_parser(
        "distill",
        help="sequence-level distillation: teachers label the training sources, a student "
        "trains on their outputs (resumable)",
    )
    di.add_argument(
        "--teacher", required=True, nargs="+", help="teacher run(s); several = ensemble"
    )
    di.add_argument(
        "--config", required=True, help="the student's YAML config (its data: the sources)"
    )
    di.add_argument("--out", required=True, help="the student's run directory")
    _overrides(di, "override a student config key, e.g. model.hidden_size=256")
    di.add_argument("--beam", type=int, help="the teachers' beam (default: their decode.beam)")
    di.add_argument("--mix-references", action="store_true", help="train on the references as well")
    di.add_argument(
        "--chunk", type=int, default=1000, help="sources per cached chunk of teacher outputs"
    )
    di.add_argument(
        "--precision",
        default="auto",
        choices=["auto", "fp32", "bf16", "int8"],
        help="the teachers' decoding precision (as translate's; default auto)",
    )
    di.add_argument("--no-progress", action="store_true", help="no progress bars")
    di.set_defaults(command="distill")


def _add_plot(sub) -> None:
    pl = sub.add_parser(
        "plot", help="learning curves of a run (from RUN/metrics.jsonl) as a PNG; several overlaid"
    )
    pl.add_argument("run", nargs="+", help="run directories of `seq2seq train`")
    pl.add_argument("--out", help="PNG file (default: RUN/curves.png; several runs: required)")
    pl.set_defaults(command="plot")


def _add_demo(sub) -> None:
    d = sub.add_parser("demo", help="train and evaluate the embedded default (G2P on CMUdict)")
    d.add_argument("--out", default="runs/demo", help="run directory (default: runs/demo)")
    _overrides(d)
    d.set_defaults(command="demo")


def _add_serve(sub) -> None:
    sv = sub.add_parser("serve", help="an HTTP API and a web page over trained models")
    sv.add_argument(
        "--model",
        required=True,
        action="append",
        metavar="[NAME=]PATH",
        help="a run directory or checkpoint, named NAME (default: the run folder's name); "
        "repeat to serve several",
    )
    sv.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    sv.add_argument("--port", type=int, default=8080, help="port (default 8080; 0: any free one)")
    sv.add_argument("--device", help="cpu or cuda (default: cuda if available)")
    sv.add_argument("--precision", default="auto", choices=["auto", "fp32", "bf16", "int8"])
    sv.add_argument("--threads", type=int, default=0, help="torch threads (default: torch's)")
    for flag, kind, default, unit, what in (
        ("--max-batch", int, 64, "N", "sentences in one batched search; 1 = no batching"),
        ("--max-wait-ms", float, 5.0, "MS", "how long a request waits for others to join it"),
        ("--max-queue", int, 1024, "N", "sentences waiting per model; past it, 503"),
        ("--max-inputs", int, 64, "N", "inputs per request"),
        ("--max-chars", int, 1000, "N", "characters per input"),
        ("--max-beam", int, 64, "N", "the largest beam a request may ask for"),
        ("--max-body", int, 1 << 20, "BYTES", "bytes per request body"),
        ("--timeout", float, 30.0, "SECONDS", "from arrival to answer; past it, 504"),
    ):
        sv.add_argument(
            flag, type=kind, default=default, metavar=unit, help=f"{what} (default {default})"
        )
    sv.set_defaults(command="serve")


def _add_generate(sub) -> None:
    g = sub.add_parser(
        "generate",
        help="write on from a first line: each output line is fed back as the next input "
        "(a poem from its first line)",
    )
    _models(g, "run directory or checkpoint file (a line -> next line model); several = ensemble")
    g.add_argument(
        "first", nargs="*", help="first lines, one text each (default: one per line of --input)"
    )
    g.add_argument("--lines", type=int, default=4, help="lines per text, the first included (4)")
    _input_output(g, "first lines, one per line (default: stdin)", "output file (default: stdout)")
    g.add_argument("--beam", type=int, help="beam size (default: the model's decode.beam)")
    _search_options(g)
    g.add_argument("--device", help="cpu or cuda (default: cuda if available)")
    g.set_defaults(command="generate")

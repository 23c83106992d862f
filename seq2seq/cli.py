"""Command line: each subcommand is a thin shim over a library function.

Mistakes a user can fix end as one line on stderr and exit code 2, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from .errors import Interrupted, UserError
from .evaluation import DECODED_METRICS
from .kernels.memory import keep_freed_memory


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    keep_freed_memory()
    try:
        return args.func(args) or 0
    except UserError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except Interrupted as e:
        print(str(e), file=sys.stderr)
        return 128 + e.signum  # 130 after Ctrl-C, 143 after SIGTERM
    except KeyboardInterrupt:
        print("aborted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="seq2seq", description="Sequence to sequence learning (Sutskever et al., 2014)."
    )
    sub = p.add_subparsers(metavar="COMMAND")
    for add in (
        _add_train,
        _add_translate,
        _add_evaluate,
        _add_score,
        _add_rescore,
        _add_data,
        _add_embed,
        _add_reproduce,
        _add_average,
        _add_demo,
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


# -- one function per subcommand's arguments ----------------------------------------------


def _add_train(sub) -> None:
    t = sub.add_parser("train", help="train a model from a YAML config (resumes if the run exists)")
    t.add_argument("config", help="YAML config, e.g. configs/g2p-cmudict-lstm.yaml")
    t.add_argument("--out", help="run directory (default: runs/<config name>)")
    _overrides(t, "override, e.g. train.lr=0.5")
    t.add_argument("--no-progress", action="store_true", help="no progress bar")
    t.set_defaults(func=cmd_train)


def _add_translate(sub) -> None:
    tr = sub.add_parser("translate", help="translate lines from stdin (or --input) to stdout")
    _models(tr, "run directory or checkpoint file; several = an ensemble (average log-probs)")
    _input_output(tr, "input file (default: stdin)", "output file (default: stdout)")
    tr.add_argument("--beam", type=int, help="beam size (default: the model's decode.beam)")
    tr.add_argument("--greedy", action="store_true", help="greedy search")
    tr.add_argument("--nbest", type=int, help="write N best per input as `id ||| text ||| score`")
    tr.add_argument("--length-penalty", type=float, help="alpha in score / length**alpha")
    tr.add_argument(
        "--early-stop",
        action="store_true",
        default=None,
        help="end a sentence's search once a finished hypothesis scores above its best live "
        "one (as OpenNMT-py), instead of once it has beam-size finished hypotheses",
    )
    tr.add_argument("--batch-size", type=int, help="sentences per batch")
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
    tr.set_defaults(func=cmd_translate)


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
    e.set_defaults(func=cmd_evaluate)


def _add_score(sub) -> None:
    sc = sub.add_parser(
        "score", help="log-probability of given (source, target) pairs, one per line"
    )
    _models(sc)
    sc.add_argument("--src", required=True, help="source sentences, one per line")
    sc.add_argument("--tgt", required=True, help="target sentences, line-aligned with --src")
    sc.set_defaults(func=cmd_score)


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
    rs.set_defaults(func=cmd_rescore)


def _add_data(sub) -> None:
    da = sub.add_parser(
        "data", help="prepare a built-in corpus (multi30k, tatoeba-en-fr, bible-en-es)"
    )
    da.add_argument("corpus", choices=["multi30k", "tatoeba-en-fr", "bible-en-es"])
    da.add_argument("--pair", required=True, help="SRC-TGT languages, e.g. de-en")
    da.add_argument(
        "--from", dest="from_dir", help="a local copy (default: download from the public URL)"
    )
    da.add_argument("--out", help="output folder (default: data/CORPUS-PAIR)")
    da.set_defaults(func=cmd_data)


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
    em.set_defaults(func=cmd_embed)


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
    rp.set_defaults(func=cmd_reproduce)


def _add_average(sub) -> None:
    av = sub.add_parser("average", help="average the weights of a run's last N checkpoints")
    av.add_argument("run", help="run directory trained with train.keep_checkpoints > 0")
    av.add_argument("--last", type=int, default=5, help="how many recent checkpoints (default 5)")
    av.add_argument("--out", help="output checkpoint (default: RUN/checkpoints/averaged.pt)")
    av.set_defaults(func=cmd_average)


def _add_demo(sub) -> None:
    d = sub.add_parser("demo", help="train and evaluate the embedded default (G2P on CMUdict)")
    d.add_argument("--out", default="runs/demo", help="run directory (default: runs/demo)")
    _overrides(d)
    d.set_defaults(func=cmd_demo)


# -- the subcommands -----------------------------------------------------------------------


def cmd_train(args) -> int:
    from .config import load_config
    from .runs import evaluate_run
    from .training import distributed, train

    cfg = load_config(args.config, args.set)
    out = Path(args.out or Path("runs") / Path(args.config).stem)
    summary = train(cfg, out, progress=not args.no_progress)
    if not distributed.from_environment().is_main:  # under torchrun, rank 0 evaluates
        return 0
    metrics = evaluate_run(out)
    print(json.dumps({"run": str(out), **summary, **metrics}, indent=2))
    return 0


def cmd_translate(args) -> int:
    from .data.io import decode_lines, read_lines
    from .translator import Translator

    if args.greedy and (args.nbest or 1) > 1:
        raise UserError(f"--nbest {args.nbest} needs beam search; drop --greedy")
    translator = Translator.load(args.model, device=args.device, precision=args.precision)
    lines = (
        read_lines(args.input) if args.input else decode_lines(sys.stdin.buffer.read(), "<stdin>")
    )
    opts = {
        "beam": args.beam,
        "nbest": args.nbest,
        "length_penalty": args.length_penalty,
        "early_stop": args.early_stop,
        "batch_size": args.batch_size,
    }
    if args.nbest and not args.beam:
        opts["beam"] = max(args.nbest, translator.cfg.decode.beam)
    translator.decode_config(**opts)  # a bad option is the only line printed
    print(f"decoding in {translator.choice.reason}", file=sys.stderr)
    results = translator.translate_nbest(
        lines, greedy=args.greedy, progress=args.output is not None, **opts
    )
    if args.attention_plots:
        write_attention_plots(translator, lines, results, Path(args.attention_plots))
    if args.nbest:
        text = "".join(
            f"{i} ||| {t.text} ||| {t.score:.4f}\n" for i, nb in enumerate(results) for t in nb
        )
    else:
        text = "".join(nb[0].text + "\n" for nb in results)
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


def write_attention_plots(translator, lines: list[str], results, folder: Path) -> None:
    from .analysis.plots import plot_attention

    folder.mkdir(parents=True, exist_ok=True)
    for i, (line, nbest) in enumerate(zip(lines, results)):
        best = nbest[0]
        if best.attention is None:
            raise UserError(
                "--attention-plots: this model has no attention (model.attention: none)"
            )
        src = translator.processor.src_tok.tokenize(line)
        plot_attention(src, best.tokens, best.attention.numpy(), folder / f"{i:05d}.png")


def cmd_evaluate(args) -> int:
    from .data.io import read_lines, read_tsv
    from .data.splits import references
    from .evaluation import score

    hyps = read_lines(args.hyp)
    if len(args.ref) == 1 and args.ref[0].endswith(".tsv"):
        _, refs = references(read_tsv(args.ref[0]))
    else:
        streams = [read_lines(r) for r in args.ref]
        refs = [list(r) for r in zip(*streams)]
        if any(len(s) != len(hyps) for s in streams):
            raise UserError(
                f"{args.hyp} has {len(hyps)} lines but a reference file has a different count; "
                "hypotheses and references must be line-aligned"
            )
    if len(refs) != len(hyps):
        raise UserError(
            f"{args.hyp} has {len(hyps)} lines but {args.ref[0]} has {len(refs)} distinct sources"
        )
    result = score(args.metric, hyps, refs)
    for k, v in result.items():
        print(f"{k}: {v:.4f}" if isinstance(v, float) else f"{k}: {v}")
    return 0


def cmd_score(args) -> int:
    from .data.io import read_parallel
    from .translator import Translator

    pairs = read_parallel(args.src, args.tgt)
    scores = Translator.load(args.model).score(pairs)
    sys.stdout.write("".join(f"{s:.6f}\n" for s in scores))
    return 0


def _nbest_scores(translator, nbest_path: str, src_path: str):
    from .data.io import read_lines
    from .decoding.rescore import read_nbest

    entries, sources = read_nbest(read_lines(nbest_path), nbest_path), read_lines(src_path)
    bad = [e.sent_id for e in entries if not 0 <= e.sent_id < len(sources)]
    if bad:
        raise UserError(
            f"{nbest_path}: sentence id {bad[0]} is outside {src_path} ({len(sources)} lines)"
        )
    return entries, translator.score([(sources[e.sent_id], e.text) for e in entries]), len(sources)


def cmd_rescore(args) -> int:
    from .data.io import read_parallel
    from .decoding.rescore import rerank, tune_weight
    from .evaluation import bleu
    from .translator import Translator

    weight = args.weight
    if weight is not None and not 0 <= weight <= 1:
        raise UserError(
            f"--weight {weight}: must be in [0, 1] (0 keeps the old score, 1 the model's)"
        )
    translator = Translator.load(args.model)
    if weight is None:
        if not (args.dev_nbest and args.dev_src and args.dev_ref):
            raise UserError(
                "give --weight, or --dev-nbest, --dev-src and --dev-ref to tune it for BLEU"
            )
        entries, scores, n = _nbest_scores(translator, args.dev_nbest, args.dev_src)
        refs = [ref for _, ref in read_parallel(args.dev_src, args.dev_ref)]

        def dev_bleu(best: dict[int, str]) -> float:
            return bleu([best.get(i, "") for i in range(n)], [[r] for r in refs])[0]

        weight, value = tune_weight(entries, scores, dev_bleu)
        print(f"tuned weight {weight} (dev BLEU {value:.2f})", file=sys.stderr)
    entries, scores, n = _nbest_scores(translator, args.nbest, args.src)
    best = rerank(entries, scores, weight)
    text = "".join(best.get(i, "") + "\n" for i in range(n))
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


def cmd_data(args) -> int:
    from .data.datasets import prepare

    out = Path(args.out or Path("data") / f"{args.corpus}-{args.pair}")
    written = prepare(args.corpus, args.pair, out, args.from_dir)
    for split, (src, tgt) in written.items():
        print(f"  {split}: {{src: {src}, tgt: {tgt}}}")
    return 0


def cmd_embed(args) -> int:
    from .analysis.vectors import nearest, plot_pca, sentence_vectors
    from .data.io import decode_lines, read_lines
    from .translator import Translator

    lines = (
        read_lines(args.input) if args.input else decode_lines(sys.stdin.buffer.read(), "<stdin>")
    )
    name = args.input or "<stdin>"
    if not lines:
        raise UserError(f"{name}: no sentences to embed; give one sentence per line")
    if args.plot and len(lines) < 2:
        raise UserError(f"{name}: --plot needs 2 or more sentences for a PCA, got {len(lines)}")
    vectors = sentence_vectors(Translator.load(args.model), lines)
    if args.output:
        rows = ("\t".join(f"{x:.6g}" for x in v) for v in vectors.tolist())
        Path(args.output).write_text("".join(r + "\n" for r in rows), encoding="utf-8")
    for i, line in enumerate(lines if args.neighbours else []):
        found = [(j, s) for j, s in nearest(vectors, vectors[i], args.neighbours + 1) if j != i]
        print(
            line + "\n" + "".join(f"    {s:.3f}  {lines[j]}\n" for j, s in found[: args.neighbours])
        )
    if args.plot:
        print(f"wrote {plot_pca(lines, vectors, args.plot)}")
    return 0


def cmd_reproduce(args) -> int:
    from .experiments import EXPERIMENTS

    if args.jobs < 1:
        raise UserError(f"--jobs {args.jobs}: give 1 or more")
    summary = EXPERIMENTS[args.paper](
        args.preset, args.from_dir, args.work, args.report, pair=args.pair, jobs=args.jobs
    )
    print(json.dumps(summary["table1"], indent=2))
    print(f"report: {Path(args.report) / 'report.md'}")
    return 0


def cmd_average(args) -> int:
    from . import checkpoints

    if args.last < 1:
        raise UserError(f"--last {args.last}: give 1 or more checkpoints to average")
    paths = checkpoints.recent(Path(args.run) / "checkpoints")[-args.last :]
    if not paths:
        raise UserError(
            f"{args.run}: no checkpoints/step-*.pt; train with train.keep_checkpoints > 0"
        )
    out = Path(args.out or Path(args.run) / "checkpoints" / "averaged.pt")
    checkpoints.save(checkpoints.average(paths), out)
    print(f"averaged {len(paths)} checkpoints -> {out}  (use it with --model {out})")
    return 0


def cmd_demo(args) -> int:
    from .demo import run_demo

    start = time.time()
    run_demo(Path(args.out), args.set)
    print(f"wall time: {time.time() - start:.0f} s")
    return 0

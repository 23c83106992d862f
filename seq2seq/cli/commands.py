"""The subcommands: each reads its arguments, calls library functions, prints or writes.

Imports are inside each command, so a command loads only what it uses.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from ..errors import UserError
from . import datasets
from .args import CHINESE, SERIES
from .output import emit, results_text
from .speech import is_speech_run, translate_audio


def cmd_train(args) -> int:
    from ..config import load_config
    from ..runs import evaluate_run
    from ..training import distributed, train

    cfg = load_config(args.config, args.set)
    out = Path(args.out or Path("runs") / Path(args.config).stem)
    summary = train(cfg, out, progress=not args.no_progress)
    if not distributed.from_environment().is_main:  # under torchrun, rank 0 evaluates
        return 0
    metrics = evaluate_run(out)
    print(json.dumps({"run": str(out), **summary, **metrics}, indent=2))
    return 0


def _read_input(path: str | None) -> tuple[list[str], str]:
    """Lines of `path`, or of stdin; and the name errors and warnings give them."""
    from ..data.io import decode_lines, read_lines

    if path:
        return read_lines(path), path
    return decode_lines(sys.stdin.buffer.read(), "<stdin>"), "<stdin>"


def _warn_unknown(shares: list[float], threshold: float, name: str, what: str = "source") -> None:
    """One stderr line per input line with at least `threshold` unknown tokens (at most 5, then
    a count): the model's output for it is a guess."""
    flagged = [(i, u) for i, u in enumerate(shares) if u >= threshold and u > 0]
    for i, u in flagged[:5]:
        print(
            f"warning: {name}:{i + 1}: {u:.0%} of its {what} tokens are unknown to the model; "
            "its output is a guess",
            file=sys.stderr,
        )
    if len(flagged) > 5:
        print(f"warning: {name}: {len(flagged) - 5} more such lines", file=sys.stderr)


def _search_opts(args) -> dict:
    """The decoding overrides of translate's and generate's search options (None = unset)."""
    if args.greedy and args.sample:
        raise UserError("--greedy and --sample: choose one search")
    return {
        "beam": args.beam,
        "temperature": args.temperature,
        "top_k": args.top_k,
        "top_p": args.top_p,
        "seed": args.seed,
        "length": args.length,
        "copy_tokens": args.copy_tokens,
    }


def cmd_translate(args) -> int:
    from ..data.io import check_output, check_output_folder
    from ..translator import unknown_share

    if args.engine == "torch" and is_speech_run(args.model):
        return translate_audio(args)
    if (args.greedy or args.sample) and (args.nbest or 1) > 1:
        raise UserError(f"--nbest {args.nbest} needs beam search; drop --greedy / --sample")
    opts = _search_opts(args)
    if args.output:
        check_output(args.output)
    if args.attention_plots:
        check_output_folder(args.attention_plots, "--attention-plots")
    translator = _translator(args)
    if args.attention_plots and getattr(translator.cfg.model, "attention", "") == "none":
        raise UserError("--attention-plots: this model has no attention (model.attention: none)")
    lines, name = _read_input(args.input)
    opts.update(
        nbest=args.nbest,
        length_penalty=args.length_penalty,
        early_stop=args.early_stop,
        ban_unk=args.ban_unk,
        batch_size=args.batch_size,
        max_input_tokens=args.max_input_tokens,
    )
    if args.nbest is not None and args.beam is None:
        opts["beam"] = max(args.nbest, translator.cfg.decode.beam)
    cfg = translator.decode_config(**opts)  # a bad option is the only line printed
    sources = translator.encode_sources(lines, cfg, name=name)  # so is an overlong line
    V = len(translator.processor.src_vocab)
    _warn_unknown([unknown_share(ids, V) for ids in sources], args.warn_unknown, name)
    print(f"decoding in {translator.choice.reason}", file=sys.stderr)
    results = translator.decode_sources(
        sources,
        cfg,
        greedy=args.greedy,
        sample=args.sample,
        progress=args.output is not None,
        sentences=lines,
    )
    if args.attention_plots:
        write_attention_plots(translator, lines, results, Path(args.attention_plots))
    emit(results_text(results, nbest=bool(args.nbest)), args.output)
    return 0


def cmd_generate(args) -> int:
    from ..data.io import check_output
    from ..translator import Translator

    if args.lines < 1:
        raise UserError(f"--lines {args.lines}: give 1 or more")
    opts = _search_opts(args)
    if args.output:
        check_output(args.output)
    firsts, name = (args.first, "first lines") if args.first else _read_input(args.input)
    firsts = [line.strip() for line in firsts if line.strip()]
    if not firsts:
        raise UserError(
            f"{name}: no first line; give one, e.g. seq2seq generate --model RUN 床前明月光"
        )
    translator = Translator.load(args.model, device=args.device)
    translator.decode_config(**opts)  # a bad option: one line, before any work
    translator.encode_sources(firsts, name=name)  # so is an overlong first line
    texts = translator.continue_lines(
        firsts, args.lines, greedy=args.greedy, sample=args.sample, **opts
    )
    text = "\n".join("".join(line + "\n" for line in t) for t in texts)
    emit(text, args.output)
    return 0


def _translator(args):
    """The run's Translator, or with --engine ctranslate2 / onnx one over an exported folder."""
    from ..translator import Translator

    if args.engine == "torch":
        return Translator.load(args.model, device=args.device, precision=args.precision)
    from .. import export

    if len(args.model) > 1:
        raise UserError(f"--engine {args.engine}: one exported --model, not an ensemble")
    if args.attention_plots:
        raise UserError(f"--attention-plots: not offered with --engine {args.engine}")
    return export.load(args.model[0], args.engine, device=args.device, precision=args.precision)


def write_attention_plots(translator, lines: list[str], results, folder: Path) -> None:
    from ..analysis.plots import plot_attention

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
    from ..data.io import read_lines, read_tsv
    from ..data.splits import references
    from ..evaluation import same_shape, score

    hyps = read_lines(args.hyp)
    if not hyps:
        raise UserError(f"{args.hyp}: no hypotheses (an empty file); nothing to score")
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
    result = score(args.metric, hyps, refs, tokenize=args.tokenize)
    if args.same_shape:
        sources = read_lines(args.same_shape)
        if len(sources) != len(hyps):
            raise UserError(
                f"{args.hyp} has {len(hyps)} lines but {args.same_shape} {len(sources)}"
            )
        result["same_shape"] = same_shape(sources, hyps, args.marks)
    for k, v in result.items():
        print(f"{k}: {v:.4f}" if isinstance(v, float) else f"{k}: {v}")
    return 0


def cmd_score(args) -> int:
    from ..data.io import read_parallel
    from ..translator import Translator

    pairs = read_parallel(args.src, args.tgt)
    translator = Translator.load(args.model)
    scores = translator.score(pairs)
    sys.stdout.write("".join(f"{s:.6f}\n" for s in scores))
    src_unk = translator.unknown([s for s, _ in pairs])
    tgt_unk = translator.unknown([t for _, t in pairs], side="tgt")
    n = sum(1 for a, b in zip(src_unk, tgt_unk) if a or b)
    if n:
        print(
            f"warning: {n} of {len(pairs)} pairs hold tokens unknown to the model "
            f"({sum(1 for a in src_unk if a)} sources, {sum(1 for b in tgt_unk if b)} targets); "
            "their scores are those of <unk>, not of the words",
            file=sys.stderr,
        )
    return 0


def _nbest_scores(translator, nbest_path: str, src_path: str):
    from ..data.io import read_lines
    from ..decoding.rescore import read_nbest

    entries, sources = read_nbest(read_lines(nbest_path), nbest_path), read_lines(src_path)
    bad = [e.sent_id for e in entries if not 0 <= e.sent_id < len(sources)]
    if bad:
        raise UserError(
            f"{nbest_path}: sentence id {bad[0]} is outside {src_path} ({len(sources)} lines)"
        )
    missing = sorted(set(range(len(sources))) - {e.sent_id for e in entries})
    if missing:
        raise UserError(
            f"{nbest_path}: no hypotheses for {len(missing)} of the {len(sources)} lines of "
            f"{src_path} (first: id {missing[0]}); give the n-best list of these very sources"
        )
    return entries, translator.score([(sources[e.sent_id], e.text) for e in entries]), len(sources)


def cmd_rescore(args) -> int:
    from ..data.io import check_output, read_parallel
    from ..decoding.rescore import rerank, tune_weight
    from ..evaluation import bleu
    from ..translator import Translator

    weight = args.weight
    if args.output:
        check_output(args.output)
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
    emit(text, args.output)
    return 0


def cmd_data(args) -> int:
    from ..data.io import check_output_folder

    if args.corpus in SERIES:
        return datasets.series(args)
    if args.corpus == "aeslc":
        return datasets.aeslc(args)
    if args.corpus == "speech-synth":
        return datasets.speech_synth(args)
    if args.corpus in CHINESE:
        written = datasets.chinese(args)
    else:
        from ..data.datasets import prepare

        if args.pair is None or args.script is not None:
            raise UserError(
                f"{args.corpus}: give --pair SRC-TGT, e.g. --pair de-en (--script is for tang-poems)"
            )
        out = check_output_folder(args.out or Path("data") / f"{args.corpus}-{args.pair}", "--out")
        written = prepare(args.corpus, args.pair, out, args.from_dir)
    for split, (src, tgt) in written.items():
        print(f"  {split}: {{src: {src}, tgt: {tgt}}}")
    return 0


def cmd_embed(args) -> int:
    from ..analysis.vectors import nearest, plot_pca, sentence_vectors
    from ..data.io import check_output, write_text
    from ..translator import Translator

    if args.neighbours < 0:
        raise UserError(f"--neighbours {args.neighbours}: give 0 (none) or more")
    for option, path in (("--output", args.output), ("--plot", args.plot)):
        if path:
            check_output(path, option)
    lines, name = _read_input(args.input)
    if not lines:
        raise UserError(f"{name}: no sentences to embed; give one sentence per line")
    if args.plot and len(lines) < 2:
        raise UserError(f"{name}: --plot needs 2 or more sentences for a PCA, got {len(lines)}")
    translator = Translator.load(args.model)
    translator.encode_sources(lines, name=name)  # an overlong line: one line, before any work
    vectors = sentence_vectors(translator, lines)
    if args.output:
        rows = ("\t".join(f"{x:.6g}" for x in v) for v in vectors.tolist())
        write_text(args.output, "".join(r + "\n" for r in rows))
    for i, line in enumerate(lines if args.neighbours else []):
        found = [(j, s) for j, s in nearest(vectors, vectors[i], args.neighbours + 1) if j != i]
        print(
            line + "\n" + "".join(f"    {s:.3f}  {lines[j]}\n" for j, s in found[: args.neighbours])
        )
    if args.plot:
        print(f"wrote {plot_pca(lines, vectors, args.plot)}")
    return 0


def cmd_reproduce(args) -> int:
    from ..experiments import EXPERIMENTS

    if args.jobs < 1:
        raise UserError(f"--jobs {args.jobs}: give 1 or more")
    summary = EXPERIMENTS[args.paper](
        args.preset, args.from_dir, args.work, args.report, pair=args.pair, jobs=args.jobs
    )
    print(json.dumps(summary["table1"], indent=2))
    print(f"report: {Path(args.report) / 'report.md'}")
    return 0


def cmd_average(args) -> int:
    from .. import checkpoints
    from ..data.io import check_output

    if args.out:
        check_output(args.out, "--out")
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


def cmd_export(args) -> int:
    from ..export import export

    out = export(args.model, args.format, args.out)
    print(f"exported {args.model} -> {out}  (translate with --engine {args.format} --model {out})")
    return 0


def cmd_distill(args) -> int:
    from ..config import load_config
    from ..distillation import distill

    if args.beam is not None and args.beam < 1:
        raise UserError(f"--beam {args.beam}: give 1 or more")
    cfg = load_config(args.config, args.set)
    report = distill(
        args.teacher,
        cfg,
        args.out,
        beam=args.beam,
        precision=args.precision,
        mix_references=args.mix_references,
        chunk=args.chunk,
        progress=not args.no_progress,
    )
    print(json.dumps({"run": args.out, **report}, indent=2))
    return 0


def cmd_plot(args) -> int:
    from ..analysis.curves import plot_curves, plot_runs, read_metrics
    from ..data.io import check_output

    if len(set(args.run)) < len(args.run):
        raise UserError("seq2seq plot: a run is given twice; give each run once")
    runs = {str(r): read_metrics(r) for r in args.run}
    if len(runs) == 1:
        out = check_output(args.out or Path(args.run[0]) / "curves.png", "--out")
        print(f"wrote {plot_curves(runs[args.run[0]], out, title=args.run[0])}")
        return 0
    if not args.out:
        raise UserError(f"seq2seq plot: {len(runs)} runs overlaid need --out FILE.png")
    names = _short_names(list(runs))
    out = check_output(args.out, "--out")
    print(f"wrote {plot_runs(dict(zip(names, runs.values())), out)}")
    return 0


def _short_names(paths: list[str]) -> list[str]:
    """Each run's folder name, or its whole path where two folder names are the same."""
    names = [Path(p).name or p for p in paths]
    return names if len(set(names)) == len(names) else paths


def cmd_demo(args) -> int:
    from ..demo import run_demo

    start = time.time()
    run_demo(Path(args.out), args.set)
    print(f"wall time: {time.time() - start:.0f} s")
    return 0


def cmd_serve(args) -> int:
    try:
        from ..serve import Limits, run
    except ImportError as e:
        raise UserError(
            f"seq2seq serve needs the serve extra ({e.name} is missing): pip install -e '.[serve]'"
        ) from None
    names = ("max_batch", "max_wait_ms", "max_queue", "max_inputs", "max_chars", "max_beam")
    limits = Limits(**{n: getattr(args, n) for n in names + ("max_body", "timeout")})
    run(
        args.model,
        host=args.host,
        port=args.port,
        device=args.device,
        precision=args.precision,
        limits=limits,
        threads=args.threads,
    )
    return 0


def cmd_forecast(args) -> int:
    from ..data.io import check_output
    from ..forecasting import EnsembleForecaster

    for option, path in (("--output", args.output), ("--plot", args.plot)):
        if path:
            check_output(path, option)
    if args.samples < 2 or args.holdout < 0:
        raise UserError("--samples must be 2 or more and --holdout 0 or more")
    forecaster = EnsembleForecaster.load(args.model, combine=args.combine)  # one: the model
    items = []
    for series in forecaster.read(args.csv):
        origin = len(series.values) - args.holdout
        items.append(
            (series, forecaster.forecast(series, [origin], samples=args.samples, seed=args.seed))
        )
    text = forecast_csv(items)
    emit(text, args.output)
    if args.plot:
        from ..forecasting.plots import plot_forecasts

        title = ", ".join(args.model)
        print(f"wrote {plot_forecasts(items, args.plot, title=title)}", file=sys.stderr)
    return 0


def forecast_csv(items) -> str:
    """series, time, step, mean and the 2.5 / 10 / 50 / 90 / 97.5 % quantiles, one row per step."""
    levels = (0.025, 0.1, 0.5, 0.9, 0.975)
    rows = ["series,time,step,forecast," + ",".join(f"q{100 * q:g}" for q in levels)]
    for series, paths in items:
        t, H = paths.origins[0], paths.point.shape[1]
        times = (list(series.times) + series.clock.after(series.times[-1], H))[t : t + H]
        qs = [paths.quantile(q)[0] for q in levels]  # each (H, D)
        for d, column in enumerate(series.columns):
            for h in range(H):
                cells = [f"{paths.point[0, h, d]:.6g}"] + [f"{q[h, d]:.6g}" for q in qs]
                rows.append(f"{column},{times[h]},{h + 1}," + ",".join(cells))
    return "\n".join(rows) + "\n"

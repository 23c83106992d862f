"""`seq2seq data` for the corpora with their own options: the Chinese corpora, AESLC, the
series that statsmodels ships and the synthesised speech corpus."""

from __future__ import annotations

from pathlib import Path

from ..errors import UserError


def chinese(args) -> dict:
    from ..data.chinese import prepare_chinese
    from ..data.io import check_output_folder

    if args.pair is not None:
        raise UserError(f"--pair: {args.corpus} has one language; drop --pair")
    if args.script is not None and args.corpus != "tang-poems":
        raise UserError(f"--script: only tang-poems has two scripts; drop it for {args.corpus}")
    script = args.script or "simplified"
    default = args.corpus + ("-traditional" if script == "traditional" else "")
    out = check_output_folder(args.out or Path("data") / default, "--out")
    return prepare_chinese(args.corpus, out, args.from_dir, script=script)


def aeslc(args) -> int:
    """Email bodies -> subject lines; dev (and test) with the three human subject lines."""
    from ..data.aeslc import prepare_aeslc
    from ..data.io import check_output_folder

    if args.pair is not None:
        raise UserError("--pair: aeslc is one language (email body -> subject line); drop --pair")
    out = check_output_folder(args.out or Path("data") / "aeslc", "--out")
    for split, files in prepare_aeslc(out, args.from_dir).items():
        line = f"  {split}: {{src: {files['src']}, tgt: {files['tgt']}}}"
        if "tsv" in files:
            refs = " ".join(str(files[k]) for k in ("ann0", "ann1", "ann2") if k in files)
            line += f"; with its 3 human subjects: {{tsv: {files['tsv']}}}, refs {refs}"
        print(line)
    return 0


def speech_synth(args) -> int:
    """Render the speech corpus (data/speech_synth.py); print its splits for data.speech."""
    from ..data.io import check_output_folder
    from ..data.speech_synth import build_speech_synth

    if args.pair is not None or args.script is not None:
        raise UserError("speech-synth: --pair and --script are for text corpora; drop them")
    if args.hours <= 0 or args.eval_utterances < 1 or args.workers < 1:
        raise UserError("speech-synth: --hours must be > 0, --eval-utterances and --workers >= 1")
    out = check_output_folder(args.out or Path("data") / "speech-synth", "--out")
    shared = Path(args.from_dir or Path("..") / "shared" / "data")
    summary = build_speech_synth(
        out,
        shared,
        hours=args.hours,
        seed=args.seed,
        eval_size=args.eval_utterances,
        workers=args.workers,
    )
    for split, info in summary.items():
        print(
            f"  {split}: {out / (split + '.tsv')} ({info['utterances']} utterances, "
            f"{info['hours']:.2f} h, {len(info['voices'])} voices)"
        )
    print(f"  recipe: {out / 'README.md'}")
    return 0


def series(args) -> int:
    from ..data.io import check_output_folder
    from ..data.series_datasets import write_series

    if args.pair or args.from_dir or args.script:
        raise UserError(f"{args.corpus}: a series has no --pair, --from or --script; drop them")
    path = write_series(args.corpus, check_output_folder(args.out or "data", "--out"))
    print(f"  data.series.csv: {path}")
    return 0

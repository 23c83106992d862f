#!/bin/bash
# One lent GPU session's work in one call of under 10 minutes: issue 24's bench/gpu.sh and
# issue 32's bench/gpu_results.sh, interleaved so that nothing timed shares the GPU:
#   1. alone: the paper-size model's training speed, then OpenNMT-py's on the same model;
#   2. together: the candidates of bench/gpu_results.sh (GPU) and the test suite (mostly CPU);
#   3. everything written (logs, bench results, the chosen models in bf16) as one tar, split
#      into 15 MiB parts under OUT: a GPU machine returns at most 8 files of 16 MiB.
# Usage: bench/gpu_session.sh OUT [DATA]    (DATA: default ../shared/data)
#   BUDGET=570: seconds the whole script may take; the candidates train for what the timings
#   leave of it, less 170 s for start-up, evaluation and packing (at most 7 minutes)
# Reassemble here: cat OUT/gpu.tar.part-* | tar x -C SOMEWHERE
set -uo pipefail
cd "$(dirname "$0")/.."
mkdir -p "${1:?usage: bench/gpu_session.sh OUT [DATA]}" && OUT=$(cd "$1" && pwd)
DATA=$(cd "${2:-../shared/data}" && pwd) || exit 2
export PY=${PY:-python3} PYTHONUNBUFFERED=1
W=$(mktemp -d)/gpu && mkdir -p "$W"
t0=$SECONDS
STEPS=${STEPS:-200} LIMIT=${LIMIT:-75} PARTS=timing bench/gpu.sh "$DATA/multi30k"; timing=$?
echo "== timings done in $((SECONDS - t0)) s (exit $timing)"
OMP_NUM_THREADS=4 PARTS=tests bench/gpu.sh "$DATA/multi30k" >"$W/tests.log" 2>&1 &
tests=$!
BUDGET=${BUDGET:-570}
left=$((BUDGET - (SECONDS - t0)))
MINUTES=${MINUTES:-$($PY -c "print(round(max(0.5, min(7.0, ($left - 170) / 60)), 2))")}
echo "== training the candidates for $MINUTES minutes ($left s left)"
MINUTES=$MINUTES RUNS="$W/runs" timeout $((left - 15)) bench/gpu_results.sh "$W/results" "$DATA"
results=$?
echo "== results done at $((SECONDS - t0)) s (exit $results); waiting for the tests"
left=$((BUDGET - (SECONDS - t0)))
timeout $((left > 10 ? left - 8 : 2)) tail --pid=$tests -f /dev/null; kill $tests 2>/dev/null
wait $tests; echo "== tests exit $?"; tail -n 25 "$W/tests.log"
cp bench/results/gpu-*.log bench/results/peers_*gpu*.json "$W/" 2>/dev/null
rm -rf "$W/runs"  # the chosen models are in results/; the candidates' logs in results/logs/
tar cf - -C "$(dirname "$W")" gpu | split -b 15M - "$OUT/gpu.tar.part-"
ls -l "$OUT"; echo "== all done in $((SECONDS - t0)) s"

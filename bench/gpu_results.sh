#!/bin/bash
# Issue 32's GPU results in one script: the single-model G2P and Multi30k models a 2-core CPU
# could not reach. Trains the candidates ($CANDIDATES, configs/*-gpu*.yaml) at once on one GPU
# for $MINUTES of wall time each (bf16), then bench/gpu_pick.py chooses one per task on dev,
# rounds its weights to bf16 and scores those on dev and test.
# Usage: bench/gpu_results.sh OUT [DATA]     DATA: a folder holding multi30k/ and
#        cmudict-g014b2b/ (default ../shared/data); OUT gets m30k.pt, g2p.pt, *.json, logs/.
#   PY=python3 MINUTES=5 bench/gpu_results.sh ...
set -uo pipefail
cd "$(dirname "$0")/.."
mkdir -p "${1:?usage: bench/gpu_results.sh OUT [DATA]}" && OUT=$(cd "$1" && pwd)
DATA=${2:-../shared/data}
PY=${PY:-$PWD/.venv/bin/python}
MINUTES=${MINUTES:-5}
RUNS=${RUNS:-runs/gpu}
PICK=${PICK:-}  # more gpu_pick.py options (a rehearsal's --limit)
SETS=${SETS:-}  # more --set KEY=VALUE for every candidate, space-separated (a quick CPU rehearsal)
# the configs to train at once (configs/NAME.yaml); the first H200 session (2026-11-30) trained
# "g2p-cmudict-transformer-gpu-256 g2p-cmudict-transformer-gpu-384 multi30k-transformer-gpu-256
# multi30k-transformer-gpu-384"; the default is the plan for the next one (docs/results.md)
CANDIDATES=${CANDIDATES:-g2p-cmudict-attention-gpu multi30k-transformer-gpu-384}
export PYTHONUNBUFFERED=1
mkdir -p "$OUT/logs" "$RUNS" && RUNS=$(cd "$RUNS" && pwd)
G2P="data.train={tsv: $DATA/cmudict-g014b2b/train.tsv}"

$PY -m seq2seq data multi30k --pair de-en --from "$DATA/multi30k" --out data/multi30k-de-en \
  >"$OUT/logs/data.log" 2>&1 || { cat "$OUT/logs/data.log"; exit 1; }

pids=()
for name in $CANDIDATES; do
  sets=(--set "train.max_minutes=$MINUTES")
  for kv in $SETS; do sets+=(--set "$kv"); done
  [[ $name == g2p* ]] && sets+=(--set "$G2P")
  $PY -m seq2seq train "configs/$name.yaml" --out "$RUNS/$name" --no-progress "${sets[@]}" \
    >"$OUT/logs/$name.log" 2>&1 &
  pids+=($!)
done
rc=0
for p in "${pids[@]}"; do wait "$p" || rc=1; done
echo "== training done (exit $rc); last lines of each log:"
for f in "$OUT"/logs/*-gpu*.log; do echo "-- $f"; tail -n 4 "$f"; done
for name in "$RUNS"/*-gpu*; do cp "$name/metrics.jsonl" "$OUT/logs/$(basename "$name").metrics.jsonl"; done

pids=()
for task in g2p m30k; do
  prefix=$([ $task = g2p ] && echo g2p- || echo multi30k-)
  runs=()
  for name in $CANDIDATES; do [[ $name == $prefix* ]] && runs+=("$RUNS/$name"); done
  [ ${#runs[@]} -gt 0 ] || continue
  $PY bench/gpu_pick.py pick --task $task --out "$OUT" $PICK --runs "${runs[@]}" \
    >"$OUT/logs/pick-$task.log" 2>&1 &
  pids+=($!)
done
for p in "${pids[@]}"; do wait "$p" || rc=1; done
cat "$OUT"/logs/pick-*.log
exit $rc

#!/usr/bin/env bash
# Issue 23 item 1 for IMPALA: five CartPole runs of 10M steps with the target off, one at a time under nice, then
# summarize.py writes the JSON beside this script. Run from the repository root after
# `dotnet build src/Cli -c Release`.
# Usage: bench/results/impala-10m/run.sh RUNS_DIR LABEL [extra train flags...]
# TRAIN=path/to/advantage-train overrides the binary (a copy lets the worktree rebuild while runs go on);
# SEEDS="1 2 3 4 5" by default.
set -euo pipefail
RUNS=${1:?runs directory}; LABEL=${2:?label}; shift 2
TRAIN=${TRAIN:-src/Cli/bin/Release/net10.0/advantage-train}
SEEDS=${SEEDS:-1 2 3 4 5}
mkdir -p "$RUNS"
for s in $SEEDS; do
  out="$RUNS/$LABEL-s$s"
  nice -n 15 "$TRAIN" --algo impala --max-steps 10000000 --target-return 100000 --seed "$s" "$@" \
    --output "$out" --overwrite --quiet > "$out.log" 2>&1 || echo "seed $s exited $?" >> "$out.log"
done
FLAGS="$*" python3 "$(dirname "$0")/summarize.py" "$RUNS" "$(dirname "$0")/$LABEL.json" "$LABEL" $SEEDS

#!/usr/bin/env bash
# The IMPALA learning-quality runs behind README's "Asynchronous rounds: IMPALA" table (run from the repository root
# after `dotnet build Advantage.slnx -c Release`); each run's summary.json is kept beside this script.
set -euo pipefail
cd "$(dirname "$0")/../../.."
mkdir -p runs/impala-quality
T="dotnet src/Cli/bin/Release/net10.0/advantage-train.dll"
for s in 1 2 3; do
  $T --algo impala --env Acrobot-v1 --seed $s --max-steps 500000 --quiet --output runs/impala-quality/acrobot-$s --overwrite > runs/impala-quality/acrobot-$s.log 2>&1
done
for s in 1 2 3; do
  $T --algo impala --env MinAtar/Breakout-v1 --seed $s --max-steps 3000000 --quiet --output runs/impala-quality/breakout-$s --overwrite > runs/impala-quality/breakout-$s.log 2>&1
done

#!/usr/bin/env bash
# Issue 23 item 5 for PPO: train each environment at the zoo's budget (rl-baselines3-zoo hyperparams/ppo.yml), seeds
# 1-3, one run at a time under nice, then score the final policy (model.ckpt) with the CLI's `eval`: the mean of 100
# deterministic episodes. Run from the repository root after `dotnet build src/Cli -c Release`.
# Usage: bench/results/scores-ppo/run.sh RUNS_DIR [ENV_KEY ...]   (ENV_KEY: acrobot mountaincar breakout)
# TRAIN=path/to/advantage-train overrides the binary (a copy lets the worktree rebuild while runs go on).
set -euo pipefail
RUNS=${1:?runs directory}; shift
KEYS=${*:-acrobot mountaincar breakout}
TRAIN=${TRAIN:-src/Cli/bin/Release/net10.0/advantage-train}
mkdir -p "$RUNS"
declare -A ENV=([acrobot]=Acrobot-v1 [mountaincar]=MountainCar-v0 [breakout]=MinAtar/Breakout-v1)
declare -A BUDGET=([acrobot]=1000000 [mountaincar]=1000000 [breakout]=3000000)
# Acrobot and MountainCar: the zoo's MlpPolicy has separate 64-64 policy and value networks (SB3's default); the
# Atari CnnPolicy the Breakout preset follows shares its trunk, so Breakout keeps the preset's shared trunk.
declare -A EXTRA=([acrobot]="--separate-networks true" [mountaincar]="--separate-networks true" [breakout]="")
# (MountainCar ran with separate networks too and scored worse than the shared trunk, so its preset keeps the shared one.)
for k in $KEYS; do
  for s in 1 2 3; do
    out="$RUNS/$k-s$s"
    cmd="$TRAIN --algo ppo --env ${ENV[$k]} --seed $s --max-steps ${BUDGET[$k]} ${EXTRA[$k]} --output $out --overwrite --quiet"
    echo "$cmd" > "$out.cmd"
    start=$(date +%s.%N)
    nice -n 15 $cmd > "$out.train.log" 2>&1
    end=$(date +%s.%N)
    nice -n 15 "$TRAIN" eval --checkpoint "$out" --episodes 100 > "$out.eval.log" 2>&1
    echo "$k seed $s: $(python3 -c "print(round($end-$start,1))") s; $(tail -1 "$out.eval.log")"
  done
done

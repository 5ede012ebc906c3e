#!/usr/bin/env bash
# Re-measures every figure of README's Results section and rewrites that section (bench report).
# Usage: bash bench/measure.sh [--with-envs]   (--with-envs adds the learning-quality runs: about an hour on 2 cores)
set -euo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
dotnet build Advantage.slnx -c Release -v quiet -nologo
bench="dotnet bench/Advantage.Bench/bin/Release/net10.0/advantage-bench.dll"
main=$(mktemp -d)
# The main job exactly as README gives it (dotnet run), into a throw-away folder; its summary is kept.
dotnet run -c Release --no-build --project src/Cli -- --output "$main/run" --quiet
cp "$main/run/summary.json" bench/results/main.json
rm -rf "$main"
$bench solve --seeds 1,2,3,4,5
$bench e2e
$bench cluster --nodes 2 --envs-per-worker 16 --rollout 5 --warmup 5 --window 8 --repeats 3
$bench cluster --nodes 2 --envs-per-worker 32 --rollout 20 --warmup 5 --window 8 --repeats 3 --out bench/results/cluster-32x20.json
# PPO on CartPole (README's "Algorithms: A2C and PPO" quotes it); the SB3 side by side needs the peer: bash bench/ppo-vs-sb3.sh
$bench solve --algo ppo --seeds 1,2,3,4,5 --out bench/results/solve-ppo.json
# Asynchronous rounds (README's "Asynchronous rounds: IMPALA" section quotes these files).
$bench solve --algo impala --seeds 1,2,3,4,5 --out bench/results/solve-impala.json
$bench solve --algo impala --nodes 2 --seeds 1,2,3,4,5 --out bench/results/solve-impala-cluster.json
$bench async --algo impala --repeats 3
$bench async --algo impala --envs-per-worker 32 --rollout 20 --straggler-ms 0 --repeats 3 --out bench/results/async-32x20.json
$bench async --algo impala --workers 4 --envs-per-worker 8 --no-cluster --repeats 3 --window 5 --out bench/results/async-4x8.json
# The policy actor under 1, 100 and 1,000 requesters (README's "Serving a policy to your actors" quotes this file).
$bench serve
if [ "${1:-}" = "--with-envs" ]; then
  $bench envs --seeds 1,2,3
  $bench envs --algo ppo --envs Pendulum-v1,MountainCarContinuous-v0,Acrobot-v1,MountainCar-v0 --seeds 1,2,3
  $bench envs --algo ppo --envs MinAtar/Breakout-v1 --seeds 1,2,3 --max-steps 1000000 --out bench/results/envs-ppo-breakout-1m
fi
$bench report

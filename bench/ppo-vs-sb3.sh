#!/usr/bin/env bash
# PPO on CartPole-v1 side by side with Stable-Baselines3's PPO (rl-baselines3-zoo settings), interleaved seed by seed so
# both sides see the same machine load. Needs the SB3 peer set up as ../shared/peers/README.md says; PEERS_PY names the
# folder holding gymnasium-0.29.1/ and sb3-2.3.2/, PEER_SCRIPT the peer script. Extra arguments go to `bench solve`.
#   bash bench/ppo-vs-sb3.sh [--seeds 1,2,3,4,5] [--out bench/results/ppo-vs-sb3.json] [-- solve flags...]
set -euo pipefail
cd "$(dirname "$0")/.."
seeds="1,2,3,4,5"
out="bench/results/ppo-vs-sb3.json"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --seeds) seeds="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --) shift; break ;;
    *) break ;;
  esac
done
PEERS_PY="${PEERS_PY:-/work/peers-py}"
PEER_SCRIPT="${PEER_SCRIPT:-../shared/peers/sb3_a2c_cartpole.py}"
PYTHON="${PYTHON:-/usr/bin/python3}"
dotnet build bench/Advantage.Bench -c Release -v q -nologo > /dev/null
bench=bench/Advantage.Bench/bin/Release/net10.0/advantage-bench
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
IFS=',' read -ra list <<< "$seeds"
for seed in "${list[@]}"; do
  load_sb3=$(cut -d' ' -f1-3 /proc/loadavg)
  PYTHONPATH="$PEERS_PY/gymnasium-0.29.1:$PEERS_PY/sb3-2.3.2" "$PYTHON" "$PEER_SCRIPT" --algo ppo --seed "$seed" --timesteps 100000 \
    | tee "$tmp/sb3-$seed.log" | grep -E "first >=|never reached|SUMMARY" || true
  echo "$load_sb3" > "$tmp/sb3-$seed.load"
  "$bench" solve --algo ppo --seeds "$seed" --out "$tmp/ours-$seed.json" "$@" | grep -E "seed $seed:" || true
done
"$PYTHON" - "$tmp" "$out" "$seeds" "$*" <<'PY'
import json, sys, statistics, subprocess, datetime
tmp, out, seeds, flags = sys.argv[1], sys.argv[2], [int(s) for s in sys.argv[3].split(",")], sys.argv[4]
rows = []
for s in seeds:
    summary = next(json.loads(l[len("SUMMARY "):]) for l in open(f"{tmp}/sb3-{s}.log") if l.startswith("SUMMARY "))
    ours = json.load(open(f"{tmp}/ours-{s}.json"))
    o = ours["seeds"][0]
    rows.append({"seed": s,
                 "sb3": {"solved": summary["hit_steps"] is not None, "steps": summary["hit_steps"], "seconds": summary["hit_wall_s"],
                         "steps_per_second": summary["steps_per_s"], "final_mean": summary["final_mean"], "load_average_before": open(f"{tmp}/sb3-{s}.load").read().strip()},
                 "ours": {"solved": o["solved"], "steps": o["steps"], "seconds": o["seconds"], "steps_per_second": o["steps_per_second"],
                          "load_average_before": ours["machine"]["load_average_before"]}})
def med(side, key):
    v = [r[side][key] if r[side]["solved"] else float("inf") for r in rows]
    m = statistics.median(v)
    return None if m == float("inf") else m
result = {"benchmark": "ppo-vs-sb3", "environment": "CartPole-v1", "target": 475, "window": 100,
          "finished_utc": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
          "commit": subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip(),
          "sb3_command": "sb3_a2c_cartpole.py --algo ppo --seed S --timesteps 100000 (torch 1 thread; zoo CartPole-v1 settings, lr and clip linear over 100k steps)",
          "ours_command": ("advantage-bench solve --algo ppo --seeds S " + flags).strip(),
          "seeds": rows,
          "sb3_solved": sum(r["sb3"]["solved"] for r in rows), "ours_solved": sum(r["ours"]["solved"] for r in rows),
          "sb3_median_seconds": med("sb3", "seconds"), "ours_median_seconds": med("ours", "seconds"),
          "sb3_median_steps": med("sb3", "steps"), "ours_median_steps": med("ours", "steps")}
if result["sb3_median_seconds"] and result["ours_median_seconds"]:
    result["ours_over_sb3_time"] = round(result["ours_median_seconds"] / result["sb3_median_seconds"], 4)
json.dump(result, open(out, "w"), indent=2)
print(json.dumps({k: v for k, v in result.items() if k != "seeds"}, indent=2))
PY

#!/usr/bin/env python3
"""Collects run.sh's runs into scores.json: per environment and seed, the mean of 100 deterministic evaluation
episodes of the final policy (the CLI's `eval` on model.ckpt), the training mean of the last 100 episodes, wall time
and the command. Usage: summarize.py RUNS_DIR OUT_JSON"""
import json, os, re, sys

TARGETS = {
    "acrobot": ("Acrobot-v1", ">= -75 on every seed", lambda xs: all(x >= -75 for x in xs)),
    "mountaincar": ("MountainCar-v0", ">= -110 on at least 2 of 3", lambda xs: sum(x >= -110 for x in xs) >= 2),
    "breakout": ("MinAtar/Breakout-v1", "above A2C's mean at 3M steps", None),
}

runs, out = sys.argv[1], sys.argv[2]
doc = {"benchmark": "scores-ppo", "environments": {}}
for key, (env, rule, check) in TARGETS.items():
    seeds = []
    for s in (1, 2, 3):
        base = os.path.join(runs, f"{key}-s{s}")
        if not os.path.exists(base + ".eval.log"):
            continue
        text = open(base + ".eval.log").read()
        m = re.search(r"mean return (-?[\d.]+) \+/- ([\d.]+) over (\d+) episodes", text)
        summary = json.load(open(os.path.join(base, "summary.json")))
        seeds.append({
            "seed": s,
            "command": open(base + ".cmd").read().strip(),
            "evaluation_mean": float(m.group(1)) if m else None,
            "evaluation_std": float(m.group(2)) if m else None,
            "evaluation_episodes": int(m.group(3)) if m else None,
            "evaluation_line": text.strip().splitlines()[-1] if text.strip() else "",
            "training_mean_return100": summary.get("mean_return"),
            "steps": summary.get("steps"),
            "wall_seconds": summary.get("wall_seconds"),
            "steps_per_second": summary.get("steps_per_second"),
            "collapse": summary.get("collapse"),
        })
    scores = [x["evaluation_mean"] for x in seeds if x["evaluation_mean"] is not None]
    doc["environments"][env] = {
        "rule": rule,
        "seeds": seeds,
        "met": (check(scores) if check and len(scores) == 3 else None),
    }
json.dump(doc, open(out, "w"), indent=2)
print(json.dumps({k: [(x["seed"], x["evaluation_mean"], x["training_mean_return100"]) for x in v["seeds"]] for k, v in doc["environments"].items()}))

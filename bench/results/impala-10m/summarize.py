#!/usr/bin/env python3
"""Summarises IMPALA 10M-step CartPole runs (run.sh) into one JSON: per run the final training mean, the longest
stretch of steps the training mean sat below 100 after it first reached 100, the steps it took to first reach 100,
wall time, and what summary.json says about a collapse. Reads each run folder's progress.csv and summary.json.
Usage: summarize.py RUNS_DIR OUT_JSON LABEL [seed ...]"""
import csv, json, os, sys

def stretches(rows, threshold=100.0):
    first = None; longest = 0; longest_at = None; start = None
    for steps, mean in rows:
        if first is None:
            if mean >= threshold: first = steps
            continue
        if mean < threshold:
            if start is None: start = steps
        elif start is not None:
            if steps - start > longest: longest, longest_at = steps - start, start
            start = None
    if start is not None and rows and rows[-1][0] - start > longest:
        longest, longest_at = rows[-1][0] - start, start
    return first, longest, longest_at

def main():
    runs, out, label = sys.argv[1], sys.argv[2], sys.argv[3]
    seeds = [int(s) for s in sys.argv[4:]] or [1, 2, 3, 4, 5]
    results = []
    for s in seeds:
        d = os.path.join(runs, f"{label}-s{s}")
        rows = []
        with open(os.path.join(d, "progress.csv")) as f:
            for r in csv.DictReader(f):
                rows.append((int(r["steps"]), float(r["mean_return"]), float(r["entropy"])))
        summary = json.load(open(os.path.join(d, "summary.json")))
        first, longest, at = stretches([(a, b) for a, b, _ in rows])
        final = rows[-1][1]
        results.append({
            "seed": s,
            "steps": rows[-1][0],
            "final_mean_return": final,
            "min_mean_return_after_first_100": min((m for st, m, _ in rows if first is not None and st >= first), default=None),
            "first_step_mean_at_least_100": first,
            "longest_steps_below_100_after_first_100": longest,
            "longest_stretch_starts_at_step": at,
            "min_entropy": min(e for _, _, e in rows),
            "wall_seconds": summary.get("wall_seconds"),
            "collapse": summary.get("collapse"),
            "stop_reason": summary.get("stop_reason"),
            "complete": rows[-1][0] >= 10_000_000,
            "met": rows[-1][0] >= 10_000_000 and final >= 450 and longest <= 100_000,
        })
    doc = {
        "benchmark": "impala-10m",
        "label": label,
        "rule": "final training mean >= 450 and never below 100 for more than 100,000 steps (after first reaching 100)",
        "command": ("advantage-train --algo impala --max-steps 10000000 --target-return 100000 --seed N --quiet " + os.environ.get("FLAGS", "")).strip(),
        "preset": os.environ.get("PRESET_NOTE", ""),
        "runs": results,
        "met": sum(r["met"] for r in results),
    }
    json.dump(doc, open(out, "w"), indent=2)
    print(json.dumps(doc, indent=2))

main()

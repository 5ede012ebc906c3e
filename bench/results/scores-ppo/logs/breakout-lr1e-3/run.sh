#!/usr/bin/env bash
# $1 name, rest: flags
name=$1; shift
out=/work/exp/$name
start=$(date +%s.%N)
/work/cli-exp/advantage-train --algo ppo --env MinAtar/Breakout-v1 --max-steps 3000000 --output $out --overwrite --quiet "$@" > $out.train.log 2>&1
end=$(date +%s.%N)
/work/cli-exp/advantage-train eval --checkpoint $out --episodes 100 > $out.eval.log 2>&1
echo "$name $*: $(python3 -c "print(round($end-$start,1))") s; $(tail -1 $out.eval.log)" >> /work/exp/results.txt

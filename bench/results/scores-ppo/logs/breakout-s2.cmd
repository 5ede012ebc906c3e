/work/cli-copy/advantage-train --algo ppo --env MinAtar/Breakout-v1 --seed 2 --max-steps 3000000 --output RUN --overwrite --quiet (build of commit 38d37a3)

advantage-train --algo ppo --env MinAtar/Breakout-v1 --seed 1 --max-steps 3000000 --output RUNS/breakout-s1 --overwrite --quiet

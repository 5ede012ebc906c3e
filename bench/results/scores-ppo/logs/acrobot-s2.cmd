advantage-train --algo ppo --env Acrobot-v1 --seed 2 --max-steps 1000000 --separate-networks true --output RUNS/acrobot-s2 --overwrite --quiet

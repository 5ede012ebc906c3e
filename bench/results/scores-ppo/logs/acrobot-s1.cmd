advantage-train --algo ppo --env Acrobot-v1 --seed 1 --max-steps 1000000 --separate-networks true --output RUNS/acrobot-s1 --overwrite --quiet

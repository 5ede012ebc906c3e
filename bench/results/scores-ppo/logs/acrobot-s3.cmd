advantage-train --algo ppo --env Acrobot-v1 --seed 3 --max-steps 1000000 --separate-networks true --output RUNS/acrobot-s3 --overwrite --quiet

advantage-train --algo ppo --env MountainCar-v0 --seed 3 --max-steps 1000000 --separate-networks true --output RUNS/mountaincar-s3 --overwrite --quiet

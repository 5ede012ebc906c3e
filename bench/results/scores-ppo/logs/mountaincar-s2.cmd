advantage-train --algo ppo --env MountainCar-v0 --seed 2 --max-steps 1000000 --separate-networks true --output RUNS/mountaincar-s2 --overwrite --quiet

advantage-train --algo ppo --env MountainCar-v0 --seed 1 --max-steps 1000000 --separate-networks true --output RUNS/mountaincar-s1 --overwrite --quiet

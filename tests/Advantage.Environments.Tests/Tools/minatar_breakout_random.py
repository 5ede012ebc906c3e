#!/usr/bin/env python3
"""Random-policy baseline of MinAtar's own Breakout, for comparison with RandomPolicyReturnMatchesMinAtars.

Uniform random actions over the minimal action set ('n', 'l', 'r'), MinAtar's default sticky actions
(0.1), until termination, 20,000 episodes. Usage (numpy needed):
  git --git-dir=<MinAtar snapshot> archive HEAD minatar | tar -x -C DIR
  PYTHONPATH=DIR python3 minatar_breakout_random.py
Measured 2026-11-24 (Python 3.11, NumPy 1.24): mean return 0.3850 +/- 0.0046, std 0.6535, mean length 9.930.
"""
import numpy as np
from minatar import Environment

EPISODES = 20_000

env = Environment("breakout", sticky_action_prob=0.1)
env.seed(7)
policy = np.random.RandomState(123)
minimal = env.minimal_action_set()
returns, lengths = [], []
for _ in range(EPISODES):
    env.reset()
    total, length, terminal = 0.0, 0, False
    while not terminal:
        reward, terminal = env.act(minimal[policy.randint(3)])
        total += reward
        length += 1
    returns.append(total)
    lengths.append(length)
returns, lengths = np.array(returns), np.array(lengths)
print("mean return %.4f +/- %.4f (stderr), std %.4f, mean length %.3f"
      % (returns.mean(), returns.std() / np.sqrt(EPISODES), returns.std(), lengths.mean()))

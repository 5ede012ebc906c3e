#!/usr/bin/env python3
"""Records MinAtar Breakout trajectories for MinAtarBreakoutReferenceTests.

Runs MinAtar's own game (minatar/environments/breakout.py, imported from a checkout; nothing is
copied) without sticky actions, so the recorded actions are the executed ones, and writes every
step's full game state and observation to Data/MinAtar-Breakout-v1.json. The C# test starts from each
recorded initial state and replays the actions.

The policy mixes uniform random actions with tracking the ball, so episodes are long enough to cover
brick strikes, pass-through after a strike, wall and ceiling bounces, both paddle bounces, wall
refills and termination.

Usage (numpy needed; Debian: apt-get install python3-numpy):
  git --git-dir=<MinAtar snapshot> archive HEAD minatar | tar -x -C DIR
  PYTHONPATH=DIR python3 minatar_breakout_reference.py > ../Data/MinAtar-Breakout-v1.json
"""
import copy
import json
import sys

import numpy as np
from minatar.environments import breakout

MINIMAL = [0, 1, 3]  # MinAtar's full-set indices of 'n', 'l', 'r' (the minimal set of Breakout)
EPISODES = 8
MAX_STEPS = 600
OBSERVED_STEPS = 100  # observations are stored for these first steps and for rewarding or final ones


def landing(env, straight):
    """Column to put the paddle in to return the ball: where it arrives on row 8 (straight bounce) or
    the column it would enter on row 9 (diagonal bounce)."""
    probe = copy.deepcopy(env)
    for _ in range(40):
        if probe.ball_y == 8 and probe.ball_dir in (2, 3):
            step = 1 if probe.ball_dir == 2 else -1
            diagonal = min(9, max(0, probe.ball_x + step))
            return probe.ball_x if straight else diagonal
        probe.pos = probe.ball_x  # keep the probe alive; its paddle does not matter before row 9
        probe.act(0)
        if probe.terminal:
            break
    return env.ball_x


def state(env):
    return [int(env.ball_x), int(env.ball_y), int(env.ball_dir), int(env.pos), int(env.last_x),
            int(env.last_y), int(bool(env.strike)), int(bool(env.terminal)),
            "".join(str(int(v)) for v in env.brick_map.reshape(-1))]


def observation(env):
    # Flat indices of the set cells in MinAtar's layout [10, 10, 4] (row-major), to keep the file small.
    return [int(i) for i in np.flatnonzero(env.state().reshape(-1))]


def main():
    episodes = []
    for episode in range(EPISODES):
        env = breakout.Env()
        env.random = np.random.RandomState(episode)
        env.reset()
        policy = np.random.RandomState(1000 + episode)
        randomness = [0.0, 0.02, 0.1, 1.0][episode % 4]
        straight = True
        record = {"initial_state": state(env), "initial_observation": observation(env), "steps": []}
        for _ in range(MAX_STEPS):
            if policy.rand() < randomness:
                action = int(policy.randint(3))
            else:
                if env.ball_dir in (0, 1):
                    straight = policy.rand() < 0.5  # a new coin for every approach
                target = landing(env, straight)
                action = 0 if target == env.pos else (1 if target < env.pos else 2)
            reward, terminal = env.act(MINIMAL[action])
            step = {"action": action, "reward": int(reward), "terminated": bool(terminal), "state": state(env)}
            if len(record["steps"]) < OBSERVED_STEPS or terminal or reward:
                step["observation"] = observation(env)
            record["steps"].append(step)
            if terminal:
                break
        episodes.append(record)
    json.dump({"source": "kenjyoung/MinAtar minatar/environments/breakout.py, no sticky actions",
               "state_order": "ball_x, ball_y, ball_dir, paddle_x, last_x, last_y, strike, terminal, brick_map[10x10] as a 0/1 string",
               "observation_layout": "indices of the ones in [10, 10, 4] row-major; channels paddle, ball, trail, brick",
               "episodes": episodes}, sys.stdout, separators=(",", ":"))


if __name__ == "__main__":
    main()

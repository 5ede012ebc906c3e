#!/usr/bin/env python3
"""Prints the NumPy vectors that NumPyRandomTests hard-codes.

Seeds the generator exactly as Gymnasium 0.29.1's seeding.np_random does
(SeedSequence(seed) -> PCG64 -> Generator) and prints, per seed: the four uint64 words of
seed_seq.generate_state(4, uint64), PCG64's 128-bit state and increment after seeding, the first
raw 64-bit outputs, the first doubles of Generator.random(), and the uniform draws the
classic-control resets make (each from a freshly seeded generator). Then, for seed 42, the draws of
three consecutive resets of each classic-control environment (reset(seed=42), reset(), reset()):
Gymnasium's unseeded reset draws on from the same generator, and these envs draw nothing in step.

Usage (Debian 12: apt-get install python3-numpy; run Debian's interpreter):
  /usr/bin/python3 numpy_pcg64_vectors.py
Produced with NumPy 1.24.2, Python 3.11.2.
"""
import numpy as np

SEEDS = [0, 1, 42, 2**32 - 1, 2**32, 12345678901234567890, 2**64 - 1, 2**130 + 2**96 + 7]


def fresh(seed):
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed)))


def hexes(values):
    return ", ".join("0x%016X" % int(v) for v in values)


def reals(values):
    return ", ".join(repr(float(v)) for v in values)


print("numpy", np.__version__)
for seed in SEEDS:
    print("seed", seed, "entropy words", [int(w) for w in np.random.bit_generator._coerce_to_uint32_array(seed)])
    print("  generate_state(4, uint64):", hexes(np.random.SeedSequence(seed).generate_state(4, np.uint64)))
    st = fresh(seed).bit_generator.state["state"]
    print("  state 0x%032X inc 0x%032X" % (st["state"], st["inc"]))
    print("  raw:", hexes(fresh(seed).bit_generator.random_raw(5)))
    print("  random():", reals(fresh(seed).random(3)))
    print("  uniform(-0.05, 0.05, 4):", reals(fresh(seed).uniform(-0.05, 0.05, size=(4,))))
    print("  uniform(-0.1, 0.1, 4) as float32:", reals(fresh(seed).uniform(-0.1, 0.1, size=(4,)).astype(np.float32)))
    print("  uniform(-0.6, -0.4):", reals([fresh(seed).uniform(low=-0.6, high=-0.4)]))
    high = np.array([np.pi, 1.0])
    print("  uniform(-[pi, 1], [pi, 1]):", reals(fresh(seed).uniform(low=-high, high=high)))

g = fresh(42)
print("seed 42, three CartPole resets:", reals([v for _ in range(3) for v in g.uniform(low=-0.05, high=0.05, size=(4,))]))
g = fresh(42)
print("seed 42, three Acrobot resets (float32):", reals([v for _ in range(3) for v in g.uniform(low=-0.1, high=0.1, size=(4,)).astype(np.float32)]))
g = fresh(42)
print("seed 42, three MountainCar resets:", reals([g.uniform(low=-0.6, high=-0.4) for _ in range(3)]))
g = fresh(42)
print("seed 42, three Pendulum resets:", reals([v for _ in range(3) for v in g.uniform(low=-np.array([np.pi, 1.0]), high=np.array([np.pi, 1.0]))]))

"""The synthetic arena both rating benchmarks draw from (bench/ratings.py, bench/arena_scale.py).

m models with Elo-scale strengths ~ N(0, 150); each battle pairs two different models; `tie_rate` of battles are
ties (half "tie", half "tie (bothbad)"), the rest are won by A with the Elo probability.
"""
from __future__ import annotations

import numpy as np

WINNERS = np.array(["model_a", "model_b", "tie", "tie (bothbad)"])


def draw_battles(rng: np.random.Generator, n: int, m: int, tie_rate: float = 0.15):
    """(a, b, code, strength): model indices of A and B, the outcome as an index into WINNERS, the true strengths.
    Draws from `rng` in a fixed order, so callers may keep drawing from it afterwards."""
    strength = rng.normal(0, 150, m)
    a = rng.integers(0, m, n)
    b = (a + rng.integers(1, m, n)) % m
    p = 1 / (1 + 10 ** ((strength[b] - strength[a]) / 400))
    u = rng.random(n)
    code = np.where(u < tie_rate, np.where(u < tie_rate / 2, 2, 3), np.where(rng.random(n) < p, 0, 1))
    return a, b, code, strength

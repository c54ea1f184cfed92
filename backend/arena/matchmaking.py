"""Pick two distinct contestants, and know the exact probability of that pair.

FastChat's rule (first model ∝ weight, rival ∝ weight among the rest) with a new-model boost and outage
exclusion; optionally Chatbot Arena's active sampling (eq. 9), which favours the pairs whose uncertainty
would shrink most from one more vote, mixed with the base rule so every pair keeps being explored.
The exact probability of the unordered pair is stored with each battle so ratings can be
inverse-probability weighted. Sides are swapped by a fair coin. PointArena's pair-exclusion bug
(comparing names against tuples) cannot recur: exclusions are unordered name pairs checked by value.
"""
from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from backend.config import setting
from backend.errors import UserError

BOOST_FACTOR = 5.0


@dataclass
class MatchConfig:
    boost: frozenset[str] = frozenset()       # new models: weight × BOOST_FACTOR
    outage: frozenset[str] = frozenset()      # never sampled
    excluded_pairs: frozenset[frozenset[str]] = frozenset()  # pairs that must not meet
    active: bool = False                      # Chatbot Arena eq. 9
    active_mix: float = 0.5                   # share of the active rule when active=True
    weights: dict[str, float] = field(default_factory=dict)  # overrides of contestants' own weights
    only: frozenset[str] = frozenset()        # allow-list (empty = every configured contestant)


def effective_weights(contestants: list[dict], cfg: MatchConfig) -> dict[str, float]:
    """Weight per available contestant after overrides, boost and outage (0 = never drawn)."""
    out = {}
    for c in contestants:
        name = c["name"]
        if not c.get("available", True) or name in cfg.outage or (cfg.only and name not in cfg.only):
            continue
        w = float(cfg.weights.get(name, c.get("weight", 1.0)))
        if name in cfg.boost:
            w *= BOOST_FACTOR
        if w > 0 and math.isfinite(w):
            out[name] = w
    return out


def base_pair_probs(weights: dict[str, float], excluded=frozenset()) -> dict[tuple[str, str], float]:
    """P({a,b}) = w_a/W · w_b/(W−w_a) + w_b/W · w_a/(W−w_b), renormalised after exclusions."""
    names = sorted(weights)
    total = sum(weights.values())
    probs = {}
    for a, b in itertools.combinations(names, 2):
        if frozenset((a, b)) in excluded:
            continue
        wa, wb = weights[a], weights[b]
        probs[(a, b)] = wa / total * wb / (total - wa) + wb / total * wa / (total - wb)
    z = sum(probs.values())
    return {k: v / z for k, v in probs.items()} if z > 0 else {}


def active_pair_scores(pairs, ratings: dict[str, float], counts: dict[tuple[str, str], int],
                       scale: float = 400.0) -> dict[tuple[str, str], float]:
    """Eq. 9 with a per-vote Bernoulli variance: sqrt(v/(n+1)) − sqrt(v/(n+2)), v = p(1−p) from the ratings.

    Close pairs (p near ½) and rarely seen pairs score highest."""
    out = {}
    for a, b in pairs:
        d = ratings.get(a, 1000.0) - ratings.get(b, 1000.0)
        p = 1.0 / (1.0 + 10 ** (-d / scale))
        v = p * (1 - p)
        n = counts.get((a, b), 0) + counts.get((b, a), 0)
        out[(a, b)] = math.sqrt(v / (n + 1)) - math.sqrt(v / (n + 2))
    return out


def pair_probabilities(contestants: list[dict], cfg: MatchConfig | None = None,
                       ratings: dict[str, float] | None = None,
                       counts: dict[tuple[str, str], int] | None = None) -> dict[tuple[str, str], float]:
    cfg = cfg or MatchConfig()
    weights = effective_weights(contestants, cfg)
    base = base_pair_probs(weights, cfg.excluded_pairs)
    if not cfg.active or not base:
        return base
    scores = active_pair_scores(base.keys(), ratings or {}, counts or {})
    z = sum(scores.values())
    if z <= 0:
        return base
    mix = min(max(cfg.active_mix, 0.0), 1.0)
    return {k: (1 - mix) * base[k] + mix * scores[k] / z for k in base}


def too_few_message(contestants: list[dict]) -> str:
    down = [f"{c['name']} ({c.get('why') or 'unavailable'})" for c in contestants if not c.get("available", True)]
    msg = "A battle needs at least two pointing models that can run now"
    return msg + (f"; unavailable: {', '.join(down)}." if down else "; none are configured (see models.toml).")


def sample_pair(contestants: list[dict], rng: np.random.Generator, cfg: MatchConfig | None = None,
                ratings: dict[str, float] | None = None, counts: dict | None = None):
    """Return (model_a, model_b, pair_probability, swapped). Never the same model twice."""
    probs = pair_probabilities(contestants, cfg, ratings, counts)
    if not probs:
        raise UserError(too_few_message(contestants))
    keys = list(probs)
    p = np.array([probs[k] for k in keys])
    i = int(rng.choice(len(keys), p=p / p.sum()))
    a, b = keys[i]
    swapped = bool(rng.integers(2))
    if swapped:
        a, b = b, a
    return a, b, float(probs[keys[i]]), swapped


def config_from_env(environ: Mapping[str, str] | None = None) -> MatchConfig:
    """ARENA_MODELS (allow-list), ARENA_BOOST_MODELS, ARENA_OUTAGE_MODELS (comma lists),
    ARENA_EXCLUDE_PAIRS ("a:b,c:d"), ARENA_ACTIVE_SAMPLING=1, ARENA_ACTIVE_MIX, ARENA_WEIGHTS ("name=2,other=0.5");
    parsed in backend/config.py."""
    def get(name):
        return setting(name, environ)

    return MatchConfig(boost=get("ARENA_BOOST_MODELS"), outage=get("ARENA_OUTAGE_MODELS"),
                       excluded_pairs=get("ARENA_EXCLUDE_PAIRS"), active=get("ARENA_ACTIVE_SAMPLING"),
                       active_mix=get("ARENA_ACTIVE_MIX"), weights=get("ARENA_WEIGHTS"), only=get("ARENA_MODELS"))

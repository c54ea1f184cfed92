"""Pair sampling: exact pair probabilities, exclusions, boost, active sampling."""
from collections import Counter

import numpy as np
import pytest

from backend.arena import matchmaking as M


def pool(*specs):
    return [{"name": n, "weight": w, "available": a, "why": "down" if not a else ""} for n, w, a in specs]


def test_base_pair_probability_formula():
    probs = M.base_pair_probs({"a": 1.0, "b": 1.0, "c": 2.0})
    # P({a,b}) = 1/4*1/3 + 1/4*1/3 = 1/6; P({a,c}) = 1/4*2/3 + 2/4*1/2 = 5/12
    assert probs[("a", "b")] == pytest.approx(1 / 6)
    assert probs[("a", "c")] == pytest.approx(5 / 12) and probs[("b", "c")] == pytest.approx(5 / 12)


def test_sampling_frequencies_match_and_never_self():
    contestants = pool(("a", 1, True), ("b", 1, True), ("c", 2, True))
    rng = np.random.default_rng(0)
    seen, swaps = Counter(), 0
    for _ in range(6000):
        a, b, p, swapped = M.sample_pair(contestants, rng)
        assert a != b
        seen[tuple(sorted((a, b)))] += 1
        swaps += swapped
    assert seen[("a", "b")] / 6000 == pytest.approx(1 / 6, abs=0.02)
    assert 0.45 < swaps / 6000 < 0.55


def test_unavailable_outage_and_allow_list():
    contestants = pool(("a", 1, True), ("b", 1, False), ("c", 1, True), ("d", 1, True))
    assert set(M.effective_weights(contestants, M.MatchConfig(outage=frozenset({"d"})))) == {"a", "c"}
    assert set(M.effective_weights(contestants, M.MatchConfig(only=frozenset({"a", "b"})))) == {"a"}
    with pytest.raises(ValueError, match="at least two.*b \\(down\\)"):
        M.sample_pair(contestants, np.random.default_rng(0), M.MatchConfig(only=frozenset({"a", "b"})))
    with pytest.raises(ValueError, match="none are configured"):
        M.sample_pair([], np.random.default_rng(0))


def test_excluded_pair_never_meets():
    contestants = pool(("gpt", 1, True), ("grok", 1, True), ("molmo", 1, True))
    cfg = M.MatchConfig(excluded_pairs=frozenset({frozenset({"gpt", "grok"})}))
    rng = np.random.default_rng(1)
    pairs = {frozenset(M.sample_pair(contestants, rng, cfg)[:2]) for _ in range(300)}
    assert frozenset({"gpt", "grok"}) not in pairs and len(pairs) == 2


def test_boost_multiplies_weight():
    w = M.effective_weights(pool(("new", 1, True), ("old", 1, True)), M.MatchConfig(boost=frozenset({"new"})))
    assert w == {"new": M.BOOST_FACTOR, "old": 1.0}


def test_active_sampling_prefers_close_and_unseen_pairs():
    contestants = pool(("a", 1, True), ("b", 1, True), ("c", 1, True))
    ratings = {"a": 1000, "b": 1010, "c": 1400}
    counts = {("a", "b"): 10, ("a", "c"): 10, ("b", "c"): 10}
    p = M.pair_probabilities(contestants, M.MatchConfig(active=True, active_mix=1.0), ratings, counts)
    assert p[("a", "b")] > p[("a", "c")] and sum(p.values()) == pytest.approx(1.0)
    fewer = {**counts, ("a", "c"): 0}
    q = M.pair_probabilities(contestants, M.MatchConfig(active=True, active_mix=1.0), ratings, fewer)
    assert q[("a", "c")] > p[("a", "c")]


def test_config_from_env():
    cfg = M.config_from_env({"ARENA_BOOST_MODELS": "x, y", "ARENA_EXCLUDE_PAIRS": "a:b", "ARENA_ACTIVE_SAMPLING": "1",
                             "ARENA_WEIGHTS": "x=2", "ARENA_MODELS": "x,y,a"})
    assert cfg.boost == {"x", "y"} and frozenset({"a", "b"}) in cfg.excluded_pairs and cfg.active
    assert cfg.weights == {"x": 2.0} and cfg.only == {"x", "y", "a"}
    with pytest.raises(ValueError, match="ARENA_WEIGHTS"):
        M.config_from_env({"ARENA_WEIGHTS": "x=lots"})

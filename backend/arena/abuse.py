"""Abuse controls that are pure logic: arena limits from the environment and outlier-judge detection.

Outlier judges follow Chatbot Arena §5.1: for each of a judge's votes on pair (a, b), compare the vote with the
history H of *other* judges on that pair, p = (1 + #{h at least as extreme}) / (|H| + 1) (two-sided, capped at
1), and combine the judge's p-values with Fisher's statistic M = −2 Σ log p. Its null distribution ("votes like
everyone else") is simulated rather than taken as χ²(2k), because discrete p-values make χ² badly conservative.
Judges with p(M) < alpha are flagged for review in the admin view; nothing is dropped automatically.
"""
from __future__ import annotations

import os
from collections import defaultdict
from dataclasses import dataclass

import numpy as np

from backend.arena.ratings import OUTCOME


@dataclass(frozen=True)
class ArenaLimits:
    min_dwell_s: float = 3.0            # a vote faster than this after the outputs appear is stored, not counted
    battles_per_window: int = 30        # per session and per IP
    window_s: int = 600
    timeout_s: float = 60.0             # per model
    max_instruction_chars: int = 300
    daily_vote_cap: int | None = None   # per judge, applied before fitting (off by default)
    dedup_quantile: float | None = None  # e.g. 0.9999 (off by default)
    min_votes_shown: int = 20           # below this a model is "preliminary"
    cache_ttl_s: float = 30.0           # leaderboard recomputation at most this often
    banned_ips: frozenset[str] = frozenset()
    bt_prior: float = 1.0               # L2 on BT strengths in battles' units (sd 400 Elo); 0 = pure MLE


def _float(env, name, default):
    raw = env.get(name)
    if raw in (None, ""):
        return default
    try:
        return float(raw)
    except ValueError as exc:
        raise ValueError(f"{name} must be a number, got {raw!r}") from exc


def limits_from_env(environ=None) -> ArenaLimits:
    env = os.environ if environ is None else environ
    cap = _float(env, "ARENA_DAILY_VOTE_CAP", 0)
    dq = _float(env, "ARENA_DEDUP_QUANTILE", 0)
    banned = frozenset(x.strip() for x in env.get("ARENA_BANNED_IPS", "").split(",") if x.strip())
    return ArenaLimits(min_dwell_s=_float(env, "ARENA_MIN_DWELL_S", 3.0),
                       battles_per_window=int(_float(env, "ARENA_RATE_LIMIT", 30)),
                       window_s=int(_float(env, "ARENA_RATE_WINDOW_S", 600)),
                       timeout_s=_float(env, "ARENA_TIMEOUT_S", 60.0),
                       daily_vote_cap=int(cap) if cap > 0 else None,
                       dedup_quantile=dq if 0 < dq < 1 else None,
                       min_votes_shown=int(_float(env, "ARENA_MIN_VOTES", 20)),
                       cache_ttl_s=_float(env, "ARENA_LEADERBOARD_TTL_S", 30.0),
                       banned_ips=banned, bt_prior=_float(env, "ARENA_BT_PRIOR", 1.0))


def outlier_judges(votes: list[dict], *, min_votes: int = 5, max_votes: int = 100, alpha: float = 0.05,
                   n_sim: int = 1000, seed: int = 0) -> list[dict]:
    """votes: dicts with judge, model_a, model_b, winner (in time order). Returns one row per judge with at least
    `min_votes` votes: judge, votes, tested, statistic (Fisher's M), p_value, flagged (sorted by p_value).

    Per-vote p-values from a 3-level outcome are discrete and mostly 1 for majority votes, so M is far below its
    χ² reference under the null; the p-value of M is therefore calibrated by Monte-Carlo: `n_sim` replays of the
    judge's votes drawn from the other judges' outcome frequencies on the same pairs (seeded)."""
    rng = np.random.default_rng(seed)
    # Orient every vote to the unordered pair (lo, hi): outcome = score of `lo`.
    levels = (0.0, 0.5, 1.0)
    pair_counts: dict[tuple[str, str], np.ndarray] = defaultdict(lambda: np.zeros(3))
    by_judge: dict[str, list[tuple[tuple[str, str], int]]] = defaultdict(list)
    for v in votes:
        a, b, w = v["model_a"], v["model_b"], v["winner"]
        if w not in OUTCOME or not v.get("judge"):
            continue
        s = OUTCOME[w]
        key, score = ((a, b), s) if a < b else ((b, a), 1.0 - s)
        lvl = levels.index(score)
        pair_counts[key][lvl] += 1
        by_judge[v["judge"]].append((key, lvl))
    rows = []
    for judge, jv in by_judge.items():
        if len(jv) < min_votes:
            continue
        own: dict[tuple[str, str], np.ndarray] = defaultdict(lambda: np.zeros(3))
        for key, lvl in jv:
            own[key][lvl] += 1
        neglog, probs, obs = [], [], []
        for key, lvl in jv[:max_votes]:
            other = pair_counts[key] - own[key]  # leave this judge out
            n = other.sum()
            if n <= 0:
                continue
            upper = (1 + other[::-1].cumsum()[::-1]) / (n + 1)   # P(h >= level)
            lower = (1 + other.cumsum()) / (n + 1)                # P(h <= level)
            p = np.minimum(1.0, 2 * np.minimum(upper, lower))
            neglog.append(-2 * np.log(p))
            probs.append(other / n)
            obs.append(lvl)
        if not obs:
            continue
        neglog_a, probs_a = np.array(neglog), np.array(probs)
        k = len(obs)
        stat = float(neglog_a[np.arange(k), obs].sum())
        cum = probs_a.cumsum(axis=1)
        draws = (rng.random((n_sim, k))[..., None] > cum[None, :, :]).sum(axis=2).clip(0, 2)
        sims = neglog_a[np.arange(k)[None, :], draws].sum(axis=1)
        pval = float((1 + np.sum(sims >= stat - 1e-9)) / (n_sim + 1))
        rows.append({"judge": judge, "votes": len(jv), "tested": k, "statistic": round(stat, 3),
                     "p_value": pval, "flagged": pval < alpha})
    return sorted(rows, key=lambda r: (r["p_value"], -r["statistic"]))

"""Abuse controls that are pure logic: arena limits from the environment and outlier-judge detection.

Outlier judges follow Chatbot Arena §5.1: for each of a judge's votes on pair (a, b), compare the vote with the
history H of *other* judges on that pair, p = (1 + #{h at least as extreme}) / (|H| + 1) (two-sided, capped at
1), and combine the judge's p-values with Fisher's statistic M = −2 Σ log p. Its null distribution ("votes like
everyone else") is simulated rather than taken as χ²(2k), because discrete p-values make χ² badly conservative.
Judges with p(M) < alpha are flagged for review in the admin view; nothing is dropped automatically.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from backend.arena.ratings import OUTCOME
from backend.config import setting


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


def limits_from_env(environ: Mapping[str, str] | None = None) -> ArenaLimits:
    """The ARENA_* limits (declared and validated in backend/config.py); `environ` replaces os.environ in tests."""
    def get(name):
        return setting(name, environ)

    cap, dq = get("ARENA_DAILY_VOTE_CAP"), get("ARENA_DEDUP_QUANTILE")
    return ArenaLimits(min_dwell_s=get("ARENA_MIN_DWELL_S"), battles_per_window=get("ARENA_RATE_LIMIT"),
                       window_s=get("ARENA_RATE_WINDOW_S"), timeout_s=get("ARENA_TIMEOUT_S"),
                       daily_vote_cap=cap if cap > 0 else None, dedup_quantile=dq if 0 < dq < 1 else None,
                       min_votes_shown=get("ARENA_MIN_VOTES"), cache_ttl_s=get("ARENA_LEADERBOARD_TTL_S"),
                       banned_ips=get("ARENA_BANNED_IPS"), bt_prior=get("ARENA_BT_PRIOR"))


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

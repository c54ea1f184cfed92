"""Signals of scripted voting and gold-item reliability, as pure functions over vote rows.

The outlier-judge test (abuse.outlier_judges) only sees *what* a judge voted. A script that votes for whichever side
sits nearest the image centre agrees with the crowd often enough to pass it, so three more signals look at *how*:

- **network burst**: many new sessions from one network (/24 or /48) within an hour; a cookie costs a script one
  page load, a network is much harder to change;
- **reading time**: comparing two pointed images takes a person several seconds; a judge whose median time from
  outputs to vote is below ARENA_READ_S (default 4 s) is not reading;
- **marker pattern**: a judge whose decisive votes almost always pick the side with one visible property
  (side A, side B, the point nearer the centre, more points, the left-most or top-most point) while the crowd
  does not.

**Gold items** (no text arena has them): a battle on a bench image with a mask has a checkable answer, the side
whose point lies in the mask when exactly one does. Each judge's agreement with that truth, smoothed towards the
crowd's (Beta prior of strength 2), gives a reliability weight max(0, 2·acc − 1): a judge at chance counts 0,
a perfect one 1 (the reliability idea of Crowd-BT, Chen et al. WSDM 2013, reduced to a per-judge weight).
Everything here is for the admin to review; nothing is excluded automatically.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from statistics import median

import numpy as np
from scipy.stats import binomtest

from backend.config import setting


@dataclass(frozen=True)
class ScriptedConfig:
    read_s: float = 4.0              # median seconds from outputs to vote below which a judge is "not reading"
    min_votes: int = 3               # votes before the reading-time signal applies
    burst_sessions: int = 8          # new sessions from one network within burst_window_s
    burst_window_s: float = 3600.0
    pattern_min_votes: int = 8       # decisive votes before the marker-pattern signal applies
    pattern_share: float = 0.95      # share of decisive votes that follow one property
    pattern_margin: float = 0.25     # ... and by how much more than the crowd
    gold_min_votes: int = 5          # gold votes before a judge can be flagged as unreliable
    gold_margin: float = 0.25        # accuracy this far below the crowd's is flagged


def config_from_env(environ=None) -> ScriptedConfig:
    return ScriptedConfig(read_s=setting("ARENA_READ_S", environ),
                          burst_sessions=setting("ARENA_BURST_SESSIONS", environ),
                          burst_window_s=setting("ARENA_BURST_WINDOW_S", environ))


# ------------------------------------------------------------------ marker properties of one side

def _first(points) -> tuple[float, float] | None:
    norm = (points or {}).get("norm") if isinstance(points, dict) else None
    if not norm:
        return None
    try:
        x, y = norm[0][:2]
        return float(x), float(y)
    except (TypeError, ValueError, IndexError):
        return None


def _n(points) -> int:
    norm = (points or {}).get("norm") if isinstance(points, dict) else None
    return len(norm or [])


def side_properties(v: dict) -> dict[str, int | None]:
    """For each property: 0 if side A has it, 1 if side B has it, None if it does not tell the sides apart."""
    pa, pb = _first(v.get("points_a")), _first(v.get("points_b"))
    props: dict[str, int | None] = {"side A": 0, "side B": 1}
    if pa and pb:
        da = (pa[0] - 0.5) ** 2 + (pa[1] - 0.5) ** 2
        db = (pb[0] - 0.5) ** 2 + (pb[1] - 0.5) ** 2
        props["point nearer the centre"] = None if abs(da - db) < 1e-4 else (0 if da < db else 1)
        props["left-most point"] = None if abs(pa[0] - pb[0]) < 1e-3 else (0 if pa[0] < pb[0] else 1)
        props["top-most point"] = None if abs(pa[1] - pb[1]) < 1e-3 else (0 if pa[1] < pb[1] else 1)
    na, nb = _n(v.get("points_a")), _n(v.get("points_b"))
    props["more points"] = None if na == nb else (0 if na > nb else 1)
    return props


def _decisive(v: dict) -> int | None:
    return {"model_a": 0, "model_b": 1}.get(v.get("winner") or "")


# ------------------------------------------------------------------ signals

def _pattern_shares(votes: list[dict]) -> dict[str, tuple[int, int]]:
    """property -> (votes where it told the sides apart, of those how many picked the side having it)."""
    out: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for v in votes:
        side = _decisive(v)
        if side is None:
            continue
        for name, has in side_properties(v).items():
            if has is None:
                continue
            out[name][0] += 1
            out[name][1] += int(has == side)
    return {k: (n, k_) for k, (n, k_) in out.items()}


def _bursts(votes: list[dict], cfg: ScriptedConfig) -> dict[str, int]:
    """net_hash -> the most sessions first seen from it within one window."""
    first_seen: dict[str, dict[str, float]] = defaultdict(dict)
    for v in votes:
        net, sess, t = v.get("net_hash"), v.get("session_id"), v.get("battle_tstamp")
        if not net or not sess or t is None:
            continue
        cur = first_seen[net].get(sess)
        first_seen[net][sess] = t if cur is None else min(cur, t)
    out = {}
    for net, sessions in first_seen.items():
        ts = sorted(sessions.values())
        best, lo = 0, 0
        for hi, t in enumerate(ts):
            while t - ts[lo] > cfg.burst_window_s:
                lo += 1
            best = max(best, hi - lo + 1)
        out[net] = best
    return out


def scripted_signals(votes: list[dict], cfg: ScriptedConfig | None = None) -> list[dict]:
    """One row per judge: votes, median_dwell_s, network_sessions, pattern, pattern_share, reasons, flagged,
    battle_ids. `votes` rows need judge, winner, dwell_s, session_id, net_hash, battle_tstamp, points_a/b, id."""
    cfg = cfg or ScriptedConfig()
    by_judge: dict[str, list[dict]] = defaultdict(list)
    for v in votes:
        if v.get("judge"):
            by_judge[v["judge"]].append(v)
    crowd = _pattern_shares(votes)
    bursts = _bursts(votes, cfg)
    rows = []
    for judge, jv in by_judge.items():
        reasons = []
        dwells = [float(v["dwell_s"]) for v in jv if v.get("dwell_s") is not None]
        med = median(dwells) if dwells else None
        if med is not None and len(dwells) >= cfg.min_votes and med < cfg.read_s:
            reasons.append(f"votes after {med:.1f} s (median), faster than a person compares two images "
                           f"({cfg.read_s:g} s)")
        net_sessions = max((bursts.get(v.get("net_hash") or "", 0) for v in jv), default=0)
        if net_sessions >= cfg.burst_sessions:
            reasons.append(f"{net_sessions} new sessions from its network within "
                           f"{cfg.burst_window_s / 60:.0f} min")
        best, best_share = None, 0.0
        own = _pattern_shares(jv)
        for name, (n, k) in own.items():
            if n < cfg.pattern_min_votes:
                continue
            share = k / n
            cn, ck = crowd.get(name, (0, 0))
            other_n, other_k = cn - n, ck - k
            crowd_share = other_k / other_n if other_n > 0 else 0.5
            if share >= cfg.pattern_share and share - crowd_share >= cfg.pattern_margin and share > best_share:
                best, best_share = name, share
        if best:
            reasons.append(f"picked the {best} in {best_share:.0%} of decisive votes")
        rows.append({"judge": judge, "votes": len(jv), "median_dwell_s": None if med is None else round(med, 2),
                     "network_sessions": net_sessions, "pattern": best or "",
                     "pattern_share": round(best_share, 3) if best else None, "reasons": "; ".join(reasons),
                     "flagged": bool(reasons), "battle_ids": [v["id"] for v in jv]})
    return sorted(rows, key=lambda r: (not r["flagged"], -r["votes"]))


# ------------------------------------------------------------------ gold items

def point_in_mask(points_px, mask: np.ndarray) -> bool:
    h, w = mask.shape[:2]
    for p in points_px or []:
        try:
            x, y = int(float(p[0])), int(float(p[1]))
        except (TypeError, ValueError, IndexError):
            continue
        if 0 <= x < w and 0 <= y < h and mask[y, x]:
            return True
    return False


def gold_truth(points_a_px, points_b_px, mask: np.ndarray) -> str | None:
    """'model_a' / 'model_b' when exactly one side's point lies in the mask; None when the item does not decide."""
    a, b = point_in_mask(points_a_px, mask), point_in_mask(points_b_px, mask)
    if a == b:
        return None
    return "model_a" if a else "model_b"


def gold_reliability(gold_votes: list[dict], cfg: ScriptedConfig | None = None, alpha: float = 0.05) -> dict:
    """gold_votes: dicts with judge, winner, truth. Returns {"crowd_accuracy", "judges": [rows], "weights"}.

    A judge is flagged when it has at least gold_min_votes gold votes, its accuracy is gold_margin below the
    crowd's, and a one-sided binomial test against the crowd's rate gives p < alpha."""
    cfg = cfg or ScriptedConfig()
    per: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for v in gold_votes:
        if v.get("judge") and v.get("truth"):
            per[v["judge"]][0] += 1
            per[v["judge"]][1] += int(v.get("winner") == v["truth"])
    n_all = sum(n for n, _ in per.values())
    crowd = (sum(k for _, k in per.values()) / n_all) if n_all else None
    prior = crowd if crowd is not None else 0.75
    rows, weights = [], {}
    for judge, (n, k) in per.items():
        acc = k / n
        smooth = (k + 2 * prior) / (n + 2)
        w = max(0.0, 2 * smooth - 1)
        weights[judge] = w
        p = binomtest(k, n, prior, alternative="less").pvalue if n else 1.0
        flagged = n >= cfg.gold_min_votes and acc <= prior - cfg.gold_margin and p < alpha
        rows.append({"judge": judge, "gold_votes": n, "agree": k, "accuracy": round(acc, 3),
                     "weight": round(w, 3), "p_value": round(float(p), 4), "flagged": bool(flagged)})
    rows.sort(key=lambda r: (not r["flagged"], r["accuracy"]))
    return {"crowd_accuracy": None if crowd is None else round(crowd, 3), "judges": rows, "weights": weights,
            "default_weight": max(0.0, 2 * prior - 1)}

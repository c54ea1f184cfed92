"""Admin side of vote trust: scripted-voting signals, gold-item reliability, both rankings, exclusions.

Excluding a judge writes rows to `arena_vote_exclusions` for that judge's battles; the votes stay stored and the
ratings (storage.repos.arena.voted_battles) leave them out. Restoring deletes those rows.
"""
from __future__ import annotations

import threading

import numpy as np
import pandas as pd
from PIL import Image

from backend.arena import bench_images, formats, ratings, scripted
from backend.arena.service import check_admin, clear_cache, limits
from backend.errors import UserError
from storage.db import get_storage
from storage.repos import exclusions as repo

_mask_cache: dict[str, np.ndarray | None] = {}
_mask_lock = threading.Lock()


def _mask(image_source: str | None) -> np.ndarray | None:
    if not image_source or not image_source.startswith("bench:"):
        return None
    fname = image_source[len("bench:"):]
    with _mask_lock:
        if fname in _mask_cache:
            return _mask_cache[fname]
    item = bench_images.find_item(fname)
    m = None
    if item is not None and item.mask_path is not None:
        try:
            with Image.open(item.mask_path) as im:
                m = np.asarray(im.convert("L")) > 127
        except OSError:
            m = None
    with _mask_lock:
        _mask_cache[fname] = m
    return m


def gold_votes(votes: list[dict]) -> list[dict]:
    """Votes on gold items with the checkable answer attached (truth None when the item does not decide)."""
    out = []
    for v in votes:
        m = _mask(v.get("image_source"))
        if m is None:
            continue
        truth = scripted.gold_truth((v.get("points_a") or {}).get("px"), (v.get("points_b") or {}).get("px"), m)
        if truth is not None:
            out.append({**v, "truth": truth})
    return out


def _rankings(votes: list[dict], weights: dict[str, float], default_weight: float) -> pd.DataFrame:
    rows = [v for v in votes if v["counted"] and not v["invalid"] and not v["excluded"]]
    cols = ["model", "rating", "rating (reliability-weighted)", "votes"]
    if not rows:
        return pd.DataFrame(columns=cols)
    df = formats.records_to_frame([{"model_a": v["model_a"], "model_b": v["model_b"], "winner": v["winner"],
                                    "judge": v["judge"], "anony": True, "tstamp": v.get("battle_tstamp")}
                                   for v in rows])
    plain = ratings.compute_leaderboard(df, "bt", 0, 0, reg=limits().bt_prior)["models"]
    df = df.assign(weight=[weights.get(v["judge"], default_weight) for v in rows])
    if float(df["weight"].sum()) <= 0:
        weighted = {}
    else:
        weighted = ratings.compute_leaderboard(df[df["weight"] > 0], "bt", 0, 0, reg=limits().bt_prior)["models"]
    out = [[m, round(r["rating"]), round(weighted[m]["rating"]) if m in weighted else None, r["battles"]]
           for m, r in plain.items()]
    return pd.DataFrame(sorted(out, key=lambda r: -r[1]), columns=cols)


def trust_report(token: str | None) -> dict:
    """Scripted-voting signals per judge, gold-item reliability, and the ratings with and without weights."""
    check_admin(token)
    votes = get_storage().read(repo.judge_votes)
    cfg = scripted.config_from_env()
    signals = scripted.scripted_signals([v for v in votes if not v["excluded"]], cfg)
    excluded_by_judge: dict[str, int] = {}
    for v in votes:
        if v["excluded"] and v.get("judge"):
            excluded_by_judge[v["judge"]] = excluded_by_judge.get(v["judge"], 0) + 1
    gold = scripted.gold_reliability(gold_votes([v for v in votes if not v["excluded"]]), cfg)
    return {"signals": signals, "gold": gold, "excluded_votes": sum(v["excluded"] for v in votes),
            "excluded_by_judge": excluded_by_judge,
            "rankings": _rankings(votes, gold["weights"], gold["default_weight"])}


def set_exclusion(token: str | None, judges: list[str], exclude: bool, reason: str | None = None) -> dict:
    """Exclude (or restore) every vote of these judges (none named + exclude: every flagged judge);
    returns {"judges", "votes"} changed."""
    check_admin(token)
    judges = {j.strip() for j in judges if j and j.strip()}
    if not judges and exclude:
        judges = set(flagged_judges(token))
    if not judges:
        raise UserError("Name at least one judge id (from the tables above); no judge is flagged right now.")
    ids = [v["id"] for v in get_storage().read(repo.judge_votes) if v.get("judge") in judges]
    if exclude:
        n = get_storage().write(lambda s: repo.exclude(s, ids, reason or "excluded by admin"))
    else:
        n = get_storage().write(lambda s: repo.restore(s, ids))
    clear_cache()
    return {"judges": len(judges), "votes": n}


def flagged_judges(token: str | None) -> list[str]:
    rep = trust_report(token)
    return sorted({r["judge"] for r in rep["signals"] if r["flagged"]}
                  | {r["judge"] for r in rep["gold"]["judges"] if r["flagged"]})

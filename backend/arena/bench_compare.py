"""Bench ↔ arena agreement: Pearson r, Spearman ρ and R² between bench averages and arena ratings.

PointArena reports that Point-Bench accuracy tracks Point-Battle ratings closely (recomputed from the
published CSVs: r = 0.951, R² = 0.905, ρ = 1.0 over the five arena models). Pure functions; scipy does
the statistics, and fewer than three paired models gives no statistic rather than a misleading one.
"""
from __future__ import annotations

import math

from scipy import stats

MIN_MODELS = 3


def pair_rows(bench: dict[str, dict], arena: dict[str, dict]) -> list[dict]:
    """One row per model present in either source; `paired` when both numbers exist."""
    rows = []
    for model in sorted(set(bench) | set(arena)):
        b, a = bench.get(model), arena.get(model)
        rows.append({"model": model,
                     "bench_average": None if b is None else float(b["average"]),
                     "arena_rating": None if a is None else float(a["rating"]),
                     "arena_ci": None if a is None else [a.get("ci_low"), a.get("ci_high")],
                     "paired": b is not None and a is not None})
    return rows


def correlation(xs: list[float], ys: list[float]) -> dict:
    """{"n", "pearson_r", "pearson_p", "spearman_rho", "spearman_p", "r2"}; values None when undefined."""
    n = len(xs)
    out: dict[str, float | None] = {"n": n, "pearson_r": None, "pearson_p": None, "spearman_rho": None,
                                    "spearman_p": None, "r2": None}
    if n < MIN_MODELS or len(set(xs)) < 2 or len(set(ys)) < 2:
        return out
    pr = stats.pearsonr(xs, ys)
    sr = stats.spearmanr(xs, ys)
    lin = stats.linregress(xs, ys)
    vals = {"pearson_r": float(pr.statistic), "pearson_p": float(pr.pvalue), "spearman_rho": float(sr.statistic),
            "spearman_p": float(sr.pvalue), "r2": float(lin.rvalue ** 2)}
    out.update({k: (None if math.isnan(v) else round(float(v), 4)) for k, v in vals.items()})
    return out


def compare(bench: dict[str, dict], arena: dict[str, dict]) -> dict:
    rows = pair_rows(bench, arena)
    paired = [r for r in rows if r["paired"]]
    stats_ = correlation([r["bench_average"] for r in paired], [r["arena_rating"] for r in paired])
    return {"rows": rows, "stats": stats_}

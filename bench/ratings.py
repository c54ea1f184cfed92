"""Benchmark: Bradley-Terry + bootstrap CIs on a large synthetic arena, against a per-battle baseline.

    .venv/bin/python bench/ratings.py                       # 1,000,000 battles, 50 models, 100 bootstrap rounds
    .venv/bin/python bench/ratings.py --battles 200000 --baseline-rounds 2
    .venv/bin/python bench/ratings.py --out bench/results/ratings.json    # also append this run's figures there

Ours: `backend.arena.ratings.compute_leaderboard` (validation, weighted unique (a, b, outcome) rows, L-BFGS fit,
100 multinomial re-weightings of the unique rows, each refitted). Baseline, in the same process: the straightforward
method — sklearn LogisticRegression on one design row per battle (ties as two half-weight rows), and a bootstrap
that resamples battles and refits; the baseline bootstrap runs `--baseline-rounds` rounds and is extrapolated
linearly to the same number of rounds (said so in the output). Prints times, the speed-up and the rating gap.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "2")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from backend.arena import ratings as R  # noqa: E402
from bench.synthetic import WINNERS, draw_battles  # noqa: E402


def synthetic_battles(n: int, m: int, seed: int = 0, tie_rate: float = 0.15) -> tuple[pd.DataFrame, np.ndarray]:
    a, b, code, strength = draw_battles(np.random.default_rng(seed), n, m, tie_rate)
    winner = WINNERS[code]
    names = np.array([f"model-{i:02d}" for i in range(m)])
    return pd.DataFrame({"model_a": names[a], "model_b": names[b], "winner": winner}), strength


def baseline_design(df: pd.DataFrame, models: list[str]):
    """One row per battle (+ln10 for model_a, −ln10 for model_b); ties become two half-weight rows."""
    from scipy.sparse import csr_matrix

    idx = {name: i for i, name in enumerate(models)}
    ia = df["model_a"].map(idx).to_numpy()
    ib = df["model_b"].map(idx).to_numpy()
    s = df["winner"].map(R.OUTCOME).to_numpy()
    tie = s == 0.5
    rows_a = np.concatenate([ia, ia[tie]])
    rows_b = np.concatenate([ib, ib[tie]])
    y = np.concatenate([np.where(tie, 1.0, s), np.zeros(tie.sum())])
    w = np.concatenate([np.where(tie, 0.5, 1.0), np.full(tie.sum(), 0.5)])
    n = len(y)
    ln10 = math.log(10)
    X = csr_matrix((np.concatenate([np.full(n, ln10), np.full(n, -ln10)]),
                    (np.concatenate([np.arange(n), np.arange(n)]), np.concatenate([rows_a, rows_b]))),
                   shape=(n, len(models)))
    return X, y, w, ia, ib, s


def baseline_fit(X, y, w):
    from sklearn.linear_model import LogisticRegression

    lr = LogisticRegression(fit_intercept=False, C=np.inf, tol=1e-8, max_iter=1000)  # no penalty
    lr.fit(X, y, sample_weight=w)
    c = 400 * lr.coef_[0]
    return c - c.mean() + 1000


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--battles", type=int, default=1_000_000)
    ap.add_argument("--models", type=int, default=50)
    ap.add_argument("--bootstrap", type=int, default=100)
    ap.add_argument("--baseline-rounds", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=None,
                    help="append this run (figures, UTC, commit, load average) to a JSON list; README.md and "
                         "docs/arena.md are generated from it by bench/ratings_tables.py")
    args = ap.parse_args()
    load_before = os.getloadavg()
    print(f"# {args.battles:,} battles, {args.models} models, {args.bootstrap} bootstrap rounds, "
          f"{os.cpu_count()} CPUs")
    t = time.perf_counter()
    df, strength = synthetic_battles(args.battles, args.models, args.seed)
    print(f"generate data: {time.perf_counter() - t:.2f} s")

    t0 = time.perf_counter()
    res = R.compute_leaderboard(df, "bt", bootstrap=args.bootstrap, seed=args.seed)
    ours_total = time.perf_counter() - t0
    t = time.perf_counter()
    vdf = R.validate_battles(df)
    models, ia, ib, y, w = R.preprocess_for_bt(vdf)
    t_prep = time.perf_counter() - t
    t = time.perf_counter()
    beta = R.fit_bt(ia, ib, y, w, len(models))
    t_fit = time.perf_counter() - t
    t = time.perf_counter()
    R.bootstrap_bt(ia, ib, y, w, len(models), args.bootstrap, seed=args.seed, x0=beta)
    t_boot = time.perf_counter() - t
    print(f"ours: total {ours_total:.2f} s  (parts timed again separately: validate+collapse {t_prep:.2f} s to "
          f"{len(w):,} unique rows; one fit {t_fit * 1000:.1f} ms; {args.bootstrap} bootstrap refits {t_boot:.2f} s)")

    t = time.perf_counter()
    X, yb, wb, *_ = baseline_design(vdf, models)
    t_design = time.perf_counter() - t
    t = time.perf_counter()
    base_r = baseline_fit(X, yb, wb)
    t_base_fit = time.perf_counter() - t
    rng = np.random.default_rng(args.seed)
    t = time.perf_counter()
    for _ in range(args.baseline_rounds):
        pick = rng.integers(0, len(vdf), len(vdf))
        Xb, yb2, wb2, *_ = baseline_design(vdf.iloc[pick], models)
        baseline_fit(Xb, yb2, wb2)
    per_round = (time.perf_counter() - t) / max(args.baseline_rounds, 1)
    base_total = t_design + t_base_fit + per_round * args.bootstrap
    print(f"baseline: design {t_design:.2f} s, one fit {t_base_fit:.2f} s, bootstrap round {per_round:.2f} s "
          f"(measured {args.baseline_rounds} rounds) -> {args.bootstrap} rounds extrapolated: {base_total:.1f} s")

    ours_r = np.array([res["models"][m]["rating"] for m in models])
    gap = np.abs(ours_r - base_r).max()
    from scipy.stats import spearmanr

    truth = strength[[int(m.split("-")[1]) for m in models]]
    rho = spearmanr(ours_r, truth).statistic
    widths = [v["ci_high"] - v["ci_low"] for v in res["models"].values()]
    print(f"max |ours - baseline| rating = {gap:.4f} Elo; Spearman(ours, true strengths) = {rho:.4f}; "
          f"median 95% CI width = {np.median(widths):.1f} Elo")
    print(f"point fit speed-up (collapse+fit vs design+fit): {(t_design + t_base_fit) / (t_prep + t_fit):.1f}x")
    print(f"BT + {args.bootstrap} bootstrap: ours {ours_total:.2f} s vs baseline {base_total:.1f} s "
          f"-> {base_total / ours_total:.0f}x faster; target < 10 s: {'met' if ours_total < 10 else 'NOT met'}")
    if args.out:
        run = {"utc": time.strftime("%Y-%m-%d %H:%M", time.gmtime()), "commit": _commit(),
               "cpus": os.cpu_count(), "load_before": round(load_before[0], 2), "load_after": round(os.getloadavg()[0], 2),
               "battles": args.battles, "models": args.models, "bootstrap": args.bootstrap,
               "baseline_rounds": args.baseline_rounds, "seed": args.seed, "unique_rows": int(len(w)),
               "ours_total_s": round(ours_total, 3), "ours_collapse_s": round(t_prep, 3), "ours_fit_s": round(t_fit, 4),
               "ours_bootstrap_s": round(t_boot, 3), "baseline_design_s": round(t_design, 3),
               "baseline_fit_s": round(t_base_fit, 3), "baseline_round_s": round(per_round, 3),
               "baseline_total_s": round(base_total, 1), "max_gap_elo": float(gap), "spearman": round(float(rho), 4),
               "median_ci_width_elo": round(float(np.median(widths)), 2)}
        runs = json.loads(args.out.read_text()) if args.out.exists() else []
        args.out.write_text(json.dumps(runs + [run], indent=1) + "\n")
        print(f"appended run {len(runs) + 1} to {args.out}")


def _commit() -> str:
    import subprocess

    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=Path(__file__).resolve().parent,
                              capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


if __name__ == "__main__":
    main()

"""Arena ratings as pure functions over a battles table (FastChat `rating_systems.py` style).

A battles table is a pandas DataFrame with columns `model_a`, `model_b`, `winner` in
{"model_a", "model_b", "tie", "tie (bothbad)"} and optionally `weight`, `judge`, `tstamp`,
`anony`, `sampling_prob`, `category`, `image_sha256`, `instruction`.

Why these choices (see docs/arena.md):
- Ties and both-bad count as half a win for each side (FastChat); PointArena dropped them (~45% of votes).
- Bradley-Terry is fitted on *weighted unique outcomes* (a, b, outcome): a million battles among 50 models
  collapse to at most 50*49*3 rows, so a bootstrap round is a multinomial re-weighting of those rows
  and a refit that costs milliseconds (identical in distribution to resampling battles with replacement).
- Confidence intervals are seeded bootstrap percentiles, never PointArena's `±1.96*K*sqrt(N)/2`.
No I/O happens here; the command line lives in `backend/arena/cli/ratings.py`.
Two entry points give identical results on the same battles: `compute_leaderboard(battles)` for a per-battle table
(a file) and `compute_leaderboard_from_counts(counts)` for (model_a, model_b, winner, n) rows that the database
aggregates with GROUP BY (storage/repos/arena.py).
"""
from __future__ import annotations

import importlib
import math

import numpy as np
import pandas as pd
from scipy.optimize import minimize

from backend.arena.vocab import LEADERBOARD_COLUMNS, OUTCOME, WINNERS, leaderboard_row
from backend.errors import UserError

# Constants (FastChat): online Elo and the Elo scale on which BT is reported.
K_FACTOR = 4.0
BASE = 10.0
SCALE = 400.0
INIT_RATING = 1000.0
DEFAULT_BOOTSTRAP = 100
CI_LEVEL = 0.95


# ---------------------------------------------------------------- validation and filters

def validate_battles(df: pd.DataFrame) -> pd.DataFrame:
    """Check the columns and winner labels; return a copy with a float `weight` column.

    Checks use hashing (pd.unique / factorize), not per-row string comparisons, so a million rows cost ~0.1 s."""
    if not isinstance(df, pd.DataFrame):
        raise UserError("Battles must be a table (pandas DataFrame).")
    missing = [c for c in ("model_a", "model_b", "winner") if c not in df.columns]
    if missing:
        raise UserError(f"The battles table lacks column(s) {', '.join(missing)}.")
    seen = pd.unique(df["winner"].to_numpy(dtype=object))
    bad = [w for w in seen if w not in WINNERS and not (w is None or (isinstance(w, float) and math.isnan(w)))]
    if bad:
        raise UserError(f"Unknown winner value {bad[0]!r}; expected one of {', '.join(WINNERS)}.")
    if np.any(df["model_a"].to_numpy(dtype=object) == df["model_b"].to_numpy(dtype=object)):
        raise UserError("A battle pits a model against itself; each battle needs two different models.")
    out = df.copy()
    out["weight"] = pd.to_numeric(out["weight"], errors="coerce").fillna(1.0) if "weight" in out else 1.0
    if (out["weight"] < 0).any():
        raise UserError("Battle weights must be non-negative.")
    return out


def countable(df: pd.DataFrame) -> pd.DataFrame:
    """Only anonymous, voted, valid battles count (FastChat `battles[battles['anony']]`)."""
    keep = df["winner"].notna()
    for col, good in (("anony", True), ("invalid", False), ("counted", True)):
        if col in df.columns:
            keep &= df[col].fillna(good).astype(bool) == good
    return df[keep]


def limit_daily_votes(df: pd.DataFrame, cap: int | None) -> pd.DataFrame:
    """Keep each judge's first `cap` votes per UTC day (FastChat `limit_user_votes`); None/0 = off."""
    if not cap or "judge" not in df.columns or "tstamp" not in df.columns or df.empty:
        return df
    day = pd.to_datetime(df["tstamp"], unit="s", utc=True).dt.floor("D")
    order = df.assign(_day=day).sort_values("tstamp", kind="stable")
    rank = order.groupby(["judge", "_day"], dropna=False).cumcount()
    return order[rank < cap].drop(columns="_day").sort_index()


def dedup_prompts(df: pd.DataFrame, quantile: float | None = 0.9999, seed: int = 42) -> pd.DataFrame:
    """Down-sample (image, instruction) pairs seen more often than the `quantile` of pair counts to that
    cutoff (FastChat `deduplication.py`); None = off."""
    cols = [c for c in ("image_sha256", "instruction") if c in df.columns]
    if quantile is None or not cols or df.empty:
        return df
    key = df[cols].astype(str).agg("\x1f".join, axis=1)
    counts = key.value_counts()
    cutoff = max(1, int(math.ceil(np.quantile(counts.to_numpy(), quantile))))
    rng = np.random.default_rng(seed)
    keep = np.ones(len(df), dtype=bool)
    pos = pd.Series(np.arange(len(df)), index=df.index)
    for k in counts[counts > cutoff].index:
        idx = pos[key == k].to_numpy()
        drop = rng.choice(idx, size=len(idx) - cutoff, replace=False)
        keep[drop] = False
    return df[keep]


def inverse_probability_weights(df: pd.DataFrame) -> pd.DataFrame:
    """Weight each battle by 1/P(pair was sampled) (Chatbot Arena eq. 7), normalised to mean 1."""
    if "sampling_prob" not in df.columns or df.empty:
        return df
    p = pd.to_numeric(df["sampling_prob"], errors="coerce")
    p = p.where((p > 0) & (p <= 1))
    w = (1.0 / p).fillna((1.0 / p).mean() if p.notna().any() else 1.0)
    out = df.copy()
    out["weight"] = out.get("weight", 1.0) * w / w.mean()
    return out


# ---------------------------------------------------------------- online Elo

def compute_elo(df: pd.DataFrame, k: float = K_FACTOR, base: float = BASE, scale: float = SCALE,
                init: float = INIT_RATING) -> dict[str, float]:
    """Online Elo in table order: p_a = 1/(1+base**((R_b-R_a)/scale)); R_a += k*(S-p_a); R_b -= same."""
    ratings: dict[str, float] = {}
    for a, b, w in zip(df["model_a"], df["model_b"], df["winner"], strict=False):
        ra, rb = ratings.setdefault(a, init), ratings.setdefault(b, init)
        p_a = 1.0 / (1.0 + base ** ((rb - ra) / scale))
        upd = k * (OUTCOME[w] - p_a)
        ratings[a], ratings[b] = ra + upd, rb - upd
    return ratings


def _elo_matrix(ia: np.ndarray, ib: np.ndarray, y: np.ndarray, n_models: int, rounds_idx: np.ndarray,
                k: float, base: float, scale: float, init: float) -> np.ndarray:
    """Online Elo for many resamples at once: loop over positions, vectorise over rounds."""
    n_rounds, n = rounds_idx.shape
    r = np.full((n_rounds, n_models), init)
    rows = np.arange(n_rounds)
    for t in range(n):
        j = rounds_idx[:, t]
        a, b, s = ia[j], ib[j], y[j]
        ra, rb = r[rows, a], r[rows, b]
        upd = k * (s - 1.0 / (1.0 + base ** ((rb - ra) / scale)))
        r[rows, a] = ra + upd
        r[rows, b] = rb - upd
    return r


# ---------------------------------------------------------------- Bradley-Terry

def encode_battles(df: pd.DataFrame):
    """(models, ia, ib, y2, w): sorted model names, integer indices, outcome code (0 = B wins, 1 = tie or both bad,
    2 = A wins) and weights. Raises ValueError for a self-battle or an unknown winner."""
    n = len(df)
    ca, ua = pd.factorize(df["model_a"].to_numpy(dtype=object))
    cb, ub = pd.factorize(df["model_b"].to_numpy(dtype=object))
    models = sorted({str(x) for x in ua} | {str(x) for x in ub})
    pos = {m: i for i, m in enumerate(models)}
    ia = np.array([pos[str(x)] for x in ua], dtype=np.int64)[ca] if n else np.zeros(0, np.int64)
    ib = np.array([pos[str(x)] for x in ub], dtype=np.int64)[cb] if n else np.zeros(0, np.int64)
    if n and np.any(ia == ib):
        raise UserError("A battle pits a model against itself; each battle needs two different models.")
    cw, uw = pd.factorize(df["winner"].to_numpy(dtype=object))
    try:
        code = np.array([int(OUTCOME[x] * 2) for x in uw], dtype=np.int64)
    except KeyError as exc:
        raise UserError(f"Unknown winner value {exc.args[0]!r}; expected one of {', '.join(WINNERS)}.") from None
    y2 = code[cw] if n else np.zeros(0, np.int64)
    w = df["weight"].to_numpy(dtype=float) if "weight" in df.columns else np.ones(n)
    return models, ia, ib, y2, w


def collapse(models, ia, ib, y2, w):
    """Unique (a, b, outcome) rows with summed weights: (ia, ib, y in {0, .5, 1}, w)."""
    m = len(models)
    key = (ia * m + ib) * 3 + y2
    uniq, inv = np.unique(key, return_inverse=True)  # int keys: fast
    wsum = np.bincount(inv, weights=w, minlength=len(uniq))
    ab = uniq // 3
    return (ab // m).astype(np.int64), (ab % m).astype(np.int64), (uniq % 3) / 2.0, wsum


def preprocess_for_bt(df: pd.DataFrame):
    """Collapse battles to unique (a, b, outcome) rows with summed weights (FastChat `preprocess_for_bt`).

    Returns (models, ia, ib, y, w): model names, integer indices, outcome in {0, .5, 1}, weights."""
    models, ia, ib, y2, w = encode_battles(df)
    return (models, *collapse(models, ia, ib, y2, w))


def _bt_loss_grad(r, ia, ib, y, w, alpha, reg):
    d = alpha * (r[ia] - r[ib])
    p = 1.0 / (1.0 + np.exp(-d))
    eps = 1e-12
    loss = -np.sum(w * (y * np.log(p + eps) + (1 - y) * np.log(1 - p + eps))) + 0.5 * reg * np.dot(r, r)
    g = w * (p - y) * alpha
    grad = np.bincount(ia, weights=g, minlength=len(r)) - np.bincount(ib, weights=g, minlength=len(r)) + reg * r
    return loss, grad


def _newton_bt(ia, ib, y, w, n_models, alpha, reg, x0, tol, max_iter=50):
    """Damped Newton on the mean-zero subspace; None if it does not converge (then L-BFGS takes over)."""
    r = np.zeros(n_models) if x0 is None else np.asarray(x0, float) - np.mean(x0)
    m = n_models
    flat_aa, flat_bb, flat_ab, flat_ba = ia * m + ia, ib * m + ib, ia * m + ib, ib * m + ia
    centre = np.full((m, m), 1.0 / m)  # adds the gauge direction so H is invertible on a connected graph
    loss, grad = _bt_loss_grad(r, ia, ib, y, w, alpha, reg)
    for _ in range(max_iter):
        if np.max(np.abs(grad)) < tol:
            return r
        d = alpha * (r[ia] - r[ib])
        p = 1.0 / (1.0 + np.exp(-d))
        h = w * p * (1 - p) * alpha * alpha
        hess = (np.bincount(flat_aa, h, m * m) + np.bincount(flat_bb, h, m * m)
                - np.bincount(flat_ab, h, m * m) - np.bincount(flat_ba, h, m * m)).reshape(m, m)
        hess += centre + reg * np.eye(m)
        try:
            step = np.linalg.solve(hess, grad)
        except np.linalg.LinAlgError:
            return None
        step -= step.mean()
        t = 1.0
        while t > 1e-4:
            r_new = r - t * step
            loss_new, grad_new = _bt_loss_grad(r_new, ia, ib, y, w, alpha, reg)
            if loss_new <= loss + 1e-12:
                break
            t *= 0.5
        else:
            return None
        r, loss, grad = r_new, loss_new, grad_new
    return r if np.max(np.abs(grad)) < tol * 10 else None


def fit_bt(ia, ib, y, w, n_models: int, base: float = BASE, reg: float = 0.0, x0=None, tol: float = 1e-7):
    """Weighted BT MLE; returns mean-zero log-strengths in units of log_base (one unit = `scale` Elo).

    Newton (50×50 Hessian, a handful of steps) on the collapsed rows; L-BFGS-B when Newton cannot proceed
    (disconnected comparison graph, or an unbeaten model whose MLE is at infinity). `reg` (L2) is 0 by
    default: pure MLE, as FastChat."""
    total = float(np.sum(w))
    if total <= 0:
        return np.zeros(n_models)
    wn = w / total  # scale-free objective so the tolerance means the same for 10 or 10**6 battles
    alpha, regn = math.log(base), reg / total
    r = _newton_bt(ia, ib, y, wn, n_models, alpha, regn, x0, tol)
    if r is None:
        res = minimize(_bt_loss_grad, np.zeros(n_models) if x0 is None else x0, jac=True, method="L-BFGS-B",
                       args=(ia, ib, y, wn, alpha, regn), options={"maxiter": 200, "gtol": tol})
        r = res.x
    return r - r.mean()


def to_elo_scale(beta: np.ndarray, models: list[str], scale: float = SCALE, init: float = INIT_RATING,
                 anchor: tuple[str, float] | None = None) -> np.ndarray:
    """400*beta + 1000, shifted so the mean is 1000 or so that `anchor=(model, rating)` holds."""
    r = scale * beta
    if anchor and anchor[0] in models:
        return r - r[models.index(anchor[0])] + anchor[1]
    return r - r.mean() + init


def bootstrap_bt(ia, ib, y, w, n_models: int, rounds: int, seed: int = 0, base: float = BASE,
                 reg: float = 0.0, x0=None) -> np.ndarray:
    """Multinomial re-weighting of the unique rows (same law as resampling battles), one BT fit per round."""
    rng = np.random.default_rng(seed)
    n = int(round(np.sum(w)))
    pvals = w / np.sum(w)
    out = np.empty((rounds, n_models))
    for i in range(rounds):
        wi = rng.multinomial(max(n, 1), pvals).astype(float)
        out[i] = fit_bt(ia, ib, y, wi, n_models, base=base, reg=reg, x0=x0)
    return out


# ---------------------------------------------------------------- summaries

def rank_upper_bound(ci_low: np.ndarray, ci_high: np.ndarray) -> np.ndarray:
    """Rank(UB) = 1 + number of models whose lower bound exceeds this model's upper bound."""
    lo, hi = np.asarray(ci_low), np.asarray(ci_high)
    return 1 + (lo[None, :] > hi[:, None]).sum(axis=1)


def model_stats(df: pd.DataFrame) -> pd.DataFrame:
    """Battles, wins, losses and ties (tie + both bad) per model; unweighted counts."""
    if df.empty:
        return pd.DataFrame(columns=["battles", "wins", "losses", "ties"])
    return stats_from_codes(*encode_battles(df)[:4])


def stats_from_codes(models, ia, ib, y2, n=None) -> pd.DataFrame:
    """Per-model counts from outcome codes; `n` = how many battles each row stands for (default 1 each)."""
    m = len(models)

    def count(idx, mask):
        if n is None:
            return np.bincount(idx[mask], minlength=m)
        return np.bincount(idx[mask], weights=n[mask], minlength=m).astype(np.int64)

    wins = count(ia, y2 == 2) + count(ib, y2 == 0)
    losses = count(ia, y2 == 0) + count(ib, y2 == 2)
    ties = count(ia, y2 == 1) + count(ib, y2 == 1)
    return pd.DataFrame({"battles": wins + losses + ties, "wins": wins, "losses": losses, "ties": ties},
                        index=pd.Index(models, name="model"))


def pairwise_tables(df: pd.DataFrame, models: list[str] | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(battle counts, win fraction of row over column with ties excluded), FastChat's heatmaps."""
    models = models or sorted(set(df["model_a"]) | set(df["model_b"]))
    n = pd.crosstab(df["model_a"], df["model_b"]).reindex(index=models, columns=models, fill_value=0)
    a_w = pd.crosstab(df.loc[df.winner == "model_a", "model_a"], df.loc[df.winner == "model_a", "model_b"])
    b_w = pd.crosstab(df.loc[df.winner == "model_b", "model_a"], df.loc[df.winner == "model_b", "model_b"])
    a_w = a_w.reindex(index=models, columns=models, fill_value=0)
    b_w = b_w.reindex(index=models, columns=models, fill_value=0)
    count = n + n.T
    decided = a_w + a_w.T + b_w + b_w.T
    frac = (a_w + b_w.T) / decided.where(decided > 0)
    return count, frac


def prepare(df: pd.DataFrame, *, daily_cap: int | None = None, dedup_quantile: float | None = None,
            ipw: bool = False, seed: int = 0) -> pd.DataFrame:
    """The documented pipeline before fitting: validate → countable → daily cap → dedup → IPW."""
    df = countable(validate_battles(df))
    df = limit_daily_votes(df, daily_cap)
    df = dedup_prompts(df, dedup_quantile, seed=seed + 42)
    return inverse_probability_weights(df) if ipw else df


def compute_leaderboard(battles_df: pd.DataFrame, method: str = "bt", bootstrap: int = DEFAULT_BOOTSTRAP,
                        seed: int = 0, *, anchor: tuple[str, float] | None = None, daily_cap: int | None = None,
                        dedup_quantile: float | None = None, ipw: bool = False, reg: float = 0.0,
                        k: float = K_FACTOR) -> dict:
    """Ratings with bootstrap percentile CIs, Rank(UB) and counts.

    Returns {"method", "bootstrap", "seed", "n_battles", "models": {name: {rating, ci_low, ci_high, rank_ub,
    battles, wins, losses, ties}}}. For Elo with bootstrap, `rating` is the bootstrap median (FastChat);
    with bootstrap=0 it is the online Elo in table order and the CI collapses to the rating."""
    if method not in ("bt", "elo"):
        raise UserError(f"Unknown rating method {method!r}; use 'bt' or 'elo'.")
    if bootstrap < 0:
        raise UserError("The number of bootstrap rounds must be 0 or more.")
    df = prepare(battles_df, daily_cap=daily_cap, dedup_quantile=dedup_quantile, ipw=ipw, seed=seed)
    out = {"method": method, "bootstrap": int(bootstrap), "seed": int(seed), "n_battles": int(len(df)),
           "models": {}}
    if df.empty:
        return out
    models, eia, eib, ey2, ew = encode_battles(df)
    if method == "bt":
        ia, ib, y, w = collapse(models, eia, eib, ey2, ew)
        rating, samples = _bt_with_bootstrap(models, (ia, ib, y, w), bootstrap, seed, anchor, reg)
    else:
        online = compute_elo(df, k=k)
        rating = np.array([online[m] for m in models])
        samples = None
        if bootstrap:
            rng = np.random.default_rng(seed)
            pick = rng.choice(len(df), size=(bootstrap, len(df)), replace=True, p=ew / ew.sum())
            samples = _elo_matrix(eia, eib, ey2 / 2.0, len(models), pick, k, BASE, SCALE, INIT_RATING)
            rating = np.median(samples, axis=0)
    out["models"] = _summarise(models, rating, samples, stats_from_codes(models, eia, eib, ey2))
    return out


def _bt_with_bootstrap(models, rows, bootstrap, seed, anchor, reg):
    """(ratings on the Elo scale, bootstrap samples or None) from collapsed rows (ia, ib, y, w)."""
    ia, ib, y, w = rows
    beta = fit_bt(ia, ib, y, w, len(models), reg=reg)
    rating = to_elo_scale(beta, models, anchor=anchor)
    samples = None
    if bootstrap:
        raw = bootstrap_bt(ia, ib, y, w, len(models), bootstrap, seed=seed, reg=reg, x0=beta)
        samples = np.stack([to_elo_scale(b, models, anchor=anchor) for b in raw])
    return rating, samples


def _summarise(models, rating, samples, stats) -> dict:
    if samples is not None:
        lo = np.quantile(samples, (1 - CI_LEVEL) / 2, axis=0)
        hi = np.quantile(samples, 1 - (1 - CI_LEVEL) / 2, axis=0)
    else:
        lo = hi = rating
    ranks = rank_upper_bound(lo, hi)
    res = {}
    for i, m in enumerate(models):
        st = stats.loc[m] if m in stats.index else {"battles": 0, "wins": 0, "losses": 0, "ties": 0}
        res[m] = {"rating": float(rating[i]), "ci_low": float(lo[i]), "ci_high": float(hi[i]),
                  "rank_ub": int(ranks[i]), "battles": int(st["battles"]), "wins": int(st["wins"]),
                  "losses": int(st["losses"]), "ties": int(st["ties"])}
    return dict(sorted(res.items(), key=lambda kv: -kv[1]["rating"]))


def encode_counts(counts: pd.DataFrame):
    """(models, ia, ib, y2, n) from aggregated rows with columns model_a, model_b, winner, n."""
    if counts.empty:
        return [], *(np.zeros(0, np.int64) for _ in range(3)), np.zeros(0)
    seen = pd.unique(counts["winner"].to_numpy(dtype=object))
    bad = [x for x in seen if x not in OUTCOME]
    if bad:
        raise UserError(f"Unknown winner value {bad[0]!r}; expected one of {', '.join(WINNERS)}.")
    a = counts["model_a"].astype(str).to_numpy()
    b = counts["model_b"].astype(str).to_numpy()
    if np.any(a == b):
        raise UserError("A battle pits a model against itself; each battle needs two different models.")
    models = sorted(set(a) | set(b))
    pos = {m: i for i, m in enumerate(models)}
    ia = np.fromiter((pos[x] for x in a), np.int64, len(a))
    ib = np.fromiter((pos[x] for x in b), np.int64, len(b))
    y2 = np.fromiter((int(OUTCOME[x] * 2) for x in counts["winner"]), np.int64, len(a))
    return models, ia, ib, y2, counts["n"].to_numpy(dtype=float)


def count_outcomes(cols: dict) -> pd.DataFrame:
    """(model_a, model_b, winner, n) rows of the countable battles in a column dict (e.g. a file read by
    `formats.read_battle_columns`): what `compute_leaderboard_from_counts` needs, so a file's BT leaderboard never
    builds a per-battle table. Checks and filters as `prepare` without options: winners, self-battles (any row),
    anonymous, voted, valid, counted."""
    a = np.asarray(cols["model_a"], dtype=object)
    n = len(a)
    codes, names = pd.factorize(np.concatenate([a, np.asarray(cols["model_b"], dtype=object)]))
    ia, ib = codes[:n], codes[n:]
    if n and np.any(ia == ib):
        raise UserError("A battle pits a model against itself; each battle needs two different models.")
    wc, seen = pd.factorize(np.asarray(cols["winner"], dtype=object))  # None / NaN -> -1: not voted
    try:
        wi = np.array([WINNERS.index(x) for x in seen], dtype=np.int64)
    except ValueError:
        bad = next(x for x in seen if x not in WINNERS)
        raise UserError(f"Unknown winner value {bad!r}; expected one of {', '.join(WINNERS)}.") from None
    keep = wc >= 0
    for col, good in (("anony", True), ("invalid", False), ("counted", True)):
        if col in cols:
            v = cols[col]
            flag = (np.array(v, dtype=bool) if set(map(type, v)) <= {bool}
                    else pd.Series(v, dtype=object).fillna(good).astype(bool).to_numpy())
            keep &= flag == good
    k = len(names)
    key = (ia[keep] * k + ib[keep]) * len(WINNERS) + wi[wc[keep]]
    uniq, cnt = np.unique(key, return_counts=True)
    pair = uniq // len(WINNERS)
    names = np.asarray(names, dtype=object)
    return pd.DataFrame({"model_a": names[pair // k], "model_b": names[pair % k],
                         "winner": np.asarray(WINNERS, dtype=object)[uniq % len(WINNERS)], "n": cnt})


def compute_leaderboard_from_counts(counts: pd.DataFrame, bootstrap: int = DEFAULT_BOOTSTRAP, seed: int = 0, *,
                                    anchor: tuple[str, float] | None = None, reg: float = 0.0) -> dict:
    """Bradley-Terry leaderboard from (model_a, model_b, winner, n) rows: the SQL `GROUP BY` of counted battles.

    Equal to `compute_leaderboard(battles, "bt", ...)` on the battles those rows count (same unique rows, same
    weights, same fits and bootstrap draws), without ever holding one row per battle."""
    if bootstrap < 0:
        raise UserError("The number of bootstrap rounds must be 0 or more.")
    models, ia2, ib2, y2, n = encode_counts(counts)
    total = int(round(float(n.sum()))) if len(n) else 0
    out = {"method": "bt", "bootstrap": int(bootstrap), "seed": int(seed), "n_battles": total, "models": {}}
    if total == 0:
        return out
    keep = n > 0
    ia2, ib2, y2, n = ia2[keep], ib2[keep], y2[keep], n[keep]
    rating, samples = _bt_with_bootstrap(models, collapse(models, ia2, ib2, y2, n), bootstrap, seed, anchor, reg)
    out["models"] = _summarise(models, rating, samples, stats_from_codes(models, ia2, ib2, y2, n))
    return out


def pairwise_tables_from_counts(counts: pd.DataFrame, models: list[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """`pairwise_tables` from aggregated (model_a, model_b, winner, n) rows."""
    def table(rows):
        if rows.empty:
            return pd.DataFrame(0, index=models, columns=models, dtype=np.int64)
        t = rows.pivot_table(index="model_a", columns="model_b", values="n", aggfunc="sum", fill_value=0)
        return t.reindex(index=models, columns=models, fill_value=0).astype(np.int64)

    n = table(counts)
    a_w = table(counts[counts["winner"] == "model_a"])
    b_w = table(counts[counts["winner"] == "model_b"])
    count = n + n.T
    decided = a_w + a_w.T + b_w + b_w.T
    frac = (a_w + b_w.T) / decided.where(decided > 0)
    return count, frac


def leaderboard_table(result: dict, min_votes: int = 0) -> pd.DataFrame:
    """One row per model in rating order, with the +/- CI text FastChat shows (vocab.leaderboard_row)."""
    rows = [leaderboard_row(name, r, min_votes) for name, r in result.get("models", {}).items()]
    return pd.DataFrame(rows, columns=LEADERBOARD_COLUMNS)


if __name__ == "__main__":  # `python -m backend.arena.ratings` keeps working; the CLI lives in cli/ratings.py
    raise SystemExit(importlib.import_module("backend.arena.cli.ratings").main())

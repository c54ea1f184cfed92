"""Rating functions against hand-computed values and known answers."""
import math

import numpy as np
import pandas as pd
import pytest

from backend.arena import ratings as R


def battles(rows):
    return pd.DataFrame(rows, columns=["model_a", "model_b", "winner"])


def test_online_elo_hand_computed():
    df = battles([("A", "B", "model_a"), ("B", "A", "tie")])
    r = R.compute_elo(df)
    # 1st: p=0.5, update 4*0.5 = 2 -> A 1002, B 998. 2nd (B as model_a): p_B = 1/(1+10**(4/400)).
    p_b = 1 / (1 + 10 ** 0.01)
    upd = 4 * (0.5 - p_b)
    assert r["A"] == pytest.approx(1002 - upd, abs=1e-9)
    assert r["B"] == pytest.approx(998 + upd, abs=1e-9)
    assert r["A"] == pytest.approx(1001.976975, abs=1e-5)


def test_bothbad_counts_like_tie_in_elo():
    a = R.compute_elo(battles([("A", "B", "model_a"), ("A", "B", "tie")]))
    b = R.compute_elo(battles([("A", "B", "model_a"), ("A", "B", "tie (bothbad)")]))
    assert a == b


def test_bt_two_models_closed_form():
    # A wins 3 of 4 against B: MLE p = 3/4, so R_A - R_B = 400*log10(3); mean 1000.
    df = battles([("A", "B", "model_a")] * 3 + [("B", "A", "model_a")])
    res = R.compute_leaderboard(df, "bt", bootstrap=0)
    d = 400 * math.log10(3)
    assert res["models"]["A"]["rating"] == pytest.approx(1000 + d / 2, abs=0.05)
    assert res["models"]["B"]["rating"] == pytest.approx(1000 - d / 2, abs=0.05)
    assert res["models"]["A"]["wins"] == 3 and res["models"]["B"]["wins"] == 1


def test_bt_ties_are_half_wins():
    # one win and one tie for A = score 1.5 of 2 -> same as 3 wins of 4.
    df = battles([("A", "B", "model_a"), ("A", "B", "tie (bothbad)")])
    res = R.compute_leaderboard(df, "bt", bootstrap=0)
    assert res["models"]["A"]["rating"] - res["models"]["B"]["rating"] == pytest.approx(400 * math.log10(3), abs=0.1)
    assert res["models"]["A"]["ties"] == 1


def test_bt_three_model_toy_known_answer():
    # Outcome frequencies generated exactly from strengths (log10 units) A=.5, B=0, C=-.5 -> 1200, 1000, 800.
    s = {"A": 0.5, "B": 0.0, "C": -0.5}
    rows = []
    for a, b in [("A", "B"), ("B", "C"), ("A", "C")]:
        p = 1 / (1 + 10 ** (s[b] - s[a]))
        rows += [(a, b, "model_a", 1000 * p), (a, b, "model_b", 1000 * (1 - p))]
    df = pd.DataFrame(rows, columns=["model_a", "model_b", "winner", "weight"])
    res = R.compute_leaderboard(df, "bt", bootstrap=0)
    got = {m: v["rating"] for m, v in res["models"].items()}
    assert got == pytest.approx({"A": 1200.0, "B": 1000.0, "C": 800.0}, abs=0.1)
    anchored = R.compute_leaderboard(df, "bt", bootstrap=0, anchor=("C", 1114.0))["models"]
    assert anchored["C"]["rating"] == pytest.approx(1114.0) and anchored["A"]["rating"] == pytest.approx(1514.0, abs=0.1)


def test_preprocess_collapses_to_weighted_unique_rows():
    df = R.validate_battles(battles([("A", "B", "model_a")] * 4 + [("A", "B", "tie")] * 2 + [("B", "A", "model_b")]))
    models, ia, ib, y, w = R.preprocess_for_bt(df)
    assert models == ["A", "B"]
    rows = sorted(zip(ia.tolist(), ib.tolist(), y.tolist(), w.tolist(), strict=False))
    assert rows == [(0, 1, 0.5, 2.0), (0, 1, 1.0, 4.0), (1, 0, 0.0, 1.0)]


def _simulate(strengths, n, seed):
    rng = np.random.default_rng(seed)
    names = [f"m{i}" for i in range(len(strengths))]
    a = rng.integers(0, len(names), n)
    b = (a + rng.integers(1, len(names), n)) % len(names)
    p = 1 / (1 + 10 ** ((strengths[b] - strengths[a]) / 400))
    u = rng.random(n)
    win = np.where(u < p * 0.85, "model_a", np.where(u < 0.85, "model_b", "tie"))
    return pd.DataFrame({"model_a": np.array(names)[a], "model_b": np.array(names)[b], "winner": win})


def test_simulation_recovers_order_and_ci_covers():
    strengths = np.array([0, 60, 120, 180, 240, 300], float)
    df = _simulate(strengths, 6000, seed=1)
    res = R.compute_leaderboard(df, "bt", bootstrap=50, seed=3)
    order = list(res["models"])
    assert order == ["m5", "m4", "m3", "m2", "m1", "m0"]
    for v in res["models"].values():
        assert v["ci_low"] < v["rating"] < v["ci_high"]
    # strongest vs weakest are separated: rank bounds say so
    assert res["models"]["m5"]["rank_ub"] == 1 and res["models"]["m0"]["rank_ub"] > 3
    elo = R.compute_leaderboard(df, "elo", bootstrap=10, seed=0)
    assert list(elo["models"])[0] == "m5" and list(elo["models"])[-1] == "m0"


def test_bootstrap_is_deterministic_per_seed():
    df = _simulate(np.array([0, 50, 100.0]), 500, seed=2)
    a = R.compute_leaderboard(df, "bt", bootstrap=30, seed=7)
    b = R.compute_leaderboard(df, "bt", bootstrap=30, seed=7)
    c = R.compute_leaderboard(df, "bt", bootstrap=30, seed=8)
    assert a == b
    assert a["models"]["m0"]["ci_low"] != c["models"]["m0"]["ci_low"]


def test_bootstrap_ci_shrinks_with_more_data():
    small = R.compute_leaderboard(_simulate(np.array([0, 100.0]), 200, 4), "bt", bootstrap=40)
    big = R.compute_leaderboard(_simulate(np.array([0, 100.0]), 5000, 4), "bt", bootstrap=40)
    width = lambda r: r["models"]["m1"]["ci_high"] - r["models"]["m1"]["ci_low"]  # noqa: E731
    assert width(big) < width(small) / 2


def test_rank_upper_bound():
    lo = np.array([1100, 1040, 990, 800])
    hi = np.array([1200, 1110, 1050, 900])
    # model 2's upper 1050 < model 0's lower 1100 -> rank 2; model 3 is below all three lower bounds -> 4.
    assert R.rank_upper_bound(lo, hi).tolist() == [1, 1, 2, 4]


def test_elo_point_estimate_equals_online_elo():
    df = battles([("A", "B", "model_a"), ("B", "C", "tie"), ("C", "A", "model_a")])
    res = R.compute_leaderboard(df, "elo", bootstrap=0)
    online = R.compute_elo(df)
    assert {m: v["rating"] for m, v in res["models"].items()} == pytest.approx(online)


def test_countable_filters_and_validation():
    df = pd.DataFrame({"model_a": ["A", "A", "A", "A"], "model_b": ["B"] * 4,
                       "winner": ["model_a"] * 4, "anony": [True, False, True, True],
                       "invalid": [False, False, True, False], "counted": [True, True, True, False]})
    assert len(R.countable(R.validate_battles(df))) == 1
    with pytest.raises(ValueError, match="Unknown winner"):
        R.validate_battles(battles([("A", "B", "left")]))
    with pytest.raises(ValueError, match="against itself"):
        R.validate_battles(battles([("A", "A", "tie")]))
    with pytest.raises(ValueError, match="lacks column"):
        R.validate_battles(pd.DataFrame({"model_a": ["A"]}))
    with pytest.raises(ValueError, match="method"):
        R.compute_leaderboard(battles([("A", "B", "tie")]), "glicko")


def test_daily_cap_and_dedup():
    day = 1_700_000_000.0
    df = pd.DataFrame({"model_a": ["A"] * 5, "model_b": ["B"] * 5, "winner": ["model_a"] * 5,
                       "judge": ["j1"] * 4 + ["j2"], "tstamp": [day + i for i in range(4)] + [day],
                       "image_sha256": ["x"] * 5, "instruction": ["same"] * 4 + ["other"]})
    assert len(R.limit_daily_votes(df, 2)) == 3 and len(R.limit_daily_votes(df, None)) == 5
    nxt = df.assign(tstamp=df["tstamp"] + 86400)
    assert len(R.limit_daily_votes(pd.concat([df, nxt], ignore_index=True), 2)) == 6
    # pair counts are [4, 1]; the 0.5 quantile is 2.5 -> cutoff 3: the repeated pair is cut to 3
    assert len(R.dedup_prompts(df, 0.5)) == 4
    assert len(R.dedup_prompts(df, None)) == 5


def test_inverse_probability_weights():
    df = pd.DataFrame({"model_a": ["A", "A"], "model_b": ["B", "C"], "winner": ["tie", "tie"],
                       "sampling_prob": [0.5, 0.25]})
    w = R.inverse_probability_weights(R.validate_battles(df))["weight"].tolist()
    assert w == pytest.approx([2 / 3, 4 / 3])


def test_pairwise_tables():
    df = battles([("A", "B", "model_a"), ("B", "A", "model_a"), ("A", "B", "tie"), ("A", "C", "model_b")])
    count, frac = R.pairwise_tables(df)
    assert count.loc["A", "B"] == 3 and count.loc["B", "A"] == 3 and count.loc["A", "C"] == 1
    assert frac.loc["A", "B"] == 0.5 and frac.loc["C", "A"] == 1.0 and pd.isna(frac.loc["B", "C"])


def test_empty_table_gives_no_models():
    res = R.compute_leaderboard(pd.DataFrame(columns=["model_a", "model_b", "winner"]), "bt")
    assert res["models"] == {} and res["n_battles"] == 0

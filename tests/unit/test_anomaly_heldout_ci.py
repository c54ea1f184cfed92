"""The held-out bootstrap (bench/anomaly_heldout_ci.py): exact per-resample metrics, sane intervals, committed JSON."""
import json
from pathlib import Path

import numpy as np
import pytest

from backend.anomaly.metrics import auroc, average_precision
from bench.anomaly_heldout_ci import ENGINES, METRICS, ClassStats, bootstrap, stratified_weights, summarise, table

ROOT = Path(__file__).resolve().parents[2]


def _class(rng, n_good=3, n_bad=5, side=6, sep=0.4):
    y = np.r_[np.zeros(n_good), np.ones(n_bad)].astype(bool)
    scores = rng.random(y.size).round(1) + sep * y  # rounded: ties exercise the ½ rule
    maps = rng.random((y.size, side, side)).round(2).astype(np.float32)
    masks = np.zeros(maps.shape, bool)
    masks[y, 1:3, 1:4] = True
    maps[masks] += sep
    return scores, y, maps, masks


def test_weighted_metrics_equal_metrics_on_the_resampled_queries():
    rng = np.random.default_rng(1)
    s, y, maps, masks = _class(rng)
    st = ClassStats(s, y, maps, masks)
    w = stratified_weights(st, 20, rng)
    assert (w[:, ~y].sum(1) == (~y).sum()).all() and (w[:, y].sum(1) == y.sum()).all()  # stratified
    for r, ia, pa in zip(w, st.i_auroc(w), st.p_ap(w), strict=True):
        idx = np.repeat(np.arange(y.size), r.astype(int))
        assert ia == pytest.approx(100 * auroc(s[idx], y[idx]), abs=1e-9)
        assert pa == pytest.approx(100 * average_precision(maps[idx], masks[idx]), abs=1e-9)


def test_interval_contains_point_shrinks_with_more_queries_and_paired_identical_is_zero():
    rng = np.random.default_rng(2)
    small = {c: _class(rng, 3, 5) for c in "ab"}
    large = {c: _class(rng, 30, 50) for c in "ab"}
    widths = []
    for d in (small, large):
        ci = summarise(bootstrap({"metauas": d, "knn": d}, 400, seed=0))
        for m in METRICS:
            lo, hi = ci["engines"]["metauas"][m]["ci"]
            assert lo <= ci["engines"]["metauas"][m]["point"] <= hi
        diff = ci["paired_differences"]["metauas-knn:p_ap"]
        assert diff["ci"] == [0.0, 0.0] and diff["point"] == 0.0 and diff["p_a_gt_b"] == 0.0
        widths.append(np.diff(ci["engines"]["metauas"]["p_ap"]["ci"])[0])
    assert widths[1] < widths[0]
    # same seed → same resamples (reproducible); a different engine's data does not change the draws
    a = bootstrap({"metauas": small}, 50, seed=3)["samples"]["metauas"]["i_auroc"]
    other = {c: _class(rng, 3, 5) for c in "ab"}  # same queries, another engine's scores
    b = bootstrap({"metauas": small, "knn": other}, 50, seed=3)["samples"]["metauas"]["i_auroc"]
    assert np.array_equal(a, b)


def test_committed_ci_matches_the_committed_report():
    ci = json.loads((ROOT / "static" / "anomaly" / "heldout_ci.json").read_text())
    rep = json.loads((ROOT / "static" / "anomaly" / "heldout_report.json").read_text())
    assert ci["benchmark_seed"] == rep["benchmark"]["seed"] and ci["size"] == rep["size"]
    assert ci["prompt_seed"] == rep["prompt_seed"]
    for e in ENGINES:
        for m in METRICS:
            r = ci["engines"][e][m]
            assert r["point"] == pytest.approx(rep["results"][e]["correct"]["mean"][m], abs=0.1)
            assert r["ci"][0] <= r["point"] <= r["ci"][1]
    docs = (ROOT / "docs" / "anomaly.md").read_text()
    assert table(ci) in docs  # the docs block is generated from the JSON


def test_class_groups_are_bootstrapped_on_their_own_classes_only():
    from bench.anomaly_heldout_ci import group_summaries

    rng = np.random.default_rng(4)
    d = {c: _class(rng) for c in "abc"}
    g = group_summaries({"metauas": d, "knn": d}, {"fresh": ["c"], "old": ["a", "b"]}, 200, 0)
    alone = summarise(bootstrap({"metauas": {"c": d["c"]}, "knn": {"c": d["c"]}}, 200, seed=0))
    assert g["fresh"] == alone and set(g) == {"fresh", "old"}

"""The failure analysis (backend/anomaly/offline/failure_analysis.py): nuisance records, and the committed JSON
against the committed held-out report, its own per-query scores and the docs."""
from __future__ import annotations

import json

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from backend.anomaly.offline import changes, report
from backend.anomaly.offline import failure_analysis as fa

RES = json.loads(fa.OUT.read_text())


@pytest.mark.parametrize("seed", range(12))
def test_photometric_record_is_the_draws_and_changes_nothing(seed):
    img = np.random.default_rng(99).random((24, 24, 3)).astype(np.float32)
    calls: list = []
    tapped = changes.photometric(img, fa._Tap(np.random.default_rng(seed), calls))
    plain = changes.photometric(img, np.random.default_rng(seed))
    assert np.array_equal(tapped, plain)
    rec = fa._parse_photometric(calls)
    r = np.random.default_rng(seed)  # an independent replay of the documented draw order
    gain, offset, gamma = r.uniform(-0.1, 0.1), r.uniform(-0.04, 0.04), r.uniform(-0.1, 0.1)
    assert (rec["gain"], rec["offset"], rec["gamma"]) == (round(1 + gain, 4), round(offset, 4), round(1 + gamma, 4))
    blur = r.uniform(0.4, 1.2) if r.random() < 0.3 else None
    assert rec["blur"] == (None if blur is None else round(blur, 3))
    if r.random() < 0.3:
        std = r.uniform(0.005, 0.02)
        r.normal(0, std, img.shape)
        assert rec["noise"] == round(std, 4)
    else:
        assert rec["noise"] is None
    q = int(r.integers(40, 95)) if r.random() < 0.4 else None
    assert rec["jpeg"] == q


def test_view_record_and_generation_order():
    canvas = np.random.default_rng(1).random((40, 40, 3)).astype(np.float32)
    calls: list = []
    out, _ = changes.view(canvas, 32, fa._Tap(np.random.default_rng(3), calls))
    assert np.array_equal(out, changes.view(canvas, 32, np.random.default_rng(3))[0])
    r = np.random.default_rng(3)
    ang, sc, sh = r.uniform(-3, 3), r.uniform(-0.03, 0.03), r.uniform(-4, 4, 2)
    assert fa._parse_view(calls) == {"rotation_deg": round(ang, 2), "scale": round(1 + sc, 4),
                                     "shift_px": round(float(np.hypot(*sh)), 2)}
    n_kinds = len(changes.EVAL_CHANGES)
    recs = [{"i": i} for i in range(2 * (3 + 5 + 3 * n_kinds))]
    att = fa.attach_nuisances(recs, [(["a", "b"], 3, 5, 3)])
    assert att["a"]["good/000.png"] == {"i": 3} and att["b"]["good/004.png"] == {"i": 3 + 5 + 3 * n_kinds + 3 + 4}
    with pytest.raises(AssertionError):
        fa.attach_nuisances(recs[:-1], [(["a", "b"], 3, 5, 3)])


def test_recomputed_scores_reproduce_the_committed_report():
    rep = json.loads(report.REPORT.read_text())
    assert RES["protocol"] == rep["protocol"]
    h = RES["heldout_v2"]
    for e in fa.ENGINES:
        committed = rep["results"][e]["correct"]["per_class"]
        assert sorted(committed) == sorted(h["queries"])
        for c, rows in h["queries"].items():
            y = [int(r["defect"] != "good") for r in rows]
            s = [r["score"][e] for r in rows]
            auc = 100 * roc_auc_score(y, s)
            assert abs(auc - fa.class_auroc(rows, e)) < 1e-9
            assert abs(round(auc, 2) - committed[c]["i_auroc"]) <= 0.01 + 1e-9, (e, c)
    assert RES["check"]["max_abs_diff"] <= 0.01


@pytest.mark.parametrize("part", ["heldout_v2", "validation_v2"])
def test_breakdown_follows_from_the_committed_queries(part):
    p = RES[part]
    again = fa.breakdown(p["queries"], p["groups"])
    for key in ("per_kind", "peak_in_mask", "by_area", "area_pct_by_kind", "nuisance_effect"):
        assert json.loads(json.dumps(again[key])) == p[key], key
    kinds = set(changes.EVAL_CHANGES)
    assert {r["defect"] for rows in p["queries"].values() for r in rows} == kinds | {"good"}
    assert sum(p["by_area"]["n"]) == sum(r["defect"] != "good" for rows in p["queries"].values() for r in rows)
    assert all(r["nuisance"] is not None for rows in p["queries"].values() for r in rows if r["defect"] == "good")


def test_docs_and_readme_blocks_are_generated_from_the_json():
    docs = (fa.REPO / "docs" / "anomaly.md").read_text()
    readme = (fa.REPO / "README.md").read_text()
    assert f"{fa.BEGIN}\n{fa.docs_block(RES)}\n{fa.END}" in docs
    assert f"{fa.README_BEGIN}\n{fa.readme_block(RES)}\n{fa.README_END}" in readme

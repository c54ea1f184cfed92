"""Anomaly metrics against scikit-learn and an independent brute-force AUPRO."""
from __future__ import annotations

import numpy as np
import pytest
from scipy.ndimage import label
from sklearn.metrics import average_precision_score, precision_recall_curve, roc_auc_score

from backend.anomaly import metrics as M


def _cases():
    rng = np.random.default_rng(0)
    for i in range(6):
        n = int(rng.integers(20, 400))
        y = rng.random(n) < rng.uniform(0.1, 0.6)
        y[0], y[1] = True, False
        s = rng.normal(size=n) + y * rng.uniform(0, 2)
        if i % 2:
            s = np.round(s, 1)  # many ties
        yield s, y


@pytest.mark.parametrize("s,y", list(_cases()))
def test_auroc_ap_f1_match_sklearn(s, y):
    assert M.auroc(s, y) == pytest.approx(roc_auc_score(y, s), abs=1e-12)
    assert M.average_precision(s, y) == pytest.approx(average_precision_score(y, s), abs=1e-12)
    p, r, _ = precision_recall_curve(y, s)
    assert M.f1_max(s, y)[0] == pytest.approx(np.max(2 * p * r / (p + r + 1e-10)), abs=1e-9)


def test_hand_made_cases_and_no_flipping():
    y = np.array([0, 0, 1, 1])
    assert M.auroc([0.1, 0.2, 0.8, 0.9], y) == 1.0
    assert M.auroc([0.9, 0.8, 0.2, 0.1], y) == 0.0  # a broken detector stays broken (no 1 − AUROC)
    assert M.auroc([0.5, 0.5, 0.5, 0.5], y) == 0.5
    assert M.average_precision([0.1, 0.2, 0.8, 0.9], y) == 1.0
    f1, thr = M.f1_max([0.1, 0.2, 0.8, 0.9], y)
    assert f1 == pytest.approx(1.0) and thr == pytest.approx(0.8)
    assert np.isnan(M.auroc([0.1, 0.2], [1, 1]))
    with pytest.raises(ValueError):
        M.auroc([0.1, np.nan], [0, 1])


def brute_aupro(maps, masks, limit=0.3):
    """Straightforward definition (Bergmann et al.): at every threshold, mean per-region overlap and FPR."""
    maps = np.asarray(maps, float)
    normal = ~np.asarray(masks, bool)
    pts = [(0.0, 0.0)]
    for t in np.unique(maps)[::-1]:
        pred = maps >= t
        fpr = pred[normal].mean()
        pros = []
        for i, m in enumerate(masks):
            lab, n = label(m, structure=np.ones((3, 3)))
            for k in range(1, n + 1):
                pros.append(pred[i][lab == k].mean())
        pts.append((fpr, float(np.mean(pros))))
    f, p = np.array(pts).T
    keep = f <= limit
    fx, px = list(f[keep]), list(p[keep])
    if fx[-1] < limit:
        j = np.flatnonzero(f > limit)[0]
        t = (limit - f[j - 1]) / (f[j] - f[j - 1])
        fx.append(limit)
        px.append(p[j - 1] + t * (p[j] - p[j - 1]))
    return float(np.sum(np.diff(fx) * (np.array(px[1:]) + np.array(px[:-1])) / 2) / limit)


def test_aupro_matches_brute_force_on_random_maps():
    rng = np.random.default_rng(1)
    masks = np.zeros((3, 24, 24), bool)
    masks[0, 2:6, 3:9] = True
    masks[0, 15:20, 15:18] = True    # two regions in one image
    masks[1, 10:12, 10:20] = True
    maps = rng.random((3, 24, 24)) * 0.7 + masks * rng.uniform(0.1, 0.6)
    maps = np.round(maps, 2)  # ties
    assert M.aupro(maps, masks) == pytest.approx(brute_aupro(maps, masks), abs=1e-9)


def test_aupro_hand_made():
    masks = np.zeros((2, 10, 10), bool)
    masks[0, :3, :3] = True
    perfect = masks.astype(float)
    assert M.aupro(perfect, masks) == pytest.approx(1.0)
    assert M.aupro(1.0 - perfect, masks) == pytest.approx(0.0)
    # a region's size must not matter: a big region found + a small one missed → 0.5 overlap
    masks2 = np.zeros((1, 20, 20), bool)
    masks2[0, :10, :10] = True
    masks2[0, 15, 15] = True
    maps = np.where(masks2, 1.0, 0.5)
    maps[0, 15, 15] = 0.0  # the small region scores below every normal pixel
    assert M.aupro(maps, masks2) == pytest.approx(0.5, abs=0.01)
    assert np.isnan(M.aupro(np.zeros((1, 4, 4)), np.zeros((1, 4, 4), bool)))


def test_all_metrics_percent_keys():
    rng = np.random.default_rng(2)
    masks = np.zeros((4, 16, 16), bool)
    masks[2, 4:8, 4:8] = masks[3, 1:3, 9:14] = True
    maps = rng.random((4, 16, 16)) * 0.3 + masks * 0.5
    out = M.all_metrics(maps.reshape(4, -1).max(1), masks.reshape(4, -1).any(1), maps, masks)
    assert set(out) == {"i_auroc", "i_ap", "i_f1max", "p_auroc", "p_ap", "p_f1max", "p_aupro"}
    assert out["p_auroc"] == pytest.approx(100 * roc_auc_score(masks.ravel(), maps.ravel()), abs=0.01)
    assert all(0 <= v <= 100 for v in out.values())

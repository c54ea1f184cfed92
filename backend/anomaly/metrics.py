"""Anomaly-detection metrics with anomalib / MVTec definitions, in numpy only.

numpy only because the GPU training host has no scikit-learn; tests check every function against
scikit-learn and an independent brute-force AUPRO. Percent scaling is left to callers.
- auroc: area under the ROC curve (trapezoid over all thresholds; equals sklearn roc_auc_score).
  No flipping of values below 0.5 (the MetaUAS evaluator flips them; that hides a broken model).
- average_precision: step-wise AP, Σ (R_n − R_{n−1}) P_n (= sklearn average_precision_score, which
  the MetaUAS paper reports as I-AP / P-AP).
- f1_max: max over the PR curve of 2PR/(P+R+1e-10) (anomalib F1Max), and its threshold.
- aupro: per-region overlap (8-connected GT components) averaged over regions at each threshold,
  integrated over FPR ∈ [0, 0.3] with linear interpolation at 0.3, divided by 0.3 (anomalib AUPRO).
"""
from __future__ import annotations

import numpy as np
from scipy.ndimage import label

_trapz = np.trapezoid


def _validate(scores, labels):
    s = np.asarray(scores, dtype=np.float64).ravel()
    y = np.asarray(labels).ravel().astype(bool)
    if s.shape != y.shape:
        raise ValueError(f"scores and labels differ in size: {s.size} vs {y.size}")
    if not np.all(np.isfinite(s)):
        raise ValueError("scores contain NaN or infinity")
    return s, y


def _curve_counts(s, y):
    """Cumulative TP and FP at each distinct threshold, thresholds descending."""
    order = np.argsort(-s, kind="mergesort")
    s, y = s[order], y[order]
    last = np.r_[np.flatnonzero(np.diff(s)), s.size - 1]  # last index of each distinct score
    tp = np.cumsum(y)[last].astype(np.float64)
    fp = (last + 1 - tp).astype(np.float64)
    return tp, fp, s[last]


def auroc(scores, labels) -> float:
    s, y = _validate(scores, labels)
    npos, nneg = int(y.sum()), int((~y).sum())
    if npos == 0 or nneg == 0:
        return float("nan")
    tp, fp, _ = _curve_counts(s, y)
    tpr = np.r_[0.0, tp / npos]
    fpr = np.r_[0.0, fp / nneg]
    return float(_trapz(tpr, fpr))


def precision_recall(scores, labels):
    s, y = _validate(scores, labels)
    npos = int(y.sum())
    tp, fp, thr = _curve_counts(s, y)
    precision = tp / np.maximum(tp + fp, 1)
    recall = tp / max(npos, 1)
    return precision, recall, thr


def average_precision(scores, labels) -> float:
    s, y = _validate(scores, labels)
    if y.sum() == 0:
        return float("nan")
    p, r, _ = precision_recall(s, y)
    return float(np.sum(np.diff(np.r_[0.0, r]) * p))


def f1_max(scores, labels) -> tuple[float, float]:
    """(best F1, threshold reaching it: predict anomalous when score ≥ threshold)."""
    s, y = _validate(scores, labels)
    if y.sum() == 0:
        return float("nan"), float("nan")
    p, r, thr = precision_recall(s, y)
    f1 = 2 * p * r / (p + r + 1e-10)
    i = int(np.argmax(f1))
    return float(f1[i]), float(thr[i])


def label_regions(masks: np.ndarray) -> tuple[np.ndarray, int]:
    """8-connected components per image, numbered uniquely across the stack (0 = background)."""
    masks = np.asarray(masks).astype(bool)
    if masks.ndim == 2:
        masks = masks[None]
    out = np.zeros(masks.shape, np.int64)
    n = 0
    for i, m in enumerate(masks):
        lab, k = label(m, structure=np.ones((3, 3), int))
        out[i] = np.where(lab > 0, lab + n, 0)
        n += k
    return out, n


def aupro(maps, masks, fpr_limit: float = 0.3) -> float:
    """Area under the per-region-overlap curve up to `fpr_limit`, normalised to [0, 1]."""
    maps = np.asarray(maps, dtype=np.float64)
    regions, n = label_regions(masks)
    if maps.shape != regions.shape and maps.reshape(regions.shape).size == regions.size:
        maps = maps.reshape(regions.shape)
    if maps.shape != regions.shape:
        raise ValueError(f"maps {maps.shape} and masks {regions.shape} differ in shape")
    if n == 0:
        return float("nan")
    s, r = maps.ravel(), regions.ravel()
    nneg = int((r == 0).sum())
    if nneg == 0:
        return float("nan")
    sizes = np.bincount(r, minlength=n + 1).astype(np.float64)
    weight = np.where(r > 0, 1.0 / (sizes[r] * n), 0.0)  # each region contributes 1/n at full overlap
    order = np.argsort(-s, kind="mergesort")
    s, r, weight = s[order], r[order], weight[order]
    last = np.r_[np.flatnonzero(np.diff(s)), s.size - 1]
    fpr = np.r_[0.0, np.cumsum(r == 0)[last] / nneg]
    pro = np.r_[0.0, np.cumsum(weight)[last]]
    keep = fpr <= fpr_limit
    f, p = fpr[keep], pro[keep]
    if f[-1] < fpr_limit:  # linear interpolation at exactly fpr_limit
        j = int(np.searchsorted(fpr, fpr_limit, side="right"))
        if j < fpr.size:
            t = (fpr_limit - fpr[j - 1]) / (fpr[j] - fpr[j - 1])
            f = np.r_[f, fpr_limit]
            p = np.r_[p, pro[j - 1] + t * (pro[j] - pro[j - 1])]
    return float(_trapz(p, f) / fpr_limit)


def all_metrics(image_scores, image_labels, maps, masks, with_pro: bool = True) -> dict:
    """The seven numbers of the MetaUAS table, in percent (NaN where undefined)."""
    maps = np.asarray(maps, dtype=np.float32)
    masks = np.asarray(masks).astype(bool)
    out = {
        "i_auroc": auroc(image_scores, image_labels),
        "i_ap": average_precision(image_scores, image_labels),
        "i_f1max": f1_max(image_scores, image_labels)[0],
        "p_auroc": auroc(maps, masks),
        "p_ap": average_precision(maps, masks),
        "p_f1max": f1_max(maps, masks)[0],
        "p_aupro": aupro(maps, masks) if with_pro else float("nan"),
    }
    return {k: round(100.0 * v, 2) if np.isfinite(v) else float("nan") for k, v in out.items()}

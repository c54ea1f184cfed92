"""Prompt-derived normal variation (protocol v5, static/anomaly/protocol_v5.json): how much an engine's map
rises on a defect-free second photo of the prompt, measured from the prompt alone, and how a query map is
discounted by it.

Per prompt: V seeded nuisance views of the letterboxed prompt (`nuisance.nuisance_view`, view i drawn with
default_rng([NV_SEED, i]); NV_SEED differs from prompt augmentation's seed, so the views are new to the engine)
are mapped by the engine against that prompt's own memory; NV = their pixelwise maximum, max-filtered over a
(2r+1)² window so a query shifted by up to r pixels still meets it. A query map m is then normalised:
"none" (m), "sub" (m − NV) or "rel" ((m − NV) / (1 − NV)), clipped to [0, 1].
"""
from __future__ import annotations

import numpy as np
from PIL import Image
from scipy.ndimage import maximum_filter

from backend.anomaly.nuisance import nuisance_view

NV_SEED = 505
NV_VIEWS = 8
MODES = ("none", "sub", "rel")


def nv_views(arr: np.ndarray, v: int = NV_VIEWS, seed: int = NV_SEED) -> list[np.ndarray]:
    """V nuisance views (uint8, same size) of a letterboxed uint8 prompt; the same views for every run."""
    img = Image.fromarray(np.asarray(arr, np.uint8))
    return [np.asarray(nuisance_view(img, np.random.default_rng([seed, i])), np.uint8) for i in range(int(v))]


def nv_map(view_maps: list[np.ndarray], radius: int = 0) -> np.ndarray:
    """Pixelwise max of the views' maps, then a (2·radius+1)² max filter (shift tolerance)."""
    m = np.max(np.stack([np.asarray(x, np.float32) for x in view_maps]), axis=0)
    if radius > 0:
        m = maximum_filter(m, size=2 * int(radius) + 1, mode="nearest")
    return m.astype(np.float32)


def normalise(amap: np.ndarray, nv: np.ndarray | None, mode: str = "none") -> np.ndarray:
    """A query map discounted by the prompt's normal variation, in [0, 1]."""
    if mode not in MODES:
        raise ValueError(f"unknown normalisation {mode!r}; one of {', '.join(MODES)}")
    m = np.asarray(amap, np.float32)
    if mode == "none" or nv is None:
        return m
    nv = np.asarray(nv, np.float32)
    out = m - nv if mode == "sub" else (m - nv) / np.maximum(1.0 - nv, 1e-3)
    return np.clip(out, 0.0, 1.0).astype(np.float32)

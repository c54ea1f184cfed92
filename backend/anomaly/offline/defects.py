"""Defect and change synthesis on float32 RGB images in [0, 1]; each returns (image, mask).

Two families, kept apart on purpose so the reported benchmark measures generalisation:
- TRAIN_KINDS (used to make training change pairs, in the spirit of MetaUAS/CYWS/DRAEM):
  Perlin-mask texture blends (DRAEM), CutPaste from another image, pasted shapes, and object removal
  filled by inpainting.
- HELDOUT_KINDS (only in the evaluation benchmark): scratches, stains/spots, missing parts.
Masks are uint8 {0, 1} in the coordinates of the returned image. Every function takes a
`numpy.random.Generator`.
"""
from __future__ import annotations

import cv2
import numpy as np

from backend.anomaly.offline.textures import TEXTURES, perlin


def perlin_mask(size: int, rng, threshold: float = 0.5, min_frac: float = 0.005, max_frac: float = 0.25) -> np.ndarray:
    """DRAEM mask: Perlin noise at scales 2^{0..5}, rotated, thresholded; retried until its area is sane."""
    for _ in range(20):
        sx, sy = 2 ** int(rng.integers(0, 6)), 2 ** int(rng.integers(0, 6))
        n = perlin((size, size), (sx, sy), rng)
        rot = cv2.getRotationMatrix2D((size / 2, size / 2), rng.uniform(-90, 90), 1.0)
        n = cv2.warpAffine(n.astype(np.float32), rot, (size, size), borderMode=cv2.BORDER_REFLECT)
        m = (n > threshold).astype(np.uint8)
        if min_frac <= m.mean() <= max_frac:
            return m
    return _blob_mask(size, rng)


def _blob_mask(size, rng, r_frac=(0.04, 0.15)) -> np.ndarray:
    m = np.zeros((size, size), np.uint8)
    c = rng.integers(int(size * 0.15), int(size * 0.85), 2)
    axes = (rng.uniform(*r_frac, 2) * size).astype(int) + 2
    cv2.ellipse(m, (int(c[0]), int(c[1])), (int(axes[0]), int(axes[1])), rng.uniform(0, 180), 0, 360, 1, -1)
    return m


def _other_source(size, rng, source):
    if source is not None:
        return source
    name = list(TEXTURES)[int(rng.integers(len(TEXTURES)))]
    return TEXTURES[name](size, rng).astype(np.float32)


def _jitter_colour(img, rng):
    out = img * rng.uniform(0.6, 1.4, 3)[None, None] + rng.uniform(-0.15, 0.15)
    return np.clip(out, 0, 1).astype(np.float32)


# -- training kinds ----------------------------------------------------------------------------
def perlin_blend(img, rng, source=None):
    size = img.shape[0]
    m = perlin_mask(size, rng)
    tex = _jitter_colour(_other_source(size, rng, source), rng)
    beta = rng.uniform(0.0, 0.8)
    mf = m[..., None].astype(np.float32)
    out = img * (1 - mf) + (1 - beta) * mf * tex + beta * mf * img
    return out.astype(np.float32), m


def cutpaste(img, rng, source=None):
    """A patch (rectangle or blob) from another image, or from elsewhere in this one, pasted."""
    size = img.shape[0]
    src = source if (source is not None and rng.random() < 0.7) else img
    ph, pw = (rng.uniform(0.08, 0.35, 2) * size).astype(int) + 4
    sy, sx = int(rng.integers(0, size - ph)), int(rng.integers(0, size - pw))
    ty, tx = int(rng.integers(0, size - ph)), int(rng.integers(0, size - pw))
    patch = src[sy:sy + ph, sx:sx + pw]
    if rng.random() < 0.5:
        patch = _jitter_colour(patch, rng)
    shape = np.zeros((ph, pw), np.uint8)
    if rng.random() < 0.5:
        shape[:] = 1
    else:
        cv2.ellipse(shape, (pw // 2, ph // 2), (pw // 2, ph // 2), 0, 0, 360, 1, -1)
    out = img.copy()
    region = out[ty:ty + ph, tx:tx + pw]
    region[shape > 0] = patch[shape > 0]
    m = np.zeros((size, size), np.uint8)
    m[ty:ty + ph, tx:tx + pw] = shape
    return out, _visible(img, out, m)


def shape_paste(img, rng, source=None):
    """CYWS-style object-level change: a drawn polygon/ellipse with its own colour or texture."""
    size = img.shape[0]
    m = np.zeros((size, size), np.uint8)
    n = int(rng.integers(1, 3))
    for _ in range(n):
        if rng.random() < 0.5:
            m |= _blob_mask(size, rng, (0.03, 0.12))
        else:
            c = rng.uniform(0.15, 0.85, 2) * size
            r = rng.uniform(0.03, 0.12) * size
            k = int(rng.integers(3, 8))
            ang = np.sort(rng.uniform(0, 2 * np.pi, k))
            pts = np.stack([c[0] + r * rng.uniform(0.5, 1.5, k) * np.cos(ang),
                            c[1] + r * rng.uniform(0.5, 1.5, k) * np.sin(ang)], 1).astype(np.int32)
            cv2.fillPoly(m, [pts], 1)
    fill = _jitter_colour(_other_source(size, rng, source), rng) if rng.random() < 0.5 else \
        np.ones_like(img) * rng.uniform(0, 1, 3)[None, None].astype(np.float32)
    shade = cv2.GaussianBlur(m.astype(np.float32), (0, 0), 2)[..., None]
    fill = fill * (0.8 + 0.2 * shade)
    mf = m[..., None].astype(np.float32)
    out = img * (1 - mf) + fill * mf
    return out.astype(np.float32), _visible(img, out, m)


def inpaint_remove(img, rng, source=None):
    """Object removal: a region is erased and filled from its surroundings (cv2 Telea inpainting)."""
    size = img.shape[0]
    m = _blob_mask(size, rng, (0.04, 0.14))
    u8 = (np.clip(img, 0, 1) * 255).astype(np.uint8)
    filled = cv2.inpaint(u8, m * 255, 5, cv2.INPAINT_TELEA).astype(np.float32) / 255.0
    return filled, _visible(img, filled, m)


# -- held-out kinds (benchmark only) --------------------------------------------------------------
def scratch(img, rng, source=None):
    size = img.shape[0]
    m = np.zeros((size, size), np.uint8)
    for _ in range(int(rng.integers(1, 3))):
        p0 = rng.uniform(0.15, 0.85, 2) * size
        ang, length = rng.uniform(0, 2 * np.pi), rng.uniform(0.15, 0.45) * size
        bend = rng.uniform(-0.3, 0.3)
        t = np.linspace(0, 1, 24)
        pts = np.stack([p0[0] + length * t * np.cos(ang + bend * t), p0[1] + length * t * np.sin(ang + bend * t)], 1)
        cv2.polylines(m, [pts.astype(np.int32)], False, 1, int(rng.integers(2, 5)), cv2.LINE_8)
    tone = rng.choice([0.05, 0.95]) + rng.uniform(-0.05, 0.05, 3)
    mf = cv2.GaussianBlur(m.astype(np.float32), (0, 0), 0.7)[..., None]
    out = img * (1 - 0.85 * mf) + 0.85 * mf * tone[None, None]
    return out.astype(np.float32), m


def stain(img, rng, source=None):
    size = img.shape[0]
    m = _blob_mask(size, rng, (0.03, 0.09))
    soft = cv2.GaussianBlur(m.astype(np.float32), (0, 0), 2.0)[..., None]
    tint = rng.uniform(0.2, 0.6, 3) if rng.random() < 0.7 else rng.uniform(1.3, 1.8, 3)
    out = np.clip(img * (1 - soft) + img * tint[None, None] * soft, 0, 1)
    return out.astype(np.float32), m


def missing_part(img, rng, source=None, background=None):
    """A chunk is gone: filled with the background colour (objects) or a dark hole (textures)."""
    size = img.shape[0]
    m = np.zeros((size, size), np.uint8)
    c = rng.uniform(0.25, 0.75, 2) * size
    box = cv2.boxPoints(((float(c[0]), float(c[1])), tuple((rng.uniform(0.08, 0.2, 2) * size).tolist()),
                         rng.uniform(0, 180))).astype(np.int32)
    cv2.fillPoly(m, [box], 1)
    fill = np.asarray(background if background is not None else rng.uniform(0.0, 0.15, 3), np.float32)
    mf = m[..., None].astype(np.float32)
    out = img * (1 - mf) + fill[None, None] * mf
    return out.astype(np.float32), _visible(img, out, m)


def _visible(before, after, m, thr: float = 0.04) -> np.ndarray:
    """Keep only mask pixels that really changed (pasting grey on grey is not a defect)."""
    diff = np.abs(after - before).max(axis=2)
    diff = cv2.GaussianBlur(diff, (0, 0), 1.0)
    vis = ((diff > thr) & (m > 0)).astype(np.uint8)
    return cv2.morphologyEx(vis, cv2.MORPH_CLOSE, np.ones((3, 3), np.uint8))


TRAIN_KINDS = {"perlin": perlin_blend, "cutpaste": cutpaste, "shape": shape_paste, "inpaint": inpaint_remove}
HELDOUT_KINDS = {"scratch": scratch, "stain": stain, "missing": missing_part}

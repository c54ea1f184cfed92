"""Natural-looking local changes and nuisance views for change-segmentation pairs (training and the held-out benchmark).

Why: MetaUAS learns *change segmentation* between a prompt and a query. If a change is visible in
the query alone (a pasted texture with hard edges), the model can ignore the prompt. Here each
change is made to look plausible on its own — pasted regions get feathered edges and the colour
statistics of their surroundings, recolours keep the shading, removals are filled from the
surrounding background, duplicated parts come from the same image — so only the comparison with
the prompt tells that something changed. Nuisance differences between the two views (a shift of a
few pixels, a small rotation, brightness, blur, JPEG, noise) are applied to BOTH images
independently and are never part of the mask.

All images are float32 (H, W, 3) in [0, 1]; masks are bool (H, W). Everything is a pure function of
the `numpy.random.Generator` passed in.
"""
from __future__ import annotations

from typing import Any

import cv2
import numpy as np


# -- region masks ----------------------------------------------------------------------------------
def blob(size: int, rng, area=(0.004, 0.08)) -> np.ndarray:
    """A smooth irregular blob of a random area fraction, as float alpha in [0, 1] (feathered edge)."""
    frac = float(np.exp(rng.uniform(np.log(area[0]), np.log(area[1]))))
    r = np.sqrt(frac * size * size / np.pi)
    cx, cy = rng.uniform(r + 2, size - r - 2, 2) if r < size / 2 - 2 else (size / 2, size / 2)
    n = 12
    ang = np.sort(rng.uniform(0, 2 * np.pi, n))
    rad = r * rng.uniform(0.6, 1.35, n) * np.array([1.0, rng.uniform(0.5, 1.0)])[np.arange(n) % 2]
    pts = np.stack([cx + rad * np.cos(ang), cy + rad * np.sin(ang)], 1).astype(np.int32)
    m = np.zeros((size, size), np.uint8)
    cv2.fillPoly(m, [cv2.convexHull(pts) if rng.random() < 0.5 else pts], 255, cv2.LINE_AA)
    feather = max(1.0, r * rng.uniform(0.08, 0.3))
    return cv2.GaussianBlur(m.astype(np.float32) / 255.0, (0, 0), feather)


def _blend(img, patch, alpha):
    a = alpha[..., None]
    return (img * (1 - a) + patch * a).astype(np.float32)


def _match_colour(patch, ref, w_patch, w_ref, strength):
    """Reinhard transfer (per channel mean/std) of `patch` towards `ref`, each weighted by its mask."""
    out = patch.copy()
    for c in range(3):
        mp, sp = _wstats(patch[..., c], w_patch)
        mr, sr = _wstats(ref[..., c], w_ref)
        tgt = (patch[..., c] - mp) * (sr / max(sp, 1e-3)) + mr
        out[..., c] = (1 - strength) * patch[..., c] + strength * tgt
    return np.clip(out, 0, 1)


def _wstats(x, w):
    w = w + 1e-6
    m = float((x * w).sum() / w.sum())
    return m, float(np.sqrt(((x - m) ** 2 * w).sum() / w.sum()))


def _ring(alpha, width=9):
    k = np.ones((width, width), np.uint8)
    hard = (alpha > 0.5).astype(np.uint8)
    return np.clip(cv2.dilate(hard, k).astype(np.float32) - hard, 0, 1)


# -- changes ---------------------------------------------------------------------------------------
def paste(img, rng, donor, alpha=None):
    """A region from another photo, colour-matched to its surroundings, blended with a feathered edge."""
    size = img.shape[0]
    alpha = blob(size, rng) if alpha is None else alpha
    dh, dw = donor.shape[:2]
    s = min(dh, dw)
    side = int(s * rng.uniform(0.3, 0.8))
    y, x = int(rng.integers(0, dh - side + 1)), int(rng.integers(0, dw - side + 1))
    patch = cv2.resize(donor[y:y + side, x:x + side], (size, size), interpolation=cv2.INTER_AREA)
    patch = _match_colour(patch, img, alpha, _ring(alpha, max(5, size // 20)), rng.uniform(0.5, 1.0))
    return _blend(img, patch, alpha), alpha


def recolour(img, rng, alpha=None):
    """Hue/saturation/value change inside a region; shading and texture stay."""
    size = img.shape[0]
    alpha = blob(size, rng) if alpha is None else alpha
    hsv = cv2.cvtColor(img, cv2.COLOR_RGB2HSV)  # H in [0, 360)
    hsv[..., 0] = (hsv[..., 0] + rng.choice([-1, 1]) * rng.uniform(25, 120)) % 360
    hsv[..., 1] = np.clip(hsv[..., 1] * rng.uniform(0.4, 1.8) + rng.uniform(0.0, 0.25), 0, 1)
    hsv[..., 2] = np.clip(hsv[..., 2] * rng.uniform(0.7, 1.3), 0, 1)
    return _blend(img, cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB), alpha), alpha


def remove(img, rng, alpha=None):
    """The region filled from the surrounding background (inpainting), as if a part were missing."""
    size = img.shape[0]
    alpha = blob(size, rng, (0.004, 0.05)) if alpha is None else alpha
    hard = (alpha > 0.2).astype(np.uint8) * 255
    img8 = (np.clip(img, 0, 1) * 255).astype(np.uint8)
    filled = cv2.inpaint(img8, hard, 5, cv2.INPAINT_TELEA if rng.random() < 0.5 else cv2.INPAINT_NS)
    return _blend(img, filled.astype(np.float32) / 255.0, alpha), alpha


def duplicate(img, rng, alpha=None):
    """A part of the same image copied to another place (a duplicated part)."""
    size = img.shape[0]
    alpha = blob(size, rng) if alpha is None else alpha
    dx, dy = (rng.uniform(0.15, 0.45, 2) * size * rng.choice([-1, 1], 2)).astype(int)
    src = np.roll(img, (int(dy), int(dx)), axis=(0, 1))
    return _blend(img, src, alpha), alpha


def smudge(img, rng, alpha=None):
    """A dirty smear: the region blurred and darkened or lightened (held out of training)."""
    size = img.shape[0]
    alpha = blob(size, rng, (0.004, 0.05)) if alpha is None else alpha
    blurred = cv2.GaussianBlur(img, (0, 0), rng.uniform(2.0, 5.0))
    tint = np.array(rng.uniform(0.15, 0.45, 3) if rng.random() < 0.7 else rng.uniform(0.6, 0.9, 3), np.float32)
    patch = blurred * (1 - rng.uniform(0.35, 0.65)) + tint * rng.uniform(0.35, 0.65)
    return _blend(img, np.clip(patch, 0, 1), alpha * rng.uniform(0.75, 1.0)), alpha


def scratch(img, rng, alpha=None):
    """A thin bright or dark curved line (held out of training)."""
    size = img.shape[0]
    m = np.zeros((size, size), np.float32)
    n = int(rng.integers(3, 6))
    start = rng.uniform(0.15, 0.85, 2) * size
    direction = rng.uniform(0, 2 * np.pi)
    pts = [start]
    step = rng.uniform(0.05, 0.12) * size
    for _ in range(n):
        direction += rng.uniform(-0.4, 0.4)
        pts.append(np.clip(pts[-1] + step * np.array([np.cos(direction), np.sin(direction)]), 2, size - 3))
    cv2.polylines(m, [np.array(pts, np.int32)], False, 1.0, int(rng.integers(1, 4)), cv2.LINE_AA)
    alpha = cv2.GaussianBlur(m, (0, 0), 0.7)
    lum = img.mean(axis=2)
    colour = 0.95 if float((lum * (m > 0)).sum() / max(1, (m > 0).sum())) < 0.5 else 0.05
    return _blend(img, np.full_like(img, colour), np.clip(alpha * 1.3, 0, 1)), alpha


TRAIN_CHANGES = ("paste", "recolour", "remove", "duplicate")
EVAL_CHANGES = ("patch", "recolour", "smudge", "scratch", "removal")  # smudge and scratch: never in training


def apply(kind: str, img, rng, donor=None, alpha=None):
    """`alpha` (a region from `blob`) replaces the kind's own region draw; None keeps it (every rng draw as before).
    A scratch draws its own line and takes no region."""
    fn: Any = {"paste": paste, "patch": paste, "recolour": recolour, "remove": remove, "removal": remove,
          "duplicate": duplicate, "smudge": smudge, "scratch": scratch}[kind]
    if alpha is not None and fn is scratch:
        raise ValueError("a scratch takes no region")
    return fn(img, rng, donor, alpha) if fn is paste else fn(img, rng, alpha)


def visible_mask(before, after, alpha, thr: float = 0.035) -> np.ndarray:
    """Where the change is actually visible: inside the region AND a perceptible colour difference."""
    diff = np.abs(cv2.GaussianBlur(after - before, (0, 0), 1.0)).max(axis=2)
    vis = (diff > thr) & (alpha > 0.3)
    vis = cv2.morphologyEx(vis.astype(np.uint8), cv2.MORPH_CLOSE, np.ones((5, 5), np.uint8))
    return vis.astype(bool)


# -- nuisance views --------------------------------------------------------------------------------
def view(canvas_img, size: int, rng, strength: float = 1.0, mask=None):
    """A size×size view of a larger canvas: a few pixels of shift, ≤3° rotation, ±3% scale; the mask
    (in canvas coordinates) is warped identically."""
    c = canvas_img.shape[0]
    ang = rng.uniform(-3, 3) * strength
    sc = 1 + rng.uniform(-0.03, 0.03) * strength
    m = cv2.getRotationMatrix2D((c / 2, c / 2), ang, sc)
    m[:, 2] += rng.uniform(-4, 4, 2) * strength - (c - size) / 2
    out = cv2.warpAffine(canvas_img, m, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    if mask is None:
        return out, None
    mk = cv2.warpAffine(mask.astype(np.float32), m, (size, size), flags=cv2.INTER_LINEAR,
                        borderMode=cv2.BORDER_CONSTANT) > 0.5
    return out, mk


def photometric(img, rng, strength: float = 1.0):
    """Brightness/contrast/gamma, sometimes blur, JPEG or sensor noise (never flagged)."""
    out = img * (1 + rng.uniform(-0.1, 0.1) * strength) + rng.uniform(-0.04, 0.04) * strength
    out = np.clip(out, 0, 1) ** (1 + rng.uniform(-0.1, 0.1) * strength)
    if rng.random() < 0.3 * strength:
        out = cv2.GaussianBlur(out.astype(np.float32), (0, 0), rng.uniform(0.4, 1.2))
    if rng.random() < 0.3 * strength:
        out = out + rng.normal(0, rng.uniform(0.005, 0.02), out.shape)
    out = np.clip(out, 0, 1).astype(np.float32)
    if rng.random() < 0.4 * strength:
        ok, buf = cv2.imencode(".jpg", (out[..., ::-1] * 255).astype(np.uint8),
                               [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(40, 95))])
        decoded = cv2.imdecode(buf, cv2.IMREAD_COLOR)
        assert decoded is not None  # we just encoded it
        out = decoded[..., ::-1].astype(np.float32) / 255.0
    return out


def crop_square(photo, side: int, rng, min_frac: float = 0.35) -> np.ndarray:
    h, w = photo.shape[:2]
    s = int(min(h, w) * rng.uniform(min_frac, 1.0))
    y, x = int(rng.integers(0, h - s + 1)), int(rng.integers(0, w - s + 1))
    return cv2.resize(photo[y:y + s, x:x + s], (side, side), interpolation=cv2.INTER_AREA)


def to_uint8(x) -> np.ndarray:
    return (np.clip(x, 0, 1) * 255 + 0.5).astype(np.uint8)

"""Stage 4b — putting the moved object back into the photo.

Each helper is relative to the source so that an identity edit is an identity: colour
harmonisation transfers the *change* in local surroundings (ring around the new place vs ring
around the old place), crack filling only touches pixels the splat missed inside the new
silhouette, and the contact shadow is opt-in.
"""
from __future__ import annotations

import cv2
import numpy as np
from scipy import ndimage as ndi


def ring(mask: np.ndarray, inner: int, outer: int) -> np.ndarray:
    m = mask.astype(np.uint8)
    a = cv2.dilate(m, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * outer + 1, 2 * outer + 1)))
    b = cv2.dilate(m, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * inner + 1, 2 * inner + 1))) if inner else m
    return (a > 0) & ~(b > 0)


def harmonize_gain(src_img: np.ndarray, src_mask: np.ndarray, dst_img: np.ndarray, dst_mask: np.ndarray,
                   strength: float) -> np.ndarray:
    """Per-channel gain = mean(dst surroundings) / mean(src surroundings), clipped, ^strength."""
    if strength <= 0 or not src_mask.any() or not dst_mask.any():
        return np.ones(3, np.float32)
    r = max(4, int(0.02 * max(src_mask.shape)))
    rs, rd = ring(src_mask, 3, 3 + r), ring(dst_mask, 3, 3 + r)
    if rs.sum() < 20 or rd.sum() < 20:
        return np.ones(3, np.float32)
    ms = src_img[rs].reshape(-1, 3).astype(np.float64).mean(0) + 1.0
    md = dst_img[rd].reshape(-1, 3).astype(np.float64).mean(0) + 1.0
    gain = np.clip(md / ms, 0.8, 1.25) ** float(strength)
    if np.all(np.abs(gain - 1) < 1e-3):
        return np.ones(3, np.float32)
    return gain.astype(np.float32)


def fill_cracks(rgb: np.ndarray, coverage: np.ndarray, magnification: float,
                is_object=None) -> tuple[np.ndarray, np.ndarray]:
    """Close pinholes the forward splat left inside the silhouette; returns (cracks mask, rgb).

    `is_object(ys, xs) -> bool array` says whether a candidate pixel maps back (through T⁻¹)
    onto the source object, so concave notches of the silhouette are not mistaken for cracks."""
    hit = coverage > 0
    if not hit.any():
        return np.zeros_like(hit), rgb
    k = int(np.clip(np.ceil(magnification), 1, 7)) * 2 + 1
    se = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k))
    closed = cv2.morphologyEx(hit.astype(np.uint8), cv2.MORPH_CLOSE, se) > 0
    closed = ndi.binary_fill_holes(closed) & cv2.dilate(hit.astype(np.uint8), se).astype(bool)
    cracks = closed & ~hit
    if cracks.any() and is_object is not None:
        ys, xs = np.nonzero(cracks)
        notobj = ~is_object(ys, xs)
        cracks[ys[notobj], xs[notobj]] = False
    if not cracks.any():
        return cracks, rgb
    w = hit.astype(np.float32)
    num = cv2.GaussianBlur(rgb * w[..., None], (0, 0), k / 2.0)
    den = cv2.GaussianBlur(w, (0, 0), k / 2.0)[..., None]
    out = rgb.copy()
    out[cracks] = (num / np.maximum(den, 1e-6))[cracks]
    return cracks, out


def contact_shadow(mask: np.ndarray, strength: float) -> np.ndarray:
    """Approximate soft contact shadow under the object's footprint (multiplicative darkening)."""
    if strength <= 0 or not mask.any():
        return np.zeros(mask.shape, np.float32)
    ys, xs = np.nonzero(mask)
    h = ys.max() - ys.min() + 1
    foot = np.zeros(mask.shape, np.float32)
    band = mask & (np.arange(mask.shape[0])[:, None] > ys.max() - 0.25 * h)
    foot[band] = 1.0
    shift = max(1, int(0.03 * h))
    foot = np.roll(foot, shift, axis=0)
    foot[:shift] = 0
    sh = cv2.GaussianBlur(foot, (0, 0), max(1.0, 0.06 * h))
    sh = np.asarray(sh, np.float32) / max(float(sh.max()), 1e-6)
    return (0.6 * float(strength) * sh * ~mask).astype(np.float32)


def displacement_field(src_u: np.ndarray, src_v: np.ndarray, new_u: np.ndarray, new_v: np.ndarray,
                       mask: np.ndarray, region: np.ndarray) -> np.ndarray:
    """|motion| in pixels of each object pixel, extended to `region` (e.g. the dilated mask) by
    nearest object pixel, so the halo ring moves (or stays) with the object it belongs to."""
    H, W = mask.shape
    mag = np.full((H, W), np.inf, np.float32)
    d = np.hypot(new_u - src_u, new_v - src_v)
    d[~np.isfinite(d)] = np.inf
    mag[src_v.astype(int), src_u.astype(int)] = d
    _, (iy, ix) = ndi.distance_transform_edt(~mask, return_indices=True)
    out = mag[iy, ix]
    out[~region] = 0
    return out

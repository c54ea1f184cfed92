"""How tightly a centre-line bends, and making a curved line smaller without bending it tighter.

Why: a stroke of width w drawn along a bend of radius r has an inner edge of radius r − w/2. Shrinking a small curved
detail about its centre (legibility.adapt, to free the gap around it) divides r but not w: Tabler's coffee steam
(radius 2.4 of 24) shrunk to 65 % at weight 3 had an inner edge of radius 0.13, a point, and its square caps, set
along end tangents that turned 80° apart, stuck out as two spikes: the squiggle read as a "<" chevron at 256 px.
Such a line is made smaller by shortening it along its length instead (its curvature kept), from the end that
frees the gap.
"""
from __future__ import annotations

import numpy as np

SAMPLES = 16  # curvature samples per cubic


def cubic_points(c: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Points of one cubic (4 control points) at the parameters `t` (1-D): shape (len(t), 2)."""
    t = np.asarray(t, dtype=np.float64)[:, None]
    return ((1 - t) ** 3) * c[0] + 3 * ((1 - t) ** 2) * t * c[1] + 3 * (1 - t) * t * t * c[2] + t ** 3 * c[3]


def tightest_radius(cub: np.ndarray) -> float:
    """Smallest radius of curvature along a subpath's cubics (same units as the coordinates; inf if straight)."""
    r = radii(cub)
    return float(r.min()) if r.size else float("inf")


def radii(cub: np.ndarray) -> np.ndarray:
    """Radius of curvature at SAMPLES points of every cubic (shape (cubics, SAMPLES); inf where straight or where the
    curve stalls). An affine map of the cubics keeps the samples in step, so two of these can be compared pointwise."""
    c = np.asarray(cub, dtype=np.float64)
    if not len(c):
        return np.zeros((0, SAMPLES))
    t = np.linspace(0.0, 1.0, SAMPLES)[None, :, None]
    p0, p1, p2, p3 = (c[:, i][:, None, :] for i in range(4))
    d1 = 3 * ((1 - t) ** 2 * (p1 - p0) + 2 * (1 - t) * t * (p2 - p1) + t ** 2 * (p3 - p2))
    d2 = 6 * ((1 - t) * (p2 - 2 * p1 + p0) + t * (p3 - 2 * p2 + p1))
    cross = np.abs(d1[..., 0] * d2[..., 1] - d1[..., 1] * d2[..., 0])
    speed = np.linalg.norm(d1, axis=-1)
    ok = (cross > 1e-12) & (speed > 1e-6)  # straight stretches and degenerate (zero-speed) ends bend nowhere
    return np.where(ok, speed ** 3 / np.where(ok, cross, 1.0), np.inf)


def keeps_bends(cub: np.ndarray, f: float, w: float, gap: float) -> bool:
    """Whether scaling this line by `f` leaves the inside of its tightest bend open at width `w`: its inner edge
    radius stays at least `gap` (the thinnest readable white), or at least what it was before when it was less."""
    r = tightest_radius(cub)
    return not np.isfinite(r) or r * f - w / 2 >= min(gap, r - w / 2)


def split_cubic(c: np.ndarray, t: float) -> tuple[np.ndarray, np.ndarray]:
    """de Casteljau split of one cubic at t."""
    p01, p12, p23 = c[0] + t * (c[1] - c[0]), c[1] + t * (c[2] - c[1]), c[2] + t * (c[3] - c[2])
    p012, p123 = p01 + t * (p12 - p01), p12 + t * (p23 - p12)
    m = p012 + t * (p123 - p012)
    return np.array([c[0], p01, p012, m]), np.array([m, p123, p23, c[3]])


def cubic_lengths(cub: np.ndarray) -> np.ndarray:
    """Arc length of each cubic (17-point polyline)."""
    t = np.linspace(0.0, 1.0, 17)
    out = []
    for c in cub:
        pts = cubic_points(c, t)
        out.append(float(np.linalg.norm(np.diff(pts, axis=0), axis=1).sum()))
    return np.asarray(out)


def cut_start(cub: np.ndarray, amount: float) -> np.ndarray:
    """The open subpath without its first `amount` of arc length."""
    cub = np.asarray(cub, dtype=np.float64)
    lens = cubic_lengths(cub)
    acc, i = 0.0, 0
    while i < len(cub) - 1 and acc + lens[i] < amount:
        acc += lens[i]
        i += 1
    t = float(np.clip((amount - acc) / max(lens[i], 1e-12), 0.0, 1.0))
    return np.concatenate([split_cubic(cub[i], t)[1][None], cub[i + 1:]])


def shortened(cub: np.ndarray, f: float) -> list[np.ndarray]:
    """The open subpath shortened to `f` of its length, curvature kept: cut at its start, at its end, at both."""
    cub = np.asarray(cub, dtype=np.float64)
    cut = (1.0 - f) * float(cubic_lengths(cub).sum())
    rev = cub[::-1, ::-1]
    at_end = cut_start(rev, cut)[::-1, ::-1]
    both = cut_start(cut_start(rev, cut / 2)[::-1, ::-1], cut / 2)
    return [cut_start(cub, cut), np.ascontiguousarray(at_end), both]

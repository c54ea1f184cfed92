"""Contours -> a small, clean SVG string (viewBox 0 0 24 24, currentColor, fixed precision).

Why Catmull-Rom: the representation stores evenly spaced samples, not the original Béziers. Interpolating
them with a Catmull-Rom spline, written as cubic `C` commands, gives smooth curves through every sample; at
samples where the outline turns sharply (> CORNER_DEG) the tangent is set to zero so corners stay crisp and
straight edges stay straight. Output uses only <svg> and <path> with presentation attributes, so it passes
any reasonable sanitiser, and it never contains text, scripts, links or raster data.

Grouping: filled contours are merged into one even-odd <path> (holes work whatever their orientation);
stroked contours are grouped by (rounded) stroke width; translucent contours (duotone layers) get their own
path with `opacity`.
"""
from __future__ import annotations

import numpy as np

from .contours import Contour

GRID = 24.0
CORNER_DEG = 50.0
SIMPLIFY_TOL = 0.004  # ~0.1 px on a 24 grid
_ROUND = 2


def _fmt(x: float) -> str:
    s = f"{x:.{_ROUND}f}".rstrip("0").rstrip(".")
    return "0" if s in ("-0", "") else s


def _tangents(p: np.ndarray, closed: bool) -> np.ndarray:
    n = len(p)
    if closed:
        prev, nxt = np.roll(p, 1, axis=0), np.roll(p, -1, axis=0)
    else:
        prev = np.vstack([p[:1], p[:-1]])
        nxt = np.vstack([p[1:], p[-1:]])
    t = (nxt - prev) / 2.0
    a, b = p - prev, nxt - p
    na, nb = np.linalg.norm(a, axis=1), np.linalg.norm(b, axis=1)
    cos = np.sum(a * b, axis=1) / np.maximum(na * nb, 1e-12)
    sharp = (cos < np.cos(np.radians(CORNER_DEG))) & (na > 1e-9) & (nb > 1e-9)
    if not closed and n:
        sharp[0] = sharp[-1] = False
    t[sharp] = 0.0
    return t


def contour_d(points: np.ndarray, closed: bool) -> str:
    """One subpath as `M … C … [Z]` in GRID units."""
    p = np.asarray(points, np.float64) * GRID
    # drop consecutive duplicates (they make zero-length segments)
    keep = np.ones(len(p), bool)
    keep[1:] = np.linalg.norm(np.diff(p, axis=0), axis=1) > 1e-3
    p = p[keep]
    if len(p) < 2:
        c = p[0] if len(p) else np.array([GRID / 2, GRID / 2])
        return f"M{_fmt(c[0])} {_fmt(c[1])}h0.01"
    t = _tangents(p, closed)
    parts = [f"M{_fmt(p[0, 0])} {_fmt(p[0, 1])}"]
    n = len(p)
    for i in range(n if closed else n - 1):
        j = (i + 1) % n
        if not t[i].any() and not t[j].any():  # corner to corner: a straight segment
            parts.append(f"L{_fmt(p[j, 0])} {_fmt(p[j, 1])}")
            continue
        c1, c2 = p[i] + t[i] / 3.0, p[j] - t[j] / 3.0
        parts.append("C" + " ".join(_fmt(v) for v in (c1[0], c1[1], c2[0], c2[1], p[j, 0], p[j, 1])))
    if closed:
        parts.append("Z")
    return "".join(parts)


def simplify(points: np.ndarray, closed: bool, tol: float = SIMPLIFY_TOL) -> np.ndarray:
    """Drop samples the outline does not need (Douglas–Peucker on the sample polyline, `tol` in unit-box units),
    so a straight edge is 2 points and a circle ~12, not 32; Catmull-Rom then runs through the kept samples."""
    p = np.asarray(points, np.float64)
    n = len(p)
    if n <= 3:
        return p
    keep = np.zeros(n, bool)
    if closed:  # split the loop at the point farthest from the start
        far = int(np.argmax(np.linalg.norm(p - p[0], axis=1)))
        spans = [(0, far), (far, n)]
        q = np.vstack([p, p[:1]])
    else:
        spans, q = [(0, n - 1)], p
    stack = list(spans)
    keep[0] = True
    while stack:
        a, b = stack.pop()
        keep[a % n] = keep[b % n] = True
        if b - a < 2:
            continue
        seg = q[b] - q[a]
        rel = q[a + 1:b] - q[a]
        den = max(float(np.hypot(*seg)), 1e-12)
        dist = np.abs(seg[0] * rel[:, 1] - seg[1] * rel[:, 0]) / den
        k = int(np.argmax(dist))
        if dist[k] > tol:
            m = a + 1 + k
            stack += [(a, m), (m, b)]
    return p[keep]


def contours_to_svg(contours: list[Contour], linecap: str = "round", linejoin: str = "round") -> str:
    """One filled path per opacity level and one stroked path per (width, opacity): the icon's stroked contours
    share their median width (icons in every installed set use one line weight)."""
    fills: dict[float, list[str]] = {}
    strokes: dict[tuple[float, float], list[str]] = {}
    widths = [c.stroke_width for c in contours if c.stroke]
    sw = max(round(float(np.median(widths)) * GRID * 4) / 4, 0.25) if widths else 0.0
    for c in contours:
        op = 1.0 if c.opacity >= 0.6 else 0.2 if c.opacity < 0.35 else 0.5  # duotone layers use ~0.2
        if c.fill:
            fills.setdefault(op, []).append(contour_d(simplify(c.points, True), True))
        if c.stroke:
            strokes.setdefault((sw, op), []).append(contour_d(simplify(c.points, c.closed), c.closed))
    body = []
    for op, ds in sorted(fills.items(), key=lambda kv: kv[0]):
        extra = f' opacity="{_fmt(op)}"' if op < 1 else ""
        body.append(f'<path fill="currentColor" fill-rule="evenodd"{extra} d="{"".join(ds)}"/>')
    for (sw, op), ds in sorted(strokes.items()):
        extra = f' opacity="{_fmt(op)}"' if op < 1 else ""
        body.append(f'<path fill="none" stroke="currentColor" stroke-width="{_fmt(sw)}" '
                    f'stroke-linecap="{linecap}" stroke-linejoin="{linejoin}"{extra} d="{"".join(ds)}"/>')
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{int(GRID)}" height="{int(GRID)}" '
            f'viewBox="0 0 {int(GRID)} {int(GRID)}">' + "".join(body) + "</svg>")

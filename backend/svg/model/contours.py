"""SVG string -> list of normalised contours (the geometry half of the path representation).

Why a separate step: the diffusion model never sees SVG syntax. Every icon, whatever its grid (16, 24, 256,
512 ...) or primitive (<rect>, <circle>, arcs, quadratics), becomes a list of *contours* (one per subpath)
in the unit square, each resampled to `N_POINTS` points spaced evenly by arc length, together with the paint
attributes that carry style (fill/stroke flags, stroke width relative to the canvas, opacity).
svgelements applies inherited attributes and transforms, so e.g. `<svg fill="none" stroke="currentColor">`
roots are handled.

Canonical form (so that equal shapes get equal codes): closed contours are oriented counter-clockwise and
start at the point nearest the canvas' top-left (min x+y); open contours run from the end nearer the top-left.
"""
from __future__ import annotations

import io
import math
from dataclasses import dataclass

import numpy as np
from svgelements import SVG, Close, Move, Path, Shape

N_POINTS = 32  # samples per contour (64 numbers before PCA)
_DENSE = 12  # samples per segment before arc-length resampling
MIN_SIZE = 0.004  # contours smaller than this (fraction of canvas) are dropped as noise


@dataclass
class Contour:
    points: np.ndarray  # (N_POINTS, 2) in canvas units [0, 1]
    closed: bool
    fill: bool
    stroke: bool
    stroke_width: float  # fraction of the canvas side (0 when not stroked)
    opacity: float

    @property
    def size(self) -> float:
        span = self.points.max(0) - self.points.min(0)
        return float(max(span[0], span[1]))


def _resample(poly: np.ndarray, n: int, closed: bool) -> np.ndarray | None:
    if closed and np.linalg.norm(poly[0] - poly[-1]) > 1e-9:
        poly = np.vstack([poly, poly[:1]])
    seg = np.linalg.norm(np.diff(poly, axis=0), axis=1)
    total = float(seg.sum())
    if not math.isfinite(total) or total <= 1e-9:
        return None
    cum = np.concatenate([[0.0], np.cumsum(seg)])
    # closed: n points on [0, total) (the last would repeat the first); open: both endpoints kept
    ts = np.linspace(0.0, total, n, endpoint=not closed)
    return np.stack([np.interp(ts, cum, poly[:, 0]), np.interp(ts, cum, poly[:, 1])], axis=1)


def canonicalise(pts: np.ndarray, closed: bool) -> np.ndarray:
    """Orientation + start point rule described in the module docstring."""
    if closed:
        x, y = pts[:, 0], pts[:, 1]
        area = 0.5 * float(np.sum(x * np.roll(y, -1) - np.roll(x, -1) * y))
        if area < 0:  # y points down in SVG; make the signed area positive
            pts = pts[::-1]
        start = int(np.argmin(pts[:, 0] + pts[:, 1] + 1e-6 * pts[:, 0]))
        return np.roll(pts, -start, axis=0)
    if pts[-1].sum() < pts[0].sum():
        return pts[::-1].copy()
    return pts


def _paint(el) -> tuple[bool, bool, float, float]:
    fill = el.fill is not None and getattr(el.fill, "value", None) is not None and el.fill.alpha != 0
    stroke = el.stroke is not None and getattr(el.stroke, "value", None) is not None and el.stroke.alpha != 0
    sw = float(el.stroke_width or 0.0) if stroke else 0.0
    if stroke and sw <= 0:
        stroke = False
    op = 1.0
    for key in ("opacity", "fill-opacity" if fill and not stroke else "stroke-opacity"):
        raw = el.values.get(key)
        try:
            op *= float(raw) if raw is not None else 1.0
        except (TypeError, ValueError):
            pass
    return bool(fill), bool(stroke), sw, float(min(max(op, 0.0), 1.0))


def svg_to_contours(svg_text: str, n_points: int = N_POINTS) -> list[Contour]:
    """Parse an SVG and return its contours in the unit square (may be empty for empty icons)."""
    svg = SVG.parse(io.StringIO(svg_text))
    vb = svg.viewbox
    if vb is not None and vb.width and vb.height:
        x0, y0, side = float(vb.x), float(vb.y), float(max(vb.width, vb.height))
        # svgelements maps the viewBox onto width/height; undo that scale so units are viewBox units
        sx = float(svg.width) / float(vb.width) if svg.width else 1.0
    else:
        x0, y0, side, sx = 0.0, 0.0, float(max(svg.width or 24, svg.height or 24)), 1.0
    out: list[Contour] = []
    for el in svg.elements():
        if not isinstance(el, Shape) or isinstance(el, SVG):
            continue
        if el.values.get("display") == "none" or el.values.get("visibility") == "hidden":
            continue
        fill, stroke, sw, op = _paint(el)
        if not (fill or stroke):
            continue
        path = el if isinstance(el, Path) else Path(el)
        for sub in path.as_subpaths():
            segs = [s for s in sub if not isinstance(s, Move)]
            if not segs:
                continue
            closed = any(isinstance(s, Close) for s in segs)
            dense: list[np.ndarray] = []
            for s in segs:
                if s.start is None or s.end is None:
                    continue
                ts = np.linspace(0, 1, _DENSE if type(s).__name__ not in ("Line", "Close") else 2)
                pts = np.asarray(s.npoint(ts), dtype=np.float64)
                dense.append(pts if not dense else pts[1:])
            if not dense:
                continue
            poly = np.vstack(dense)
            poly = (poly / sx - np.array([x0, y0])) / side
            if not np.isfinite(poly).all():
                continue
            closed = closed or (fill and not stroke)  # a filled open subpath is implicitly closed
            resampled = _resample(poly, n_points, closed)
            if resampled is None:
                continue
            c = Contour(canonicalise(resampled, closed), closed, fill, stroke, sw / sx / side if stroke else 0.0, op)
            if c.size >= MIN_SIZE or stroke:
                out.append(c)
    return out


def _bezier(cubics: np.ndarray, m: int) -> np.ndarray:
    """(n,4,2) cubics -> (n, m, 2) samples at t = 0..1."""
    t = np.linspace(0.0, 1.0, m)[None, :, None]
    p0, p1, p2, p3 = (cubics[:, i][:, None] for i in range(4))
    mt = 1 - t
    return mt ** 3 * p0 + 3 * mt ** 2 * t * p1 + 3 * mt * t ** 2 * p2 + t ** 3 * p3


def paths_to_contours(paths: list[dict], n_points: int = N_POINTS) -> list[Contour]:
    """The studio corpus' path dicts (unit-box cubics, see backend.svg.paths) -> contours, without re-parsing SVG."""
    out: list[Contour] = []
    for p in paths:
        fill, stroke = bool(p.get("fill")), bool(p.get("stroke"))
        sw = float(p.get("stroke_width") or 0.0) if stroke else 0.0
        if stroke and sw <= 0:
            stroke = False
        if not (fill or stroke):
            continue
        cubics = np.asarray(p["cubics"], np.float64)
        starts = list(np.asarray(p.get("starts", [0]), int)) + [len(cubics)]
        closed_flags = list(p.get("closed") or [])
        op = float(p.get("opacity", 1.0) or 1.0)
        for k in range(len(starts) - 1):
            seg = cubics[starts[k]: starts[k + 1]]
            if len(seg) == 0:
                continue
            dense = _bezier(seg, _DENSE)
            poly = np.vstack([dense[0]] + [d[1:] for d in dense[1:]])
            if not np.isfinite(poly).all():
                continue
            closed = bool(closed_flags[k]) if k < len(closed_flags) else False
            closed = closed or (fill and not stroke)
            pts = _resample(poly, n_points, closed)
            if pts is None:
                continue
            c = Contour(canonicalise(pts, closed), closed, fill, stroke, sw, min(max(op, 0.0), 1.0))
            if c.size >= MIN_SIZE or stroke:
                out.append(c)
    return out

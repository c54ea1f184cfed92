"""Exactly where a drawing paints, and keeping all of it inside the viewBox.

Why exact: a restyle that checked a 96-px render let square caps and miter joins past the viewBox by up to 1.5
render pixels (Tabler "camera x" with the walkthrough's red weight-3 square-cap card painted to 24.25/24: 0.06 %
of its ink cut off). Here the painted area is the stroke outlined with skia-pathops as a renderer draws it (caps,
joins, miter limit 4, the SVG default; backend.svg.outline) united with the fill, and its tight bounds are taken
on the geometry exactly as `paths_to_svg` writes it (coordinates and widths rounded to 0.01 grid units), so
"inside" means inside in the file a browser gets.
"""
from __future__ import annotations

import numpy as np
import pathops

from backend.svg.outline import _CAP, _JOIN, to_skia
from backend.svg.paths import _fmt

BOUNDS_SCALE = 1e5  # skia's stroker approximates offset curves to a fixed absolute tolerance: work in a big box
MARGIN = 0.02       # grid units left between a refitted drawing and the viewBox edge (renderers' own curve
#                     approximation and anti-aliasing)
MITER_LIMIT = 4.0   # SVG's default stroke-miterlimit (paths_to_svg writes none)


def as_written(paths: list[dict], grid: float) -> list[dict]:
    """`paths` with coordinates and stroke widths rounded as paths_to_svg rounds them at `grid`."""
    def rnd(a) -> np.ndarray:
        flat = np.asarray(a, dtype=np.float64).ravel() * grid
        return np.array([float(_fmt(v)) for v in flat.tolist()], dtype=np.float64).reshape(np.shape(a)) / grid

    return [{**p, "cubics": rnd(p["cubics"]),
             "stroke_width": float(_fmt(p["stroke_width"] * grid)) / grid if p["stroke"] else 0.0} for p in paths]


def _path_bounds(path: dict) -> np.ndarray | None:
    boxes = []
    sk = to_skia({**path, "cubics": np.asarray(path["cubics"], dtype=np.float64)}, scale=BOUNDS_SCALE)
    if path["fill"] and len(list(sk.contours)):
        boxes.append(sk.bounds)
    if path["stroke"] and path.get("stroke_width", 0) > 0:
        line = pathops.Path(sk)
        line.stroke(float(path["stroke_width"]) * BOUNDS_SCALE, _CAP.get(path.get("linecap") or "butt", _CAP["butt"]),
                    _JOIN.get(path.get("linejoin") or "miter", _JOIN["miter"]), MITER_LIMIT)
        if len(list(line.contours)):
            boxes.append(line.bounds)
    if not boxes:
        return None
    b = np.asarray(boxes, dtype=np.float64)
    return np.concatenate([b[:, :2].min(0), b[:, 2:].max(0)]) / BOUNDS_SCALE


def painted_box(paths: list[dict], grid: float | None = None) -> np.ndarray:
    """[x0, y0, x1, y1] (unit box) of everything painted, caps, joins and miter spikes included; with `grid`, of
    the drawing as written at that grid. All NaN when nothing is painted."""
    boxes = [b for b in (_path_bounds(p) for p in (as_written(paths, grid) if grid else paths)) if b is not None]
    if not boxes:
        return np.full(4, np.nan)
    b = np.asarray(boxes)
    return np.concatenate([b[:, :2].min(0), b[:, 2:].max(0)])


def inside(box: np.ndarray, lo: float = 0.0, hi: float = 1.0) -> bool:
    return bool(np.all(np.isfinite(box)) and (box[:2] >= lo).all() and (box[2:] <= hi).all())


def _scale_about(paths: list[dict], s: float, centre: np.ndarray, to: np.ndarray, widths: bool) -> None:
    for p in paths:
        p["cubics"] = ((np.asarray(p["cubics"], dtype=np.float64) - centre) * s + to).astype(np.float32)
        if widths and p["stroke"]:
            p["stroke_width"] = p["stroke_width"] * s


def fit_viewbox(paths: list[dict], grid: float = 24.0, margin: float = MARGIN) -> tuple[float, float]:
    """When anything painted (as written at `grid`) crosses the viewBox, change the drawing as little as brings all of
    it inside, `margin` grid units from the edge: moved back when it is small enough, else scaled about its painted
    centre (line widths kept) until it fits. Returns (geometry scale, distance moved in the unit box); (1.0, 0.0)
    when untouched. A sliver of a square cap past the edge costs a sliver of a move, not a shrink of the whole
    icon (a drawing that exactly spans its box, as Phosphor's voicemail does, keeps its size in its own family).
    Strokes do not scale, so the painted box does not shrink in proportion: the scale is solved from the line extent
    (painted box minus centre-line box) and checked; if the lines alone are too wide for the box, they scale too."""
    box = painted_box(paths, grid)
    if not np.all(np.isfinite(box)) or inside(box):
        return 1.0, 0.0
    lo, hi = margin / grid, 1.0 - margin / grid
    total, moved = 1.0, 0.0
    for attempt in range(8):
        size = float(max(box[2] - box[0], box[3] - box[1]))
        if size <= hi - lo:  # small enough: move it back in, no further than needed
            shift = np.maximum(lo - box[:2], 0.0) - np.maximum(box[2:] - hi, 0.0)
            _scale_about(paths, 1.0, np.zeros(2), shift, False)
            moved += float(np.hypot(*shift))
        else:
            geom = painted_box([{**p, "stroke": False, "fill": True} for p in paths])
            g = float(max(geom[2] - geom[0], geom[3] - geom[1])) if np.all(np.isfinite(geom)) else 0.0
            extent = max(size - g, 0.0)
            widths = attempt >= 6 or g <= 1e-9 or extent >= hi - lo  # the lines alone do not fit: they scale too
            s = (hi - lo) / size if widths else min(1.0, (hi - lo - extent) / g) * (0.999 ** max(attempt - 2, 0))
            _scale_about(paths, s, (box[:2] + box[2:]) / 2.0, np.array([0.5, 0.5]), widths)
            total *= s
        box = painted_box(paths, grid)
        if inside(box):
            break
    return total, moved


def fit_note(scale: float, moved: float, grid: float) -> str | None:
    """What fit_viewbox did, as a candidate's note (None when it did nothing)."""
    if scale < 1.0:
        return f"scaled the drawing by {scale:.3g} so caps, joins and fills stay inside the viewBox"
    if moved > 0:
        return f"moved the drawing by {moved * grid:.2f}/{grid:g} so caps, joins and fills stay inside the viewBox"
    return None

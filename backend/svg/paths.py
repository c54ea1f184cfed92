"""The normalised path representation shared by the corpus, the style card, the engines and the generator.

Why cubics in a unit box: every SVG primitive (line, quadratic, arc, rect, circle, polygon) becomes absolute
cubic Béziers in [0,1]² after transforms are applied, so downstream code (style card, rasteriser, learned
generator) handles exactly one segment type and one coordinate frame. Stroked icons keep their centre-lines
plus a stroke width (the most important style variable); outline↔fill conversion happens later, on demand.

A path is a dict:
    cubics       np.ndarray (n, 4, 2) float32, unit box (x right, y down)
    starts       np.ndarray (k,) int32: index of the first cubic of each subpath (starts[0] == 0)
    closed       list[bool] of length k
    stroke, fill bool
    stroke_width float, unit-box units (24-grid 2px stroke -> 2/24)
    linecap      "butt" | "round" | "square";  linejoin "miter" | "round" | "bevel"
    fill_rule    "nonzero" | "evenodd";  color "currentColor" or "#rrggbb";  opacity float in [0, 1]
"""
from __future__ import annotations

import io
import re

import numpy as np
import svgelements as se

from backend.errors import UserError

CAPS = ("butt", "round", "square")
JOINS = ("miter", "round", "bevel")
RULES = ("nonzero", "evenodd")


def _cubic_from_line(p0, p1):
    return [p0, p0 + (p1 - p0) / 3.0, p0 + 2.0 * (p1 - p0) / 3.0, p1]


def _cubic_from_quad(p0, c, p1):
    return [p0, p0 + 2.0 / 3.0 * (c - p0), p1 + 2.0 / 3.0 * (c - p1), p1]


def _pt(p) -> np.ndarray:
    return np.array([float(p.x), float(p.y)], dtype=np.float64)


def _segments_to_cubics(path) -> tuple[list, list[int], list[bool]]:
    """svgelements Path (reified) -> flat cubic list, subpath starts, closed flags."""
    cubics: list = []
    starts: list[int] = []
    closed: list[bool] = []
    start_pt = None
    cur_start = None
    for seg in path:
        if isinstance(seg, se.Move):
            if cur_start is not None and len(cubics) == cur_start:
                starts.pop(), closed.pop()  # a Move with no drawing after it
            start_pt = _pt(seg.end)
            cur_start = len(cubics)
            starts.append(cur_start)
            closed.append(False)
            continue
        if cur_start is None:  # drawing without a Move: start at the segment's start
            start_pt = _pt(seg.start)
            cur_start = 0
            starts.append(0)
            closed.append(False)
        if isinstance(seg, se.Close):
            p0, p1 = _pt(seg.start), start_pt
            if np.hypot(*(p1 - p0)) > 1e-9:
                cubics.append(_cubic_from_line(p0, p1))
            closed[-1] = True
        elif isinstance(seg, se.Line):
            cubics.append(_cubic_from_line(_pt(seg.start), _pt(seg.end)))
        elif isinstance(seg, se.QuadraticBezier):
            cubics.append(_cubic_from_quad(_pt(seg.start), _pt(seg.control), _pt(seg.end)))
        elif isinstance(seg, se.CubicBezier):
            cubics.append([_pt(seg.start), _pt(seg.control1), _pt(seg.control2), _pt(seg.end)])
        elif isinstance(seg, se.Arc):
            for c in seg.as_cubic_curves():
                cubics.append([_pt(c.start), _pt(c.control1), _pt(c.control2), _pt(c.end)])
    if cur_start is not None and starts and starts[-1] == len(cubics):
        starts.pop(), closed.pop()
    return cubics, starts, closed


def _viewport_only(svg_text: str) -> str:
    """Drop width/height on the root so svgelements' viewport equals the viewBox (coordinates in grid units)."""
    head_end = svg_text.index(">")
    head = re.sub(r'\s(width|height)="[^"]*"', "", svg_text[:head_end])
    return head + svg_text[head_end:]


def parse_svg_paths(svg_text: str) -> tuple[list[dict], float]:
    """Sanitised SVG text -> (paths in the unit box, grid size of the source viewBox).

    Invisible paths (no fill and no stroke, or opacity 0) are dropped.
    """
    svg = se.SVG.parse(io.StringIO(_viewport_only(svg_text)), reify=True)
    vb = svg.viewbox
    if vb is None or not vb.width or not vb.height:
        raise UserError("The SVG has no usable viewBox.")
    grid = float(max(vb.width, vb.height))
    off = np.array([(grid - vb.width) / 2.0, (grid - vb.height) / 2.0])
    out: list[dict] = []
    for el in svg.elements():
        if not isinstance(el, se.Shape):
            continue
        vals = el.values
        if str(vals.get("display", "")).strip() == "none" or str(vals.get("visibility", "")) == "hidden":
            continue
        fill_on = el.fill is not None and el.fill.value is not None and el.fill.alpha > 0
        stroke_on = el.stroke is not None and el.stroke.value is not None and el.stroke.alpha > 0
        sw = float(el.implicit_stroke_width or 0.0)
        if stroke_on and sw <= 0:
            stroke_on = False
        try:
            opacity = float(vals.get("opacity", 1.0))
        except (TypeError, ValueError):
            opacity = 1.0
        if not (fill_on or stroke_on) or opacity <= 0:
            continue
        path = se.Path(el)
        path.reify()
        cubics, starts, closed = _segments_to_cubics(path)
        if not cubics:
            continue
        arr = (np.asarray(cubics, dtype=np.float64) + off) / grid
        paint = el.fill if fill_on else el.stroke
        raw_paint = str(vals.get("fill" if fill_on else "stroke", "")).strip()
        color = "currentColor" if raw_paint == "currentColor" or paint.hex[:7] == "#000000" else paint.hex[:7]
        cap = str(vals.get("stroke-linecap", "butt")).strip()
        join = str(vals.get("stroke-linejoin", "miter")).strip()
        rule = str(vals.get("fill-rule", "nonzero")).strip()
        alpha = (el.fill.alpha if fill_on else el.stroke.alpha) / 255.0
        out.append({
            "cubics": arr.astype(np.float32), "starts": np.asarray(starts, dtype=np.int32), "closed": closed,
            "stroke": bool(stroke_on), "fill": bool(fill_on), "stroke_width": sw / grid if stroke_on else 0.0,
            "linecap": cap if cap in CAPS else "butt", "linejoin": join if join in JOINS else "miter",
            "fill_rule": rule if rule in RULES else "nonzero", "color": color,
            "opacity": round(float(np.clip(opacity * alpha, 0.0, 1.0)), 3),
        })
    return out, grid


def _fmt(v: float) -> str:
    s = f"{v:.2f}".rstrip("0").rstrip(".")
    return "0" if s in ("-0", "") else s


def subpath_ranges(path: dict) -> list[tuple[int, int]]:
    """[start, end) indexes into `path["cubics"]` of each subpath, in order (an empty subpath gives start == end)."""
    starts = [int(s) for s in np.asarray(path["starts"]).tolist()] + [len(path["cubics"])]
    return list(zip(starts[:-1], starts[1:], strict=True))


def path_d(path: dict, grid: float = 24.0) -> str:
    """SVG path data (absolute M/C/Z) for one normalised path at `grid` units."""
    cub = np.asarray(path["cubics"], dtype=np.float64) * grid
    parts: list[str] = []
    for k, (a, b) in enumerate(subpath_ranges(path)):
        if b <= a:
            continue
        parts.append(f"M{_fmt(cub[a, 0, 0])} {_fmt(cub[a, 0, 1])}")
        for c in cub[a:b]:
            parts.append("C" + " ".join(f"{_fmt(c[j, 0])} {_fmt(c[j, 1])}" for j in (1, 2, 3)))
        if path["closed"][k]:
            parts.append("Z")
    return "".join(parts)


def paths_to_svg(paths: list[dict], grid: float = 24.0, background: str | None = None) -> str:
    """Normalised paths -> a clean SVG string (viewBox 0 0 grid grid, fixed precision, no raster ever)."""
    g = _fmt(grid)
    body = [f'<rect width="{g}" height="{g}" fill="{background}"/>'] if background else []
    for p in paths:
        attrs = [f'd="{path_d(p, grid)}"']
        attrs.append(f'fill="{p["color"]}"' if p["fill"] else 'fill="none"')
        if p["fill"] and p.get("fill_rule") == "evenodd":
            attrs.append('fill-rule="evenodd"')
        if p["stroke"]:
            attrs.append(f'stroke="{p["color"]}" stroke-width="{_fmt(p["stroke_width"] * grid)}"')
            if p.get("linecap", "butt") != "butt":
                attrs.append(f'stroke-linecap="{p["linecap"]}"')
            if p.get("linejoin", "miter") != "miter":
                attrs.append(f'stroke-linejoin="{p["linejoin"]}"')
        if p.get("opacity", 1.0) < 1.0:
            attrs.append(f'opacity="{_fmt(p["opacity"])}"')
        body.append("<path " + " ".join(attrs) + "/>")
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {g} {g}" width="{g}" height="{g}">'
            + "".join(body) + "</svg>")


def path_stats(paths: list[dict]) -> dict:
    """Size figures shown on result badges."""
    n_cub = sum(len(p["cubics"]) for p in paths)
    n_sub = sum(len(p["starts"]) for p in paths)
    return {"paths": len(paths), "subpaths": n_sub, "segments": n_cub}

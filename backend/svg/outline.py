"""Outline ↔ fill conversion of normalised paths with skia-pathops.

Why skia-pathops: it is the geometry kernel picosvg uses; it strokes centre-lines into exact outlines
(caps, joins) and unions overlapping contours, so a stroked icon can become a solid or outline-as-fill icon
deterministically. Geometry is scaled to a 1000-unit box while skia works (its tolerances are absolute).
"""
from __future__ import annotations

import numpy as np
import pathops

from backend.svg.paths import _cubic_from_line, _cubic_from_quad, subpath_ranges

SCALE = 1000.0
_CAP = {"butt": pathops.LineCap.BUTT_CAP, "round": pathops.LineCap.ROUND_CAP, "square": pathops.LineCap.SQUARE_CAP}
_JOIN = {"miter": pathops.LineJoin.MITER_JOIN, "round": pathops.LineJoin.ROUND_JOIN,
         "bevel": pathops.LineJoin.BEVEL_JOIN}


def to_skia(path: dict, only_closed: bool = False, scale: float = SCALE) -> pathops.Path:
    sk = pathops.Path()
    cub = np.asarray(path["cubics"], dtype=np.float64) * scale
    for k, (a, b) in enumerate(subpath_ranges(path)):
        ends_at_start = np.hypot(*(cub[b - 1, 3] - cub[a, 0])) < 1e-3 * scale if b > a else False
        if b <= a or (only_closed and not (path["closed"][k] or ends_at_start)):
            continue
        sk.moveTo(*cub[a, 0])
        for c in cub[a:b]:
            sk.cubicTo(*c[1], *c[2], *c[3])
        if path["closed"][k]:
            sk.close()
    if path.get("fill_rule") == "evenodd":
        sk.fillType = pathops.FillType.EVEN_ODD
    return sk


class _CubicPen:
    """fontTools-style pen that collects cubics (quads and lines are raised exactly)."""

    def __init__(self):
        self.cubics, self.starts, self.closed = [], [], []
        self.cur = self.first = None

    def moveTo(self, p):
        self.cur = self.first = np.asarray(p, dtype=np.float64)
        self.starts.append(len(self.cubics)), self.closed.append(False)

    def lineTo(self, p):
        p = np.asarray(p, dtype=np.float64)
        self.cubics.append(_cubic_from_line(self.cur, p))
        self.cur = p

    def curveTo(self, *pts):
        c1, c2, p = (np.asarray(q, dtype=np.float64) for q in pts[-3:])
        self.cubics.append([self.cur, c1, c2, p])
        self.cur = p

    def qCurveTo(self, *pts):
        pts = [tuple(map(float, q)) if q is not None else None for q in pts]
        if pts[-1] is None:  # a closed contour of off-curve points only: start at an implied on-curve point
            start = tuple((np.asarray(pts[-2]) + np.asarray(pts[0])) / 2.0)
            self.moveTo(start)
            pts = pts[:-1] + [start]
        for ctrl, end in pathops.decompose_quadratic_segment(tuple(pts)):
            c, e = np.asarray(ctrl, dtype=np.float64), np.asarray(end, dtype=np.float64)
            self.cubics.append(_cubic_from_quad(self.cur, c, e))
            self.cur = e

    def closePath(self):
        if self.cur is not None and self.first is not None and np.hypot(*(self.cur - self.first)) > 1e-6:
            self.cubics.append(_cubic_from_line(self.cur, self.first))
        if self.closed:
            self.closed[-1] = True
        self.cur = self.first

    def endPath(self):
        self.cur = None


def from_skia(sk: pathops.Path, template: dict) -> dict | None:
    """A filled normalised path with `template`'s colour/opacity, or None if the outline is empty."""
    sk = pathops.Path(sk)
    sk.convertConicsToQuads()
    pen = _CubicPen()
    sk.draw(pen)
    keep = [i for i in range(len(pen.starts))
            if (pen.starts[i + 1] if i + 1 < len(pen.starts) else len(pen.cubics)) > pen.starts[i]]
    if not pen.cubics or not keep:
        return None
    cub = np.asarray(pen.cubics, dtype=np.float64) / SCALE
    return {**template, "cubics": cub.astype(np.float32), "starts": np.asarray(pen.starts, dtype=np.int32),
            "closed": list(pen.closed), "stroke": False, "fill": True, "stroke_width": 0.0,
            "fill_rule": "evenodd" if sk.fillType == pathops.FillType.EVEN_ODD else "nonzero"}


def stroke_outline(path: dict) -> pathops.Path:
    """The area a stroked path paints, as a filled skia path."""
    sk = to_skia(path)
    sk.stroke(float(path["stroke_width"]) * SCALE, _CAP.get(path.get("linecap") or "butt", _CAP["butt"]),
              _JOIN.get(path.get("linejoin") or "miter", _JOIN["miter"]), 4.0)
    sk.convertConicsToQuads()
    return sk


def _union(parts: list[pathops.Path]) -> list[pathops.Path]:
    """Union of skia paths; if skia's boolean op fails on degenerate geometry, keep them as separate shapes
    (rendering stays right, the file just has more paths)."""
    out = pathops.Path()
    try:
        for p in parts:
            out = pathops.op(out, p, pathops.PathOp.UNION, fix_winding=True)
        return [out]
    except pathops.PathOpsError:
        return [p for p in parts if len(list(p.contours))]


def painted_area(path: dict, solid: bool = False) -> list[pathops.Path]:
    """Everything the path paints (fill ∪ stroke); `solid` also fills closed stroked subpaths."""
    parts = []
    if path["fill"] or solid:
        inner = to_skia(path, only_closed=not path["fill"])
        if not path["fill"]:  # nested closed outlines become holes (a lens inside a camera body stays visible)
            inner.fillType = pathops.FillType.EVEN_ODD
        parts.append(inner)
    if path["stroke"] and path.get("stroke_width", 0) > 0:
        parts.append(stroke_outline(path))
    return _union(parts)


def _line_groups(paths: list[dict], rest: list[dict]) -> dict[tuple, list[dict]]:
    """Stroke-only paths grouped by (colour, opacity); every other path is appended to `rest` in order."""
    groups: dict[tuple, list[dict]] = {}
    for p in paths:
        if p["stroke"] and not p["fill"]:
            groups.setdefault((p["color"], p.get("opacity", 1.0)), []).append(p)
        else:
            rest.append(p)
    return groups


def to_fill(paths: list[dict], solid: bool = False) -> list[dict]:
    """Outline → fill: every stroked path becomes the filled area it paints. With solid=True the closed
    outlines of all stroked paths of one colour are filled together with the even-odd rule, so nested shapes
    (a lens inside a camera body) stay visible as holes, and the strokes are added on top."""
    out: list[dict] = []
    if not solid:
        for p in paths:
            for shape in (painted_area(p) if p["stroke"] else [None]):
                filled = from_skia(shape, p) if shape is not None else p
                if filled is not None:
                    out.append(filled)
        return out
    groups = _line_groups(paths, out)
    for members in groups.values():
        inner = pathops.Path()
        for p in members:
            inner.addPath(to_skia(p, only_closed=True))
        inner.fillType = pathops.FillType.EVEN_ODD
        for area in _union([inner, *(stroke_outline(p) for p in members)]):
            filled = from_skia(area, members[0])
            if filled is not None:
                out.append(filled)
    return out


def reweight(paths: list[dict], delta: float, join: str = "round") -> list[dict]:
    """Make filled shapes' lines thicker (delta > 0) or thinner (delta < 0) by `delta` unit-box units in total:
    union with / subtract a stroke of width |delta| along the boundary (`join` shapes the grown corners: round,
    or miter to keep sharp corners sharp)."""
    if abs(delta) < 1e-4:
        return paths
    out = []
    for p in paths:
        if not p["fill"] or p["stroke"]:
            out.append(p)
            continue
        area = to_skia(p)
        edge = stroke_outline({**p, "stroke_width": abs(delta), "linecap": "round", "linejoin": join})
        try:
            res = pathops.op(area, edge, pathops.PathOp.UNION if delta > 0 else pathops.PathOp.DIFFERENCE,
                             fix_winding=True)
        except pathops.PathOpsError:  # degenerate geometry: keep the shape at its own weight
            res = area
        q = from_skia(res, p)
        out.append(q if q is not None else p)  # thinning must not erase a shape: keep it as it was
    return out


def to_outline(paths: list[dict], stroke_width: float, cap: str = "round", join: str = "round") -> list[dict]:
    """Fill → outline: filled areas become their boundary drawn with a stroke (holes keep their edges). Dots that
    legibility.adapt drew for small rings (backend.svg.dots, "dot": True) stay filled."""
    out = []
    for p in paths:
        if p["fill"] and not p.get("dot"):
            out.append({**p, "fill": False, "stroke": True, "stroke_width": float(stroke_width), "linecap": cap,
                        "linejoin": join})
        else:
            out.append(p)
    return out


def _filled_contours(sk: pathops.Path) -> pathops.Path:
    """Every contour of `sk` taken as a filled shape on its own: the area it paints with its holes filled."""
    out = pathops.Path()
    for contour in sk.contours:
        c = pathops.Path(contour)
        if c.clockwise:  # one orientation for all, so nonzero filling fills every contour's inside
            c.reverse()
        out.addPath(c)
    out.fillType = pathops.FillType.WINDING
    return pathops.op(out, pathops.Path(), pathops.PathOp.UNION, fix_winding=True)


SOLID_EDGE = 1.5  # ink within this many line weights of a solid shape's outer edge stays ink (its outline)


def to_solid(paths: list[dict]) -> list[dict]:
    """Centre-line drawing → solid glyph, as solid icon families draw one (Heroicons solid, Phosphor fill):
    per colour, every region the lines enclose is filled (also regions closed by several separate strokes, such
    as a box drawn as a U and a base line), the outer outline merges into the fill, and the lines inside a shape
    (a divider, a lens, a letter) become knock-outs of the same width, cut out of the fill. Lines that enclose
    nothing stay lines. Exact outlines with skia-pathops; on degenerate geometry falls back to `to_fill`."""
    out: list[dict] = []
    groups = _line_groups(paths, out)
    for members in groups.values():
        width = float(np.median([p["stroke_width"] for p in members])) * SCALE
        try:
            ink = _union([stroke_outline(p) for p in members])
            if len(ink) != 1:
                raise pathops.PathOpsError("union failed")
            whole = _filled_contours(ink[0])
            edge = pathops.Path(whole)
            edge.stroke(2 * SOLID_EDGE * width, pathops.LineCap.ROUND_CAP, pathops.LineJoin.ROUND_JOIN, 4.0)
            edge.convertConicsToQuads()
            inner = pathops.op(ink[0], edge, pathops.PathOp.DIFFERENCE, fix_winding=True)
            solid = pathops.op(whole, inner, pathops.PathOp.DIFFERENCE, fix_winding=True)
        except pathops.PathOpsError:
            out += to_fill(members, solid=True)
            continue
        filled = from_skia(solid, members[0])
        if filled is not None:
            out.append(filled)
    return out



def inset_outline(paths: list[dict], width: float, join: str = "round") -> list[dict]:
    """Filled shape → its outline drawn inside the shape's edge, `width` wide (a designer's inside-aligned stroke,
    as paired filled/outline families draw them: MDI's folder and folder-outline share one silhouette). The
    silhouette keeps its size, counters keep their width, and parts thinner than 2·width stay solid lines."""
    out = []
    for p in paths:
        if not p["fill"] or p["stroke"]:
            out.append(p)
            continue
        band = stroke_outline({**p, "stroke_width": 2 * width, "linecap": "round", "linejoin": join})
        try:
            q = from_skia(pathops.op(to_skia(p), band, pathops.PathOp.INTERSECTION, fix_winding=True), p)
        except pathops.PathOpsError:  # degenerate geometry: keep the shape as it was
            q = None
        out.append(q if q is not None else p)
    return out

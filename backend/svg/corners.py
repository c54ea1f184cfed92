"""Corner treatment of filled shapes: rounded corners made sharp, for families drawn with sharp corners.

Icon families differ in how they turn a corner. Phosphor, Heroicons and Bootstrap round nearly every corner with a
tiny arc (most corners between two straight edges are short arcs); Ionicons *sharp*, MDI and Remix meet
straight edges at a point (no such segments). A card from exemplars records which convention they follow
(`StyleCard.corners`, measured by `corner_style`: the share of
corners between straight edges that are sharp); when a source from a rounded family is restyled for a sharp one,
`sharpen` replaces each corner-rounding arc between two straight edges by the point where the edges meet, so the
restyled icon carries the target's corners instead of the source's. Curves (circles, arcs longer than the
threshold) are left alone, and a corner is only sharpened where the meeting point stays close to the arc it
replaces, so nothing grows spikes.
"""
from __future__ import annotations

import numpy as np

from backend.svg.paths import _cubic_from_line, paths_to_svg, subpath_ranges
from backend.svg.render import render_alpha

ARC = 0.07          # chord (unit box) below which a curved segment can be a corner-rounding arc
STRAIGHT = 0.002    # control-point distance from the chord (unit box) below which a segment is a straight edge
EDGE = 0.03         # shortest straight edge (unit box) that makes a corner; shorter pieces may belong to an arc
MAX_REACH = 1.0     # the meeting point lies at most this many arc lengths from the arc's chord midpoint
MAX_ARC = 0.12      # longest corner-rounding arc (unit box, ~3 px on a 24 grid); longer curves are shapes
PROBE = 0.03        # how far into a corner's wedge (unit box) the convexity test looks
MIN_COS = 0.77      # edges make a corner when their directions turn by more than ~40° (cosine below this)


def _chord(c: np.ndarray) -> float:
    return float(np.linalg.norm(c[3] - c[0]))


def _straight(c: np.ndarray) -> bool:
    d = c[3] - c[0]
    n = float(np.linalg.norm(d))
    if n < EDGE:
        return False
    dev = max(abs(float(np.cross(d, c[1] - c[0]))), abs(float(np.cross(d, c[2] - c[0])))) / n
    return dev < STRAIGHT


def _cos(a: np.ndarray, b: np.ndarray) -> float:
    """Cosine of the turn from the end tangent of a to the start tangent of b."""
    ta = a[3] - a[2] if float(np.linalg.norm(a[3] - a[2])) > 1e-9 else a[3] - a[0]
    tb = b[1] - b[0] if float(np.linalg.norm(b[1] - b[0])) > 1e-9 else b[3] - b[0]
    return float(np.dot(ta, tb)) / max(float(np.linalg.norm(ta) * np.linalg.norm(tb)), 1e-12)


def _meet(a: np.ndarray, b: np.ndarray) -> np.ndarray | None:
    """Intersection of the line through segment a with the line through b, or None when they make no corner."""
    da, db = a[3] - a[0], b[3] - b[0]
    if _cos(a, b) > MIN_COS or abs(float(np.cross(da, db))) < 1e-12:
        return None
    t = float(np.cross(b[0] - a[0], db)) / float(np.cross(da, db))
    return a[0] + t * da


def _convex(ink: np.ndarray | None, x: np.ndarray, a: np.ndarray, b: np.ndarray) -> bool:
    """Whether the ink fills the wedge of the corner at x between edge a (arriving) and edge b (leaving): a convex
    corner of the painted shape. Concave corners are sharp in every family (the inside of a round join), so
    only convex ones tell the families apart. Without a render every corner counts."""
    if ink is None:
        return True
    da, db = a[3] - a[0], b[3] - b[0]
    u = -da / max(float(np.linalg.norm(da)), 1e-12) + db / max(float(np.linalg.norm(db)), 1e-12)
    if float(np.linalg.norm(u)) < 1e-9:
        return False
    q = x + PROBE * u / float(np.linalg.norm(u))
    n = ink.shape[0]
    r, c = int(np.clip(q[1] * n, 0, n - 1)), int(np.clip(q[0] * n, 0, n - 1))
    return bool(ink[r, c] > 0.5)


def _corners(cub: np.ndarray, closed: bool, apply: bool, ink: np.ndarray | None = None) -> tuple[np.ndarray, int, int]:
    """One subpath: (subpath with its rounded corners made sharp if `apply`, rounded corners, sharp corners).
    A rounded corner is a run of short curved segments (each chord < ARC) between two straight edges whose
    extensions meet close to the run; a sharp corner is two straight edges meeting at an angle. With `ink` (a
    render of the icon) only convex corners are counted."""
    n = len(cub)
    straight = [_straight(c) for c in cub]
    if n < 3 or not any(straight):
        return cub, 0, 0
    segs = [c.copy() for c in cub]
    keep = [True] * n
    rounded = sharp = 0
    start = straight.index(True)
    i, visited = start, 0
    while visited < n:
        j, run = (i + 1) % n, list[int]()
        while not straight[j] and _chord(cub[j]) < ARC and len(run) < n:
            run.append(j)
            j = (j + 1) % n
        visited += len(run) + 1
        if not closed and (j <= i or (run and run[0] < i)):  # an open subpath does not wrap around
            i = j
            if i == start:
                break
            continue
        if straight[j] and not run and _cos(segs[i], segs[j]) <= MIN_COS:
            sharp += int(_convex(ink, segs[i][3], segs[i], segs[j]))
        elif straight[j] and run:
            a, b = segs[i], segs[j]
            x = _meet(a, b)
            if x is not None:
                arc = cub[run]
                length = sum(_chord(c) for c in arc)
                mid = (arc[0][0] + arc[-1][3]) / 2
                ahead = float(np.dot(x - a[0], a[3] - a[0])) > 0 and float(np.dot(b[3] - x, b[3] - b[0])) > 0
                if ahead and length <= MAX_ARC and float(np.linalg.norm(x - mid)) <= MAX_REACH * max(length, 1e-6):
                    rounded += int(_convex(ink, x, a, b))
                    if apply:
                        segs[i] = np.asarray(_cubic_from_line(a[0], x))
                        segs[j] = np.asarray(_cubic_from_line(x, b[3]))
                        for k in run:
                            keep[k] = False
        i = j
        if i == start:
            break
    if not apply or not rounded:
        return cub, rounded, sharp
    order = list(range(start, n)) + list(range(0, start)) if closed else list(range(n))
    return np.stack([segs[k] for k in order if keep[k]]), rounded, sharp


def _subpaths(p: dict):
    cub = np.asarray(p["cubics"], np.float64)
    for k, (a, b) in enumerate(subpath_ranges(p)):
        sub = cub[a:b]
        if len(sub):
            flag = bool(p["closed"][k])
            yield sub, flag, flag or float(np.linalg.norm(sub[-1, 3] - sub[0, 0])) < 1e-4


def corner_counts(paths: list[dict]) -> tuple[int, int]:
    """(rounded, sharp) convex corners of the filled paths."""
    filled = [p for p in paths if p["fill"] and not p["stroke"]]
    if not filled:
        return 0, 0
    ink = render_alpha(paths_to_svg(filled, grid=24.0), 128)
    r = s = 0
    for p in filled:
        for sub, _, closed in _subpaths(p):
            _, a, b = _corners(sub, closed, apply=False, ink=ink)
            r, s = r + a, s + b
    return r, s


def corner_style(icons: list[list[dict]]) -> str:
    """"sharp" when at least 80 % of the filled shapes' convex corners are sharp, "round" when at most 25 % are,
    else "as source" (also for stroked icons, whose joins say how corners look, and with fewer than 6 corners).
    The threshold lies between the pooled shares of the sharp families (MDI filled/outline 0.94/0.92, Ionicons
    sharp 0.83, on 60 icons each) and the others (Remix line 0.76, Tabler filled 0.74, Heroicons solid 0.44,
    Phosphor fill 0.23)."""
    counts = [corner_counts(ic) for ic in icons]
    r, s = sum(c[0] for c in counts), sum(c[1] for c in counts)
    if r + s < 6:
        return "as source"
    share = s / (r + s)
    return "sharp" if share >= 0.8 else "round" if share <= 0.25 else "as source"


def sharpen(paths: list[dict]) -> tuple[list[dict], int]:
    """Filled paths with their corner-rounding arcs between straight edges replaced by sharp corners; returns
    (new paths, corners sharpened). Stroked paths are returned as they are (their joins say how corners look)."""
    out, total = [], 0
    for p in paths:
        if not p["fill"] or p["stroke"] or not len(p["cubics"]):
            out.append(p)
            continue
        pieces: list[np.ndarray] = []
        new_starts: list[int] = []
        flags: list[bool] = []
        for sub, flag, closed in _subpaths(p):
            new, n, _ = _corners(sub, closed, apply=True)
            total += n
            new_starts.append(sum(len(q) for q in pieces))
            pieces.append(new)
            flags.append(flag)
        if not pieces:
            out.append(p)
            continue
        out.append({**p, "cubics": np.concatenate(pieces).astype(np.float32),
                    "starts": np.asarray(new_starts, dtype=np.int32), "closed": flags})
    return out, total

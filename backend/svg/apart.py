"""Pulling two large lines apart where the gap between them closes at a heavy weight.

Why: legibility.adapt shrinks or drops only small details; two lines that both carry the shape stayed where they
were even when the white between them closed up. With the walkthrough's red weight-3 square-cap card, Ionicons'
cart-outline has its basket's bottom edge 3/24 above the cart's rail (1.5/24 of white at the source's weight 1.5):
at weight 3 the two strokes overlap and the basket's lower half became one solid block. Heavy icon families draw
such a basket shallower, so its bottom clears the rail. This module does the same: it squeezes one of the two lines
along one axis (x or y), about the side of its box facing away from the other line, by the least of SQUEEZE_STEPS
that opens every gap it closed without closing another, and without pulling any of its line ends off the lines
they touched (a basket's end stays on the handle), nor bending a curve tighter than the weight can draw
(backend.svg.bends; squeezing across a curve tightens it). Nothing is dropped; where no squeeze frees a line it is kept
as it was (legibility.adapt then says so in its notes).

All lengths are in the unit box (1.0 = the viewBox side).
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy.spatial import cKDTree

from backend.svg.bends import cubic_points, radii
from backend.svg.paths import subpath_ranges

SQUEEZE_STEPS = (0.95, 0.9, 0.85, 0.8, 0.75, 0.7)  # least change first; below 0.7 the drawing would change too much
LARGE = 0.5  # only open lines at least half as long as the longest: smaller details are shrunk or dropped instead
INNER = 0.75  # ... and only along an axis on which they span at most this share of the drawing (not its outline)
Key = tuple[int, int]  # (path index, subpath index)


def _range(path: dict, k: int) -> tuple[int, int]:
    return subpath_ranges(path)[k]


def _cubics(paths: list[dict], key: Key) -> np.ndarray:
    return np.asarray(paths[key[0]]["cubics"], dtype=np.float64)[slice(*_range(paths[key[0]], key[1]))]


def _points(paths: list[dict], key: Key, n: int = 8) -> np.ndarray:
    """Sample points of subpath `key` (n per cubic)."""
    t = np.linspace(0.0, 1.0, n)
    return np.concatenate([cubic_points(c, t) for c in _cubics(paths, key)])


def _stroked(paths: list[dict]) -> list[Key]:
    return [(i, k) for i, p in enumerate(paths) if p["stroke"] for k in range(len(p["starts"]))]


def squeezed(paths: list[dict], key: Key, axis: int, anchor: float, f: float) -> list[dict]:
    """A copy of `paths` with subpath `key`'s coordinates on `axis` scaled by `f` about `anchor`."""
    i, k = key
    a, b = _range(paths[i], k)
    cub = np.asarray(paths[i]["cubics"], dtype=np.float64).copy()
    cub[a:b, :, axis] = (cub[a:b, :, axis] - anchor) * f + anchor
    return [*paths[:i], {**paths[i], "cubics": cub.astype(np.float32)}, *paths[i + 1:]]


def _touching_ends(paths: list[dict], key: Key, reach: float) -> list[bool]:
    """For the start and end of subpath `key` (if open): whether it lies within `reach` of another stroked line."""
    i, k = key
    a, b = _range(paths[i], k)
    if paths[i]["closed"][k]:
        return []
    cub = np.asarray(paths[i]["cubics"], dtype=np.float64)[a:b]
    ends = np.array([cub[0, 0], cub[-1, 3]])
    others = [_points(paths, other) for other in _stroked(paths) if other != key]
    if not others:
        return [False, False]
    d, _ = cKDTree(np.concatenate(others)).query(ends)
    return [bool(v <= reach) for v in d]


def _distances(paths: list[dict], key: Key, radius: float) -> tuple[np.ndarray, int]:
    """Subpath `key`'s smallest distance to every other stroked subpath (in a fixed order), and how many of its
    own samples come back within `radius` of each other farther than a corner along it (it folds onto itself)."""
    own = _points(paths, key)
    tree = cKDTree(own)
    d = [tree.query(_points(paths, other))[0].min() for other in _stroked(paths) if other != key]
    along = np.concatenate([[0.0], np.cumsum(np.linalg.norm(np.diff(own, axis=0), axis=1))])
    pairs = tree.query_pairs(radius, output_type="ndarray")
    folds = 0
    if len(pairs):
        gap = np.linalg.norm(own[pairs[:, 0]] - own[pairs[:, 1]], axis=1)
        folds = int((np.abs(along[pairs[:, 0]] - along[pairs[:, 1]]) > gap + 2.0 * radius).sum())
    return np.asarray(d), folds


def _facing_away(paths: list[dict], key: Key, axis: int, partners: list[Key]) -> float:
    """The side of subpath `key`'s box on `axis` that faces away from its partners (their mean position)."""
    pts = _points(paths, key)
    lo, hi = float(pts[:, axis].min()), float(pts[:, axis].max())
    if not partners:
        return lo
    other = np.concatenate([_points(paths, p) for p in partners])
    return lo if float(other[:, axis].mean()) > (lo + hi) / 2 else hi


def pull_apart(paths: list[dict], rep: dict, measure: Callable[[list[dict]], dict], w: float, gap: float,
               keep: set[Key] | None = None) -> tuple[list[dict], dict, list[float]]:
    """Squeeze lines that still close a gap (rep["subpaths"], from legibility.clearances) until they do not.

    `measure(paths)` re-measures clearances; `w` is the line weight and `gap` the thinnest readable white. Lines
    in `keep` are not moved. Smaller lines are tried first, each by the least squeeze that frees it. Returns
    (paths, new report, factors used)."""
    keep = keep or set()
    radius = w + gap
    boxes = {k: (pts.min(0), pts.max(0)) for k, pts in ((k, _points(paths, k)) for k in _stroked(paths))}
    drawing = np.max([b[1] for b in boxes.values()], axis=0) - np.min([b[0] for b in boxes.values()], axis=0)
    spans = {k: b[1] - b[0] for k, b in boxes.items()}
    used: list[float] = []
    tried: set[Key] = set()
    while rep["pairs"]:
        longest = max(rep["lengths"].values())
        cands = sorted((rep["lengths"][k], k) for k in rep["subpaths"] if k not in tried and k not in keep
                       and not paths[k[0]]["closed"][k[1]] and rep["lengths"][k] >= LARGE * longest)
        if not cands:
            break
        key = cands[0][1]
        tried.add(key)
        touching = _touching_ends(paths, key, w / 2)
        near, folds = _distances(paths, key, radius)
        inner = radii(_cubics(paths, key)) - w / 2  # the inside of its bends, sample by sample
        open_bends = inner > 0  # (where it is negative the stroke's inside is a corner already)
        partners = [k for k in rep["subpaths"] if k != key]
        hit = None
        for f in SQUEEZE_STEPS:
            for axis in (0, 1):
                if spans[key][axis] > INNER * drawing[axis]:
                    continue
                trial = squeezed(paths, key, axis, _facing_away(paths, key, axis, partners), f)
                r = measure(trial)
                if key in r["subpaths"] or r["pairs"] >= rep["pairs"]:
                    continue
                if any(t and not now for t, now in zip(touching, _touching_ends(trial, key, w / 2), strict=True)):
                    continue
                # nothing else comes closer than it was, unless it stays a readable gap away (the closing measure
                # takes lines nearer than the source's weight for junctions, so it cannot see lines pushed together)
                near2, folds2 = _distances(trial, key, radius)
                if folds2 > folds or (near2 < np.minimum(near, radius) - 1e-4).any():
                    continue
                # a squeeze tightens curves across the axis: no bend may close that was open (backend.svg.bends)
                inner2 = radii(_cubics(trial, key)) - w / 2
                if (inner2[open_bends] < np.minimum(gap, inner[open_bends]) - 1e-6).any():
                    continue
                hit = trial, r
                break
            if hit is not None:
                used.append(f)
                paths, rep = hit
                break
    return paths, rep, used

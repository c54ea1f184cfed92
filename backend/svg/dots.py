"""Small rings drawn as solid dots, as heavy icon families draw them.

Why: at a heavy weight a small closed ring (a cart's wheel, a bead) has no room left for its inside gap, and
backend.svg.legibility.adapt would drop it as a detail that closes up; the icon then lost its wheels (Ionicons'
cart-outline with the walkthrough's red weight-3 square-cap card). Heavy families draw such rings as dots. A dot is
a real filled circle (fill = the line colour, no stroke), so no line cap, join or miter of the card can spill past
its edge; it has about the ring's outer size (centre-line size plus the line weight) and is shrunk, down to the line
weight, and if need be moved away by up to its radius, until everything else painted stays a readable gap
(legibility.min_gap) away. A dot that cannot keep that gap is not drawn (the ring stays dropped).

All lengths are in the unit box. Dots carry "dot": True so the outline conversion keeps them filled
(backend.svg.outline.to_outline).
"""
from __future__ import annotations

import numpy as np
import pathops

from backend.svg.bends import cubic_points
from backend.svg.outline import SCALE, painted_area

KAPPA = 0.5522847498  # cubic control distance for a quarter circle
ROUNDNESS = (0.85, 1.05)  # ring area / area of the ellipse in its box: a circle or ellipse, not a square or a blob
MAX_ASPECT = 1.5
SHRINK = (1.0, 0.75, 0.5, 0.25, 0.0)  # tried dot radii: w/2 + SHRINK * (outer radius - w/2)
MOVES = 9  # tried moves: 0 to the outer radius in MOVES steps, in each of 8 DIRECTIONS
DIRECTIONS = [np.array([np.cos(a), np.sin(a)]) for a in np.arange(8) * np.pi / 4]


def ring(cub: np.ndarray, closed: bool, w: float, gap: float) -> tuple[np.ndarray, float] | None:
    """(centre, outer radius) of a closed, circle- or ellipse-like subpath whose inside gap closes at weight `w`
    (its narrow inside is thinner than `gap`); None for anything else."""
    if not closed or len(cub) < 2:
        return None
    t = np.linspace(0.0, 1.0, 12, endpoint=False)
    pts = np.concatenate([cubic_points(c, t) for c in np.asarray(cub, dtype=np.float64)])
    lo, hi = pts.min(0), pts.max(0)
    bw, bh = float(hi[0] - lo[0]), float(hi[1] - lo[1])
    if min(bw, bh) <= 1e-6 or max(bw, bh) > MAX_ASPECT * min(bw, bh) or min(bw, bh) - w >= gap:
        return None
    x, y = pts[:, 0], pts[:, 1]
    area = 0.5 * abs(float(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))))
    if not ROUNDNESS[0] <= area / (np.pi * bw * bh / 4) <= ROUNDNESS[1]:
        return None
    return (lo + hi) / 2, (bw + bh) / 4 + w / 2


def circle(centre: np.ndarray, r: float) -> np.ndarray:
    """A closed circle as 4 cubics (unit box)."""
    cx, cy = (float(v) for v in centre)
    k = KAPPA * r
    pts = [(cx + r, cy), (cx, cy + r), (cx - r, cy), (cx, cy - r)]
    ctl = [((cx + r, cy + k), (cx + k, cy + r)), ((cx - k, cy + r), (cx - r, cy + k)),
           ((cx - r, cy - k), (cx - k, cy - r)), ((cx + k, cy - r), (cx + r, cy - k))]
    return np.array([[pts[i], *ctl[i], pts[(i + 1) % 4]] for i in range(4)], dtype=np.float64)


def dot_path(template: dict, centre: np.ndarray, r: float) -> dict:
    """A filled circle in `template`'s colour and opacity, without a stroke."""
    return {**template, "cubics": circle(centre, r).astype(np.float32), "starts": np.array([0], np.int32),
            "closed": [True], "fill": True, "stroke": False, "stroke_width": 0.0, "fill_rule": "nonzero",
            "dot": True}


def _disc(centre: np.ndarray, r: float) -> pathops.Path:
    return painted_area({"cubics": circle(centre, r), "starts": [0], "closed": [True], "fill": True,
                         "stroke": False})[0]


def place(paths: list[dict], rings: list[tuple[dict, np.ndarray, float]], w: float, gap: float,
          pad: float) -> list[dict | None]:
    """Dots for `rings` ((template path, centre, outer radius)) that keep `gap` from everything in `paths` and from
    each other, each at least the line weight `w` across. Where the ring's own place is too tight (a cart's wheel
    just under its basket) the dot moves away by the least that frees it, at most its outer radius and never
    further out than lines reach (`pad` from the edge, plus half a line); at the smallest move it is as large as
    SHRINK allows. Returns one dot path per ring, None where no such dot fits."""
    painted = pathops.Path()
    for p in paths:
        for part in painted_area(p):
            painted = pathops.op(painted, part, pathops.PathOp.UNION, fix_winding=True)
    lo, hi = pad - w / 2, 1.0 - pad + w / 2
    dots: list[dict | None] = []
    for template, centre, outer in rings:
        dots.append(None)
        for move in np.linspace(0.0, outer, MOVES):
            for f in SHRINK:
                r = w / 2 + f * max(outer - w / 2, 0.0)
                for at in ([centre] if move == 0 else [centre + move * d for d in DIRECTIONS]):
                    if (at - r < lo).any() or (at + r > hi).any():
                        continue
                    clash = pathops.op(painted, _disc(at, r + gap), pathops.PathOp.INTERSECTION, fix_winding=True)
                    if abs(clash.area) <= 1e-6 * SCALE * SCALE:
                        dots[-1] = dot_path(template, at, r)
                        painted = pathops.op(painted, _disc(at, r), pathops.PathOp.UNION, fix_winding=True)
                        break
                if dots[-1] is not None:
                    break
            if dots[-1] is not None:
                break
    return dots

"""Another family's drawing, redrawn toward the wanted family's drawing conventions (issue 18).

When the family the user wants (an installed target style, or the family their exemplars were matched to) does
not draw the prompted concept, retrieval restyles another family's drawing with the style card. The card sets
line weight, padding, caps, joins and colour, but the drawing keeps its own family's conventions. Three of
those are visible to any designer and measurable on the family's own icons:

- **ink box**: how much of the viewBox the drawing fills. Each family's icons fill a typical share of their box
  (Ionicons sharp: the largest side of the painted ink is 0.81–0.94 of the box for the middle half of its icons;
  Phosphor fill 0.81–0.84). A drawing outside the family's interquartile range is scaled (about its ink centre,
  then centred) to the nearer quartile; line widths are kept, so the card's weight still holds.
- **corners**: filled shapes in Phosphor meet straight edges with small round arcs, in MDI, Remix and Ionicons
  sharp at points. Where the family's convex corners are mostly sharp (share ≥ SHARP_FAMILY) the source's
  corner-rounding arcs are replaced by the edges' meeting point (backend.svg.corners.sharpen); where they are
  mostly round (share ≤ ROUND_FAMILY) the source's sharp convex corners are rounded with the family's own
  median corner radius: a morphological opening of each filled shape (inset the outline by r, then grow it back
  by r with round joins) with skia-pathops, which rounds convex corners to radius r and leaves concave ones.
  If the opening would erase a thin part (more than MAX_INK_LOSS of the ink), corners are left as they were.
- **weight of filled shapes**: solid families differ in heft (line weight 2·ink/perimeter, the style card's
  measure: Ionicons sharp 0.14 of the box, MDI filled 0.12). A filled drawing outside the family's interquartile
  range is made heavier or lighter (its outline grown or shrunk with skia-pathops, miter joins for sharp
  families) as long as no counter closes, no two pieces merge and none vanishes (checked on a render).

The conventions are measured on FAMILY_SAMPLE training-concept icons of each installed set/variant (never on
held-out concepts, the evaluation's exemplars or any output): `python -m backend.svg.offline.cli
family-conventions` writes static/svg/family_conventions.json (legibility_eval.family_conventions).
`adapt_to_family` applies the steps named in ADAPTATIONS (engines: only to drawings of another family) and returns notes saying what changed; everything stays
inside the viewBox (extent.fit_viewbox).
"""
from __future__ import annotations

import json
from functools import lru_cache

import numpy as np
from scipy.ndimage import label

from backend.config import REPO_ROOT
from backend.svg.corners import ARC, _cos, _straight, _subpaths, corner_counts, sharpen
from backend.svg.extent import fit_note, fit_viewbox
from backend.svg.legibility import painted_bounds, transform
from backend.svg.outline import reweight
from backend.svg.paths import paths_to_svg
from backend.svg.render import render_alpha
from backend.svg.style import visual_weight

CONVENTIONS = REPO_ROOT / "static" / "svg" / "family_conventions.json"
FAMILY_SAMPLE = 80          # training-concept icons measured per set/variant
SHARP_FAMILY = 0.7          # share of sharp convex corners at or above which a family draws sharp corners
ROUND_FAMILY = 0.3          # ... at or below which it rounds them
MAX_INK_LOSS = 0.03         # rounding may not erase more than this share of the ink (thin parts)
MIN_CORNERS = 20            # corners (pooled over the sample) needed before a family's corner habit counts
WEIGHT_TOLERANCE = 0.05     # relative line-weight difference left alone
LINE_MODES = ("outline", "outline-fill")  # style-card modes of line families (StyleCard.mode; "solid" is not one)
ADAPTATIONS: tuple[str, ...] = ()  # steps applied by the engine: subset of ("box", "corners", "weight",
#                                    "line-weight"); () = off


# ------------------------------------------------------------------------------------------------ measuring
def ink_extent(paths: list[dict]) -> tuple[float, np.ndarray]:
    """(largest side of the painted ink box, its centre), unit box."""
    bb = painted_bounds(paths)
    return float(max(bb[2] - bb[0], bb[3] - bb[1])), (bb[:2] + bb[2:]) / 2


def corner_radii(paths: list[dict]) -> list[float]:
    """Radii of the corner-rounding arcs of filled shapes: a run of short curved segments (each chord < ARC)
    between two straight edges that turn by θ has radius ≈ (run length) / θ."""
    out = []
    for p in paths:
        if not p["fill"] or p["stroke"]:
            continue
        for sub, _, closed in _subpaths(p):
            n = len(sub)
            straight = [_straight(c) for c in sub]
            for i in range(n):
                if not straight[i]:
                    continue
                j, length = i + 1, 0.0
                while (closed or j < n) and j - i < n and not straight[j % n] and \
                        float(np.linalg.norm(sub[j % n][3] - sub[j % n][0])) < ARC:
                    length += float(np.linalg.norm(sub[j % n][3] - sub[j % n][0]))
                    j += 1
                if j == i + 1 or (not closed and j >= n) or not straight[j % n]:
                    continue
                theta = float(np.arccos(np.clip(_cos(sub[i], sub[j % n]), -1, 1)))
                if theta > 0.5 and length > 1e-4:
                    out.append(length / theta)
    return out


def measure_family(icons: list[list[dict]]) -> dict:
    """A family's ink-box and line-weight quartiles, sharp-corner share and median corner radius from its icons."""
    ext = [ink_extent(ic)[0] for ic in icons]
    weight = [visual_weight(paths_to_svg(ic, grid=24.0))[0] for ic in icons]
    rounded = sharp = 0
    radii: list[float] = []
    for ic in icons:
        r, s = corner_counts(ic)
        rounded, sharp = rounded + r, sharp + s
        radii += corner_radii(ic)
    q25, q50, q75 = (float(v) for v in np.percentile(ext, [25, 50, 75]))
    return {"icons": len(icons), "extent_q25": round(q25, 4), "extent_median": round(q50, 4),
            "extent_q75": round(q75, 4), "corners": rounded + sharp,
            **{f"weight_{k}": round(float(v), 4) for k, v in zip(("q25", "median", "q75"),
                                                                  np.percentile(weight, [25, 50, 75]), strict=True)},
            "sharp_share": round(sharp / max(rounded + sharp, 1), 3),
            "corner_radius": round(float(np.median(radii)), 4) if radii else 0.0}


@lru_cache(maxsize=1)
def load_conventions() -> dict:
    if not CONVENTIONS.exists():
        return {}
    return json.loads(CONVENTIONS.read_text()).get("families", {})


# ------------------------------------------------------------------------------------------------ adapting
def fit_box(paths: list[dict], conv: dict) -> tuple[list[dict], str | None]:
    """Scale the drawing (about its ink centre, then centre it; line widths kept) so the largest side of its ink
    box lies within the family's interquartile range."""
    ext, centre = ink_extent(paths)
    if not np.isfinite(ext) or ext <= 0:
        return paths, None
    goal = min(max(ext, conv["extent_q25"]), conv["extent_q75"])
    if abs(goal / ext - 1) < 0.01:
        return paths, None
    transform(paths, goal / ext, centre, np.array([0.5, 0.5]))
    return paths, (f"scaled the drawing {goal / ext:.2f}× so its ink box is {goal:.2f} of the viewBox, within the "
                   f"family's usual {conv['extent_q25']:.2f}–{conv['extent_q75']:.2f}")


def _ink(paths: list[dict]) -> np.ndarray:
    return render_alpha(paths_to_svg(paths, grid=24.0), 128) > 0.5


def round_corners(paths: list[dict], radius: float) -> tuple[list[dict], int]:
    """Filled shapes with their sharp convex corners rounded to `radius` (unit box) by an opening; returns
    (paths, corners rounded), or the paths unchanged when the opening would erase a thin part."""
    filled = [p for p in paths if p["fill"] and not p["stroke"]]
    sharp_before = corner_counts(paths)[1]
    if radius <= 0 or not filled or not sharp_before:
        return paths, 0
    opened = reweight(reweight(paths, -2 * radius, join="round"), 2 * radius, join="round")
    before, after = _ink(paths), _ink(opened)
    if before.sum() == 0 or (before & ~after).sum() > MAX_INK_LOSS * before.sum():
        return paths, 0
    return opened, max(sharp_before - corner_counts(opened)[1], 0)


def topology(paths: list[dict]) -> tuple[int, int]:
    """(separate pieces of ink, enclosed counters) of a 128-px render: what a weight change must not alter."""
    ink = _ink(paths)
    return int(label(ink)[1]), int(label(~ink)[1]) - 1


def fit_weight(paths: list[dict], conv: dict, join: str) -> tuple[list[dict], str | None]:
    """Filled drawings (no strokes) made heavier or lighter, so their line weight (2·ink/perimeter, the measure
    style cards use) lies within the family's interquartile range; a change that would close a counter, merge
    two pieces or erase one is halved once, then dropped."""
    if "weight_q25" not in conv or not paths or any(p["stroke"] for p in paths):
        return paths, None
    own = visual_weight(paths_to_svg(paths, grid=24.0))[0]
    goal = min(max(own, conv["weight_q25"]), conv["weight_q75"])
    if own <= 0 or abs(goal / own - 1) < WEIGHT_TOLERANCE:
        return paths, None
    shape = topology(paths)
    for f in (1.0, 0.5):
        out = reweight(paths, (goal - own) * f, join=join)
        if topology(out) == shape:
            new = visual_weight(paths_to_svg(out, grid=24.0))[0]
            return out, (f"{'thickened' if goal > own else 'thinned'} the shapes from line weight {own * 24:.2f} to "
                         f"{new * 24:.2f} (of 24), toward the family's usual {conv['weight_q25'] * 24:.2f}–"
                         f"{conv['weight_q75'] * 24:.2f}, keeping every counter and gap")
    return paths, None


def adapt_to_family(paths: list[dict], family: str, notes: list[str] | None = None,
                    steps: tuple[str, ...] | None = None, mode: str | None = None) -> list[dict]:
    """`paths` (a restyled drawing of another family, unit box) moved toward `family`'s measured conventions by
    the named steps (default ADAPTATIONS); notes say what changed. Always ends inside the viewBox. `mode` is the
    wanted style card's mode: "line-weight" is the weight step applied only when it is a line mode (LINE_MODES:
    the wanted family draws lines, stroked or as outlined fills), never for solid families."""
    steps = ADAPTATIONS if steps is None else steps
    conv = load_conventions().get(family)
    if not steps or not conv:
        return paths
    said: list[str] = []
    if "corners" in steps and conv["corners"] >= MIN_CORNERS:
        if conv["sharp_share"] >= SHARP_FAMILY:
            paths, n = sharpen(paths)
            if n:
                said.append(f"made {n} rounded corner(s) sharp: {family} meets straight edges at points "
                            f"({conv['sharp_share']:.0%} of its convex corners)")
        elif conv["sharp_share"] <= ROUND_FAMILY:
            paths, n = round_corners(paths, conv["corner_radius"])
            if n:
                said.append(f"rounded {n} sharp corner(s) to {family}'s corner radius "
                            f"({conv['corner_radius'] * 24:.2f} of 24; {1 - conv['sharp_share']:.0%} of its convex "
                            "corners are round)")
    if "weight" in steps or ("line-weight" in steps and mode in LINE_MODES):
        paths, note = fit_weight(paths, conv, "miter" if conv["sharp_share"] >= SHARP_FAMILY else "round")
        if note:
            said.append(note)
    if "box" in steps:
        paths, note = fit_box(paths, conv)
        if note:
            said.append(note)
    fitted = fit_note(*fit_viewbox(paths), 24.0)
    if fitted:
        said.append(fitted)
    if notes is not None:
        notes.extend(f"{family}'s conventions: {s}" for s in said)
    return paths

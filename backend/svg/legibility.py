"""Keeping a restyled icon readable: measure which details close up at the target weight, and adapt.

Why: a detailed weight-2 icon drawn at weight 3 loses its gaps (a lid becomes a block, steam runs into the
cup), and square caps push line ends past the shape. Real icon families redraw heavy weights with fewer,
larger features. This module measures that on the centre-line geometry and changes as little as needed:

- `clearances(paths, w)`: for stroked centre-lines drawn at width `w` (unit box), every place where two lines
  (two subpaths, or two far-apart stretches of one subpath) come closer than `w + min_gap(w)`: the white gap
  left between them would be thinner than `min_gap`, i.e. it closes up on screen. Sharp corners and tight
  U-turns are not gaps (the along-path distance must exceed the straight distance by 2·(w + gap)).
- `adapt(paths, card, w0, src_cap_ext)`: (1) rescale the icon to use the whole padding box (more room per
  line), (2) shrink the small details that still collide about their centre (to 80 % or 65 %; a curved open line
  whose bend that would close up is shortened along its length instead, backend.svg.bends), or drop them
  when that does not free them (at most 25 % of the drawing's length, never a line half as long as the
  largest; a small ring whose inside closes is drawn as a filled dot instead where one keeps a readable gap,
  backend.svg.dots); two large lines whose gap still closes are squeezed apart along one axis
  (backend.svg.apart), (3) trim open line ends so square/round caps end where the source's ends did, (4) fit everything
  that is painted inside the viewBox. Returns notes saying what changed.
- `survives(icon, card)`: the number of closing places if this source icon were drawn with the card, used
  to prefer the source whose detail survives (a bolder or simpler variant of the same concept).

All lengths are in the unit box (1.0 = the viewBox side). Fill-only geometry (solid glyphs, outline-as-fill
icons) has no centre-line: it is handled by painting (skia-pathops) and only the viewBox fit applies.
"""
from __future__ import annotations

import copy
import re
from typing import Any

import numpy as np
from scipy.spatial import cKDTree

from backend.svg.apart import pull_apart
from backend.svg.bends import cubic_lengths, cubic_points, keeps_bends, shortened, split_cubic
from backend.svg.dots import place, ring
from backend.svg.paths import paths_to_svg, subpath_ranges
from backend.svg.render import render_alpha

SAMPLES_PER_CUBIC = 10
MAX_DROP_SHARE = 0.25
SHRINK_STEPS = (0.8, 0.65)
CLOSE_LOOPS = True     # svgux: open loops closed when caps/joins are not both round (close_loops)
THIN_TO_LINES = True   # svgux: bands too thin to keep their inside open become one line (thin_shapes_to_lines)
RINGS_AS_DOTS = True  # wheels: small rings whose inside closes become filled dots instead of being dropped (dots)
KEEP_BENDS = True      # svgfix: curved lines are shortened, not shrunk, where shrinking closes a bend (bends)
PULL_APART = True      # svgpolish: two large lines whose gap closes are squeezed apart along one axis (apart)


def min_gap(w: float) -> float:
    """The thinnest white gap that still reads as a gap beside lines of weight `w`: 0.3 of the weight, at
    least 1/48 of the box (one pixel at 48 px)."""
    return max(0.3 * w, 1.0 / 48.0)


def weight_label(value: float, grid: float) -> str:
    """A line weight as the notes write it, in the card's own grid like its summary: "3" on the usual 24-unit
    grid, "24.06/256" on Phosphor's (a bare "24.058" read as a huge weight)."""
    return f"{value:g}" if abs(grid - 24.0) < 1e-9 else f"{value:.2f}/{grid:g}"


def share_range(shares: list[float]) -> str:
    """"65%" or "65%–80%" (never "65%–65%")."""
    lo, hi = f"{min(shares):.0%}", f"{max(shares):.0%}"
    return lo if lo == hi else f"{lo}–{hi}"


def subpaths(path: dict) -> list[tuple[np.ndarray, bool]]:
    cub = np.asarray(path["cubics"], dtype=np.float64)
    return [(cub[a:b], bool(path["closed"][k])) for k, (a, b) in enumerate(subpath_ranges(path)) if b > a]


def rebuild(path: dict, subs: list[tuple[np.ndarray, bool]]) -> dict | None:
    subs = [(c, cl) for c, cl in subs if len(c)]
    if not subs:
        return None
    starts = np.cumsum([0] + [len(c) for c, _ in subs[:-1]]).astype(np.int32)
    return {**path, "cubics": np.concatenate([c for c, _ in subs]).astype(np.float32), "starts": starts,
            "closed": [cl for _, cl in subs]}


def _polyline(cub: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    t = np.linspace(0, 1, SAMPLES_PER_CUBIC, endpoint=False)
    pts = np.concatenate([cubic_points(c, t) for c in cub] + [cub[-1, 3][None]])
    s = np.concatenate([[0.0], np.cumsum(np.linalg.norm(np.diff(pts, axis=0), axis=1))])
    return pts, s


def _stroked(paths: list[dict], skip=frozenset()) -> list[tuple[int, int, np.ndarray, bool]]:
    """(path index, subpath index, cubics, closed) of every stroked subpath not in `skip`."""
    return [(i, k, c, cl) for i, p in enumerate(paths) if p["stroke"] for k, (c, cl) in enumerate(subpaths(p))
            if (i, k) not in skip]


def clearances(paths: list[dict], w: float, w0: float | None = None, gap: float | None = None,
               skip=frozenset()) -> dict:
    """Closing places of stroked centre-lines redrawn from width `w0` (the source's; default `w`) to `w`.

    A closing place is a white gap between two lines that was readable at `w0` (at least `min_gap(w0)`) and
    is thinner than `min_gap(w)` at `w`: detail that does not survive the new weight. Between two subpaths it
    is a mutual-nearest pair of samples (so the approach to a junction where lines meet is not a gap); within
    one subpath the along-path distance must exceed the straight one by 2·(w + gap), so corners and U-turns
    are not gaps.
    Returns {"pairs", "subpaths": {(path, subpath): pairs}, "min_clearance" (unit box, inf if none),
    "lengths": {(path, subpath): length}}.
    """
    gap = min_gap(w) if gap is None else gap
    w0 = w if w0 is None else w0
    subs = _stroked(paths, skip)
    polys = [_polyline(c) for _, _, c, _ in subs]
    lengths = {s[:2]: float(pl[1][-1]) for s, pl in zip(subs, polys, strict=True)}
    out: dict[str, Any] = {"pairs": 0, "subpaths": {}, "min_clearance": float("inf"), "lengths": lengths}
    radius, visible = w + gap, w0 + min_gap(w0)
    trees = [cKDTree(p) for p, _ in polys]
    boxes = [(p.min(0), p.max(0)) for p, _ in polys]

    def hit(j: int, n: int) -> None:
        key = subs[j][:2]
        out["subpaths"][key] = out["subpaths"].get(key, 0) + n

    for ja in range(len(subs)):
        pa, sa = polys[ja]
        for jb in range(ja + 1, len(subs)):
            if (boxes[ja][0] - radius > boxes[jb][1]).any() or (boxes[jb][0] - radius > boxes[ja][1]).any():
                continue
            pb = polys[jb][0]
            d, ib = trees[jb].query(pa)
            _, back = trees[ja].query(pb[ib])
            mutual = np.abs(sa[back] - sa) <= 1.5 * (sa[-1] / max(len(sa) - 1, 1))
            sep = mutual & (d > visible)
            if sep.any():
                out["min_clearance"] = min(out["min_clearance"], float((d[sep] - w).min()))
            n = int((sep & (d < radius)).sum())
            if n:
                out["pairs"] += n
                hit(ja, n)
                hit(jb, n)
        # one subpath coming back near itself (not a corner or U-turn)
        pairs = trees[ja].query_pairs(radius, output_type="ndarray")
        if len(pairs):
            a, b = pairs[:, 0], pairs[:, 1]
            d = np.linalg.norm(pa[a] - pa[b], axis=1)
            along = np.abs(sa[a] - sa[b])
            if subs[ja][3]:
                along = np.minimum(along, sa[-1] - along)
            far = (along > d + 2.0 * radius) & (d > visible)
            n = int(far.sum())
            if n:
                out["pairs"] += n
                hit(ja, n)
                out["min_clearance"] = min(out["min_clearance"], float((d[far] - w).min()))
    return out


# ------------------------------------------------------------------------------------------- geometry edits
def trim_ends(cub: np.ndarray, amount: float) -> np.ndarray:
    """Shorten an open subpath by `amount` (arc length) at both ends."""
    lens = cubic_lengths(cub)
    if amount <= 0 or lens.sum() <= 4 * amount:
        return cub
    cub = cub.copy()
    # start
    acc, i = 0.0, 0
    while i < len(cub) and acc + lens[i] < amount:
        acc += lens[i]
        i += 1
    t = (amount - acc) / max(lens[i], 1e-9)
    first = split_cubic(cub[i], float(np.clip(t, 0, 1)))[1]
    cub = np.concatenate([first[None], cub[i + 1:]])
    lens = np.concatenate([[lens[i] * (1 - t)], lens[i + 1:]])
    # end
    acc, j = 0.0, len(cub) - 1
    while j > 0 and acc + lens[j] < amount:
        acc += lens[j]
        j -= 1
    t = 1 - (amount - acc) / max(lens[j], 1e-9)
    last = split_cubic(cub[j], float(np.clip(t, 0, 1)))[0]
    return np.concatenate([cub[:j], last[None]])


def expanded_alpha(svg: str, size: int = 192) -> np.ndarray:
    """Ink coverage of `svg` rendered with its viewBox widened by half a side on every edge (so the viewBox
    is the central half of the image): what a browser would clip is visible here."""
    m = re.search(r'viewBox="([-\d.]+) ([-\d.]+) ([\d.]+) ([\d.]+)"', svg)
    if not m:
        raise ValueError("SVG without a viewBox")
    x, y, w, h = (float(v) for v in m.groups())
    wide = svg.replace(m.group(0), f'viewBox="{x - w / 2:g} {y - h / 2:g} {2 * w:g} {2 * h:g}"', 1)
    return render_alpha(wide, size)


def outside_share(svg: str, size: int = 192) -> float:
    """Share of the ink that falls outside the viewBox (0 = everything visible)."""
    a = expanded_alpha(svg, size)
    total = float(a.sum())
    q = size // 4
    inside = float(a[q:size - q, q:size - q].sum())
    return 0.0 if total <= 0 else max(0.0, (total - inside) / total)


def painted_bounds(paths: list[dict], size: int = 192) -> np.ndarray:
    """[x0, y0, x1, y1] (unit box) of everything painted, caps and joins included, from a widened render."""
    a = expanded_alpha(paths_to_svg(paths, grid=24.0), size) > 0.02
    ys, xs = np.nonzero(a)
    if not len(xs):
        return np.array([np.nan] * 4)
    px = 2.0 / size  # unit-box units per pixel
    return np.array([xs.min() * px - 0.5, ys.min() * px - 0.5, (xs.max() + 1) * px - 0.5,
                     (ys.max() + 1) * px - 0.5])


def transform(paths: list[dict], scale: float, centre: np.ndarray, to: np.ndarray, widths: bool = False) -> None:
    for p in paths:
        p["cubics"] = ((np.asarray(p["cubics"], dtype=np.float64) - centre) * scale + to).astype(np.float32)
        if widths and p["stroke"]:
            p["stroke_width"] = p["stroke_width"] * scale


def close_loops(paths: list[dict], tol: float = 1e-3) -> tuple[list[dict], int]:
    """Open subpaths that end where they start (Tabler draws a camera body or a lens this way) marked closed, so
    the start is drawn as a join: with square or butt caps (or miter joins) the two line ends left a notch or a
    nub there, and trimming them for the caps opened a gap."""
    out, n = [], 0
    for p in paths:
        subs = subpaths(p) if p["stroke"] else []
        loops = [not cl and len(c) > 1 and float(np.linalg.norm(c[0, 0] - c[-1, 3])) < tol for c, cl in subs]
        if not any(loops):
            out.append(p)
            continue
        n += sum(loops)
        q = rebuild(p, [(c, cl or lp) for (c, cl), lp in zip(subs, loops, strict=True)])
        assert q is not None  # the same non-empty subpaths
        out.append(q)
    return out, n


def _thin_line(c: np.ndarray, lo: float, hi: float) -> np.ndarray | None:
    """A closed, nearly rectangular, elongated subpath (a lid band, a battery's bar) from `lo` to `hi` wide on its
    short axis: its centre-line along the long axis (one cubic), else None."""
    pts = _polyline(c)[0]
    centre = pts.mean(0)
    axes = np.linalg.svd(pts - centre, full_matrices=False)[2]
    a, b = (pts - centre) @ axes[0], (pts - centre) @ axes[1]
    major, minor = float(np.ptp(a)), float(np.ptp(b))
    x, y = pts[:, 0], pts[:, 1]
    area = 0.5 * abs(float(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))))
    if not (lo <= minor < hi and major >= 2 * minor and area >= 0.8 * major * minor):
        return None
    mid = centre + axes[0] * (a.max() + a.min()) / 2 + axes[1] * (b.max() + b.min()) / 2
    p0, p1 = mid - axes[0] * major / 2, mid + axes[0] * major / 2
    return np.array([[p0, p0 + (p1 - p0) / 3, p0 + 2 * (p1 - p0) / 3, p1]])


def thin_shapes_to_lines(paths: list[dict], w: float, w0: float) -> tuple[list[dict], int]:
    """Closed bands whose inside was open at the source's weight `w0` and fills up at weight `w` (narrower than
    w + min_gap(w)) redrawn as one line along their middle: at weight 3 a Tabler cup's 3-unit lid band became a
    solid block twice the line weight."""
    out, n = [], 0
    for p in paths:
        if not p["stroke"]:
            out.append(p)
            continue
        subs = []
        for c, cl in subpaths(p):
            line = _thin_line(c, w0 + min_gap(w0), w + min_gap(w)) if cl else None
            n += line is not None
            subs.append((c, cl) if line is None else (line, False))
        q = rebuild(p, subs)
        assert q is not None
        out.append(q)
    return out, n


# ------------------------------------------------------------------------------------------- the adaptation
def adapt(paths: list[dict], card, w0: float, src_cap_ext: float = 0.0) -> tuple[list[dict], list[str]]:
    """Adapt already placed and re-weighted centre-line geometry to stay readable at the card's weight.

    `paths` are in the unit box with stroke widths set to the target weight; `w0` is the source's line weight
    after placement and `src_cap_ext` how far the source's caps reached past its line ends (unit box).
    Returns (new paths, notes)."""
    notes: list[str] = []
    wt = weight_label(card.stroke_width, card.grid)
    w = card.stroke_width / card.grid
    pad = card.padding / card.grid
    if CLOSE_LOOPS and (card.linecap != "round" or card.linejoin != "round"):  # round caps already meet as a join
        paths, n_loops = close_loops(paths)
        if n_loops:
            notes.append(f"joined the ends of {n_loops} line(s) that start where they end, so {card.linecap} caps "
                          "leave no notch there")
    if THIN_TO_LINES:
        paths, n_thin = thin_shapes_to_lines(paths, w, w0)
        if n_thin:
            notes.append(f"drew {n_thin} thin closed band(s) as a single line along their middle: their inside "
                         f"would fill up at weight {wt}")
    rep = clearances(paths, w, w0)
    if rep["pairs"]:
        # (1) more room: use the whole padding box
        bb = painted_bounds(paths)
        size = max(bb[2] - bb[0], bb[3] - bb[1])
        room = 1.0 - 2.0 * pad
        if np.isfinite(size) and size > 0 and room / size > 1.03:
            s = room / size
            transform(paths, s, (bb[:2] + bb[2:]) / 2, np.array([0.5, 0.5]))
            rep2 = clearances(paths, w, w0 * s)
            notes.append(f"enlarged the drawing {s:.2f}× to fill the padding box (more room between lines at weight "
                         f"{wt})")
            rep = rep2
    if rep["pairs"]:
        # (2) small details that close up: shrink them about their centre (a lens, a window, steam) or,
        # when that does not free them, drop them; the largest line and most of the drawing always stay
        total = sum(rep["lengths"].values())
        longest = max(rep["lengths"].values())
        dropped: set[tuple[int, int]] = set()
        done: set[tuple[int, int]] = set()
        dropped_len = 0.0
        drop_lens: dict[tuple[int, int], float] = {}
        shrunk: list[float] = []
        cut_short: list[float] = []
        while rep["pairs"]:
            cands = [(rep["lengths"][k], k) for k in rep["subpaths"]
                     if k not in done and rep["lengths"][k] < 0.5 * longest]
            if not cands:
                break
            ln, key = min(cands)
            done.add(key)
            for f in SHRINK_STEPS:
                trials = _smaller(paths, key, f, w)
                hit = next(((t, r) for t, r in ((t, clearances(t, w, w0, skip=dropped)) for t in trials)
                            if key not in r["subpaths"] and r["pairs"] < rep["pairs"]), None)
                if hit is not None:
                    paths, rep = hit
                    (shrunk if len(trials) == 1 else cut_short).append(f)
                    break
            else:
                if dropped_len + ln > MAX_DROP_SHARE * total:
                    continue
                dropped.add(key)
                dropped_len += ln
                drop_lens[key] = ln
                rep = clearances(paths, w, w0, skip=dropped)
        apart: list[float] = []
        if PULL_APART and rep["pairs"]:  # what still closes: lines that carry the shape, squeezed apart instead
            paths, rep, apart = pull_apart(paths, rep, lambda t: clearances(t, w, w0, skip=dropped), w,
                                               min_gap(w), dropped)
        if shrunk:
            notes.append(f"shrank {len(shrunk)} small detail(s) to {share_range(shrunk)} of their size "
                         f"so the gaps around them stay open at weight {wt}")
        if cut_short:
            notes.append(f"shortened {len(cut_short)} small curved line(s) to {share_range(cut_short)} of their length "
                         f"(shrinking would bend them tighter than weight {wt} can draw) so the gaps around them stay "
                         "open")
        if apart:
            notes.append(f"squeezed {len(apart)} line(s) to {share_range(apart)} of their height or width so the gap "
                         f"between them and the next line stays open at weight {wt}")
        if dropped:
            rings = {}
            if RINGS_AS_DOTS:  # small rings whose inside closes: drawn as solid dots where they keep a gap
                for i, k in sorted(dropped):
                    found = ring(*subpaths(paths[i])[k], w, min_gap(w))
                    if found is not None:
                        rings[(i, k)] = (paths[i], *found)
            paths = _without(paths, dropped)
            dots = place(paths, list(rings.values()), w, min_gap(w), pad)
            placed = {key for key, d in zip(rings, dots, strict=True) if d is not None}
            if placed:
                paths = paths + [d for d in dots if d is not None]
                dropped -= placed
                dropped_len -= sum(drop_lens[key] for key in placed)
                notes.append(f"drew {len(placed)} small ring(s) as dots: their inside would close up at weight {wt}")
        if dropped:
            notes.append(f"dropped {len(dropped)} small detail(s) ({dropped_len / total:.0%} of the line length) "
                         f"that would close up at weight {wt}")
        if rep["pairs"]:
            notes.append(f"{len(rep['subpaths'])} line(s) still come within {min_gap(w) * 24:.1f}/24 of another "
                         f"at weight {wt} (kept: they carry the shape)")
    # (3) caps end where the source's line ends did
    ext = {"butt": 0.0, "round": w / 2, "square": w / 2}.get(card.linecap, 0.0)
    trim = ext - src_cap_ext
    if trim > 1e-4:
        n_trim = 0
        new = []
        for p in paths:
            if not p["stroke"]:
                new.append(p)
                continue
            subs = []
            for c, cl in subpaths(p):
                t = c if cl else trim_ends(c, trim)
                n_trim += t is not c
                subs.append((t, cl))
            q = rebuild(p, subs)
            if q is not None:
                new.append(q)
        paths = new
        if n_trim:
            notes.append(f"shortened {n_trim} open line end(s) by {trim * 24:.2f}/24 so {card.linecap} caps end "
                         "where the source's lines ended")
    return paths, notes


def _smaller(paths: list[dict], key: tuple[int, int], f: float, w: float) -> list[list[dict]]:
    """Ways to make subpath `key` smaller by `f`: scaled about its centre, or, for an open line whose tightest bend
    would then close up at weight `w` (backend.svg.bends), shortened to `f` of its length from its start, its end
    or both (its curvature kept)."""
    c, closed = subpaths(paths[key[0]])[key[1]]
    if closed or not KEEP_BENDS or keeps_bends(c, f, w, min_gap(w)):
        return [_scaled_sub(paths, key, f)]
    return [_replaced_sub(paths, key, cut) for cut in shortened(c, f)]


def _replaced_sub(paths: list[dict], key: tuple[int, int], cub: np.ndarray) -> list[dict]:
    i, k = key
    subs = subpaths(paths[i])
    subs[k] = (cub, subs[k][1])
    q = rebuild(paths[i], subs)
    assert q is not None  # subpath k is non-empty, so the path keeps at least one subpath
    return [*paths[:i], q, *paths[i + 1:]]


def _scaled_sub(paths: list[dict], key: tuple[int, int], f: float) -> list[dict]:
    """A copy of `paths` with subpath `key` scaled by `f` about its centre."""
    i, k = key
    subs = subpaths(paths[i])
    c, cl = subs[k]
    pts = c.reshape(-1, 2)
    centre = (pts.min(0) + pts.max(0)) / 2
    subs[k] = ((c - centre) * f + centre, cl)
    scaled = rebuild(paths[i], subs)
    assert scaled is not None  # subpath k is non-empty, so the path keeps at least one subpath
    return [*paths[:i], scaled, *paths[i + 1:]]


def _without(paths: list[dict], dropped: set) -> list[dict]:
    out = []
    for i, p in enumerate(paths):
        if not p["stroke"]:
            out.append(p)
            continue
        q = rebuild(p, [(c, cl) for k, (c, cl) in enumerate(subpaths(p)) if (i, k) not in dropped])
        if q is not None:
            out.append(q)
    return out


def lines_first(ranked: list[int], corpus, by_concept: dict, n: int, card_of) -> list[int]:
    """Retrieval's ranked icon indexes for a centre-line card: the top hit stays; after it, only concepts that some
    line style draws (a set/variant whose style card `card_of(style)` is not solid), unless fewer than n - 1 are left, then the best
    filled-only ones fill up. Stroking the edge of a glyph drawn only filled closed it into a blob at weight 3 ("bike pedal",
    "cup water", "home gear" in the svgux walkthrough)."""
    def drawn_with_lines(i: int) -> bool:
        return any(card_of(ic.style).mode != "solid" for ic in by_concept[corpus.icons[i].concept])

    lined = [i for i in ranked[1:] if drawn_with_lines(i)]
    filled = [i for i in ranked[1:] if i not in lined]
    return ranked[:1] + lined + filled[:max(0, n - 1 - len(lined))]


def survives(paths: list[dict], card, source_card) -> int:
    """Closing places if this icon were drawn with `card` (after placement in the card's padding box)."""
    if not any(p["stroke"] for p in paths):
        return 0
    q = copy.deepcopy(paths)
    target = 1.0 - 2.0 * card.padding / card.grid
    scale = target / max(1e-6, 1.0 - 2.0 * source_card.padding / source_card.grid)
    transform(q, scale, np.array([0.5, 0.5]), np.array([0.5, 0.5]))
    w0 = source_card.stroke_width / source_card.grid * scale
    return clearances(q, card.stroke_width / card.grid, w0)["pairs"]

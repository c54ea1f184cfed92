"""svgfix: shrinking a small curved detail must not bend it tighter than the line weight can draw (the walkthrough's
coffee steam became a "<" chevron at 256 px); such lines are shortened instead, curvature kept."""
from __future__ import annotations

import random

import numpy as np
import pytest

from backend.svg import style as style_mod
from backend.svg.bends import cubic_lengths, keeps_bends, shortened, tightest_radius
from backend.svg.corpus import load_corpus
from backend.svg.legibility import min_gap, subpaths
from backend.svg.style import StyleCard, apply_style, style_from_set

RED3 = dict(name="red", stroke_width=3.0, linecap="square", linejoin="miter", palette=["#d62828"], padding=1.5)
K = 0.5522847498  # cubic control distance of a quarter circle


def _quarter_arcs(r: float, n: int = 2) -> np.ndarray:
    """n quarter circles of radius r about the origin, counter-clockwise from (r, 0)."""
    out = []
    for q in range(n):
        a, b = q * np.pi / 2, (q + 1) * np.pi / 2
        p0, p3 = r * np.array([np.cos(a), np.sin(a)]), r * np.array([np.cos(b), np.sin(b)])
        t0, t3 = np.array([-np.sin(a), np.cos(a)]), np.array([-np.sin(b), np.cos(b)])
        out.append([p0, p0 + K * r * t0, p3 - K * r * t3, p3])
    return np.asarray(out)


@pytest.fixture(scope="module")
def corpus():
    return load_corpus()


def test_tightest_radius_of_arcs_and_lines():
    assert tightest_radius(_quarter_arcs(2.0)) == pytest.approx(2.0, rel=0.01)
    assert tightest_radius(np.array([[[0, 0], [1, 0], [2, 0], [3, 0]]], float)) == float("inf")


def test_a_shrink_that_closes_a_bend_is_refused():
    arc = _quarter_arcs(2.5)
    assert keeps_bends(arc, 1.0, 3.0, 0.9)           # inner edge 1.0 ≥ the readable 0.9
    assert not keeps_bends(arc, 0.8, 3.0, 0.9)       # inner edge 0.5: the inside of the bend closes
    assert keeps_bends(arc, 0.65, 1.0, 0.3)          # a thin line has room to spare
    tight = _quarter_arcs(1.6)                        # already tight (inner edge 0.1): any shrink makes it worse
    assert keeps_bends(tight, 1.0, 3.0, 0.9) and not keeps_bends(tight, 0.95, 3.0, 0.9)


def test_shortening_keeps_the_curvature_and_cuts_the_length():
    arc = _quarter_arcs(2.5)
    full = cubic_lengths(arc).sum()
    for cut in shortened(arc, 0.65):
        assert cubic_lengths(cut).sum() == pytest.approx(0.65 * full, rel=0.01)
        assert tightest_radius(cut) == pytest.approx(tightest_radius(arc), rel=0.02)
    start, end, both = shortened(arc, 0.65)
    assert np.allclose(start[-1, 3], arc[-1, 3]) and np.allclose(end[0, 0], arc[0, 0])
    assert not np.allclose(both[0, 0], arc[0, 0]) and not np.allclose(both[-1, 3], arc[-1, 3])


def _open_inner_edges(paths: list[dict], w: float) -> list[float]:
    return [tightest_radius(c) - w / 2 for p in paths if p["stroke"] for c, cl in subpaths(p) if not cl]


def test_coffee_steam_stays_a_curve_at_weight_3(corpus):
    """The walkthrough's red weight-3 square-cap card on Tabler "coffee": the steam was shrunk to 65 % about its
    centre, its bend (radius 1.63/24) left the stroke's inner edge at 0.13/24, a point, and the square caps on its
    steep end tangents made it a chevron. Now the steam is kept, shortened along its length, and every curved line
    keeps the inside of its bends open."""
    ic = corpus.by_id("tabler/outline/coffee")
    card = StyleCard(**RED3)
    notes: list[str] = []
    out = apply_style(ic.paths, card, style_from_set(ic.style), adapt=True, notes=notes)
    w = card.stroke_width / card.grid
    steam = [c for p in out if p["stroke"] for c, _ in subpaths(p) if c[..., 1].max() < 0.35]
    assert steam, "the steam above the cup is kept"
    assert min(_open_inner_edges(out, w)) >= min_gap(w) - 1e-6
    assert any("shortened 1 small curved line(s) to 65% of their length" in n for n in notes), notes


def test_adapt_never_bends_a_line_tighter_than_its_source(corpus, monkeypatch):
    """Property over a seeded sample of centre-line icons × heavy cards: the tightest bend of every open line after
    adapt() leaves at least min_gap(w) inside it, or no less than the tightest bend the placed source already had."""
    monkeypatch.setattr(style_mod, "fit_viewbox", lambda *a, **k: (1.0, 0.0))  # adapt()'s geometry, before the fit
    rng = random.Random(7)
    icons = [ic for st in ("tabler/outline", "lucide/regular", "feather/regular", "heroicons/outline")
             for ic in rng.sample(corpus.of_style(st), 8)] + [corpus.by_id("tabler/outline/coffee")]
    cards = [StyleCard(**RED3), StyleCard(**{**RED3, "stroke_width": 4.0, "linecap": "round", "padding": 1.0})]
    bad = []
    for k, ic in enumerate(icons):
        card = cards[k % 2]
        w = card.stroke_width / card.grid
        placed = apply_style(ic.paths, card, style_from_set(ic.style))
        out = apply_style(ic.paths, card, style_from_set(ic.style), adapt=True)
        after, before = _open_inner_edges(out, w), _open_inner_edges(placed, w)
        if after and min(after) < min(min_gap(w), min(before, default=np.inf)) - 0.01 / 24:  # sampling
            bad.append((ic.id, round(min(after) * 24, 2)))
    assert not bad, bad

"""Corner treatment: rounded corners of filled shapes are found and made sharp for sharp-cornered families; curves
and concave corners are not mistaken for them; the card carries the exemplars' convention into the restyle."""
from __future__ import annotations

import numpy as np
import pytest

from backend.errors import UserError
from backend.svg.corners import corner_counts, corner_style, sharpen
from backend.svg.corpus import load_corpus
from backend.svg.paths import parse_svg_paths, paths_to_svg
from backend.svg.render import render_alpha
from backend.svg.style import StyleCard, apply_style, extract_style, style_from_set


def _paths(d: str) -> list[dict]:
    paths, _ = parse_svg_paths(f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24"><path d="{d}"/></svg>')
    return paths


ROUNDED_SQUARE = "M6 3H18A3 3 0 0 1 21 6V18A3 3 0 0 1 18 21H6A3 3 0 0 1 3 18V6A3 3 0 0 1 6 3Z"
ROUNDED_SMALL = "M5 4H19A1 1 0 0 1 20 5V19A1 1 0 0 1 19 20H5A1 1 0 0 1 4 19V5A1 1 0 0 1 5 4Z"
SQUARE = "M4 4H20V20H4Z"
CIRCLE = "M12 3A9 9 0 1 1 12 21A9 9 0 1 1 12 3Z"
L_SHAPE = "M4 4H10V14H20V20H4Z"  # five convex corners and one concave one


def test_small_rounded_corners_become_sharp_and_curves_stay():
    small = _paths(ROUNDED_SMALL)
    assert corner_counts(small) == (4, 0)
    sharp, n = sharpen(small)
    assert n == 4 and corner_counts(sharp) == (0, 4)
    a, b = render_alpha(paths_to_svg(sharp), 96), render_alpha(paths_to_svg(_paths(SQUARE)), 96)
    assert np.abs(a - b).mean() < 0.01          # the result is the square the rounded one was cut from
    circle = _paths(CIRCLE)
    assert sharpen(circle)[1] == 0 and corner_counts(circle) == (0, 0)
    big = _paths(ROUNDED_SQUARE)                # radius 3/24: a shape of its own, not a corner rounding
    assert sharpen(big)[1] == 0


def test_only_convex_corners_are_counted():
    assert corner_counts(_paths(L_SHAPE)) == (0, 5)


def test_corner_style_of_families_and_cards():
    sq, rounded = [_paths(SQUARE), _paths(L_SHAPE)], [_paths(ROUNDED_SMALL)] * 2
    assert corner_style(sq) == "sharp" and corner_style(rounded) == "round"
    assert corner_style([_paths(CIRCLE)]) == "as source"
    assert extract_style(sq).corners == "sharp" and extract_style(rounded).corners == "round"
    with pytest.raises(UserError):
        StyleCard(corners="wobbly").validate()


def test_a_sharp_card_sharpens_a_rounded_source():
    card = StyleCard(mode="solid", stroke_width=4.0, padding=1.5, corners="sharp")
    notes: list[str] = []
    out = apply_style(_paths(ROUNDED_SMALL), card, None, adapt=True, notes=notes)
    assert corner_counts(out)[0] == 0 and any("sharp" in n for n in notes)
    keep = apply_style(_paths(ROUNDED_SMALL), StyleCard(mode="solid", stroke_width=4.0, padding=1.5), None, adapt=True)
    assert corner_counts(keep)[0] == 4


def test_corpus_families_differ_in_corners():
    corpus = load_corpus()
    mdi = [ic.paths for ic in corpus.of_style("mdi/filled")[:12]]
    phos = [ic.paths for ic in corpus.of_style("phosphor/regular")[:12]]
    r_m, s_m = np.sum([corner_counts(p) for p in mdi], 0)
    r_p, s_p = np.sum([corner_counts(p) for p in phos], 0)
    assert s_m / (r_m + s_m) > 0.85 > 0.3 > s_p / max(r_p + s_p, 1)
    assert style_from_set("mdi/filled").corners == "sharp"

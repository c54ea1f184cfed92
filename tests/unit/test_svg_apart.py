"""Two large lines whose gap closes at a heavy weight are squeezed apart (issue 18: the cart's basket ran into its
rail under the walkthrough's red weight-3 square-cap card, and the basket's lower half became a solid block)."""
from __future__ import annotations

import numpy as np

from backend.svg.apart import squeezed
from backend.svg.engines import RetrievalEngine
from backend.svg.legibility import adapt, clearances, min_gap
from backend.svg.render import render_alpha
from backend.svg.style import StyleCard, style_from_exemplars
from tests.e2e.test_svg_e2e import EXEMPLARS

PX = 10  # render pixels per viewBox unit


def _white_between(ink: np.ndarray, x: float, y0: float, y1: float) -> float:
    """The thinnest white run between two ink runs in column `x` from `y0` to `y1` (viewBox units; 0 if the
    column holds fewer than two ink runs there, i.e. the lines ran together)."""
    col = ink[int(y0 * PX):int(y1 * PX), int(x * PX)]
    runs = np.split(col, np.flatnonzero(np.diff(col.astype(np.int8))) + 1)
    white = [len(r) for r in runs[1:-1] if not r[0]]  # white runs with ink above and below
    return min(white) / PX if white else 0.0


def test_the_carts_basket_stays_apart_from_its_rail_at_weight_3():
    card = style_from_exemplars(EXEMPLARS, name="mine")
    assert (card.mode, card.stroke_width, card.linecap) == ("outline", 3.0, "square")
    c = RetrievalEngine().generate("cart", card, 1, 0)[0]
    assert c.source_id == "ionicons/outline/cart-outline"
    assert any("squeezed 1 line(s) to 80% of their height" in n for n in c.notes), c.notes
    assert not any("still come within" in n for n in c.notes), c.notes
    assert any("drew 2 small ring(s) as dots" in n for n in c.notes), c.notes  # the wheels stay
    ink = render_alpha(c.svg, 24 * PX) > 0.5
    # columns through the basket's middle (clear of the handle and the wheels): the basket's bottom edge and the
    # rail are two strokes with a readable white gap between them (they ran together before)
    gaps = [_white_between(ink, x, 9.5, 18.3) for x in (11.0, 12.0, 13.0, 14.0, 15.0)]
    assert min(gaps) >= min_gap(3 / 24) * 24, gaps
    # and the basket keeps its inside open above that
    assert min(_white_between(ink, x, 4.0, 13.0) for x in (11.0, 13.0, 15.0)) >= 2.0


def _line(pts, w=3 / 24, closed=False):
    pts = np.asarray(pts, np.float64)
    cub = np.array([[a, a + (b - a) / 3, a + 2 * (b - a) / 3, b] for a, b in zip(pts[:-1], pts[1:], strict=True)])
    return {"cubics": cub.astype(np.float32), "starts": np.array([0], np.int32), "closed": [closed], "stroke": True,
            "fill": False, "stroke_width": w, "linecap": "square", "linejoin": "miter", "fill_rule": "nonzero",
            "color": "#d62828", "opacity": 1.0}


def _scene(rail_y: float, top: float = 6.0):
    """A basket (open U, 15/24 wide, from `top`/24 down to 13/24) whose bottom sits above a rail as long, hung on a post on the left
    (the handle); the drawing fills the 2/24 padding box across, so enlarging it frees nothing."""
    u = 1 / 24
    basket = _line([[5.5 * u, top * u], [5.5 * u, 13 * u], [20.5 * u, 13 * u], [20.5 * u, top * u]])
    rail = _line([[3.5 * u, 3.5 * u], [5.5 * u, 3.5 * u], [5.5 * u, rail_y * u], [20.5 * u, rail_y * u]])
    return [rail, basket]


def test_a_squeeze_opens_the_gap_and_keeps_the_ends_attached():
    card = StyleCard(name="red", stroke_width=3.0, linecap="square", linejoin="miter", palette=["#d62828"],
                     padding=2.0, mode="outline")
    w, w0 = 3 / 24, 1.5 / 24
    paths = _scene(16.5)
    assert clearances(paths, w, w0)["pairs"]  # 3.5/24 apart: 0.5/24 of white at weight 3, under min_gap
    out, notes = adapt([dict(p) for p in paths], card, w0, w / 2)
    assert any(n.startswith("squeezed 1 line(s)") for n in notes), notes
    assert not clearances(out, w, w0)["pairs"]
    basket = np.asarray(out[1]["cubics"]).reshape(-1, 2)
    assert np.isclose(basket[:, 1].min(), 6 / 24, atol=1e-4)  # squeezed about its top, away from the rail
    assert basket[:, 1].max() <= 16.5 / 24 - w - min_gap(w) + 1e-4
    assert np.isclose(basket[:, 0].min(), 5.5 / 24, atol=1e-4)  # still on the post
    # a shallow basket 2.5/24 above the rail: squeezing it to 70 % would not free the gap; kept, and the notes say so
    tight = _scene(15.5, top=9.0)
    out3, notes3 = adapt([dict(p) for p in tight], card, w0, w / 2)
    assert np.array_equal(np.asarray(out3[1]["cubics"]), np.asarray(tight[1]["cubics"]))
    assert not any("squeezed" in n for n in notes3) and any("still come within" in n for n in notes3), notes3


def test_squeezed_moves_only_one_subpath_on_one_axis():
    paths = _scene(16.5)
    out = squeezed(paths, (1, 0), 1, 6 / 24, 0.5)
    a, b = np.asarray(paths[1]["cubics"]), np.asarray(out[1]["cubics"])
    assert np.allclose(a[..., 0], b[..., 0]) and np.allclose((a[..., 1] - 6 / 24) * 0.5 + 6 / 24, b[..., 1])
    assert out[0] is paths[0] and np.asarray(paths[1]["cubics"])[..., 1].max() > b[..., 1].max()  # input kept

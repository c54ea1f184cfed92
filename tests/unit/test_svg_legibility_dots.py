"""Small rings whose inside closes at a heavy weight are drawn as solid dots, not dropped (issue 18: the cart's
wheels under the walkthrough's red weight-3 square-cap card)."""
from __future__ import annotations

import re

import numpy as np
from scipy import ndimage

from backend.svg.dots import circle, ring
from backend.svg.engines import RetrievalEngine
from backend.svg.legibility import adapt, min_gap, outside_share
from backend.svg.outline import to_outline
from backend.svg.render import render_alpha
from backend.svg.style import StyleCard, style_from_exemplars
from tests.e2e.test_svg_e2e import EXEMPLARS

SIZE = 192  # render pixels per viewBox side


def _line(cub, closed=False, w=3 / 24):
    cub = np.asarray(cub, np.float32)
    return {"cubics": cub, "starts": np.array([0], np.int32), "closed": [closed], "stroke": True, "fill": False,
            "stroke_width": w, "linecap": "square", "linejoin": "miter", "fill_rule": "nonzero", "color": "#d62828",
            "opacity": 1.0}


def _dots(svg: str) -> list[str]:
    return [d for d in re.findall(r"<path [^>]*/>", svg) if 'fill="#d62828"' in d and "stroke" not in d]


def test_the_carts_wheels_are_drawn_as_dots_apart_from_the_basket():
    card = style_from_exemplars(EXEMPLARS, name="mine")
    assert (card.mode, card.stroke_width, card.linecap, card.linejoin) == ("outline", 3.0, "square", "miter")
    c = RetrievalEngine().generate("cart", card, 1, 0)[0]
    assert c.source_id == "ionicons/outline/cart-outline"
    assert any("drew 2 small ring(s) as dots" in n for n in c.notes), c.notes
    assert not any("dropped" in n for n in c.notes), c.notes
    dots = _dots(c.svg)
    assert len(dots) == 2, c.svg  # filled circles without a stroke: no cap, join or miter can spill past them
    assert outside_share(c.svg) < 1e-3
    # a render: the two wheels are blobs of their own, each at least a line weight across, not touching the basket
    ink = render_alpha(c.svg, SIZE) > 0.5
    labels, n = ndimage.label(ink)
    basket_svg = c.svg
    for d in dots:
        basket_svg = basket_svg.replace(d, "")
    lines = render_alpha(basket_svg, SIZE) > 0.5
    basket = set(np.unique(labels[lines])) - {0}
    wheels = []
    for d in dots:
        ys = [float(v) for v in re.findall(r"[-\d.]+", d.split('d="')[1].split('"')[0])]
        cx, cy = np.mean(ys[0::2]) / 24 * SIZE, np.mean(ys[1::2]) / 24 * SIZE
        wheels.append(labels[int(cy), int(cx)])
    assert 0 not in wheels and len(set(wheels)) == 2 and not set(wheels) & basket, (wheels, basket)
    for lab in wheels:
        area = float((labels == lab).sum())
        assert area >= np.pi * (1.5 / 24 * SIZE) ** 2 * 0.9  # at least the line weight across
    # and a readable gap: grown by the minimum gap, a wheel still touches no line
    grown = ndimage.binary_dilation(np.isin(labels, wheels), iterations=int(min_gap(3 / 24) * SIZE) - 1)
    assert not (grown & lines).any()


def _seg(a, b):
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return [a, a + (b - a) / 3, a + 2 * (b - a) / 3, b]


def test_a_dot_keeps_a_gap_and_a_ring_with_no_room_for_one_is_still_dropped():
    card = StyleCard(name="red", stroke_width=3.0, linecap="square", linejoin="miter", palette=["#d62828"],
                     padding=2.0)
    w, lo, hi = 3 / 24, 2 / 24, 22 / 24
    box = _line([_seg([lo, lo], [hi, lo]), _seg([hi, lo], [hi, hi]), _seg([hi, hi], [lo, hi]), _seg([lo, hi], [lo, lo])],
                closed=True)
    for d, fits in ((4.0, True), (3.5, False)):  # a 2/24 ring between two full-width lines d/24 above and below
        small = _line(circle(np.array([0.5, 0.5]), 1 / 24), closed=True)
        lines = [_line([_seg([lo, 0.5 + s * d / 24], [hi, 0.5 + s * d / 24])]) for s in (-1, 1)]
        out, notes = adapt([box, *lines, small], card, 2 / 24)
        dots = [p for p in out if p.get("dot")]
        if fits:  # 4/24 away: a dot a line weight across keeps the 0.9/24 gap
            assert notes[0].startswith("drew 1 small ring(s) as dots") and len(dots) == 1, notes
            pts = np.asarray(dots[0]["cubics"]).reshape(-1, 2)
            r = float(np.ptp(pts[:, 1])) / 2
            assert np.allclose(pts.mean(0), 0.5, atol=1e-4) and w / 2 - 1e-4 <= r <= d / 24 - w / 2 - min_gap(w)
            assert dots[0]["fill"] and not dots[0]["stroke"] and dots[0]["color"] == "#d62828"
        else:  # 3.5/24: even the smallest dot would touch; the ring is dropped as before
            assert not dots and any(n.startswith("dropped 1 small detail") for n in notes), notes
    # a ring whose inside stays open at the weight is not a dot candidate; a square is not a ring
    assert ring(circle(np.array([0.5, 0.5]), 4 / 24), True, w, min_gap(w)) is None
    sq = np.array([[[0, 0], [0.05, 0], [0.05, 0], [0.1, 0]], [[0.1, 0], [0.1, 0.05], [0.1, 0.05], [0.1, 0.1]],
                   [[0.1, 0.1], [0.05, 0.1], [0.05, 0.1], [0, 0.1]], [[0, 0.1], [0, 0.05], [0, 0.05], [0, 0]]])
    assert ring(sq * 0.8, True, w, min_gap(w)) is None
    assert ring(circle(np.array([0.5, 0.5]), 1 / 24), True, w, min_gap(w)) is not None


def test_outline_conversion_keeps_dots_filled():
    dot = {**_line(circle(np.array([0.5, 0.5]), 0.05), closed=True), "fill": True, "stroke": False,
           "stroke_width": 0.0, "dot": True}
    fill = {**dot, "dot": False}
    kept, stroked = to_outline([dot, fill], 3 / 24, "square", "miter")
    assert kept["fill"] and not kept["stroke"]
    assert stroked["stroke"] and not stroked["fill"]

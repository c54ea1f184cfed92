"""Raster exemplars are traced after a letterbox onto a square (aspect kept, padded with the picture's background),
not a plain resize to 256×256 that squashed a non-square picture before its style was measured."""
from __future__ import annotations

import io

import pytest
from PIL import Image, ImageDraw
from scipy import ndimage

pytest.importorskip("vtracer")


def _png(w: int, h: int, bg: int, ink: int, circles: list[tuple[int, int, int]]) -> bytes:
    img = Image.new("L", (w, h), bg)
    d = ImageDraw.Draw(img)
    for x, y, r in circles:
        d.ellipse((x - r, y - r, x + r, y + r), fill=ink)
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def _shape_aspects(svg: str) -> list[float]:
    """Width / height of each traced shape's bounding box, measured on a render."""
    from backend.svg.render import render_alpha

    labels, n = ndimage.label(render_alpha(svg, 256) > 0.5)
    out = []
    for sl in ndimage.find_objects(labels):
        h, w = sl[0].stop - sl[0].start, sl[1].stop - sl[1].start
        if h * w >= 100:  # a shape, not an antialiasing speck
            out.append(w / h)
    return out


@pytest.mark.parametrize("size", [(400, 200), (200, 400)])
def test_a_wide_or_tall_picture_of_circles_keeps_them_round(size):
    from backend.svg.service import trace_raster

    w, h = size
    circles = [(w // 4, h // 2, 45), (3 * w // 4, h // 2, 45)] if w > h else [(w // 2, h // 4, 45),
                                                                               (w // 2, 3 * h // 4, 45)]
    svg = trace_raster(_png(w, h, 255, 0, circles), name="circles.png")
    aspects = _shape_aspects(svg)
    assert len(aspects) == 2, aspects
    assert all(abs(a - 1.0) < 0.1 for a in aspects), aspects  # a plain 256×256 resize made them 0.5 / 2.0


def test_the_padding_is_the_pictures_background():
    """A dark picture with light circles is padded dark: the padding must not trace as a shape of its own."""
    from backend.svg.service import trace_raster

    svg = trace_raster(_png(400, 200, 0, 255, [(100, 100, 45), (300, 100, 45)]), name="dark.png")
    aspects = _shape_aspects(svg)
    assert aspects and all(abs(a - 1.0) < 0.1 for a in aspects), aspects


def test_too_many_exemplars_are_refused_before_any_picture_is_traced(monkeypatch):
    """20 pictures: the count is checked first (before, each one was decoded and traced, then the style step refused
    them all)."""
    from backend.svg import service
    from backend.svg.style import MAX_EXEMPLARS

    traced = []
    monkeypatch.setattr(service, "trace_raster", lambda data, name=None: traced.append(name))
    files = [(f"icon{i}.png", _png(64, 64, 255, 0, [(32, 32, 20)])) for i in range(MAX_EXEMPLARS + 4)]
    with pytest.raises(service.SVGInputError, match=rf"At most {MAX_EXEMPLARS} exemplars, please \(20 given\)"):
        service.load_exemplars(files)
    assert traced == []


def test_a_picture_that_traces_to_nothing_is_named():
    """A blank picture among good exemplars: the sentence says which file (it used to say only "this image")."""
    from backend.svg.service import SVGInputError, load_exemplars

    good = (b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24"><path d="M4 4h16v16H4z" fill="none" '
            b'stroke="#000" stroke-width="2"/></svg>')
    with pytest.raises(SVGInputError) as info:
        load_exemplars([("good.svg", good), ("blank.png", _png(64, 64, 255, 255, []))])
    assert str(info.value).startswith("“blank.png” (exemplar 2): Tracing found no shapes in this picture"), info.value

"""Path representation of the learned SVG generator: contours, codec round trip, defensive decoding."""
import numpy as np
import pytest

from backend.svg.model.codec import F_KEEP, K_SLOTS, N_FEATURES, PathCodec
from backend.svg.model.contours import paths_to_contours, svg_to_contours
from backend.svg.model.svgwrite import contours_to_svg
from backend.svg.sanitize import is_safe_svg, sanitize_svg

STROKE = ('<svg xmlns="http://www.w3.org/2000/svg" width="48" height="48" viewBox="0 0 24 24" fill="none" '
          'stroke="currentColor" stroke-width="2"><path d="M3 3h18v18H3z"/><circle cx="12" cy="12" r="3" '
          'fill="currentColor" opacity=".2"/><path d="M5 20 L19 4"/></svg>')
FILLED = ('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 256 256"><g transform="translate(10 10)">'
          '<rect width="100" height="50" rx="8"/></g><circle cx="200" cy="200" r="40"/></svg>')


def test_contours_units_flags_and_canonical_start():
    cs = svg_to_contours(STROKE)
    assert len(cs) == 3
    square, circle, line = cs
    assert square.closed and square.stroke and not square.fill
    assert square.stroke_width == pytest.approx(2 / 24)  # width="48" must not double the stroke
    assert np.allclose(square.points.min(0), 3 / 24) and np.allclose(square.points.max(0), 21 / 24)
    assert np.allclose(square.points[0], [3 / 24, 3 / 24])  # starts nearest the top-left
    assert circle.fill and circle.opacity == pytest.approx(0.2)
    assert not line.closed and line.points[0].sum() <= line.points[-1].sum()
    filled = svg_to_contours(FILLED)
    assert all(c.fill and not c.stroke and c.closed for c in filled)
    assert filled[0].points.min() == pytest.approx(10 / 256, abs=1e-3)


def test_codec_roundtrip_and_decode_is_always_valid():
    cs = svg_to_contours(STROKE) + svg_to_contours(FILLED)
    codec = PathCodec.fit(cs * 4)
    tok = codec.encode_icon(cs)
    assert tok.shape == (K_SLOTS, N_FEATURES) and int((tok[:, F_KEEP] > 0).sum()) == len(cs)
    back = codec.decode_icon(tok)
    assert len(back) == len(cs)
    assert codec.explained(cs) < 0.02  # a 24-grid error under half a pixel on shapes it was fitted on
    svg = contours_to_svg(back)
    assert is_safe_svg(svg) and sanitize_svg(svg)
    # garbage tokens (NaN, huge, all slots "empty") still decode to one clean, non-empty path
    junk = np.full((K_SLOTS, N_FEATURES), np.nan, np.float32)
    junk[3] = 40.0
    junk[:, F_KEEP] = -1
    out = codec.decode_icon(junk)
    assert len(out) == 1 and np.isfinite(out[0].points).all()
    clean = sanitize_svg(contours_to_svg(out))
    assert "<path" in clean and is_safe_svg(clean)


def test_corpus_paths_give_same_contours_as_svg_parse():
    from backend.svg.paths import parse_svg_paths

    paths, _ = parse_svg_paths(sanitize_svg(STROKE))
    a = paths_to_contours(paths)
    b = svg_to_contours(STROKE)
    assert len(a) == len(b)
    for x, y in zip(a, b, strict=False):
        assert x.closed == y.closed and x.fill == y.fill and x.stroke == y.stroke
        assert np.abs(x.points - y.points).max() < 0.02

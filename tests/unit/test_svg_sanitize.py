"""The SVG sanitiser: known attacks, limits, and property tests over generated hostile documents."""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backend.svg.sanitize import Limits, SVGInputError, is_safe_svg, sanitize_svg

OK = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24"><path d="M1 1L23 23" stroke="#000"/></svg>'


def test_clean_svg_keeps_geometry():
    out = sanitize_svg(OK)
    assert out.startswith('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24"')
    assert 'd="M1 1L23 23"' in out and is_safe_svg(out)


@pytest.mark.parametrize("payload", [
    '<script>alert(1)</script>',
    '<foreignObject><div xmlns="http://www.w3.org/1999/xhtml">x</div></foreignObject>',
    '<a href="javascript:alert(1)"><path d="M0 0L1 1"/></a>',
    '<image href="http://evil.example/x.png" width="10" height="10"/>',
    '<use href="http://evil.example/sprite.svg#x"/>',
    '<style>@import url(http://evil.example/x.css); path{fill:url(http://x)}</style>',
    '<path d="M0 0L1 1" onload="alert(1)" onclick="alert(2)"/>',
    '<path d="M0 0L1 1" style="fill:url(http://evil.example/a);stroke:red"/>',
    '<path d="M0 0L1 1" fill="url(javascript:alert(1))"/>',
    '<linearGradient id="g" href="http://evil.example/g.svg#a"/>',
    '<path d="M0 0L1 1" transform="url(http://x)"/>',
    '<animate attributeName="href" to="javascript:alert(1)"/>',
    '<set attributeName="onmouseover" to="alert(1)"/>',
])
def test_attacks_are_removed(payload):
    out = sanitize_svg(f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24">{payload}'
                       '<path d="M2 2L3 3" stroke="#000"/></svg>')
    assert is_safe_svg(out), out
    low = out.lower()
    for bad in ("script", "foreignobject", "javascript", "onload", "onclick", "evil", "@import", "<image", "<use",
                "<style", "<animate", "<set"):
        assert bad not in low, (bad, out)


def test_style_presentation_properties_survive():
    out = sanitize_svg('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24">'
                       '<path d="M0 0L9 9" style="stroke:#ff0000;stroke-width:2;behavior:url(x.htc)"/></svg>')
    assert 'stroke="#ff0000"' in out and 'stroke-width="2"' in out and "behavior" not in out


def test_internal_gradient_reference_kept():
    out = sanitize_svg('<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" '
                       'viewBox="0 0 24 24"><defs><linearGradient id="a"><stop offset="0" stop-color="#f00"/>'
                       '</linearGradient><linearGradient id="b" xlink:href="#a"/></defs>'
                       '<rect width="24" height="24" fill="url(#b)"/></svg>')
    assert 'fill="url(#b)"' in out and 'href="#a"' in out and is_safe_svg(out)


@pytest.mark.parametrize("doc,why", [
    ('<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY x "boom">]><svg xmlns="http://www.w3.org/2000/svg" '
     'viewBox="0 0 1 1">&x;</svg>', "DTD"),
    ('<!DOCTYPE svg SYSTEM "http://evil.example/x.dtd"><svg viewBox="0 0 1 1"/>', "DTD"),
    ('<svg viewBox="0 0 1 1"><path d="M0 0"', "well-formed"),
    ('<html><body/></html>', "root"),
    ('', "empty"),
    ('<svg xmlns="http://www.w3.org/2000/svg"><path d="M0 0L1 1"/></svg>', "size"),
])
def test_bad_documents_are_refused_clearly(doc, why):
    with pytest.raises(SVGInputError, match=why):
        sanitize_svg(doc)


def test_billion_laughs_refused():
    doc = ('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>'
           '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 1 1"><title>&lol2;</title></svg>')
    with pytest.raises(SVGInputError):
        sanitize_svg(doc)


def test_raster_upload_is_named():
    with pytest.raises(SVGInputError, match="raster"):
        sanitize_svg(b"\x89PNG\r\n\x1a\n" + b"\0" * 64)


def test_limits():
    lim = Limits(max_bytes=10_000, max_elements=50, max_path_commands=100, max_depth=5)
    with pytest.raises(SVGInputError, match="MB"):
        sanitize_svg(OK + " " * 20_000, lim)
    many = "".join('<path d="M0 0L1 1"/>' for _ in range(60))
    with pytest.raises(SVGInputError, match="elements"):
        sanitize_svg(f'<svg viewBox="0 0 1 1">{many}</svg>', lim)
    long_d = "M0 0" + "L1 1" * 200
    with pytest.raises(SVGInputError, match="path commands"):
        sanitize_svg(f'<svg viewBox="0 0 1 1"><path d="{long_d}"/></svg>', lim)
    nested = "<g>" * 10 + '<path d="M0 0L1 1"/>' + "</g>" * 10
    with pytest.raises(SVGInputError, match="nested"):
        sanitize_svg(f'<svg viewBox="0 0 1 1">{nested}</svg>', lim)


def test_idempotent_on_corpus_like_svg():
    once = sanitize_svg(OK)
    assert sanitize_svg(once) == once


# ------------------------------------------------------------------------------------- property tests
HOSTILE_TAGS = ["script", "foreignObject", "iframe", "image", "use", "a", "style", "animate", "set", "handler",
                "object", "embed", "svg:script", "SCRIPT", "path", "g", "rect", "circle", "title"]
HOSTILE_ATTRS = ["onload", "onclick", "onmouseover", "href", "xlink:href", "style", "fill", "stroke", "d",
                 "transform", "src", "begin", "values", "to", "clip-path", "id", "class", "ONLOAD", "formaction"]
HOSTILE_VALUES = ["javascript:alert(1)", "url(http://evil.example/x)", "url(#ok)", "alert(1)", "#fff",
                  "expression(alert(1))", "data:text/html;base64,PHNjcmlwdD4=", "M0 0L1 1", "fill:url(//evil)",
                  "red;background:url(x)", "&#106;avascript:x", "\" onload=\"alert(1)", "</svg><script>x</script>",
                  "@import 'x'", "matrix(1 0 0 1 0 0)", "JaVaScRiPt:1"]


def _attr(name, value):
    esc = value.replace("&", "&amp;").replace("<", "&lt;").replace('"', "&quot;")
    if name == "xlink:href":
        return f' xmlns:xlink="http://www.w3.org/1999/xlink" xlink:href="{esc}"'
    return f' {name}="{esc}"'


@st.composite
def hostile_element(draw, depth=0):
    tag = draw(st.sampled_from(HOSTILE_TAGS))
    if tag == "svg:script":
        tag = "script"
    attrs = "".join(_attr(a, v) for a, v in draw(st.lists(st.tuples(st.sampled_from(HOSTILE_ATTRS),
                                                                    st.sampled_from(HOSTILE_VALUES)),
                                                          max_size=4, unique_by=lambda t: t[0])))
    children = ""
    if depth < 3:
        children = "".join(draw(st.lists(hostile_element(depth + 1), max_size=3)))
    text = draw(st.sampled_from(["", "alert(1)", "x"]))
    return f"<{tag}{attrs}>{text}{children}</{tag}>"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(hostile_element(), min_size=1, max_size=5))
def test_property_output_never_contains_active_content(elements):
    doc = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24">' + "".join(elements) + "</svg>"
    try:
        out = sanitize_svg(doc)
    except SVGInputError:
        return  # refusing is always safe
    assert is_safe_svg(out), out
    low = out.lower()
    assert "javascript" not in low and "<script" not in low and " on" not in low.replace(" offset", "")
    assert "evil" not in low and "data:" not in low and "expression" not in low
    assert sanitize_svg(out) == out  # idempotent: the output is a fixed point


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=400) | st.text(max_size=400))
def test_property_arbitrary_bytes_never_crash(data):
    try:
        out = sanitize_svg(data)
    except SVGInputError:
        return
    assert is_safe_svg(out)

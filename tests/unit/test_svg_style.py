"""Style cards: extraction, deterministic application, outline↔fill, post-edits, consistency."""
from __future__ import annotations

import pytest

from backend.svg.corpus import load_corpus
from backend.svg.metrics import consistency
from backend.svg.paths import parse_svg_paths, paths_to_svg
from backend.svg.render import mask_iou, render_alpha
from backend.svg.sanitize import SVGInputError, is_safe_svg
from backend.svg.service import edit_svg, trace_raster
from backend.svg.style import StyleCard, apply_style, extract_style, style_from_exemplars, style_from_set


def _svgs(style, names):
    c = load_corpus()
    return [c.by_id(f"{style}/{n}").svg for n in names]


def test_extract_from_three_tabler_exemplars():
    card = style_from_exemplars(_svgs("tabler/outline", ["home", "search", "settings"]))
    assert card.mode == "outline" and abs(card.stroke_width - 2.0) < 0.01
    assert (card.linecap, card.linejoin) == ("round", "round") and card.palette == ["currentColor"]
    assert card.source == "3 exemplar SVG(s)"


@pytest.mark.parametrize("style,mode", [("tabler/outline", "outline"), ("lucide/regular", "outline"),
                                        ("phosphor/bold", "outline-fill"), ("phosphor/thin", "outline-fill"),
                                        ("phosphor/fill", "solid"), ("heroicons/solid", "solid")])
def test_set_cards_classify_modes(style, mode):
    assert style_from_set(style).mode == mode


def test_phosphor_weights_are_ordered():
    w = [style_from_set(f"phosphor/{v}").stroke_width for v in ("thin", "light", "regular", "bold")]
    assert w == sorted(w) and w[0] < 0.6 * w[-1]


def test_apply_is_deterministic_and_changes_weight():
    c = load_corpus()
    bell = c.by_id("tabler/outline/bell")
    card = StyleCard(mode="outline", stroke_width=1.0, linecap="butt", linejoin="miter", padding=3.0)
    a = paths_to_svg(apply_style(bell.paths, card), grid=24)
    b = paths_to_svg(apply_style(bell.paths, card), grid=24)
    assert a == b and is_safe_svg(a)
    paths, _ = parse_svg_paths(a)
    assert all(abs(p["stroke_width"] * 24 - 1.0) < 0.01 and p["linecap"] == "butt" for p in paths if p["stroke"])
    assert bell.paths[0]["linecap"] == "round"  # input untouched


def test_outline_to_fill_keeps_the_picture():
    c = load_corpus()
    bell = c.by_id("tabler/outline/bell")
    src = style_from_set("tabler/outline")
    card = StyleCard.from_dict({**src.to_dict(), "mode": "outline-fill"})
    filled = apply_style(bell.paths, card, src)
    assert filled and all(p["fill"] and not p["stroke"] for p in filled)
    iou = mask_iou(render_alpha(bell.svg, 64), render_alpha(paths_to_svg(filled, grid=24), 64))
    assert iou > 0.85
    solid = apply_style(bell.paths, StyleCard.from_dict({**src.to_dict(), "mode": "solid"}), src)
    ink = lambda ps: render_alpha(paths_to_svg(ps, grid=24), 64).sum()  # noqa: E731
    assert ink(solid) > 1.5 * ink(filled)


def test_restyle_towards_phosphor_bold_matches_its_weight():
    c = load_corpus()
    card = style_from_set("phosphor/bold")
    out = paths_to_svg(apply_style(c.by_id("tabler/outline/bell").paths, card, style_from_set("tabler/outline")),
                       grid=card.grid)
    measured = extract_style([parse_svg_paths(out)[0]], grid=card.grid)
    assert measured.mode == "outline-fill"
    assert abs(measured.stroke_width - card.stroke_width) / card.stroke_width < 0.25


def test_palette_and_edit():
    svg = load_corpus().by_id("lucide/regular/camera").svg
    out = edit_svg(svg, stroke_width=1.0, linecap="square", palette=["#ff0000"])
    assert 'stroke="#ff0000"' in out and 'stroke-linecap="square"' in out and 'stroke-width="1"' in out
    with pytest.raises(ValueError, match=r"Line weight must be above 0 and at most 6 \(a quarter of the grid 24; 50 given\)"):
        edit_svg(svg, stroke_width=50)


def test_bad_exemplars_are_refused_clearly():
    with pytest.raises(SVGInputError, match="no visible paths"):
        style_from_exemplars(['<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24"><g/></svg>'])
    with pytest.raises(SVGInputError, match="Exemplar 1"):
        style_from_exemplars(["not svg at all"])
    with pytest.raises(SVGInputError, match="At most 16"):
        style_from_exemplars(["<svg/>"] * 17)


def test_bad_exemplar_uploads_are_named_by_their_file():
    """An upload of several exemplars says WHICH file is bad by its name (not only its position); the name is shown
    without directories or markup, and a nameless exemplar keeps its position."""
    from backend.svg.service import load_exemplars
    from backend.svg.style import exemplar_label

    good = load_corpus().by_id("lucide/regular/camera").svg.encode()
    with pytest.raises(SVGInputError, match="“bell.svg” \\(exemplar 2\\): "):
        load_exemplars([("camera.svg", good), ("bell.svg", b"not svg at all"), ("home.svg", good)])
    with pytest.raises(SVGInputError, match="“empty.svg” \\(exemplar 1\\) has no visible paths"):
        load_exemplars([("empty.svg", b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24"><g/></svg>')])
    assert exemplar_label(1, ["../../etc/x.svg"]) == "“x.svg” (exemplar 1)"
    assert "<" not in exemplar_label(1, ["<img src=x onerror=alert(1)>.svg"])
    assert exemplar_label(3, None) == "Exemplar 3" and exemplar_label(2, ["a.svg"]) == "Exemplar 2"
    assert exemplar_label(1, ["x" * 300 + ".svg"]).split("”")[0].count("x") == 80


def test_raster_exemplar_is_traced():
    from backend.svg.render import render_png

    png = render_png(load_corpus().by_id("phosphor/fill/house").svg, 128, "#000000", "#ffffff")
    svg = trace_raster(png)
    assert is_safe_svg(svg) and parse_svg_paths(svg)[0]


def test_consistency_prefers_one_style():
    c = load_corpus()
    names = ["bell", "house", "gear", "user"]
    same = consistency([c.by_id(f"phosphor/bold/{n}").svg for n in names])
    mixed = consistency([c.by_id(s).svg for s in ("phosphor/thin/bell", "mdi/filled/home", "tabler/outline/settings",
                                                  "phosphor/fill/user")])
    assert same["score"] > mixed["score"] + 20 and same["style_agreement"] == 1.0


def test_exemplar_identity_features_are_kept_and_checked():
    from backend.errors import UserError
    from backend.svg.corpus import load_corpus
    from backend.svg.style import StyleCard, identity_features, style_from_exemplars

    corp = load_corpus()
    icons = [corp.by_id(f"tabler/outline/{n}") for n in ("bell", "star")]
    card = style_from_exemplars([i.svg for i in icons])
    assert len(card.identity) == 2 and all(len(r) == len(identity_features(icons[0].paths)) for r in card.identity)
    assert StyleCard.from_dict(card.to_dict()).identity == card.identity
    for bad in ([[float("nan")]], [[0.0] * 41], [[0.0]] * 17, ["x"]):
        with pytest.raises(UserError, match="identity"):
            StyleCard(identity=bad).validate()


def test_line_drawing_becomes_a_solid_glyph_with_knockouts():
    """Centre-line → solid (outline.to_solid): the circle of "info" is filled and its "i" is cut out of the fill
    (the even-odd fill of closed outlines alone painted a plain disc); regions closed by several separate strokes
    (the gas pump's U and base line) are filled too; lines that enclose nothing stay."""
    from backend.svg.family_adapt import topology
    from backend.svg.outline import to_fill, to_solid

    c = load_corpus()
    ink = lambda ps: render_alpha(paths_to_svg(ps, grid=24), 64).sum()  # noqa: E731
    info = c.by_id("tabler/outline/info-circle").paths
    old, new = to_fill(info, solid=True), to_solid(info)
    assert topology(old)[1] == 0  # the "i" was lost
    assert topology(new)[1] >= 2 and ink(new) < 0.97 * ink(old)  # the "i" is a knock-out (stem and dot)
    assert ink(new) > 1.5 * ink(info)
    pump = c.by_id("tabler/outline/gas-station").paths
    assert ink(to_solid(pump)) > 1.4 * ink(to_fill(pump, solid=True))
    menu = c.by_id("tabler/outline/menu-2").paths
    assert mask_iou(render_alpha(paths_to_svg(to_solid(menu), grid=24), 64),
                    render_alpha(paths_to_svg(menu, grid=24), 64)) > 0.95
    src = style_from_set("tabler/outline")
    notes: list[str] = []
    out = apply_style(info, style_from_set("heroicons/solid"), src, adapt=True, notes=notes)
    assert all(p["fill"] and not p["stroke"] for p in out)
    assert any("solid glyph" in n for n in notes)


def test_solid_glyph_to_a_line_family_is_outlined_inside_its_edge():
    """Solid → outline-fill (outline.inset_outline): the outline lies inside the shape's edge, so the silhouette
    keeps its size (MDI's filled and outline variants share one), areas get a counter, and bars thinner than two
    line weights stay solid bars."""
    from backend.svg.family_adapt import ink_extent, topology
    from backend.svg.outline import inset_outline, to_fill, to_outline

    c = load_corpus()
    shield = c.by_id("mdi/filled/shield").paths
    w = 2.0 / 24
    inset, centred = inset_outline(shield, w), to_fill(to_outline(shield, w), solid=False)
    assert abs(ink_extent(inset)[0] - ink_extent(shield)[0]) < 0.01
    assert ink_extent(centred)[0] > ink_extent(shield)[0] + 0.5 * w
    assert topology(inset)[1] == topology(shield)[1] + 1
    bars = c.by_id("mdi/filled/menu").paths  # three bars 2/24 thick: thinner than 2w
    assert mask_iou(render_alpha(paths_to_svg(inset_outline(bars, w), grid=24), 64),
                    render_alpha(paths_to_svg(bars, grid=24), 64)) > 0.95

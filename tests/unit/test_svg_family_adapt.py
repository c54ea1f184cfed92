"""Family-convention adaptation of other families' drawings (backend/svg/family_adapt.py): the ink box moves into
the wanted family's usual range and stays inside the viewBox, corners follow the family's habit (sharp or rounded
with its radius) on closed, valid filled outlines, thin parts are never erased, and the committed conventions
table is measured on training concepts and agrees with the corpus."""
from __future__ import annotations

import json

import numpy as np
import pytest

from backend.svg import family_adapt as fa
from backend.svg.corners import corner_counts
from backend.svg.corpus import load_corpus
from backend.svg.legibility import outside_share
from backend.svg.outline import to_skia
from backend.svg.paths import parse_svg_paths, paths_to_svg
from backend.svg.render import render_alpha
from backend.svg.sanitize import is_safe_svg, sanitize_svg
from backend.svg.style import apply_style, style_from_set

ROUND_FAMILY = {"extent_q25": 0.80, "extent_median": 0.82, "extent_q75": 0.85, "corners": 300, "sharp_share": 0.1,
                "corner_radius": 1.0 / 24, "weight_q25": 2.5 / 24, "weight_median": 3.0 / 24, "weight_q75": 3.5 / 24}
SHARP_FAMILY = {**ROUND_FAMILY, "sharp_share": 0.9}


def _paths(d: str, attrs: str = "") -> list[dict]:
    paths, _ = parse_svg_paths(f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24"><path d="{d}"{attrs}/>'
                               "</svg>")
    return paths


SMALL_SQUARE = "M8 8H16V16H8Z"                          # ink box 8/24 = 0.33 of the viewBox
HUGE_L = "M0 0H12V14H24V24H0Z"                           # fills the whole box, 5 sharp convex corners
ROUNDED = "M5 4H19A1 1 0 0 1 20 5V19A1 1 0 0 1 19 20H5A1 1 0 0 1 4 19V5A1 1 0 0 1 5 4Z"
THIN_BAR = "M2 11.8H22V12.2H2Z"                          # 0.4/24 thick: an opening by r = 1/24 would erase it
THIN_RING = "M4 4H20V20H4Z M5 5V19H19V5Z"               # a square ring of weight 1/24 with one counter
CLOSE_BARS = "M4 4H20V11.85H4Z M4 12.15H20V20H4Z"        # two slabs (weight ~5.2/24) 0.3/24 apart


@pytest.fixture
def families(monkeypatch):
    table = {"test/round": ROUND_FAMILY, "test/sharp": SHARP_FAMILY}
    monkeypatch.setattr(fa, "load_conventions", lambda: table)
    return table


def _valid(paths: list[dict]) -> None:
    svg = paths_to_svg(paths)
    assert is_safe_svg(sanitize_svg(svg)) and outside_share(svg) < 1e-4
    for p in paths:
        assert np.isfinite(np.asarray(p["cubics"], dtype=np.float64)).all()
        if p["fill"] and not p["stroke"]:
            assert all(p["closed"])            # filled outlines are closed contours
            assert not to_skia(p).bounds == (0, 0, 0, 0)


def test_the_ink_box_moves_into_the_family_range_and_stays_inside(families):
    notes: list[str] = []
    small = fa.adapt_to_family(_paths(SMALL_SQUARE), "test/round", notes, steps=("box",))
    ext, centre = fa.ink_extent(small)
    assert ROUND_FAMILY["extent_q25"] - 0.02 <= ext <= ROUND_FAMILY["extent_q75"] + 0.02
    assert np.allclose(centre, 0.5, atol=0.02)
    assert any("ink box" in n for n in notes)
    huge = fa.adapt_to_family(_paths(HUGE_L), "test/round", [], steps=("box",))
    assert fa.ink_extent(huge)[0] <= ROUND_FAMILY["extent_q75"] + 0.02
    _valid(small), _valid(huge)


def test_stroked_sources_keep_their_line_width_when_the_box_moves(families):
    line = _paths("M8 12H16", ' fill="none" stroke="black" stroke-width="2"')
    out = fa.adapt_to_family(line, "test/round", [], steps=("box",))
    assert out[0]["stroke_width"] == pytest.approx(2 / 24, rel=1e-4)
    _valid(out)


def test_round_families_round_sharp_corners_with_their_radius(families):
    notes: list[str] = []
    out = fa.adapt_to_family(_paths(HUGE_L), "test/round", notes, steps=("corners",))
    rounded, sharp = corner_counts(out)
    assert sharp == 0 and rounded >= 4
    radii = fa.corner_radii(out)
    assert radii and np.median(radii) == pytest.approx(ROUND_FAMILY["corner_radius"], rel=0.35)
    assert any("rounded" in n for n in notes)
    _valid(out)


def test_sharp_families_sharpen_rounded_corners(families):
    out = fa.adapt_to_family(_paths(ROUNDED), "test/sharp", [], steps=("corners",))
    assert corner_counts(out) == (0, 4)
    _valid(out)


def test_rounding_never_erases_thin_parts(families):
    bar = _paths(THIN_BAR)
    out, n = fa.round_corners(bar, ROUND_FAMILY["corner_radius"])
    assert n == 0 and out is bar
    ink = render_alpha(paths_to_svg(fa.adapt_to_family(bar, "test/round", [], steps=("corners",))), 96)
    assert ink.sum() > 0.9 * render_alpha(paths_to_svg(_paths(THIN_BAR)), 96).sum()


def test_off_by_default_and_unknown_families_untouched(families):
    src = _paths(SMALL_SQUARE)
    assert fa.ADAPTATIONS == () or set(fa.ADAPTATIONS) <= {"box", "corners", "weight", "line-weight"}
    assert fa.adapt_to_family(src, "test/round", [], steps=()) is src
    assert fa.adapt_to_family(src, "nobody/none", [], steps=("box", "corners")) is src


def test_a_real_restyle_toward_a_real_family():
    corpus = load_corpus()
    icon = next(ic for ic in corpus.of_style("mdi/filled") if ic.concept == "home")
    card = style_from_set("phosphor/fill")
    notes: list[str] = []
    out = fa.adapt_to_family(apply_style(icon.paths, card, style_from_set("mdi/filled"), adapt=True), "phosphor/fill",
                             notes, steps=("box", "corners"))
    conv = fa.load_conventions()["phosphor/fill"]
    assert conv["extent_q25"] - 0.03 <= fa.ink_extent(out)[0] <= conv["extent_q75"] + 0.03
    assert corner_counts(out)[1] <= corner_counts(icon.paths)[1]
    _valid(out)


def test_committed_conventions_cover_the_corpus_and_were_measured_on_training_concepts():
    table = json.loads(fa.CONVENTIONS.read_text())
    assert "training concepts" in table["split"] and table["per_style"] == fa.FAMILY_SAMPLE
    fams = table["families"]
    assert set(fams) == set(load_corpus().styles())
    for st, c in fams.items():
        assert 0.5 < c["extent_q25"] <= c["extent_median"] <= c["extent_q75"] <= 1.0, st
        assert 0.0 <= c["sharp_share"] <= 1.0 and c["corner_radius"] >= 0.0
    # the habits the docs describe: MDI and Ionicons sharp meet edges at points, Phosphor rounds them
    assert fams["mdi/filled"]["sharp_share"] >= fa.SHARP_FAMILY and fams["ionicons/sharp"]["sharp_share"] >= fa.SHARP_FAMILY
    assert fams["phosphor/fill"]["sharp_share"] <= fa.ROUND_FAMILY


def test_light_filled_drawings_get_the_family_weight_and_keep_their_counters(families):
    ring = _paths(THIN_RING, ' fill-rule="evenodd"')
    notes: list[str] = []
    out = fa.adapt_to_family(ring, "test/round", notes, steps=("weight",))
    from backend.svg.style import visual_weight

    w = visual_weight(paths_to_svg(out))[0]
    assert visual_weight(paths_to_svg(ring))[0] < 1.5 / 24 and w >= 1.8 / 24   # moved toward the family's 2.5–3.5
    assert fa.topology(out) == fa.topology(ring) == (1, 1)                    # the counter stays open
    assert any("thickened" in n for n in notes)
    _valid(out)


def test_line_weight_only_for_line_families(families):
    """"line-weight" is the weight step gated on the wanted card's mode: line modes (stroked or outlined fills)
    get it, solid families and an unknown mode are left as they are."""
    for mode in fa.LINE_MODES:
        notes: list[str] = []
        out = fa.adapt_to_family(_paths(THIN_RING, ' fill-rule="evenodd"'), "test/round", notes,
                                 steps=("line-weight",), mode=mode)
        assert any("thickened" in n for n in notes) and fa.topology(out) == (1, 1)
    for mode in ("solid", None):
        ring = _paths(THIN_RING, ' fill-rule="evenodd"')
        notes = []
        out = fa.adapt_to_family(ring, "test/round", notes, steps=("line-weight",), mode=mode)
        assert not notes and paths_to_svg(out) == paths_to_svg(_paths(THIN_RING, ' fill-rule="evenodd"'))


def test_weight_changes_never_merge_pieces(families):
    bars = _paths(CLOSE_BARS)
    heavy = {**ROUND_FAMILY, "weight_q25": 6.5 / 24, "weight_q75": 8.0 / 24}  # growing to it would merge the slabs
    out, note = fa.fit_weight(bars, heavy, "round")
    assert out is bars and note is None and fa.topology(bars) == (2, 0)
    light = {**ROUND_FAMILY, "weight_q25": 3.0 / 24, "weight_q75": 4.0 / 24}  # shrinking keeps both pieces
    out, note = fa.fit_weight(bars, light, "round")
    assert note and "thinned" in note and fa.topology(out) == (2, 0)
    stroked = _paths("M8 12H16", ' fill="none" stroke="black" stroke-width="0.5"')
    assert fa.fit_weight(stroked, ROUND_FAMILY, "round") == (stroked, None)   # centre-lines: the card's weight rules


def test_selection_result_follows_its_protocol_and_the_docs_say_what_it_says():
    """The committed selection (bench/svg_family_adapt.py): every round's verdict is the protocol's rule applied to
    its development figures, round-2 figures recompute from their rows, the engine default is the final verdict,
    and the README/docs block is the one generated from the result."""
    from bench import svg_family_adapt as sfa

    res = json.loads(sfa.RESULT.read_text())
    assert set(res["rounds"]) == set(sfa.PROTOCOLS)
    for rnd, r in res["rounds"].items():
        proto = json.loads(sfa.PROTOCOLS[rnd].read_text())
        # rounds 1-2 chose on seeds 1-6; round 3's candidate was suggested by them, so it is judged on fresh seeds
        assert set(r["dev"]) == {"off", *proto["candidates"]}
        assert proto["dev_seeds"] == ([7, 8, 9, 10, 11, 12] if rnd == "3" else [1, 2, 3, 4, 5, 6])
        assert all(x["seed"] in proto["dev_seeds"] for rows in (r["rows"] or {}).values() for x in rows)
        assert r["selected"] == sfa.select(proto, r["dev"])
        for name, rows in (r["rows"] or {}).items():
            s = r["dev"][name]
            assert len(rows) == s["n"] == 384
            for j in ("judge1", "judge2"):
                assert s[j]["all"]["correct"] == sum(x[j] == x["target_style"] for x in rows)
                assert s[j]["other_family"]["correct"] == sum(x[j] == x["target_style"] for x in rows
                                                              if not x["own_family"])
    final = sfa.final_setting(res)
    steps = {"off": []} | {k: v for p in sfa.PROTOCOLS.values() for k, v in json.loads(p.read_text())["candidates"].items()}
    assert tuple(steps[final]) == fa.ADAPTATIONS
    assert res["seed0"]["setting"] == final and res["seed0"]["summary"]["off"]["n"] == 64
    assert f"{sfa.BEGIN}\n{sfa.doc_block(res)}\n{sfa.END}" in sfa.DOC.read_text(), "run python bench/svg_family_adapt.py tables"
    assert f"{sfa.BEGIN}\n{sfa.readme_sentence(res)}\n{sfa.END}" in sfa.README.read_text()

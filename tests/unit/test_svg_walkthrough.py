"""svgux: issue 18's user scenarios re-walked in a browser; the defects found there, pinned as pure logic."""
from __future__ import annotations

import pytest

from backend.svg.corpus import load_corpus
from backend.svg.legibility import share_range, weight_label
from backend.svg.style import StyleCard, apply_style, style_from_set

RED3 = dict(name="red", stroke_width=3.0, linecap="square", linejoin="miter", palette=["#d62828"], padding=1.5)


@pytest.fixture(scope="module")
def corpus():
    return load_corpus()


def test_note_numbers_read_as_the_card_reads_them():
    assert weight_label(3.0, 24) == "3" and weight_label(24.058, 256) == "24.06/256"
    assert share_range([0.65]) == "65%" and share_range([0.8, 0.65]) == "65%–80%"


def test_restyle_notes_say_what_changed_in_plain_numbers(corpus):
    """The walkthrough's notes said "shrank 1 small detail(s) to 65%–65% of their size" (tabler cup at weight 3)
    and "outlined the source's filled shapes inside their edge at weight 24.058" (a Phosphor card: 24.058 of a
    256 grid, i.e. about 2.3 on 24, read as a huge weight)."""
    notes: list[str] = []
    ic = corpus.by_id("tabler/outline/cup")
    apply_style(ic.paths, StyleCard(**RED3), style_from_set(ic.style), adapt=True, notes=notes)
    assert any("shrank" in n for n in notes) and not any("65%–65%" in n for n in notes), notes
    notes = []
    ic = corpus.by_id("mdi/filled/cup-water")
    bold = style_from_set("phosphor/bold")
    apply_style(ic.paths, bold, style_from_set(ic.style), adapt=True, notes=notes)
    assert notes and all("24.058" not in n for n in notes), notes
    assert any(f"weight {bold.stroke_width:.2f}/256" in n for n in notes), notes

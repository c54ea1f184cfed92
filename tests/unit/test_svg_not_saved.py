"""svgapi (review19's finding): with the database down or locked, every SVG generation, icon set, post-edit and
comparison answered "The database cannot be reached …" and the icons it had just made were discarded. Now they are
shown with a line saying they are not saved, and what needs the stored row (a comparison's vote) says so."""
from __future__ import annotations

import gradio as gr
import pytest

from apps import svg_studio_handlers as h
from backend.svg import service
from storage.db import StorageError

STYLE = ["Installed set/variant", "phosphor/bold", None, "outline", 2.0, "round", "round", 2.0, 24, "currentColor"]
DOWN = "The database cannot be reached right now; nothing was saved. Please try again in a minute. (OperationalError)"


class _Down:
    def _fail(self, *_a, **_k):
        raise StorageError(DOWN)

    write = read = _fail


@pytest.fixture
def down(monkeypatch):
    monkeypatch.setattr(service, "get_storage", lambda: _Down())


def test_generated_icons_are_returned_and_said_not_saved(down):
    gen = service.generate("bell", "phosphor/bold", n=2, seed=0, session_id="s-down")
    assert len(gen.candidates) == 2 and gen.candidates[0].svg.startswith("<svg")
    assert gen.generation_id is None and gen.candidate_ids == [] and "cannot be reached" in gen.not_saved


def test_the_tab_shows_icons_edits_and_sets_with_a_not_saved_line(down):
    state, gallery, summary, sheet, code, info, svg_file, png_file, pick = h.generate("bell", *STYLE,
                                                                                      "svg-retrieval", 2, 0)
    assert len(gallery) == 2 and code.startswith("<svg") and svg_file and png_file
    assert "shown but not saved" in summary and "cannot be reached" in summary and "generation #" not in summary
    out = h.edit(state, 0, 0, "round", "round", "keep", "#ff0000")
    assert "#ff0000" in out[3] and "This edit is shown but not saved" in out[4]
    _, set_gallery, md, zip_path = h.icon_set("home\nbell", *STYLE, "svg-retrieval", 0)
    assert len(set_gallery) == 2 and zip_path and "shown but not saved" in md


def test_a_comparison_that_could_not_be_stored_says_it_cannot_take_a_vote(down):
    state, img_a, img_b, vote_md = h.compare("bell", *STYLE, "svg-retrieval", "svg-pathdiffusion", 0)
    assert img_a is not None and img_b is not None
    assert "not saved" in vote_md and "cannot take a vote" in vote_md
    assert "svg-retrieval" not in vote_md and "svg-pathdiffusion" not in vote_md  # still blind
    with pytest.raises(gr.Error, match="was not saved"):
        h.vote(state, "model_a")

"""The SVG studio's style-card fields take the backend's own limits (backend.svg.style), so the browser refuses what
StyleCard.validate would. Before, line weight, padding and grid had no maximum in the UI (a weight of 99 on a
24 grid went to the backend), and the line-weight field's minimum 0.01 refused an emptied field (Gradio sends 0)
even when the card was not the chosen style source."""
from __future__ import annotations

import gradio as gr
import pytest

from apps import svg_studio
from apps import svg_studio_handlers as h
from backend.errors import UserError
from backend.svg.style import GRID_MAX, GRID_MIN, StyleCard, max_padding, max_weight


@pytest.fixture(scope="module")
def studio():
    with gr.Blocks() as demo:
        svg_studio.build()
    fields = {c.elem_id: c for c in demo.blocks.values() if getattr(c, "elem_id", None)}
    return demo, fields


def test_card_fields_carry_the_backends_limits(studio):
    _, f = studio
    width, pad, grid = f["svg-card-width"], f["svg-card-padding"], f["svg-card-grid"]
    assert (grid.minimum, grid.maximum) == (GRID_MIN, GRID_MAX)
    assert grid.value == 24 and width.maximum == max_weight(24) and pad.maximum == max_padding(24)
    assert width.minimum == 0 and pad.minimum == 0
    assert "6" in width.info and "9.6" in pad.info  # the range is written under the field


def test_the_fields_refuse_what_the_backend_refuses(studio):
    _, f = studio
    width, pad, grid = f["svg-card-width"], f["svg-card-padding"], f["svg-card-grid"]
    for comp, bad in ((width, max_weight(24) + 0.01), (grid, GRID_MAX + 1), (grid, GRID_MIN - 0.5),
                      (pad, max_padding(24) + 0.01)):
        with pytest.raises(gr.Error):
            comp.preprocess(bad)
    assert width.preprocess(max_weight(24)) == max_weight(24)
    assert width.preprocess(0) == 0  # an emptied field (sent as 0) does not block the other style sources
    StyleCard(grid=24, stroke_width=max_weight(24), padding=0).validate()  # the field's maximum is valid
    with pytest.raises(UserError, match=r"at most 6 \(a quarter of the grid 24; 6.01 given\)"):
        StyleCard(grid=24, stroke_width=6.01).validate()
    with pytest.raises(UserError, match=r"under 9.6 for a grid of 24 \(9.6 given\)"):
        StyleCard(grid=24, padding=9.6).validate()
    with pytest.raises(UserError, match=r"between 1 and 4096 \(5000 given\)"):
        StyleCard(grid=5000).validate()


def test_weight_and_padding_limits_follow_the_grid(studio):
    demo, f = studio
    width, pad, grid = f["svg-card-width"], f["svg-card-padding"], f["svg-card-grid"]
    wired = [fn for fn in demo.fns.values() if [b._id for b in fn.inputs] == [grid._id]
             and [b._id for b in fn.outputs] == [width._id, pad._id]]
    assert len(wired) == 1 and wired[0].fn is h.card_limits and not wired[0].preprocess
    w, p = h.card_limits(256)
    assert w["maximum"] == max_weight(256) == 64 and p["maximum"] == max_padding(256)
    assert "64" in w["info"] and "256" in w["info"]
    for half_typed in (None, "", "abc", 0, GRID_MAX * 2, float("nan"), float("inf"), [1]):
        assert h.card_limits(half_typed) == (gr.update(), gr.update())


def test_the_post_edit_weight_follows_the_shown_icons_grid(studio):
    """The post-edit line weight had no maximum; the backend bounds it by the icon's own grid (edit_svg)."""
    demo, f = studio
    e_width = f["svg-edit-width"]
    assert e_width.maximum == max_weight(24) and e_width.minimum == 0
    wired = [fn for fn in demo.fns.values() if fn.fn is h.edit_weight_limits]
    assert len(wired) == 3 and all([b._id for b in fn.outputs] == [e_width._id] for fn in wired)  # generate,
    # submit and select
    svg48 = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 48 48"><path d="M8 8h32v32H8z" stroke="#000"/></svg>'
    state = {"candidates": [{"svg": svg48}]}
    up = h.edit_weight_limits(state, 0)
    assert up["maximum"] == max_weight(48) == 12 and "at most 12" in up["info"]
    for bad_state, index in ((None, 0), ({}, 0), (state, 5), (state, "x"), ({"candidates": [{}]}, 0)):
        assert h.edit_weight_limits(bad_state, index) == gr.update()

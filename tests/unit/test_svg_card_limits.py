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

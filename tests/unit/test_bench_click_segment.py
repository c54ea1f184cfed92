"""Point-Bench click-to-segment (issue 19): a click proposes the target's mask with the Photo 3D
Edit tab's selector, as an editable layer that the saved annotation then reads."""
from __future__ import annotations

import json

import numpy as np
from PIL import Image, ImageDraw

from apps import bench_handlers as h
from backend.masks import mask_from_layers


class _Click:
    def __init__(self, x, y):
        self.index = [x, y]


def _disc():
    im = Image.new("RGB", (300, 200), (225, 225, 215))
    ImageDraw.Draw(im).ellipse([110, 60, 190, 140], fill=(30, 60, 160))  # 80 px across: area ≈ 5027 px
    return im.convert("RGBA")


def test_click_proposes_the_disc_and_the_layer_is_what_gets_saved():
    im = _disc()
    value, view, clicks, note = h.click_segment({"background": im, "layers": [], "composite": im}, "[]",
                                                "target (+)", _Click(150, 100))
    assert json.loads(clicks) == [[150.0, 100.0, 1]]
    assert "GrabCut" in note
    mask = mask_from_layers(value["layers"], im.size)
    truth = np.zeros((200, 300), bool)
    yy, xx = np.mgrid[0:200, 0:300]
    truth[(xx - 150) ** 2 + (yy - 100) ** 2 <= 40 ** 2] = True
    iou = (mask & truth).sum() / (mask | truth).sum()
    assert iou > 0.9, iou
    # what the editor reports after the proposal is the same region
    assert f"{int(mask.sum())} px" in h.editor_changed(value, "")[0]
    assert view.shape == (200, 300, 3)


def test_editor_changed_shows_a_new_image_once_and_ignores_empty_events():
    im = _disc()
    note, pick, clicks, key = h.editor_changed({"background": im, "layers": [], "composite": im}, "")
    assert "Nothing marked" in note and pick.shape == (200, 300, 3) and clicks == "[]"
    again = h.editor_changed({"background": im, "layers": [], "composite": im}, key)
    assert again[3] == key and not isinstance(again[1], np.ndarray)  # same image: the click view is kept
    empty = h.editor_changed({"background": None, "layers": [], "composite": None}, key)
    assert all(isinstance(x, dict) for x in empty)  # gr.update(): nothing is clobbered

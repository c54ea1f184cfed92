"""Image files the browser could not take get the sentence every tab gives a bad image (issue: the Point-Bench
annotator dropped an undecodable upload without a word; gr.Image refused a .txt in Gradio's own words).

The browser half (apps/image_check.js) is tested in Chromium by tests/e2e/test_bad_upload_e2e.py; here are the
server halves: the annotator's change handler and the hidden image check."""
from __future__ import annotations

import io
import re

import gradio as gr
import numpy as np
import pytest
from PIL import Image

from apps import bench_handlers as h
from apps.image_check import check_upload


def _png_bytes(size=(60, 40)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, (200, 120, 40)).save(buf, "PNG")
    return buf.getvalue()


@pytest.fixture
def bad_files(tmp_path):
    files = {"text renamed .png": ("fake.png", b"this is a text file, not a PNG\n" * 20),
             "truncated PNG": ("cut.png", _png_bytes()[:60]),
             "SVG named .png": ("icon.png", b'<svg xmlns="http://www.w3.org/2000/svg" width="9" height="9"/>'),
             "empty file": ("empty.png", b"")}
    out = {}
    for what, (name, data) in files.items():
        p = tmp_path / name
        p.write_bytes(data)
        out[what] = str(p)
    return out


SENTENCE = r"not an image Pillow can read|corrupt or truncated|is empty"


def test_annotator_change_with_an_unreadable_image_says_so(bad_files):
    for what, path in bad_files.items():
        with pytest.raises(gr.Error, match=SENTENCE) as exc:
            h.editor_changed({"background": path, "layers": [], "composite": None}, "")
        assert "(ref " in str(exc.value), what
        assert "/tmp" not in str(exc.value) and "Traceback" not in str(exc.value), what


def test_annotator_change_without_an_image_stays_silent():
    for empty in (None, {"background": None, "layers": [], "composite": None}, {"layers": []}):
        assert all(isinstance(x, dict) for x in h.editor_changed(empty, "key")), empty  # gr.update(): no field changes


def test_annotator_change_with_an_image_still_reports_the_mark():
    im = Image.new("RGBA", (30, 20), (10, 20, 30, 255))
    layer = np.zeros((20, 30, 4), np.uint8)
    layer[5:10, 5:10] = (255, 0, 102, 255)
    note, pick, clicks, key = h.editor_changed({"background": im, "layers": [layer], "composite": im}, "")
    assert "25 px" in note and pick.shape == (20, 30, 3) and clicks == "[]" and key


def test_image_check_gives_the_sentence_of_every_image_input(bad_files):
    """A warning with a ref (the event returns None, which empties the hidden input for the next file)."""
    for what, path in bad_files.items():
        with pytest.warns(UserWarning, match=SENTENCE) as rec:
            assert check_upload({"path": path}) is None
        assert re.search(r"\(ref [0-9a-f]{8}\)$", str(rec[0].message)), what
    assert check_upload(None) is None


def test_image_check_on_a_real_image_says_how_to_get_it_in(tmp_path):
    p = tmp_path / "photo-without-extension"
    p.write_bytes(_png_bytes())
    with pytest.warns(UserWarning, match="is an image, but this browser could not take it here"):
        check_upload(str(p))


def test_image_check_shows_the_file_name_inert(tmp_path):
    p = tmp_path / "<img src=x onerror=alert(1)>\u202e.txt"
    p.write_text("not an image")
    with pytest.warns(UserWarning) as rec:
        check_upload(str(p))
    msg = str(rec[0].message)
    assert "<img" not in msg and "&lt;img src=x onerror=alert(1)&gt;.txt" in msg and "\u202e" not in msg

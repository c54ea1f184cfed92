"""review15: a new user in the browser with the defaults untouched, and hostile files."""
from __future__ import annotations

import re

import pytest

from tests.e2e.test_review14_e2e import open_tab

pytestmark = pytest.mark.e2e


def _toast(page, timeout: int = 60_000) -> str:
    page.wait_for_selector("[data-testid=toast-body]", timeout=timeout)
    return " ".join(page.locator("[data-testid=toast-body]").all_inner_texts())


def test_svg_post_edit_with_the_line_weight_left_as_it_is(page, app_url):
    """"Apply edits to the selected candidate" with only the palette changed: Gradio 6.31 shows and sends 0 for an
    empty Number, and the line-weight field's minimum of 0.01 refused that before the handler ran ("Value 0 is less
    than minimum value 0.01"), so no post-edit could be applied without typing a weight. 0 now means keep."""
    page.goto(app_url)
    open_tab(page, "SVG Studio")
    page.locator("#svg-prompt textarea").fill("bell")
    page.locator("#svg-generate").click()
    page.wait_for_function("document.querySelector('#svg-summary').innerText.includes('candidate')", timeout=120_000)
    page.get_by_text("Vector post-edits (no regeneration)").click()
    assert page.get_by_label(re.compile(r"^Line weight \(grid units of this icon")).input_value() == "0"
    page.get_by_label("Palette (empty = keep)").fill("#d62828")
    page.locator("#svg-edit").click()
    page.wait_for_function("document.querySelector('#svg-code').innerText.toLowerCase().includes('#d62828')",
                           timeout=60_000)
    assert page.locator("[data-testid=toast-body]").count() == 0


def test_replacing_a_photo_with_a_bad_file_says_so_once(page, app_url, tmp_path):
    """Gradio fires the photo's `.change` twice when a new file replaces a photo: the photo was decoded twice and a
    bad file showed two identical error toasts (two refs, "(2)" on the toast)."""
    from PIL import Image

    good, bad = tmp_path / "ok.png", tmp_path / "fake.png"
    Image.new("RGB", (64, 48), (120, 130, 140)).save(good)
    bad.write_text("not a png\n" * 20)
    page.goto(app_url)
    open_tab(page, "Photo 3D Edit")
    upload = page.locator("#edit3d-photo input[type=file]")
    upload.set_input_files(str(good))
    page.wait_for_function("document.querySelector('#edit3d-status').innerText.includes('64×48')", timeout=60_000)
    upload.set_input_files(str(bad))
    text = _toast(page)
    page.wait_for_timeout(4000)  # the second change event, if any, has come back by now
    texts = page.locator("[data-testid=toast-body]").all_inner_texts()
    assert "not an image Pillow can read" in text
    assert len(re.findall(r"\(ref [0-9a-f]{8}\)", " ".join(texts))) == 1, texts

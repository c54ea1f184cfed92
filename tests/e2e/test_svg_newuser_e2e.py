"""svgux2: the SVG studio's error paths and style-card fields as a new user meets them in Chromium.

Every bad input (empty prompt, a text file named .svg, a scripted SVG with nothing drawable, an SVG over the size
limit, 20 exemplars, a picture that traces to nothing) gets one toast with a sentence naming the problem, and the
prompt, the uploaded files and the previous results stay. The style-card fields carry the backend's limits."""
from __future__ import annotations

import io
import re

import pytest
from PIL import Image

from backend.svg.style import GRID_MAX, MAX_EXEMPLARS, max_padding, max_weight
from tests.e2e.test_review14_e2e import open_tab
from tests.e2e.test_svg_e2e import EXEMPLARS

pytestmark = pytest.mark.e2e

LEAKS = re.compile(r"/tmp|Traceback|Error:|Exception|ComponentProcessingError")


def _toast_texts(page) -> list[str]:
    from playwright.sync_api import expect

    toasts = page.locator("[data-testid='toast-body']")
    expect(toasts.first).to_be_visible(timeout=90_000)
    page.wait_for_timeout(800)
    texts = [t.inner_text() for t in toasts.all()]
    for btn in page.locator("[data-testid='toast-close']").all():
        try:
            btn.click(timeout=2000)
        except Exception:
            pass
    page.wait_for_timeout(300)
    return texts


def _generate(page, prompt: str) -> None:
    page.locator("#svg-prompt textarea").fill(prompt)
    page.locator("#svg-generate").click()


def _files_shown(page) -> int:
    return page.locator("#svg-exemplars tr.file").count()


def _write(tmp_path, name: str, data: bytes | str) -> str:
    p = tmp_path / name
    p.write_bytes(data.encode() if isinstance(data, str) else data)
    return str(p)


def _blank_png() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (64, 64), "white").save(buf, "PNG")
    return buf.getvalue()


def test_bad_inputs_get_a_sentence_and_keep_everything(page, app_url, tmp_path):
    good = [_write(tmp_path, f"good{i}.svg", svg) for i, svg in enumerate(EXEMPLARS)]
    cases = [
        ("empty prompt", "", good, r"Please type what the icon should show"),
        ("text named .svg", "cup", [_write(tmp_path, "notes.svg", "just some notes, not a drawing\n")],
         r"“notes\.svg” \(exemplar 1\): This is not well-formed SVG"),
        ("scripted SVG", "cup", [_write(tmp_path, "evil.svg", '<svg xmlns="http://www.w3.org/2000/svg" '
                                        'viewBox="0 0 24 24" onload="alert(1)"><script>alert(2)</script></svg>')],
         r"“evil\.svg” \(exemplar 1\) has no visible paths"),
        ("huge SVG", "cup", [_write(tmp_path, "huge.svg", '<svg xmlns="http://www.w3.org/2000/svg" '
                                    'viewBox="0 0 24 24">' + '<path d="M1 1h1"/>' * 80_000 + "</svg>")],
         r"“huge\.svg” \(exemplar 1\): This SVG is 1\.\d MB; the limit is 1\.0 MB"),
        ("20 exemplars", "cup", [_write(tmp_path, f"ex{i}.svg", EXEMPLARS[i % 3]) for i in range(20)],
         rf"At most {MAX_EXEMPLARS} exemplars, please \(20 given\)"),
        ("blank picture", "cup", [*good[:1], _write(tmp_path, "blank.png", _blank_png())],
         r"“blank\.png” \(exemplar 2\): Tracing found no shapes in this picture"),
    ]
    page.goto(app_url)
    open_tab(page, "SVG Studio")
    page.locator("#svg-source").get_by_text("Exemplar SVGs (upload)").click()
    page.locator("#svg-exemplars input[type=file]").set_input_files(good)
    _generate(page, "coffee cup")  # a good result first: a failure must not wipe it
    page.wait_for_function("document.querySelector('#svg-summary').innerText.includes('coffee cup')",
                           timeout=120_000)
    code_before = page.locator("#svg-code .cm-content").inner_text()
    for what, prompt, files, expected in cases:
        page.locator("#svg-exemplars button[aria-label=Clear]").click()
        page.locator("#svg-exemplars input[type=file]").set_input_files(files)
        page.wait_for_timeout(1000)
        shown = _files_shown(page)
        _generate(page, prompt)
        texts = _toast_texts(page)
        assert len(texts) == 1 and re.search(expected, texts[0]), (what, texts)
        assert not LEAKS.search(texts[0]), (what, texts)
        assert page.locator("#svg-prompt textarea").input_value() == prompt, what
        assert _files_shown(page) == shown == len(files), (what, shown)
        assert "coffee cup" in page.locator("#svg-summary").inner_text(), what  # the last good result stays
        assert page.locator("#svg-code .cm-content").inner_text() == code_before, what
        assert page.locator("#svg-gallery img").count() == 4, what


def test_card_fields_carry_the_backends_limits(page, app_url, tmp_path):
    page.goto(app_url)
    open_tab(page, "SVG Studio")
    page.get_by_text("Style card (editable").click()
    width, pad, grid = (page.locator(f"#svg-card-{f} input") for f in ("width", "padding", "grid"))
    assert float(width.get_attribute("max")) == max_weight(24)
    assert float(pad.get_attribute("max")) == max_padding(24)
    assert float(grid.get_attribute("max")) == GRID_MAX
    grid.fill("48")
    grid.press("Tab")
    page.wait_for_function("document.querySelector('#svg-card-width input')?.max === '12'", timeout=30_000)
    assert float(pad.get_attribute("max")) == max_padding(48)
    assert "at most 12 on a grid of 48" in page.locator("#svg-card-width").inner_text()
    # a weight past the maximum, with the card as the source: a refusal, and the typed values stay
    width.fill("99")
    page.locator("#svg-source").get_by_text("Edited style card").click()
    _generate(page, "bell")
    texts = _toast_texts(page)
    assert len(texts) == 1 and "99" in texts[0] and "12" in texts[0], texts
    assert width.input_value() == "99" and grid.input_value() == "48"
    assert page.locator("#svg-prompt textarea").input_value() == "bell"
    width.fill("12")  # the maximum itself is accepted by the backend
    _generate(page, "bell")
    page.wait_for_function("document.querySelector('#svg-summary').innerText.includes('bell')", timeout=120_000)
    assert 'stroke-width="12"' in page.locator("#svg-code .cm-content").inner_text()
    # the post-edit line weight's maximum follows the shown icon's grid (48 here)
    page.get_by_text("Vector post-edits").click()
    page.locator("#svg-edit-width input").wait_for(state="visible")
    page.wait_for_function("document.querySelector('#svg-edit-width input')?.max === '12'", timeout=30_000)


def test_extracted_card_leaves_generate_in_reach(page, app_url, tmp_path):
    """The card JSON (with a row of identity features per exemplar) ran to 130 lines after "Extract card" and
    pushed the Engine and Generate controls some 3,000 px down the page."""
    files = [_write(tmp_path, f"ex{i}.svg", svg) for i, svg in enumerate(EXEMPLARS)]
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(app_url)
    open_tab(page, "SVG Studio")
    page.locator("#svg-source").get_by_text("Exemplar SVGs (upload)").click()
    page.locator("#svg-exemplars input[type=file]").set_input_files(files)
    page.wait_for_timeout(1000)
    page.get_by_text("Style card (editable").click()
    page.locator("#svg-card-extract").click()
    page.wait_for_function("document.querySelector('#svg-card-summary').innerText.includes('3 exemplar')",
                           timeout=120_000)
    page.wait_for_timeout(500)
    json_box = page.locator("#svg-card-json").bounding_box()
    gap = page.locator("#svg-generate").bounding_box()["y"] - page.locator("#svg-card-summary").bounding_box()["y"]
    assert json_box["height"] < 400, json_box
    assert gap < 900, gap

"""review14: a demanding user on a phone-width screen and at 1280 px."""
from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.e2e

# every header span whose text is cut (ellipsis) inside its cell
_CLIPPED_HEADERS = """(sel) => [...document.querySelectorAll(sel + ' th span.header')]
    .filter(s => s.scrollWidth > s.clientWidth + 1).map(s => s.innerText)"""


def open_tab(page, name: str) -> None:
    """Click a top-level tab; on a narrow screen Gradio moves tabs that do not fit into a "More tabs" menu."""
    page.wait_for_selector("[role=tab]")
    tabs = page.get_by_role("tab", name=name)
    for i in range(tabs.count()):
        if tabs.nth(i).is_visible():
            tabs.nth(i).click()
            return
    page.locator("button[aria-label='More tabs']:visible").first.click()
    page.locator(f"button:has-text('{name}'):visible").last.click()


@pytest.mark.parametrize("width", [420, 1280])
def test_anomaly_results_headers_are_readable(page, app_url, width):
    """The results table had fixed percentage column widths: at 420 px nine columns shared 356 px and every header
    was cut to "s…", "v…", "l…" (at 1280 px "ve…", "re…", "larg…" too). Now columns are as wide as their contents
    and the table scrolls sideways inside itself; the page itself never scrolls sideways."""
    page.set_viewport_size({"width": width, "height": 800})
    page.goto(app_url)
    open_tab(page, "Anomaly Inspector")
    page.locator("#anomaly-example").click()
    page.wait_for_function("document.querySelector('#anomaly-table').innerText.includes('nut_good_000')",
                           timeout=180_000)
    page.wait_for_timeout(500)
    assert page.evaluate(_CLIPPED_HEADERS, "#anomaly-table") == []
    headers = page.locator("#anomaly-table th span.header").all_inner_texts()
    assert headers[:4] == ["#", "file", "score", "verdict"]
    assert page.evaluate("document.scrollingElement.scrollWidth <= window.innerWidth + 1")
    if width == 420:  # the rest of the columns are one sideways scroll away, inside the table
        assert page.locator("#anomaly-table .virtual-table-viewport").evaluate(
            "e => e.scrollWidth > e.clientWidth && getComputedStyle(e).overflowX === 'auto'")


def test_wrong_file_type_in_a_multi_file_input_keeps_the_rest(page, app_url, tmp_path):
    """A .txt chosen with a PNG as query images: Gradio's browser check refused the whole choice with its own
    "Invalid file type: notes.txt. Only image, .zip allowed." (no ref id, no log line). Now the server keeps the
    PNG, drops the .txt with the app's sentence and a ref id, and what was typed elsewhere stays."""
    from PIL import Image

    (tmp_path / "notes.txt").write_text("not an image\n")
    Image.new("RGB", (64, 64), "red").save(tmp_path / "part.png")
    page.goto(app_url)
    open_tab(page, "Anomaly Inspector")
    page.get_by_text("Prompt pools (save / load by name)").click()
    page.locator("#anomaly-product textarea, #anomaly-product input").first.fill("bottle-cap-A")
    page.locator("#anomaly-queries input[type=file]").set_input_files([str(tmp_path / "notes.txt"),
                                                                       str(tmp_path / "part.png")])
    toast = page.locator("[data-testid='toast-body']").first
    toast.wait_for(state="visible", timeout=60_000)
    text = toast.inner_text()
    assert "“notes.txt” is not accepted here: this input takes images or .zip only." in text
    assert re.search(r"\(ref [0-9a-f]{8}\)", text) and "Invalid file type" not in text
    files = page.locator("#anomaly-queries")
    page.wait_for_function("!document.querySelector('#anomaly-queries').innerText.includes('notes')")
    assert "part" in files.inner_text()
    assert page.locator("#anomaly-product textarea, #anomaly-product input").first.input_value() == "bottle-cap-A"


def test_shipped_example_battle_shows_its_own_category(page, app_url, monkeypatch):
    """A battle on a shipped example said "Category: Your upload" (the examples were bare package photos, filed
    like anyone's upload). Now each example is a bench photo item and the battle carries its category."""
    monkeypatch.setenv("ARENA_MODELS", "center,random")
    page.goto(app_url)
    open_tab(page, "Point Battle")
    page.locator("#tab-arena").get_by_text("Point to the ornament at the very top").first.click()
    page.wait_for_function("document.querySelector('#arena-category').innerText.includes('Spatial')")
    assert "photo_china_finial.jpg" in page.locator("#arena-category").inner_text()
    page.locator("#arena-go").click()
    page.wait_for_function("document.querySelector('#arena-status').innerText.includes('Category')",
                           timeout=60_000)
    status = page.locator("#arena-status").inner_text()
    assert "Category: Spatial" in status and "Your upload" not in status


def test_leaderboard_reads_on_a_phone(page, app_url):
    """At 420 px the leaderboard table wrapped every header mid-word ("Mod el", "Rat ing", "Vot es") and the two
    heatmaps shared one row (their text was cut). Now headers stay on one line (the table scrolls sideways
    inside itself) and the heatmaps stack."""
    page.set_viewport_size({"width": 420, "height": 800})
    page.goto(app_url)
    open_tab(page, "Leaderboard")
    page.wait_for_function("document.querySelector('#lb-head').innerText.length > 0", timeout=60_000)
    page.wait_for_timeout(500)
    broken = page.evaluate("""() => [...document.querySelectorAll('#lb-table th span.header')]
        .filter(s => s.getBoundingClientRect().height > 2 * parseFloat(getComputedStyle(s).fontSize))
        .map(s => s.innerText)""")
    assert broken == []
    assert page.evaluate(_CLIPPED_HEADERS, "#lb-table") == []
    wins, counts = page.locator("#lb-wins").bounding_box(), page.locator("#lb-counts").bounding_box()
    assert counts["y"] >= wins["y"] + wins["height"] - 1 and wins["width"] > 300
    assert page.evaluate("document.scrollingElement.scrollWidth <= window.innerWidth + 1")

"""A new user's missteps in the browser (review13): a failed step must leave the page usable."""
from __future__ import annotations

import pytest

pytestmark = pytest.mark.e2e


def test_failed_render_leaves_the_click_preview_clickable(page, app_url):
    """Render before clicking the object: Gradio drew "Error" over every output of the event, the click preview
    included, so the photo could no longer be clicked until it was loaded again. Now the error goes on the
    result panel only; the toast explains, the preview stays and the next click selects the cup."""
    page.goto(app_url)
    page.get_by_role("tab", name="Photo 3D Edit").click()
    tab = page.locator("#tab-edit3d")
    tab.locator(".gallery-item, button.example, [data-testid='examples'] button, table.examples-table td"
                ).first.click()  # the coffee photo
    pick = page.locator("#edit3d-pick img")
    pick.wait_for(state="visible")
    page.wait_for_function("document.querySelector('#edit3d-status').innerText.includes('Click the object')")
    page.locator("#edit3d-render").click()
    toast = page.locator("[data-testid='toast-body']").first
    toast.wait_for(state="visible", timeout=60_000)
    assert "No object is selected" in toast.inner_text()
    page.wait_for_timeout(1000)
    assert "Error" not in page.locator("#edit3d-pick").inner_text()
    assert "Error" not in page.locator("#edit3d-status").inner_text()
    box = pick.bounding_box()
    page.mouse.click(box["x"] + box["width"] * 300 / 600, box["y"] + box["height"] * 240 / 400)
    page.wait_for_function("document.querySelector('#edit3d-status').innerText.includes('Invented pixels')",
                           timeout=120_000)


def test_refused_upload_does_not_cover_the_sliders(page, app_url, tmp_path):
    """A text file named .png on Photo 3D Edit: the toast explained, but "Error" was drawn over all seven motion
    sliders, the box and the status line, so the page looked broken. Now only the preview panel shows it."""
    fake = tmp_path / "notes.png"
    fake.write_text("this is a text file, not a PNG\n" * 20)
    page.goto(app_url)
    page.get_by_role("tab", name="Photo 3D Edit").click()
    page.locator("#edit3d-photo input[type=file]").set_input_files(str(fake))
    toast = page.locator("[data-testid='toast-body']").first
    toast.wait_for(state="visible", timeout=60_000)
    assert "not an image Pillow can read" in toast.inner_text()
    page.wait_for_timeout(1000)
    for elem in ("#edit3d-yaw", "#edit3d-scale", "#edit3d-box", "#edit3d-status"):
        assert "Error" not in page.locator(elem).inner_text(), elem


def test_failed_inspection_does_not_cover_the_threshold_sliders(page, app_url, tmp_path):
    """Anomaly Inspector with a text file as prompt and query: "Error" was drawn over both threshold sliders (they
    are outputs of a run: auto thresholds) and every panel until the next successful run."""
    fake = tmp_path / "notes.png"
    fake.write_text("this is a text file, not a PNG\n" * 20)
    page.goto(app_url)
    page.get_by_role("tab", name="Anomaly Inspector").click()
    page.locator("#anomaly-prompts input[type=file]").set_input_files(str(fake))
    page.locator("#anomaly-queries input[type=file]").set_input_files(str(fake))
    page.wait_for_timeout(1500)
    page.locator("#anomaly-run").click()
    toast = page.locator("[data-testid='toast-body']").first
    toast.wait_for(state="visible", timeout=60_000)
    page.wait_for_timeout(1000)
    for elem in ("#anomaly-image-thr", "#anomaly-pixel-thr", "#anomaly-summary", "#anomaly-overlay"):
        assert "Error" not in page.locator(elem).inner_text(), elem

"""A new user's flow in the browser: pick the real example photo, click the cup, turn it with
a slider, export, download the edited photo."""
from __future__ import annotations

import pytest
from PIL import Image

pytestmark = pytest.mark.e2e


def test_click_move_download(page, app_url, tmp_path):
    page.goto(app_url)
    page.get_by_role("tab", name="Photo 3D Edit").click()
    tab = page.locator("#tab-edit3d")
    tab.locator(".gallery-item, button.example, [data-testid='examples'] button, table.examples-table td"
                ).first.click()  # first example: the coffee photo
    pick = page.locator("#edit3d-pick img")
    pick.wait_for(state="visible")
    page.wait_for_function("document.querySelector('#edit3d-status').innerText.includes('Click the object')")
    box = pick.bounding_box()
    # the cup body sits at (300, 240) of the 600×400 photo
    page.mouse.click(box["x"] + box["width"] * 300 / 600, box["y"] + box["height"] * 240 / 400)
    page.wait_for_function("document.querySelector('#edit3d-status').innerText.includes('Invented pixels')",
                           timeout=120_000)
    assert "GrabCut" in page.locator("#edit3d-status").inner_text()

    rng = page.locator("#edit3d-yaw input[type=range]")
    rb = rng.bounding_box()
    y = rb["y"] + rb["height"] / 2
    page.mouse.move(rb["x"] + rb["width"] * 0.5, y)
    page.mouse.down()
    page.mouse.move(rb["x"] + rb["width"] * 0.56, y, steps=5)
    page.mouse.up()
    page.wait_for_function("(() => { const t = document.querySelector('#edit3d-history').innerText;"
                           " return (t.match(/\\bedit\\b/g) || []).length >= 2; })()", timeout=120_000)
    yaw = float(page.locator("#edit3d-yaw input[type=number]").input_value())
    assert yaw > 5
    status = page.locator("#edit3d-status").inner_text()
    assert "Invented pixels" in status

    page.locator("#edit3d-export").click()
    page.wait_for_function("document.querySelector('#edit3d-export-note').innerText.includes('Exported')",
                           timeout=180_000)
    with page.expect_download() as dl:
        page.locator("#edit3d-download").click()
    path = tmp_path / dl.value.suggested_filename
    dl.value.save_as(path)
    assert path.name == "edited.png"
    im = Image.open(path)
    assert im.size == (600, 400)
    page.screenshot(path=str(tmp_path / "edit3d.png"), full_page=True)

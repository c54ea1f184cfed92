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


def _type_number(page, elem_id: str, value: str) -> None:
    """Type `value` into a slider's number box and wait for the render it triggers to reach the history."""
    box = page.locator(f"#{elem_id} input[type=number]")
    box.fill(value)
    box.press("Enter")
    page.wait_for_function(f"document.querySelector('#edit3d-history').innerText.includes('\\n{value}\\n')",
                           timeout=120_000)


def _history_yaws(page) -> list[float]:
    """Yaw column of the history table's 'edit' rows (newest first), read from its text."""
    cells = [c.strip() for c in page.locator("#edit3d-history").inner_text().split("\n")]
    cells = [c for c in cells if c]
    body = cells[cells.index("invented %") + 1:]
    rows = [body[i:i + 12] for i in range(0, len(body) - 11, 12)]
    return [float(r[3]) for r in rows if r[2] == "edit"]


def _wait_render(page, n_edits: int) -> None:
    page.wait_for_function("(n) => { const t = document.querySelector('#edit3d-history').innerText;"
                           " return (t.match(/\\bedit\\b/g) || []).length >= n; }", arg=n_edits, timeout=120_000)


def _click_object(page, fx: float, fy: float) -> None:
    pick = page.locator("#edit3d-pick img")
    pick.wait_for(state="visible")
    page.wait_for_function("document.querySelector('#edit3d-status').innerText.includes('Click the object')")
    box = pick.bounding_box()
    page.mouse.click(box["x"] + box["width"] * fx, box["y"] + box["height"] * fy)


def test_two_photos_no_carry_over(page, app_url):
    """Issue 19: pose, preset, number box and export of photo 1 must not leak into photo 2."""
    page.goto(app_url)
    page.get_by_role("tab", name="Photo 3D Edit").click()
    tab = page.locator("#tab-edit3d")
    examples = tab.locator(".gallery-item, button.example, [data-testid='examples'] button, table.examples-table td")
    examples.first.click()  # coffee
    _click_object(page, 300 / 600, 240 / 400)
    _wait_render(page, 1)

    # a preset sets absolute values: applied twice it is still 20°, not 40°
    page.locator("#edit3d-preset").click()
    _wait_render(page, 2)
    assert float(page.locator("#edit3d-yaw input[type=number]").input_value()) == 20
    page.locator("#edit3d-preset").click()
    page.wait_for_timeout(1500)
    assert float(page.locator("#edit3d-yaw input[type=number]").input_value()) == 20
    assert _history_yaws(page)[0] == 20

    # typing into a number box renders, like releasing the slider
    _type_number(page, "edit3d-yaw", "35")
    assert _history_yaws(page)[0] == 35
    _type_number(page, "edit3d-ty", "0.1")

    page.locator("#edit3d-export").click()
    page.wait_for_function("document.querySelector('#edit3d-export-note').innerText.includes('Exported')",
                           timeout=180_000)
    # an input change makes the export stale: it is cleared
    num = page.locator("#edit3d-yaw input[type=number]")
    num.fill("30")
    num.press("Enter")
    page.wait_for_function("!document.querySelector('#edit3d-export-note').innerText.includes('Exported')",
                           timeout=30_000)

    # second photo: everything starts from scratch
    examples.nth(1).click()  # flower
    page.wait_for_function("document.querySelector('#edit3d-status').innerText.includes('Click the object')",
                           timeout=60_000)
    for sid, want in (("yaw", 0), ("pitch", 0), ("tx", 0), ("ty", 0), ("tz", 0), ("scale", 1)):
        assert float(page.locator(f"#edit3d-{sid} input[type=number]").input_value()) == want, sid
    assert "Exported" not in page.locator("#edit3d-export-note").inner_text()
    assert page.locator("#edit3d-model3d canvas").count() == 0
    assert _history_yaws(page) == []
    assert page.locator("#edit3d-result img").count() == 0
    _click_object(page, 0.5, 0.5)
    _wait_render(page, 1)
    assert _history_yaws(page) == [0]  # the first render of photo 2 uses the neutral pose

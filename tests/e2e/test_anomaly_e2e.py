"""A new user's path: upload a prompt and a query, inspect, move the threshold, download the results."""
import io
import json
import zipfile

import numpy as np
import pytest
from PIL import Image
from skimage import data as skdata

pytestmark = pytest.mark.e2e


def _brick(x, y, defect=False) -> Image.Image:
    g = skdata.brick()[y:y + 192, x:x + 192]  # scikit-image brick photo (BSD-3)
    arr = np.stack([g] * 3, -1).copy()
    if defect:
        arr[70:100, 80:120] = (230, 30, 30)
    return Image.fromarray(arr)


def test_upload_threshold_download(page, app_url, tmp_path):
    _brick(0, 0).save(tmp_path / "prompt.png")
    _brick(200, 40, defect=True).save(tmp_path / "query.png")
    page.goto(app_url)
    page.get_by_role("tab", name="Anomaly Inspector").click()
    page.locator("#anomaly-prompts input[type=file]").set_input_files(str(tmp_path / "prompt.png"))
    page.locator("#anomaly-queries input[type=file]").set_input_files(str(tmp_path / "query.png"))
    page.wait_for_function("document.querySelector('#anomaly-queries').innerText.includes('KB')")
    engine = page.locator("#anomaly-engine input")
    engine.click()
    page.get_by_role("option", name="Patch kNN", exact=False).first.click()
    page.wait_for_function("document.querySelector('#anomaly-engine input').value.includes('kNN')")
    page.locator("#anomaly-run").click()
    page.wait_for_function("document.querySelector('#anomaly-summary') && "
                           "document.querySelector('#anomaly-summary').innerText.includes('inspected')",
                           timeout=120_000)
    summary = page.locator("#anomaly-summary").inner_text()
    assert "1 image(s)" in summary and "1 NG" in summary
    assert "query.png" in page.locator("#anomaly-table").inner_text()

    # move the image threshold to its maximum: the verdict flips to OK without re-running the model
    num = page.locator("#anomaly-image-thr input[type=number]")
    num.fill("1")
    num.press("Enter")
    page.locator("#anomaly-image-thr input[type=range]").dispatch_event("pointerup")
    page.wait_for_function("document.querySelector('#anomaly-summary').innerText.includes('0 NG')",
                           timeout=60_000)
    assert "image threshold 1.000" in page.locator("#anomaly-summary").inner_text()

    page.locator("#anomaly-export").click()
    link = page.locator('#anomaly-files a[download="anomaly-results.zip"]')
    link.wait_for(timeout=60_000)
    with page.expect_download() as dl:
        link.click()
    path = tmp_path / "dl.zip"
    dl.value.save_as(path)
    zf = zipfile.ZipFile(path)
    res = json.loads(zf.read("results.json"))
    assert res["settings"]["image_threshold"] == 1.0 and res["results"][0]["verdict"] == "OK"
    mask = np.asarray(Image.open(io.BytesIO(zf.read("query/mask.png"))))
    assert mask.shape == (192, 192) and mask[85, 100] == 255


def test_one_click_example_then_pick_a_row(page, app_url):
    page.goto(app_url)
    page.get_by_role("tab", name="Anomaly Inspector").click()
    engine = page.locator("#anomaly-engine input")
    engine.click()
    page.get_by_role("option", name="Patch kNN", exact=False).first.click()
    page.locator("#anomaly-example").click()
    page.wait_for_function("document.querySelector('#anomaly-summary') && "
                           "document.querySelector('#anomaly-summary').innerText.includes('5 image(s)')",
                           timeout=120_000)
    table = page.locator("#anomaly-table").inner_text()
    assert table.index("nut_good") > table.index("nut_missing")  # sorted: defects above good parts
    page.locator("#anomaly-table").get_by_text("nut_good_001.png").first.click()
    page.wait_for_function("document.querySelector('#anomaly-pick input').value.includes('nut_good_001')")
    page.wait_for_function("document.querySelector('#anomaly-info').innerText.includes('nut_good_001')")
    assert "OK" in page.locator("#anomaly-info").inner_text()

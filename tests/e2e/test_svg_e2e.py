"""A new user in the browser: prompt → gallery → details → SVG download."""
from __future__ import annotations

import pytest

pytestmark = pytest.mark.e2e


def test_prompt_gallery_download(page, app_url, tmp_path):
    page.goto(app_url)
    page.get_by_role("tab", name="SVG Studio").click()
    page.locator("#svg-prompt textarea").fill("bell")
    page.locator("#svg-generate").click()
    page.wait_for_function("document.querySelector('#svg-summary') && "
                           "document.querySelector('#svg-summary').innerText.includes('candidate')", timeout=120_000)
    assert page.locator("#svg-gallery img").count() >= 1
    assert "phosphor/bold/bell" in page.locator("#svg-info").inner_text()
    page.locator("#svg-gallery img").nth(1).click()
    page.wait_for_function("!document.querySelector('#svg-info').innerText.includes('Candidate 1')", timeout=60_000)
    with page.expect_download() as dl:
        page.locator("#svg-download-svg").click()
    path = tmp_path / dl.value.suggested_filename
    dl.value.save_as(path)
    text = path.read_text()
    assert path.suffix == ".svg" and text.startswith("<svg") and "script" not in text
    page.screenshot(path=str(tmp_path / "svg_studio.png"), full_page=True)

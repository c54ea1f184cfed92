"""review16 in Chromium: what a new user saw after a refused step."""
from __future__ import annotations

import pytest

pytestmark = pytest.mark.e2e


def test_svg_generate_with_an_empty_prompt_marks_only_the_gallery(page, app_url):
    """Generate with the prompt left empty: after the toast had said why, "Error" stayed over the gallery, the
    previews, the SVG code and the summary line. Now it is on the gallery only."""
    page.goto(app_url)
    page.get_by_role("tab", name="SVG Studio").click()
    page.locator("#svg-generate").click()
    toast = page.locator("[data-testid='toast-body']").first
    toast.wait_for(state="visible", timeout=60_000)
    assert "Please type what the icon should show" in toast.inner_text()
    page.wait_for_timeout(1500)
    assert "Error" in page.locator("#svg-gallery").inner_text()
    for part in ("#svg-previews", "#svg-code", "#svg-summary", "#svg-info"):
        assert "Error" not in page.locator(part).inner_text(), part

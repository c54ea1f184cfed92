"""After a page refresh, "Your recent inspections" → Reopen brings back the inspection the user ran: its prompt and
query images in the inputs, its engine and thresholds, and its stored results (the maps are not stored)."""
import pytest

pytestmark = pytest.mark.e2e


def _value(page, sel: str) -> str:
    return page.locator(sel).input_value()


def test_reopen_an_inspection_after_a_refresh(page, app_url):
    page.goto(app_url)
    page.get_by_role("tab", name="Anomaly Inspector").click()
    page.locator("#anomaly-engine input").click()
    page.get_by_role("option", name="Patch kNN", exact=False).first.click()
    page.locator("#anomaly-example").click()
    page.wait_for_function("document.querySelector('#anomaly-summary') && "
                           "document.querySelector('#anomaly-summary').innerText.includes('5 image(s)')",
                           timeout=120_000)
    thresholds = (_value(page, "#anomaly-image-thr input[type=number]"),
                  _value(page, "#anomaly-pixel-thr input[type=number]"))

    page.reload()
    page.get_by_role("tab", name="Anomaly Inspector").click()
    page.get_by_text("Your recent inspections").click()
    page.locator("#anomaly-recent input").click()
    option = page.get_by_role("option", name="5 queries", exact=False).first
    label = option.inner_text()
    assert label.startswith("#") and "knn" in label
    option.click()
    page.locator("#anomaly-reopen").click()
    page.wait_for_function("document.querySelector('#anomaly-recent-msg').innerText.includes('Stored results')",
                           timeout=60_000)
    iid = label.split(" ", 1)[0]
    assert f"Stored results of inspection {iid}; press Inspect to redraw the maps" in \
        page.locator("#anomaly-recent-msg").inner_text()
    assert "nut_good_001.png" in page.locator("#anomaly-recent-table").inner_text()
    page.wait_for_function("document.querySelector('#anomaly-queries').innerText.includes('nut_good_001')")
    assert page.locator("#anomaly-prompts").inner_text().count("prompt_") >= 1
    assert "kNN" in _value(page, "#anomaly-engine input")
    # the stored thresholds stay: the engine's defaults follow a user's engine choice only (engine.input)
    assert (_value(page, "#anomaly-image-thr input[type=number]"),
            _value(page, "#anomaly-pixel-thr input[type=number]")) == thresholds

import pytest

pytestmark = pytest.mark.e2e


def test_status_tab(page, app_url, tmp_path):
    page.goto(app_url)
    page.get_by_role("tab", name="Status").click()
    page.locator("#status-refresh").click()
    page.wait_for_function("document.querySelector('#status-summary') && "
                           "document.querySelector('#status-summary').innerText.includes('Database')")
    text = page.locator("#tab-status").inner_text()
    assert "lite0-imagenet" in text and "embedded default" in text
    page.screenshot(path=str(tmp_path / "status.png"), full_page=True)

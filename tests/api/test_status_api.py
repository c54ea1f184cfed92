import pytest

pytestmark = pytest.mark.api


def test_status_endpoint(client):
    models, summary, versions = client.predict(api_name="/status")
    names = [row[0] for row in models["data"]]
    assert "lite0-imagenet" in names and "minilm-l6" in names
    assert "sqlite" in summary and "Data directory" in summary
    assert any(r[0] == "gradio" for r in versions["data"])


def test_page_served(app_url):
    import httpx

    r = httpx.get(app_url, timeout=30)
    assert r.status_code == 200 and "gradio" in r.text.lower()

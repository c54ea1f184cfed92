"""Every admin view, review and raw export refuses a missing or wrong token and returns no data."""
import pytest
from gradio_client.exceptions import AppError

pytestmark = pytest.mark.api

# (endpoint, arguments after the token)
ADMIN_ENDPOINTS = [
    ("/arena_admin", ()),
    ("/bench_review_list", ("all",)),
    ("/bench_review_preview", (1,)),
    ("/bench_accept", (1, "mallory")),
    ("/bench_reject", (1, "mallory")),
    ("/bench_export", (False,)),
]


@pytest.mark.parametrize("token", ["", "wrong-token", "test-admin-token "])
@pytest.mark.parametrize("endpoint, args", ADMIN_ENDPOINTS)
def test_admin_endpoints_refuse_without_token(new_client, endpoint, args, token):
    c = new_client()
    with pytest.raises(AppError, match="(?i)admin token|not allowed|admin"):
        c.predict(token, *args, api_name=endpoint)


def test_status_never_shows_secrets(client, monkeypatch):
    models, summary, versions = client.predict(api_name="/status")
    text = str(models) + summary + str(versions)
    assert "test-admin-token" not in text and "test-salt" not in text
    assert "Admin token configured:** yes" in summary

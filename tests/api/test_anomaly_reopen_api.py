"""`/anomaly_recent` and `/anomaly_reopen` over HTTP: each browser session lists and reopens only its own inspections;
reopening another session's id is refused with a sentence, and reopen is an `image_open` job (rate-limited before
it is queued)."""
import numpy as np
import pytest
from gradio_client import handle_file
from PIL import Image

from tests.api.test_trust_limits import browser_like

pytestmark = pytest.mark.api


def _inspect(client, tmp_path) -> None:
    rng = np.random.default_rng(0)
    for n in ("prompt", "query"):
        Image.fromarray(rng.integers(0, 255, (64, 64, 3), dtype=np.uint8)).save(tmp_path / f"{n}.png")
    client.predict([handle_file(tmp_path / "prompt.png")], [handle_file(tmp_path / "query.png")], "knn", "256", 0,
                   0.5, 0.5, False, 1.0, api_name="/inspect_batch")


def test_each_session_reopens_only_its_own_inspections(new_client, app_url, tmp_path, monkeypatch, fresh_limits):
    from gradio_client.exceptions import AppError

    mine, theirs = new_client(), new_client()
    _inspect(mine, tmp_path)
    listed = mine.predict(api_name="/anomaly_recent")["choices"]
    assert len(listed) >= 1 and "1 query" in listed[0][0]
    iid = listed[0][1]
    assert all(c[1] != iid for c in theirs.predict(api_name="/anomaly_recent")["choices"])

    prompts, queries, engine, res, k, ithr, pthr, table, msg = mine.predict(iid, api_name="/anomaly_reopen")
    assert len(prompts) == 1 and [q.rsplit("/", 1)[1] for q in queries] == ["query.png"]
    assert (engine, res, k, ithr, pthr) == ("knn", "256", 0, 0.5, 0.5)  # an API caller's thresholds are stored
    assert table["data"][0][0] == "query.png" and f"inspection #{iid}" in msg
    with pytest.raises(AppError, match=f"Inspection #{iid} is not one of this browser session's inspections"):
        theirs.predict(iid, api_name="/anomaly_reopen")

    from backend.security import limiter

    limiter.reset()  # the two reopens above counted already
    monkeypatch.setenv("JOB_IMAGE_OPEN", "1,2")
    h = browser_like(app_url)
    h.cookies.update(dict(mine.cookies))
    codes = [h.post(app_url + "gradio_api/call/anomaly_reopen", json={"data": [iid]}).status_code for _ in range(3)]
    assert codes == [200, 200, 429]

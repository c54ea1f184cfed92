"""review17: an API-level attacker's review (raw HTTP against the launched app). Each test fails on the code
before the fix it names."""
from __future__ import annotations

import json

import httpx
import pytest
from PIL import Image

from tests.api.test_trust_limits import _upload, browser_like


def _fn_index(app_url: str, api_name: str) -> int:
    cfg = httpx.get(app_url + "config", timeout=30).json()
    return next(d["id"] for d in cfg["dependencies"] if d.get("api_name") == api_name)


def _join(h: httpx.Client, app_url: str, fn: int, data: list, session: str) -> str:
    """Join the queue by fn_index (private events have no /call route, but the queue takes any index)."""
    r = h.post(app_url + "gradio_api/queue/join", json={"data": data, "fn_index": fn, "session_hash": session,
                                                        "event_data": None, "trigger_id": None}, timeout=120)
    if r.status_code != 200:
        return f"HTTP {r.status_code}: {r.text}"
    with h.stream("GET", app_url + f"gradio_api/queue/data?session_hash={session}") as s:
        for line in s.iter_lines():
            if line.startswith("data:"):
                msg = json.loads(line[5:])
                if msg.get("msg") == "process_completed":
                    return json.dumps(msg.get("output"))
    return ""


def _image_args(name: str, fd: dict) -> list:
    if name == "editor_changed":
        return [{"background": fd, "layers": [], "composite": fd}, ""]
    return [fd]


@pytest.mark.parametrize("name", ["check_upload", "editor_changed", "on_upload"])
def test_private_image_opening_events_are_rate_limited_before_queueing(app_url, tmp_path, monkeypatch,
                                                                        fresh_limits, name):
    """The hidden image check, the Point-Bench editor's change handler and Photo 3D Edit's new-photo handler are
    private in the UI, but a script starts them by fn_index through /queue/join; each opened the client's image
    (up to 40 MP per call) with no rate limit and in its own concurrency slot. Now they are one job class
    ("image_open"): the third call in a minute (JOB_IMAGE_OPEN=1,2 here) is refused at the door with HTTP 429."""
    monkeypatch.setenv("JOB_IMAGE_OPEN", "1,2")
    photo = tmp_path / "p.png"
    Image.new("RGB", (64, 48), (200, 30, 30)).save(photo)
    h = browser_like(app_url)
    fn = _fn_index(app_url, name)
    for i in range(2):
        out = _join(h, app_url, fn, _image_args(name, _upload(h, app_url, str(photo))), f"r17-{name}-{i}")
        assert not out.startswith("HTTP"), out[:300]
    out = _join(h, app_url, fn, _image_args(name, _upload(h, app_url, str(photo))), f"r17-{name}-x")
    assert out.startswith("HTTP 429") and "Too many" in out, out[:300]


def test_image_opening_events_share_one_small_pool():
    """Before: each of these events had its own slot of 1, so a script ran them side by side (4 decodes at once)."""
    import app as app_module

    names = ("check_upload", "editor_changed", "on_upload")
    pools = {fn.fn.__name__: (fn.concurrency_id, fn.concurrency_limit)
             for fn in app_module.demo.fns.values() if getattr(fn.fn, "__name__", None) in names}
    assert set(pools) == set(names)
    assert {p[0] for p in pools.values()} == {"image_open"}

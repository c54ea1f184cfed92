"""review21: an API-level attacker's review, round 2 (raw HTTP against the launched app). Each test but the last
fails on the code before the fix it names; the last keeps every public endpoint classified."""
from __future__ import annotations

import base64
import io
import json
import os

import httpx
from PIL import Image

from tests.api.test_trust_limits import _join, browser_like


def _data_url(kb: int) -> str:
    side = int((kb * 1024 / 3) ** 0.5)  # random pixels: PNG cannot shrink them
    im = Image.frombytes("RGB", (side, side), os.urandom(side * side * 3))
    buf = io.BytesIO()
    im.save(buf, "PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def _fn_index_of(app_url: str, fn_name: str) -> int:
    cfg = httpx.get(app_url + "config", timeout=30).json()
    return next(d["id"] for d in cfg["dependencies"] if d.get("api_name") == fn_name)


def test_data_urls_sent_to_any_event_count_against_the_upload_budget(app_url, monkeypatch, fresh_limits):
    """A `data:` URL in an event's payload is written into Gradio's cache like an upload, but only the job classes
    looked at them: the Photo 3D Edit tab's private clear_selection event (no job class) took a 30 MB data URL per
    request at any rate, each kept on disk for 30 minutes, past UPLOAD_MB_PER_IP and every rate limit."""
    monkeypatch.setenv("UPLOAD_MB_PER_IP", "2")
    h = browser_like(app_url)
    fn = _fn_index_of(app_url, "clear_selection")
    for i in range(2):
        fd = {"url": _data_url(800), "path": None, "meta": {"_type": "gradio.FileData"}}
        out = _join(h, app_url, fn, [fd], f"r21-data-{i}")
        assert not out.startswith("HTTP"), out[:300]
    fd = {"url": _data_url(800), "path": None, "meta": {"_type": "gradio.FileData"}}
    out = _join(h, app_url, fn, [fd], "r21-data-2")
    assert out.startswith("HTTP 413") and "reached 2 MB in the last 30 minutes" in out, out[:300]


def test_the_text_cap_holds_for_events_outside_the_job_classes(app_url, fresh_limits):
    """Only job events had the 256 KB text cap; /vote (and every other event) took up to MAX_QUEUE_BODY (40 MB)."""
    h = browser_like(app_url)
    r = h.post(app_url + "gradio_api/call/vote", json={"data": ["x" * 300_000, "A"]})
    assert r.status_code == 413 and "limit is 256 KB" in r.text, r.text[:300]


def test_gradios_screen_recording_route_is_closed(app_url):
    """POST /gradio_api/process_recording took a 25 MB file from anyone (no session, outside UPLOAD_MB_PER_IP),
    wrote it to disk and ran ffmpeg on it where ffmpeg is installed; nothing in this app records the screen."""
    r = httpx.post(app_url + "gradio_api/process_recording", files={"video": ("v.mp4", os.urandom(50_000))},
                   timeout=60)
    assert r.status_code == 404 and "does not take screen recordings" in r.text, (r.status_code, r.text[:200])


# Public endpoints that run no model: each is cheap (a cached table, a lookup of the caller's own rows, an admin
# view behind ADMIN_TOKEN, a preset's slider values) or rate-limited in its handler (votes, the battles export, which
# is also built at most once a minute for everyone). Every other public endpoint must belong to a job class
# (a pool with a rate limit, checked at the door by apps.job_gate).
NO_MODEL = {
    "anomaly_example", "anomaly_example_dataset", "anomaly_export_corrections", "anomaly_load_pool", "anomaly_recent",
    "anomaly_save_pool", "anomaly_start_correction", "arena_admin", "arena_battles_export", "arena_exclude", "arena_import", "arena_restore",
    "arena_trust", "bench_accept", "bench_export", "bench_reject", "bench_review_list", "bench_review_preview",
    "bench_vs_arena", "edit3d_preset", "leaderboard", "leaderboard_view", "random_bench_image", "status", "svg_candidates",
    "svg_history", "svg_leaderboard", "svg_library_styles", "svg_vote", "vote",
}


def test_every_public_endpoint_is_a_gated_job_or_listed_as_model_free(app_url):
    from apps.job_gate import _ROUTES

    info = httpx.get(app_url + "gradio_api/info", timeout=30).json()
    names = {n.lstrip("/") for n in info["named_endpoints"]}
    gated = {n for n in names if n in _ROUTES["api"]}
    assert not gated & NO_MODEL, f"listed as model-free but in a job class: {sorted(gated & NO_MODEL)}"
    unclassified = names - gated - NO_MODEL
    assert not unclassified, (f"public endpoints in no job class and not in NO_MODEL: {sorted(unclassified)} "
                              "(give the event apps.common.job(kind), or list it here with a reason)")
    assert not NO_MODEL - names, f"NO_MODEL names endpoints that are gone: {sorted(NO_MODEL - names)}"
    json.dumps(sorted(gated))  # the table is printable for the report

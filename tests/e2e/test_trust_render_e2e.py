"""Stored HTML injection (issue 16 item 9) in a real browser: a Markdown image and a <form> in an annotation
instruction (admin review) and in a shared pool's name (any user's "Loaded pool" message) render as text. A local
HTTP server stands in for the attacker's tracking host: the browser must never request it."""
from __future__ import annotations

import http.server
import threading

import numpy as np
import pytest
from PIL import Image

pytestmark = pytest.mark.e2e
TOKEN = "test-admin-token"


@pytest.fixture
def tracker():
    hits: list[str] = []

    class H(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            hits.append(self.path)
            self.send_response(200)
            self.end_headers()

        do_POST = do_GET  # noqa: N815

        def log_message(self, *a):
            pass

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{srv.server_address[1]}", hits
    srv.shutdown()


def _wait_text(page, selector: str, needle: str, timeout=90_000):
    page.wait_for_function("([s, n]) => { const e = document.querySelector(s); return e && e.innerText.includes(n); }",
                           arg=[selector, needle], timeout=timeout)
    return page.locator(selector)


def test_annotation_instruction_renders_as_text_in_admin_review(page, app_url, tracker):
    from backend.arena import annotations as ann

    base, hits = tracker
    payload = (f"Point to the cup ![t]({base}/track.png) <form action=\"{base}/phish\"><input name=q>"
               f"<button>Go</button></form> [login]({base}/login)")
    mask = np.zeros((60, 80), bool)
    mask[20:40, 30:50] = True
    row = ann.save_annotation(Image.new("RGB", (80, 60), (200, 180, 150)), payload, "spatial", mask,
                              session_id="e2e-attacker")
    page.goto(app_url)
    page.get_by_role("tab", name="Point-Bench").click()
    page.get_by_text("Review and export (admin)").click()
    page.locator("#bench-token input").fill(TOKEN)
    page.locator("#bench-review-id input").fill(str(row["id"]))
    page.locator("#bench-review-preview").click()
    result = _wait_text(page, "#bench-review-result", "Point to the cup")
    assert "![t](" in result.inner_text() and "<form" in result.inner_text()  # shown as typed
    assert result.locator("img, form, input, a, button").count() == 0
    page.wait_for_timeout(1000)
    assert hits == []


def test_shared_pool_name_renders_as_text(page, app_url, tracker, tmp_path):
    from gradio_client import Client, handle_file

    base, hits = tracker
    img = tmp_path / "good.png"
    Image.new("RGB", (64, 64), (120, 120, 120)).save(img)
    name = f"![p]({base}/pool.png)"
    Client(app_url, verbose=False).predict([handle_file(img)], "widget", name, True, api_name="/anomaly_save_pool")
    page.goto(app_url)
    page.get_by_role("tab", name="Anomaly Inspector").click()
    page.get_by_text("Prompt pools (save / load by name)").click()
    dd = page.locator("#anomaly-pools input")
    dd.fill(f"widget / {name}")
    dd.press("Enter")
    page.get_by_role("button", name="Load pool as prompts").click()
    msg = _wait_text(page, "#anomaly-pool-msg", "Loaded pool")
    assert f"![p]({base}/pool.png)" in msg.inner_text()
    assert msg.locator("img, a").count() == 0
    page.wait_for_timeout(1000)
    assert hits == []

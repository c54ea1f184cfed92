"""Hostile inputs found by the review of the running app (review13), each through the real endpoint.

Complements test_trust_limits.py (bad files in every tab, bombs, zips, sizes) with what that file did not reach.
"""
from __future__ import annotations

import io
import random

import httpx
import pytest
from gradio_client import handle_file
from PIL import Image

from backend.security import limiter
from tests.api.test_trust_limits import _no_leak, raw_call

pytestmark = pytest.mark.api


@pytest.fixture(autouse=True)
def _fresh_limits():
    limiter.reset()
    yield
    limiter.reset()


@pytest.fixture(scope="module")
def truncated_jpeg(tmp_path_factory) -> str:
    buf = io.BytesIO()
    Image.effect_noise((256, 256), 60).convert("RGB").save(buf, "JPEG")
    p = tmp_path_factory.mktemp("hostile") / "half.jpg"
    p.write_bytes(buf.getvalue()[: len(buf.getvalue()) // 2])  # the header is sound, the pixels stop halfway
    return str(p)


def test_truncated_jpeg_in_the_annotation_editor_gets_our_sentence(app_url, truncated_jpeg):
    """The editor checked only the header, so Gradio's own decode failed with "Could not preprocess … imageeditor"."""
    f = handle_file(truncated_jpeg)
    editor = {"background": f, "layers": [], "composite": f}
    msg = raw_call(app_url, "/bench_annotate", [editor, "Point to it.", "spatial", None, None, None, "1,1,50,50",
                                                "", "", False])
    assert "event: complete" not in msg, msg[:300]
    assert "half.jpg" in msg and "corrupt or truncated" in msg and "(ref " in msg, msg
    _no_leak(msg)


def test_session_mint_cap_says_so_instead_of_asking_for_a_reload(app_url, monkeypatch):
    """Past SESSION_MINTS_PER_IP_HOUR the page is served without a cookie; the first action said "Reload the
    page", which cannot help (every reload is refused too)."""
    monkeypatch.setenv("SESSION_MINTS_PER_IP_HOUR", "1")
    monkeypatch.setenv("TRUSTED_PROXIES", "127.0.0.1")  # a client address of this test's own, via the proxy
    hdr = {"X-Forwarded-For": f"203.0.113.{random.randint(1, 250)}"}
    first = httpx.Client(timeout=60, headers=hdr)
    assert "pb_sid" in first.get(app_url).cookies
    second = httpx.Client(timeout=60, headers=hdr)
    assert "pb_sid" not in second.get(app_url).cookies
    msg = raw_call(app_url, "/svg_history", [], h=second)
    assert "Too many new browser sessions" in msg and "minute" in msg and "Reload" not in msg, msg

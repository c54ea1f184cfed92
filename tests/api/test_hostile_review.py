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

from tests.api.test_trust_limits import _no_leak, raw_call

pytestmark = [pytest.mark.api, pytest.mark.usefixtures("fresh_limits")]


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


SCENE = [55, 0.15, 0.35, "", "auto", "auto", "auto"]
COMP = [0.5, 0.0, True, 1.5]


@pytest.fixture(scope="module")
def photo(tmp_path_factory) -> str:
    p = tmp_path_factory.mktemp("hostile-photo") / "photo.png"
    Image.effect_noise((96, 64), 40).convert("RGB").save(p)
    return str(p)


@pytest.mark.parametrize("selection, box, expect", [
    ('{"points": []}', "1e308,-1e308,nan,inf", "The box must be 4 comma-separated numbers"),
    ("[" * 5000 + "]" * 5000, "", "not valid JSON"),
    ('{"points": [[1e308, -1e308, 1], [Infinity, 0, 1]]}', "", "outside any image"),
])
def test_edit3d_selection_with_absurd_numbers_gets_a_sentence(app_url, photo, selection, box, expect):
    """NaN/inf/1e308 in the box or the click points, and a 5000-deep JSON selection, reached the mask maths and
    answered "Something went wrong (ValueError/OverflowError/RecursionError)"."""
    msg = raw_call(app_url, "/edit3d_render", [handle_file(photo), selection, None, box, 0, 0, 0, 0, 0, 0, 0, 1,
                                               False, *SCENE, *COMP])
    assert expect in msg and "Something went wrong" not in msg, msg
    _no_leak(msg)


def test_svg_seed_beyond_64_bits_is_refused_not_silently_unsaved(app_url):
    """Seed 1e30 generated icons but the history row failed (SQLite INTEGER overflow): "Not saved: OverflowError"."""
    msg = raw_call(app_url, "/svg_generate", ["bell", "Installed set/variant", "phosphor/bold", None, "outline", 2.0,
                                              "round", "round", 2.0, 24, "currentColor", "svg-retrieval", 1, 1e30])
    # review15: Gradio's own "greater than maximum value" became our sentence with a ref id
    assert "event: complete" not in msg and "takes a number from 0 to 2147483647" in msg, msg[:400]


def test_counting_item_count_is_bounded(app_url, photo):
    f = handle_file(photo)
    editor = {"background": f, "layers": [], "composite": f}
    msg = raw_call(app_url, "/bench_annotate", [editor, "Count the dots", "counting", 10**12, None, None, "1,1,20,20",
                                                "", "", False])
    assert "at most 100 objects" in msg and "event: complete" not in msg, msg[:400]


def test_uninstalled_pointer_is_refused_not_scored_zero(client, app_url):
    """molmo-7b-d is listed from models.toml; without its weights, evaluating it "scored" 0.00 % on all 75 items,
    stored that as molmo-7b-d's result, and showed the server's models path in every row."""
    from backend.arena import bench_service as svc

    name = "molmo-7b-d"
    assert name in svc.pointers() and svc.pointer_unavailable(name)
    before = svc.bench_results().get(name)
    msg = raw_call(app_url, "/bench_evaluate", [name, None, False])
    assert "event: complete" not in msg and "cannot run on this server" in msg and "nothing was" in msg, msg[:500]
    assert "/work" not in msg and "/models/" not in msg, msg
    assert svc.bench_results().get(name) == before  # no 0 % row stored under the model's name
    labels = {c[1]: c[0] for c in next(p for p in (x.get("props", {}) for x in client.config["components"])
                                       if p.get("elem_id") == "bench-pointer")["choices"]}
    assert labels["lite0-cam"] == "lite0-cam" and labels[name].startswith(f"{name} (unavailable: ")


def test_leaderboard_api_refuses_unknown_categories(app_url):
    """/leaderboard (a gr.api) took any category, echoed it back and cached a report per distinct name: a few
    hundred 5 MB names were gigabytes of cache."""
    from backend.arena import service

    service.clear_cache()
    msg = raw_call(app_url, "/leaderboard", ["bt", "y" * 300_000])  # refused at the door since review21 (256 KB)
    assert msg.startswith("HTTP 413") and "limit is 256 KB" in msg and "yyyy" not in msg, msg[:300]
    msg = raw_call(app_url, "/leaderboard", ["bt", "y" * 5_000])
    assert "event: complete" not in msg and "Unknown category" in msg and "yyyy" not in msg, msg[:300]
    assert not service._cache
    assert "event: complete" in raw_call(app_url, "/leaderboard", ["elo", "Spatial"])


@pytest.mark.parametrize("args", [[["nested"] * 1000, "A"], ["0" * 32, {"a": 1}], ["0" * 32, ["A"] * 900]])
def test_vote_with_json_structures_gets_a_sentence(app_url, args):
    """A script sending a list or an object where the vote takes text hit "Something went wrong (TypeError)"."""
    msg = raw_call(app_url, "/vote", args)
    assert "Something went wrong" not in msg and "event: complete" not in msg, msg[:300]
    assert "Start a battle" in msg or "Unknown vote" in msg, msg[:300]
    assert len(msg) < 600, "the refusal echoes the whole input"

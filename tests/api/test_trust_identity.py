"""Issue 16 attacks on identity and ownership, run against the launched app (gradio_client and raw HTTP).

Each test reproduces an attack that worked before the server-issued session cookie, socket-based client IP and
per-session ownership checks."""
from __future__ import annotations

import random

import httpx
import pytest
from gradio_client import Client, handle_file
from gradio_client.exceptions import AppError
from PIL import Image

pytestmark = pytest.mark.api

STYLE = ["Installed set/variant", "phosphor/bold", None, "outline", 2.0, "round", "round", 2.0, 24, "currentColor"]


def _battle(c, photo):
    return c.predict(handle_file(photo), "Point to the red ball", api_name="/new_battle")[0]


def test_page_sets_a_signed_httponly_cookie(app_url):
    r = httpx.get(app_url)
    raw = r.headers.get("set-cookie", "")
    assert raw.startswith("pb_sid=") and "HttpOnly" in raw and "SameSite=Lax" in raw
    again = httpx.get(app_url, cookies={"pb_sid": r.cookies["pb_sid"]})
    assert "set-cookie" not in again.headers  # a valid cookie is kept, not replaced


def test_requests_without_a_server_signed_cookie_are_refused(app_url, fast_models, photo):
    c = Client(app_url, verbose=False)
    c.cookies.clear()  # a script that sends only its own session_hash
    with pytest.raises(AppError, match="session is missing"):
        _battle(c, photo)
    forged = Client(app_url, verbose=False, httpx_kwargs={"cookies": {"pb_sid": "attacker.chosen"}})
    with pytest.raises(AppError, match="session is missing"):
        _battle(forged, photo)


def test_fresh_session_hash_keeps_the_cookie_identity_and_its_cap(app_url, fast_models, photo, monkeypatch):
    """A new session_hash per request with the same browser cookie is still the same session (cap 2)."""
    monkeypatch.setenv("ARENA_RATE_LIMIT", "2")
    monkeypatch.setenv("TRUSTED_PROXIES", "127.0.0.1")  # a unique client address for this test, via the proxy
    hdr = {"X-Forwarded-For": f"198.51.100.{random.randint(1, 250)}"}
    first = Client(app_url, verbose=False, headers=hdr)
    cookies = dict(first.cookies)
    results = []
    for _ in range(3):
        c = Client(app_url, verbose=False, headers=hdr, httpx_kwargs={"cookies": dict(cookies)})
        try:
            results.append(_battle(c, photo))
        except AppError as exc:
            results.append(str(exc))
    assert all(len(r) == 32 for r in results[:2]) and "Too many battles" in results[2]


def test_ballot_stuffing_script_cannot_exceed_the_ip_cap(app_url, fast_models, photo, monkeypatch):
    """Fresh session and a random X-Forwarded-For per battle (the issue's script): the forged header is ignored
    without TRUSTED_PROXIES, so the per-IP cap (4 x 2) holds."""
    monkeypatch.setenv("ARENA_RATE_LIMIT", "2")
    monkeypatch.delenv("TRUSTED_PROXIES", raising=False)
    ok, refused = 0, 0
    for _ in range(12):
        xff = ".".join(str(random.randint(1, 254)) for _ in range(4))
        c = Client(app_url, verbose=False, headers={"X-Forwarded-For": xff})
        try:
            bid = _battle(c, photo)
            c.predict(bid, "A", api_name="/vote")
            ok += 1
        except AppError as exc:
            assert "Too many battles" in str(exc)
            refused += 1
    assert ok <= 8 and refused >= 4


def test_foreign_session_cannot_load_a_battle_image(new_client, fast_models, photo):
    owner, other = new_client(), new_client()
    bid = _battle(owner, photo)
    with pytest.raises(AppError, match="no battle with that id that you started"):
        other.predict(bid, api_name="/bench_load_battle")
    editor, instruction, *_ = owner.predict(bid, api_name="/bench_load_battle")
    assert editor["background"] and "red ball" in instruction


def test_prompt_pools_are_private_until_shared(new_client, tmp_path):
    img = tmp_path / "good.png"
    Image.new("RGB", (64, 64), (120, 120, 120)).save(img)
    owner, other = new_client(), new_client()
    name = f"pool {random.randint(0, 10**9)}"
    owner.predict([handle_file(img)], "widget", name, False, api_name="/anomaly_save_pool")
    with pytest.raises(AppError, match="no prompt pool by that name"):
        other.predict(f"widget / {name}", api_name="/anomaly_load_pool")
    paths, _ = owner.predict(f"widget / {name}", api_name="/anomaly_load_pool")
    assert len(paths) == 1
    _, msg = owner.predict([handle_file(img)], "widget", name, True, api_name="/anomaly_save_pool")
    assert "shared with everyone" in msg
    paths, _ = other.predict(f"widget / {name}", api_name="/anomaly_load_pool")
    assert len(paths) == 1


def test_everyones_corrections_need_the_admin_token(new_client):
    c = new_client()
    with pytest.raises(AppError, match="needs the admin token"):
        c.predict("", False, "", api_name="/anomaly_export_corrections")
    with pytest.raises(AppError, match="needs the admin token"):
        c.predict("", False, "wrong", api_name="/anomaly_export_corrections")


def _history_ids(c) -> list[int]:
    hist = c.predict(api_name="/svg_history")
    return [int(row[0]) for row in hist["data"]]


def test_svg_candidates_and_votes_belong_to_their_session(new_client):
    owner, other = new_client(), new_client()
    owner.predict("bell", *STYLE, "svg-retrieval", "svg-pathdiffusion", 0, api_name="/svg_compare")
    g1 = _history_ids(owner)[0]
    assert owner.predict(g1, api_name="/svg_candidates")
    with pytest.raises(AppError, match="No stored generation"):
        other.predict(g1, api_name="/svg_candidates")
    a, b = (c["id"] for c in owner.predict(g1, api_name="/svg_candidates"))
    with pytest.raises(AppError, match="you generated"):
        other.predict(a, b, "model_a", api_name="/svg_vote")
    assert "saved" in owner.predict(a, b, "model_a", api_name="/svg_vote")
    with pytest.raises(AppError, match="already has a vote"):
        owner.predict(b, a, "model_b", api_name="/svg_vote")


def test_svg_votes_are_rate_limited(new_client, monkeypatch):
    monkeypatch.setenv("SVG_VOTES_PER_MIN", "2")
    c = new_client()
    errors = []
    for i in range(3):
        try:
            c.predict(10**9 + i, 10**9 + i + 1, "tie", api_name="/svg_vote")
        except AppError as exc:
            errors.append(str(exc))
    assert "Too many svg_vote" in errors[-1]


def test_non_ascii_admin_token_is_just_wrong(new_client):
    c = new_client()
    with pytest.raises(AppError, match="Wrong admin token"):
        c.predict("tökén-✓", api_name="/arena_admin")


def test_scripted_sessions_are_flagged_and_can_be_excluded(app_url, fast_models, photo, monkeypatch):
    """Many fresh sessions from one network (behind the trusted proxy) voting at once are flagged in the admin
    view; excluding them keeps the votes stored but out of the ratings."""
    import os

    monkeypatch.setenv("TRUSTED_PROXIES", "127.0.0.1")
    net = f"203.0.{random.randint(0, 250)}"
    for k in range(10):
        c = Client(app_url, verbose=False, headers={"X-Forwarded-For": f"{net}.{k + 1}"})
        c.predict(_battle(c, photo), "A", api_name="/vote")
    admin = Client(app_url, verbose=False)
    token = os.environ["ADMIN_TOKEN"]
    md, signals, gold, ranks = admin.predict(token, api_name="/arena_trust")
    cols = signals["headers"]
    rows = [dict(zip(cols, r, strict=True)) for r in signals["data"]]
    burst = [r for r in rows if "new sessions from its network" in (r["reasons"] or "")]
    assert len(burst) >= 10 and all(r["flagged"] for r in burst)
    assert "Scripted-voting signals" in md and ranks["headers"][:2] == ["model", "rating"]
    msg = admin.predict(token, ",".join(r["judge"] for r in burst), "test burst", api_name="/arena_exclude")
    assert f"of {len(burst)} judge(s) excluded" in msg
    md2, signals2, _, _ = admin.predict(token, api_name="/arena_trust")
    left = {r[0] for r in signals2["data"]}
    assert not ({r["judge"] for r in burst} & left)  # excluded votes no longer feed the signals or the ratings
    from backend.arena import service
    from storage.db import get_storage
    from storage.repos import arena as arena_repo

    every = get_storage().read(lambda s: arena_repo.voted_battles(s, include_excluded=True))
    assert sum(v["excluded"] for v in every) >= 10  # still stored
    service.clear_cache()
    with pytest.raises(AppError, match="Wrong admin token"):
        Client(app_url, verbose=False).predict("nope", "", "", api_name="/arena_exclude")

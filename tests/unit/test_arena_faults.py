"""Broken contestants: a hung endpoint, one that answers garbage, and one that is down.

Each makes the battle invalid with the reason (a wrong answer would not), the call returns promptly, and
matchmaking leaves the contestant out until its cool-down ends and a fresh health probe passes.
"""
from __future__ import annotations

import http.server
import subprocess
import sys
import threading
import time

import httpx
import pytest
from PIL import Image

import backend.registry as registry_mod
from backend.arena import service as arena
from backend.pointing import service as ps
from backend.registry import ModelEntry, Registry
from backend.sessions import record_session
from tests.conftest import free_port

IMG = Image.new("RGB", (320, 240), (200, 60, 60))


class Garbage(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # /v1/models answers, so the endpoint looks healthy until it is used
        self._send(b'{"data": [{"id": "garbage"}]}')

    def do_POST(self):
        self.rfile.read(int(self.headers.get("content-length", 0)))
        self._send(b"<html>502 upstream hiccup</html>")

    def _send(self, body: bytes):
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *a):
        pass


def _entry(name, url, **kw):
    opts = {"base_url": url, "model": name, "family": "pixel-json", "timeout_s": 30, "max_retries": 0}
    opts.update(kw)
    return ModelEntry(name=name, capability="pointing", kind="remote", factory="backend.pointing.remote:OpenAIPointer",
                      label=name, options=opts)


@pytest.fixture
def endpoints():
    port = free_port()
    slow = subprocess.Popen([sys.executable, "-m", "backend.pointing.cli", "serve", "--pointer", "center", "--port", str(port),
                             "--delay-s", "8"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    gport = free_port()
    garbage = http.server.ThreadingHTTPServer(("127.0.0.1", gport), Garbage)
    threading.Thread(target=garbage.serve_forever, daemon=True).start()
    slow_url = f"http://127.0.0.1:{port}/v1"
    t0 = time.time()
    while True:
        try:
            if httpx.get(slow_url + "/models", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            if time.time() - t0 > 120:
                raise
            time.sleep(0.3)
    yield {"slow": slow_url, "garbage": f"http://127.0.0.1:{gport}/v1", "down": f"http://127.0.0.1:{free_port()}/v1"}
    slow.kill()
    garbage.shutdown()


@pytest.fixture
def faulty_registry(endpoints, monkeypatch):
    base = {e.name: e for e in registry_mod.get_registry().entries("pointing")}
    reg = Registry([base["center"], _entry("slow-ep", endpoints["slow"]), _entry("garbage-ep", endpoints["garbage"]),
                    _entry("down-ep", endpoints["down"])], device="cpu")
    monkeypatch.setattr(registry_mod, "_registry", reg)
    monkeypatch.setenv("ARENA_TIMEOUT_S", "2")
    monkeypatch.setenv("ARENA_RATE_LIMIT", "1000")
    monkeypatch.setenv("POINTER_COOLDOWN_S", "3")
    ps.clear_health_cache()
    with ps._health_lock:
        ps._tripped.clear()
    record_session("faults-session", client_ip="127.0.0.1", user_agent="pytest")
    yield reg
    ps.clear_health_cache()
    with ps._health_lock:
        ps._tripped.clear()


def _battle(pair, monkeypatch):
    monkeypatch.setenv("ARENA_MODELS", ",".join(pair))
    t0 = time.time()
    b = arena.start_battle(IMG, "Point to the red area", session_id="faults-session", seed=1)
    return b, time.time() - t0


def _stored(battle_id):
    from storage.db import get_storage
    from storage.repos import arena as repo

    return get_storage().read(lambda s: repo.get_battle(s, battle_id))


def _available(name):
    return {c["name"]: c for c in ps.contestants()}[name]


def test_down_endpoint_is_never_matched(faulty_registry, monkeypatch):
    down = _available("down-ep")
    assert not down["available"] and "unreachable" in down["why"]
    monkeypatch.setenv("ARENA_MODELS", "center,down-ep")
    with pytest.raises(ValueError, match="at least two"):
        arena.start_battle(IMG, "Point to the red area", session_id="faults-session", seed=1)


def test_hung_endpoint_invalidates_battle_then_sits_out(faulty_registry, monkeypatch):
    b, took = _battle(["center", "slow-ep"], monkeypatch)
    assert took < 7  # the 8 s hang did not block the app: the timeout (2 s) did its job
    row = _stored(b["battle_id"])
    assert row["invalid"]
    err = row["error_a"] if row["model_a"] == "slow-ep" else row["error_b"]
    assert "timed out" in err
    assert "failed" in (b["badge_a"] + b["badge_b"])
    slow = _available("slow-ep")
    assert not slow["available"] and "timed out" in slow["why"]
    with pytest.raises(ValueError, match="at least two"):  # matchmaking leaves it out during the cool-down
        _battle(["center", "slow-ep"], monkeypatch)
    time.sleep(7)  # the cool-down (3 s) is over and the hung request has finished on the server
    again = _available("slow-ep")
    assert again["available"], again["why"]  # a fresh /v1/models probe passed, so it may play again


def test_garbage_endpoint_invalidates_battle_with_reason(faulty_registry, monkeypatch):
    b, _ = _battle(["center", "garbage-ep"], monkeypatch)
    row = _stored(b["battle_id"])
    assert row["invalid"]
    err = row["error_a"] if row["model_a"] == "garbage-ep" else row["error_b"]
    assert "not JSON" in err
    assert not _available("garbage-ep")["available"]


def test_wrong_answer_is_not_a_system_failure(faulty_registry, monkeypatch):
    from backend.pointing.types import PointResult, is_system_failure

    assert not is_system_failure(PointResult(error="no coordinates found", error_kind="parse"))
    assert is_system_failure(PointResult(error="timed out after 2 s", error_kind="timeout"))
    assert is_system_failure(PointResult(error="boom"))  # unknown kind counts as the system's failure

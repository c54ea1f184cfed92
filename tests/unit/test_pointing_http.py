"""The OpenAI-compatible adapter against real `backend.pointing.serve` processes (no HTTP mocks)."""
from __future__ import annotations

import os
import subprocess
import sys
import time

import httpx
import pytest
from PIL import Image

from backend.pointing import service
from backend.pointing.parsers import smart_resize
from backend.pointing.remote import OpenAIPointer
from backend.registry import ModelEntry, Registry
from tests.conftest import free_port

KEY_ENV = "POINT_TEST_KEY"
os.environ[KEY_ENV] = "sk-test-123"


def _start(*args) -> tuple[subprocess.Popen, str]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "backend.pointing.cli", "serve", "--port", str(port), *args],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=os.environ.copy())
    return proc, f"http://127.0.0.1:{port}/v1"


def _wait(proc, url, headers=None, limit=120):
    t0 = time.time()
    while time.time() - t0 < limit:
        if proc.poll() is not None:
            raise RuntimeError(proc.stderr.read().decode()[-2000:])
        try:
            if httpx.get(url + "/models", headers=headers or {}, timeout=1).status_code in (200, 401):
                return
        except httpx.HTTPError:
            time.sleep(0.3)
    raise RuntimeError("server did not start")


@pytest.fixture(scope="module")
def servers():
    specs = {
        "pixel": ("--pointer", "center", "--api-key-env", KEY_ENV),
        "qwen": ("--pointer", "center", "--family", "qwen2.5-vl", "--model-id", "Qwen/Qwen2.5-VL-7B-Instruct"),
        "gemini": ("--pointer", "random", "--family", "gemini"),
        "flaky": ("--pointer", "center", "--fail-first", "3"),
        "slow": ("--pointer", "center", "--delay-s", "4"),
    }
    started = {k: _start(*v) for k, v in specs.items()}  # start in parallel, then wait
    try:
        for proc, url in started.values():
            _wait(proc, url, {"Authorization": f"Bearer {os.environ[KEY_ENV]}"})
        yield {k: url for k, (_, url) in started.items()}
    finally:
        for proc, _ in started.values():
            proc.terminate()
        for proc, _ in started.values():
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()


def entry(name, url, **opts) -> ModelEntry:
    base = {"base_url": url, "model": name, "family": "pixel-json", "timeout_s": 20, "max_retries": 2, "backoff_s": 0.05}
    base.update(opts)
    return ModelEntry(name=name, capability="pointing", kind="remote", factory="backend.pointing.remote:OpenAIPointer",
                      label=f"test {name}", options=base)


IMG = Image.new("RGB", (640, 480), (120, 30, 30))


def test_pixel_family_roundtrip_with_api_key(servers):
    p = OpenAIPointer(entry("center", servers["pixel"], api_key_env=KEY_ENV))
    res = p.point(IMG, "Point to the red square")
    assert res.parse_ok, res.error
    assert res.points[0] == pytest.approx((320, 240), abs=0.2)
    assert res.raw_text.startswith("[{") and res.backend_info["kind"] == "remote"
    assert res.backend_info["prompt_template_version"] == "pointarena-1"


def test_missing_api_key_is_a_clear_error(servers, monkeypatch):
    p = OpenAIPointer(entry("center", servers["pixel"], api_key_env="NOT_SET_ANYWHERE"))
    res = p.point(IMG, "Point to the red square")
    assert not res.parse_ok and "401" in res.error
    ok, why = OpenAIPointer.check_available(entry("center", servers["pixel"], api_key_env="NOT_SET_ANYWHERE"))
    assert not ok and "NOT_SET_ANYWHERE" in why


def test_qwen_family_is_rescaled_from_smart_resized_pixels(servers):
    img = Image.new("RGB", (2000, 1000))
    p = OpenAIPointer(entry("Qwen/Qwen2.5-VL-7B-Instruct", servers["qwen"], family="qwen2.5-vl"))
    res = p.point(img, "Point to the middle")
    assert res.parse_ok, res.error
    rh, rw = smart_resize(1000, 2000)
    assert (rh, rw) != (1000, 2000)
    assert res.points[0] == pytest.approx((1000, 500), abs=2000 / rw)  # one resized pixel of rounding


def test_gemini_family_counting_keeps_several_points_downscaled_image(servers):
    img = Image.new("RGB", (1200, 900))
    p = OpenAIPointer(entry("random", servers["gemini"], family="gemini", image_max_side=600))
    res = p.point(img, "Point to all three coins")
    assert res.parse_ok and len(res.points) == 3
    assert all(0 <= x < 1200 and 0 <= y < 900 for x, y in res.points)
    assert any(x > 600 or y > 450 for x, y in res.points)  # mapped back to the original size


def test_500_is_retried_then_reported(servers):
    url = servers["flaky"]  # answers 500 to its first 3 chat requests
    no_retry = OpenAIPointer(entry("center", url, max_retries=0))
    r1 = no_retry.point(IMG, "Point to it")
    assert not r1.parse_ok and "HTTP 500" in r1.error and "1 attempt" in r1.error
    r2 = OpenAIPointer(entry("center", url, max_retries=3)).point(IMG, "Point to it")  # 2 more failures, then ok
    assert r2.parse_ok, r2.error


def test_hung_endpoint_times_out(servers):
    p = OpenAIPointer(entry("center", servers["slow"], timeout_s=1, max_retries=3))
    t0 = time.perf_counter()
    res = p.point(IMG, "Point to it")
    assert not res.parse_ok and "did not answer within 1 s" in res.error
    assert time.perf_counter() - t0 < 3.5  # a timeout is not retried


def test_server_down():
    url = f"http://127.0.0.1:{free_port()}/v1"
    res = OpenAIPointer(entry("center", url, max_retries=1)).point(IMG, "Point to it")
    assert not res.parse_ok and "unreachable" in res.error and "2 attempts" in res.error
    service.clear_health_cache()
    ok, why = service.remote_health(url)
    assert not ok and "unreachable" in why


def test_bad_instructions_raise_value_error(servers):
    p = OpenAIPointer(entry("center", servers["pixel"], api_key_env=KEY_ENV))
    with pytest.raises(ValueError, match="empty"):
        p.point(IMG, "   ")
    with pytest.raises(ValueError, match="too long"):
        p.point(IMG, "x" * 301)


def test_server_rejects_bad_requests(servers):
    url = servers["qwen"] + "/chat/completions"
    r = httpx.post(url, json={"model": "m", "messages": [{"role": "user", "content": "Point to: cat"}]}, timeout=10)
    assert r.status_code == 400 and "no image" in r.json()["error"]["message"]
    bad = {"type": "image_url", "image_url": {"url": "data:image/png;base64,aGVsbG8="}}
    r = httpx.post(url, json={"model": "m", "messages": [{"role": "user", "content": [bad]}]}, timeout=10)
    assert r.status_code == 400 and "bad image" in r.json()["error"]["message"]
    remote = {"type": "image_url", "image_url": {"url": "http://example.com/a.png"}}
    r = httpx.post(url, json={"model": "m", "messages": [{"role": "user", "content": [remote]}]}, timeout=10)
    assert r.status_code == 400 and "data: URLs" in r.json()["error"]["message"]


def test_service_health_contestants_and_timeout(servers, monkeypatch):
    reg = Registry([
        entry("fast", servers["qwen"], family="qwen2.5-vl"),
        entry("hung", servers["slow"], timeout_s=30),
        entry("down", f"http://127.0.0.1:{free_port()}/v1"),
        ModelEntry("center", "pointing", "embedded", "backend.pointing.baselines:CenterPointer", options={"weight": 0.5}),
        ModelEntry("off", "pointing", "embedded", "backend.pointing.baselines:CenterPointer", enabled=False),
    ])
    monkeypatch.setattr(service, "get_registry", lambda: reg)
    service.clear_health_cache()
    rows = {r["name"]: r for r in service.contestants()}
    assert set(rows) == {"fast", "hung", "down", "center"}
    assert rows["fast"]["available"] and rows["center"]["available"] and rows["center"]["weight"] == 0.5
    assert not rows["down"]["available"] and "unreachable" in rows["down"]["why"]
    assert service.health("off") == (False, "disabled in config")
    ok = service.run_pointer("fast", IMG, "Point to the middle")
    assert ok.parse_ok
    res = service.run_pointer("hung", IMG, "Point to the middle", timeout_s=0.5)
    assert not res.parse_ok and res.error == "timed out after 0.5 s"
    missing = service.run_pointer("nope", IMG, "Point to the middle")
    assert not missing.parse_ok and "No model named" in missing.error
    with pytest.raises(ValueError):
        service.run_pointer("center", IMG, "")

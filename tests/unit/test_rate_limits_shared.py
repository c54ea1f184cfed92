"""On PostgreSQL the per-session / per-IP rate limits of model-running endpoints hold for all replicas together.

They lived in each process's memory: with N replicas (bench/results/vote_path_4_http_postgresql_2replicas.json) a
client got N × RATE_LIMIT_PER_MIN model calls a minute, N × each JOB_<KIND> rate.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from backend import security
from backend.config import reset_settings
from backend.security import RateLimited, check_rate
from storage.db import get_storage, reset_storage
from storage.identity import reset_salt

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def on_postgresql(pg_url, tmp_path, monkeypatch):
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("DATABASE_URL", pg_url)
    monkeypatch.setenv("IP_SALT", "replicas-share-this")
    reset_settings()
    reset_storage()
    reset_salt()  # the salt is cached per process: both "replicas" must hash addresses with the shared IP_SALT
    security.limiter.reset()
    monkeypatch.setattr(security, "_shared_down_until", [0.0], raising=False)
    get_storage()  # the app opens its storage at start-up
    yield
    security.limiter.reset()
    reset_storage()
    reset_settings()
    reset_salt()


def _other_replica(calls: int) -> None:
    code = ("from storage.db import get_storage\nfrom backend.security import check_rate\nget_storage()\n"
            f"for _ in range({calls}):\n    check_rate('job:svg', 'sess-a', '203.0.113.7', 3)\n")
    subprocess.run([sys.executable, "-c", code], check=True, env=dict(os.environ), timeout=120, cwd=REPO)


def test_calls_made_on_another_replica_count_here(on_postgresql):
    _other_replica(3)
    with pytest.raises(RateLimited, match=r"Too many job:svg requests; please wait \d+ s"):
        check_rate("job:svg", "sess-a", "203.0.113.7", 3)
    check_rate("job:svg", "sess-b", "203.0.113.8", 3)  # someone else is not affected
    check_rate("job:edit3d", "sess-a", "203.0.113.7", 3)  # nor another action


def test_one_address_across_sessions_and_replicas(on_postgresql):
    _other_replica(3)  # sess-a used its 3; the address 3 of its 12
    for i in range(9):
        check_rate("job:svg", f"sess-{i}", "203.0.113.7", 3)
    with pytest.raises(RateLimited):
        check_rate("job:svg", "sess-new", "203.0.113.7", 3)


def test_a_dead_database_falls_back_to_this_process(on_postgresql, monkeypatch):
    from storage.db import StorageError

    tries = []

    def down(*_a, **_k):
        tries.append(1)
        raise StorageError("The database cannot be reached right now; nothing was saved.")

    monkeypatch.setattr(security.shared_rates, "take", down)
    for _ in range(3):
        check_rate("job:svg", "sess-z", None, 3)
    with pytest.raises(RateLimited):
        check_rate("job:svg", "sess-z", None, 3)
    # one time-out, not one per model call: the next SHARED_PAUSE_S count in memory without asking the database
    assert len(tries) == 1
    monkeypatch.setattr(security, "_shared_down_until", [0.0], raising=False)
    check_rate("job:svg", "sess-y", None, 3)
    assert len(tries) == 2


def test_caps_kept_in_memory_are_each_replicas_share(monkeypatch):
    """Uploads per IP and new session cookies per IP stay in each process's memory (a database write per cookieless
    GET would hand every bot a write amplifier): with REPLICAS=N each process allows 1/N of the cap.

    The middleware runs on a thread of its own: in the full suite the browser tests' Playwright (sync API) keeps an
    event loop running on the main thread, where asyncio.run() refuses to start."""
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    from apps.upload_gate import UploadGateMiddleware
    from backend.identity import mint_limiter

    monkeypatch.setenv("REPLICAS", "2")
    monkeypatch.setenv("SESSION_MINTS_PER_IP_HOUR", "4")
    assert [mint_limiter.allow("203.0.113.9") for _ in range(3)] == [True, True, False]

    monkeypatch.setenv("UPLOAD_MB_PER_IP", "2")
    sent: list[dict] = []

    async def inner(scope, receive, send):
        await send({"type": "http.response.start", "status": 200, "headers": []})

    async def send(msg):
        sent.append(msg)

    scope = {"type": "http", "method": "POST", "path": "/gradio_api/upload", "client": ("203.0.113.9", 1),
             "headers": [(b"content-length", str(3 * 2**19).encode())]}  # 1.5 MB: over this replica's 1 MB
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, UploadGateMiddleware(inner)(scope, None, send)).result()
    assert sent[0]["status"] == 413 and b"reached 1 MB" in sent[1]["body"], sent

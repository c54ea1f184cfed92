"""A PostgreSQL server that stops answering (its processes SIGSTOPped: what a hung host or a cut network looks like
to the client) must not hold a request forever: a read and a write each fail within the configured limit with the
sentence for a dead database, and both work again once the server runs, without a restart.

Runs a throw-away cluster of its own under /tmp on a free port (never the shared dev or CI server); skipped only where
the PostgreSQL server binaries are absent (REQUIRE_POSTGRES=1, as in CI, turns that skip into a failure).
"""
from __future__ import annotations

import glob
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import pytest

from storage.db import StorageError
from storage.repos.sessions import count_sessions, touch_session

pytestmark = pytest.mark.postgres


def _pg_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: [int(x) for x in Path(p).parent.name.split(".")
                                                                          if x.isdigit()])
    if found:
        return Path(found[-1])
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_owner(cmd: list[str]) -> None:
    """Run a server tool as `postgres` when we are root (initdb refuses root), else as ourselves."""
    if os.geteuid() == 0:
        cmd = ["su", "postgres", "-s", "/bin/sh", "-c", " ".join(f"'{c}'" for c in cmd)]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=120)


def _cluster_pids(data: Path) -> list[int]:
    """The postmaster and every process it started (backends, checkpointer, ...)."""
    master = int((data / "postmaster.pid").read_text().splitlines()[0])
    kids = []
    for stat in glob.glob("/proc/[0-9]*/stat"):
        try:
            fields = Path(stat).read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == master:
            kids.append(int(Path(stat).parent.name))
    return [master, *kids]


@pytest.fixture(scope="module")
def own_cluster():
    pg_bin = _pg_bin()
    if pg_bin is None or not (pg_bin / "pg_ctl").exists():
        if os.environ.get("REQUIRE_POSTGRES") == "1":
            pytest.fail("REQUIRE_POSTGRES=1 but the PostgreSQL server binaries (initdb, pg_ctl) are absent")
        pytest.skip("PostgreSQL server binaries (initdb, pg_ctl) are absent")
    root = Path(tempfile.mkdtemp(prefix="pgstopped-", dir="/tmp"))
    data, port = root / "data", _free_port()
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
    _as_owner([str(pg_bin / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres"])
    _as_owner([str(pg_bin / "pg_ctl"), "-D", str(data), "-l", str(root / "log"), "-w", "-o",
               f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off", "start"])
    stopped: list[int] = []

    def stop():
        for pid in _cluster_pids(data):
            os.kill(pid, signal.SIGSTOP)
            stopped.append(pid)

    def cont():
        while stopped:
            try:
                os.kill(stopped.pop(0), signal.SIGCONT)
            except ProcessLookupError:
                pass

    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres", stop, cont
    finally:
        cont()
        try:
            _as_owner([str(pg_bin / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"])
        finally:
            shutil.rmtree(root, ignore_errors=True)


def _timed(fn, limit_s: float):
    """(seconds taken, result or exception), or fail when `fn` is still waiting after `limit_s`."""
    out: list = []

    def run():
        t0 = time.monotonic()
        try:
            r = fn()
        except Exception as exc:  # noqa: BLE001 - the exception is the result under test
            r = exc
        out.append((time.monotonic() - t0, r))

    t = threading.Thread(target=run, daemon=True)
    t.start()
    t.join(limit_s)
    assert out, f"still waiting for the stopped database after {limit_s} s"
    return out[0]


def test_stopped_server_fails_read_and_write_in_time_then_recovers(own_cluster, storage_for, monkeypatch):
    url, stop, cont = own_cluster
    monkeypatch.setenv("DB_STATEMENT_TIMEOUT_S", "1")  # server cancel after 1 s; silent server dropped 1 s later
    monkeypatch.setenv("DB_WRITE_DEADLINE_S", "2")
    st = storage_for(url)
    st.write(lambda s: touch_session(s, "before", client_ip="1.2.3.4"))
    assert st.read(count_sessions) == 1  # a pooled connection now sits idle, as in a running app

    stop()
    try:
        _fails_in_time_while_stopped(st)
    finally:
        cont()
    took, res = _timed(lambda: st.write(lambda s: touch_session(s, "after")), 20)
    assert not isinstance(res, Exception), res
    assert st.read(count_sessions) == 2 and st.health() is None  # no restart, nothing lost but the refused write


def _fails_in_time_while_stopped(st) -> None:
    took, res = _timed(lambda: st.read(count_sessions), 20)
    assert isinstance(res, StorageError), res
    assert str(res).startswith("The database cannot be reached right now; nothing was loaded"), str(res)
    assert took < 10, took
    took, res = _timed(lambda: st.write(lambda s: touch_session(s, "during")), 20)
    assert isinstance(res, StorageError), res
    assert str(res).startswith("The database cannot be reached right now; nothing was saved"), str(res)
    assert took < 10, took
    assert st.health() is not None  # the Status tab's line says so too


def test_statement_timeout_is_set_and_a_long_read_is_cancelled(own_cluster, storage_for, monkeypatch):
    """A live server cancels a statement past DB_STATEMENT_TIMEOUT_S itself (the connection stays usable)."""
    from sqlalchemy import text

    url, _, _ = own_cluster
    monkeypatch.setenv("DB_STATEMENT_TIMEOUT_S", "1")
    st = storage_for(url)
    assert st.read(lambda s: s.execute(text("SHOW statement_timeout")).scalar()) == "1s"
    took, res = _timed(lambda: st.read(lambda s: s.execute(text("SELECT pg_sleep(30)")).scalar()), 20)
    assert isinstance(res, StorageError) and took < 5, (took, res)
    assert st.read(lambda s: s.execute(text("SELECT 1")).scalar()) == 1


def test_every_pooled_connection_busy_is_a_sentence_in_time(pg_url, storage_for, monkeypatch):
    """All 30 pooled connections held (by hung requests): the next read waited pool_timeout (30 s) and then failed
    with sqlalchemy's TimeoutError ("Something went wrong"); now it is a storage sentence after the answer limit."""
    monkeypatch.setenv("DB_STATEMENT_TIMEOUT_S", "1")
    st = storage_for(pg_url)
    held = [st.engine.connect() for _ in range(st.engine.pool.size() + st.engine.pool._max_overflow)]  # noqa: SLF001
    try:
        took, res = _timed(lambda: st.read(count_sessions), 20)
        assert isinstance(res, StorageError), res
        assert str(res).startswith("The database is busy (every connection is in use)"), str(res)
        assert took < 5, took
        took, res = _timed(lambda: st.write(lambda s: touch_session(s, "x")), 20)
        assert isinstance(res, StorageError) and "nothing was saved" in str(res), res
    finally:
        for c in held:
            c.close()
    assert st.read(count_sessions) == 0

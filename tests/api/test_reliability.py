"""Reliability under load and crashes, against the real app in a child process (bench/load.py harness)."""
import tempfile
import threading
import time
from pathlib import Path

import pytest

from bench.load import AppProcess, Log, audit, client_loop, run, sample_image

pytestmark = [pytest.mark.api, pytest.mark.slow]


def test_reduced_load_sqlite():
    res = run(clients=4, votes=4, database_url=None)
    assert res["acked"] == 16 and res["errors"] == 0, res["error_samples"]
    assert res["lost"] == res["duplicate_votes"] == res["orphan_votes"] == res["mismatched"] == 0
    assert res["sqlite_integrity"] == "ok" and res["ratings_equal"]


@pytest.mark.postgres
def test_reduced_load_postgres(pg_url):
    res = run(clients=4, votes=4, database_url=pg_url)
    assert res["acked"] == 16 and res["errors"] == 0, res["error_samples"]
    assert res["lost"] == res["duplicate_votes"] == res["orphan_votes"] == 0 and res["ratings_equal"]


def test_kill9_during_votes_loses_nothing_acknowledged():
    tmp = Path(tempfile.mkdtemp(prefix="kill9-"))
    data = tmp / "data"
    data.mkdir()
    app = AppProcess(data).start()
    image = sample_image(tmp)
    log, stop = Log(), threading.Event()
    threads = [threading.Thread(target=client_loop, args=(app.url, image, 10_000, i, log, stop)) for i in range(3)]
    [t.start() for t in threads]
    t0 = time.time()
    while len(log.acked) < 6 and time.time() - t0 < 240:
        time.sleep(0.05)
    app.kill9()  # SIGKILL in the middle of the stream
    stop.set()
    [t.join(timeout=120) for t in threads]
    acked_before = dict(log.acked)
    assert len(acked_before) >= 6
    app.start()  # restart on the same DATA_DIR: migrations run, WAL is recovered
    try:
        res = audit(f"sqlite:///{data / 'app.db'}", Log(acked=acked_before))
    finally:
        app.stop()
    assert res["sqlite_integrity"] == "ok"
    assert res["lost"] == 0 and res["mismatched"] == 0
    assert res["duplicate_votes"] == 0 and res["orphan_votes"] == 0 and res["incomplete_battles"] == 0

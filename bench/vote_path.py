"""Benchmark: the vote write alone (issue 14, item 4), with the audit of bench/load.py.

Battles are created beforehand (straight into the database, one per vote, owned by the writer's session); then
N concurrent writers each cast their votes, and every vote's latency is recorded.

    nice -n 10 .venv/bin/python bench/vote_path.py --writers 16 --votes 100                 # service layer, SQLite WAL
    .venv/bin/python bench/vote_path.py --database-url postgresql+psycopg://...              # service layer, PostgreSQL
    .venv/bin/python bench/vote_path.py --http [--replicas 2] [--database-url ...]           # through the HTTP API

`--http` starts the real app (`python app.py`, one process per replica, all on the same database) and sends each
vote with gradio_client, writers split round-robin across the replicas. Afterwards the audit compares the
database with the writers' log: every acknowledged vote present exactly once, none lost, no orphans, ratings from
the database equal to ratings from the log. Prints JSON; exit status 1 on any integrity failure.
"""
from __future__ import annotations

import argparse
import json
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from gradio_client import Client  # noqa: E402

import storage.db as db  # noqa: E402
from backend.arena import service  # noqa: E402
from backend.config import Settings, get_settings  # noqa: E402
from backend.identity import new_session  # noqa: E402
from bench.load import AppProcess, Log, audit, pct  # noqa: E402
from storage.db import Storage  # noqa: E402
from storage.repos import arena as repo  # noqa: E402

CHOICES = ("A", "B", "tie", "bothbad")


def _storage(database_url: str, data: Path):
    base = get_settings()
    return Storage(Settings(data_dir=data, database_url=database_url, models_dir=base.models_dir,
                            models_config=base.models_config, device="cpu", admin_token=None,
                            max_upload_bytes=base.max_upload_bytes, max_image_pixels=base.max_image_pixels,
                            ip_salt_env="bench-salt"))


def make_battles(st, sessions: list[str], per_session: int) -> dict[str, list[str]]:
    """per_session battles for each session id, inserted in one transaction per session."""
    out = {}
    for sid in sessions:
        ids = [uuid.uuid4().hex for _ in range(per_session)]

        def _w(s, ids=ids, sid=sid):
            for i, bid in enumerate(ids):
                a, b = ("center", "random") if i % 2 else ("random", "center")
                repo.insert_battle(s, id=bid, session_id=sid, judge_id=sid[:16], model_a=a, model_b=b, swapped=False,
                                   anony=True, parse_ok_a=True, parse_ok_b=True, invalid=False, source="live",
                                   category="upload", instruction="Point to the cat", sampling_prob=0.5,
                                   points_a={"px": [[1, 2]], "norm": [[0.1, 0.2]]},
                                   points_b={"px": [[3, 4]], "norm": [[0.3, 0.4]]})
        st.write(_w)
        out[sid] = ids
    return out


def _writer(vote_fn, battles: list[str], seed: int, log: Log, barrier: threading.Barrier) -> None:
    barrier.wait()
    for i, bid in enumerate(battles):
        choice = CHOICES[(seed + i) % 4]
        t0 = time.perf_counter()
        try:
            r = vote_fn(bid, choice)
        except Exception as exc:  # noqa: BLE001 - counted and reported
            with log.lock:
                log.errors.append(f"{type(exc).__name__}: {str(exc)[:200]}")
            continue
        dt = time.perf_counter() - t0
        with log.lock:
            log.acked[bid] = {"winner": r["winner"], "model_a": r["model_a"], "model_b": r["model_b"]}
            log.latencies["vote"].append(dt)


def run_service(writers: int, votes: int, database_url: str | None) -> tuple[Log, float, str]:
    """Votes through backend.arena.service.vote in this process (the layer every UI and API call goes through)."""
    data = Path(tempfile.mkdtemp(prefix="votes-"))
    url = database_url or f"sqlite:///{data / 'app.db'}"
    st = _storage(url, data)
    db._storage = st  # the service writes through this storage
    sessions = [f"bench-{i:02d}-{uuid.uuid4().hex[:8]}" for i in range(writers)]
    battles = make_battles(st, sessions, votes)
    log = Log()
    barrier = threading.Barrier(writers)
    threads = [threading.Thread(target=_writer, args=(
        lambda bid, ch, sid=sid: service.vote(bid, ch, session_id=sid), battles[sid], i, log, barrier))
        for i, sid in enumerate(sessions)]
    t0 = time.perf_counter()
    [t.start() for t in threads]
    [t.join() for t in threads]
    return log, time.perf_counter() - t0, url


def run_http(writers: int, votes: int, database_url: str | None, replicas: int) -> tuple[Log, float, str]:
    """Votes through the app's HTTP API (/vote), writers split round-robin across `replicas` app processes."""
    tmp = Path(tempfile.mkdtemp(prefix="votes-http-"))
    data = tmp / "data"
    data.mkdir()
    url = database_url or f"sqlite:///{data / 'app.db'}"
    os.environ["SESSION_SECRET"] = secrets.token_urlsafe(24)  # the replicas and this script sign alike
    apps = [AppProcess(data, database_url).start() for _ in range(replicas)]
    try:
        sessions = [new_session() for _ in range(writers)]  # (id, signed cookie): one browser session per writer
        clients = [Client(apps[i % replicas].url, verbose=False, headers={"cookie": f"pb_sid={cookie}"})
                   for i, (_, cookie) in enumerate(sessions)]
        st = _storage(url, tmp / "bench")
        battles = make_battles(st, [sid for sid, _ in sessions], votes)
        st.engine.dispose()
        log = Log()
        barrier = threading.Barrier(writers)
        threads = [threading.Thread(target=_writer, args=(
            lambda bid, ch, c=c: c.predict(bid, ch, api_name="/vote"), battles[sid], i, log, barrier))
            for i, (c, (sid, _)) in enumerate(zip(clients, sessions, strict=True))]
        t0 = time.perf_counter()
        [t.start() for t in threads]
        [t.join() for t in threads]
        wall = time.perf_counter() - t0
    finally:
        for a in apps:
            a.stop()
    return log, wall, url


def _commit() -> str | None:
    r = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True)
    return r.stdout.strip() or None


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--writers", type=int, default=16)
    ap.add_argument("--votes", type=int, default=100, help="votes per writer")
    ap.add_argument("--database-url", default=None, help="PostgreSQL URL (default: SQLite WAL in a temp DATA_DIR)")
    ap.add_argument("--http", action="store_true", help="through the HTTP API of `python app.py`")
    ap.add_argument("--replicas", type=int, default=1, help="with --http: app processes on the same database")
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--label", default=None, help="what this run measures, shown in the README table")
    a = ap.parse_args(argv)
    load_before = os.getloadavg()
    if a.http:
        log, wall, url = run_http(a.writers, a.votes, a.database_url, a.replicas)
    else:
        log, wall, url = run_service(a.writers, a.votes, a.database_url)
    res = audit(url, log)
    lat = log.latencies["vote"]
    res.update({"layer": "http" if a.http else "service", "replicas": a.replicas if a.http else 1,
                "database": "postgresql" if a.database_url else "sqlite (WAL)", "writers": a.writers,
                "votes_per_writer": a.votes, "wall_s": round(wall, 2), "votes_per_s": round(len(lat) / wall, 1),
                "p50_ms": round(1000 * statistics.median(lat), 1) if lat else None,
                "p99_ms": round(1000 * pct(lat, 0.99), 1) if lat else None,
                "errors": len(log.errors), "error_samples": log.errors[:5],
                "utc": time.strftime("%Y-%m-%d %H:%M", time.gmtime()), "commit": _commit(),
                "load_avg_1m_before": round(load_before[0], 2), "load_avg_1m_after": round(os.getloadavg()[0], 2),
                "nice": os.nice(0)})
    if a.label:
        res["label"] = a.label
    print(json.dumps(res, indent=2))
    if a.out:
        a.out.parent.mkdir(parents=True, exist_ok=True)
        a.out.write_text(json.dumps(res, indent=2) + "\n")
    ok = (res["lost"] == 0 and res["duplicate_votes"] == 0 and res["orphan_votes"] == 0 and res["mismatched"] == 0
          and res.get("ratings_equal", True))
    print("RESULT:", "nothing lost, nothing duplicated" if ok else "INTEGRITY FAILURE",
          f"({len(log.errors)} client-side errors, e.g. timeouts; a vote that timed out at the client but was stored "
          "is not counted as acknowledged)" if log.errors else "")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())

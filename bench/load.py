"""Load benchmark: concurrent simulated users against the real app over HTTP, then an audit.

Starts `python app.py` in a subprocess (SQLite WAL by default, or PostgreSQL with --database-url), drives it
with N threads, each its own gradio_client session, doing full battle + vote rounds with the fast builtin
pointers (center, random), optionally mixed with anomaly inspections and SVG generations. Afterwards it
checks in the database that every acknowledged vote is present exactly once, no vote lacks its battle, and
the ratings recomputed from the database equal those computed from the clients' own log.

    python bench/load.py --clients 16 --votes 200 [--database-url postgresql+psycopg://...] [--mix]
"""
from __future__ import annotations

import argparse
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

FAST_ENV = {"ARENA_MODELS": "center,random", "ARENA_RATE_LIMIT": "100000000", "JOB_BATTLE": "2,100000000", "ARENA_MIN_DWELL_S": "0",
            "ARENA_TIMEOUT_S": "30", "GRADIO_ANALYTICS_ENABLED": "False"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class AppProcess:
    """The real app as a child process (so it can be killed with SIGKILL and restarted)."""

    def __init__(self, data_dir: Path, database_url: str | None = None, extra_env: dict | None = None):
        self.data_dir, self.database_url = Path(data_dir), database_url
        self.env = dict(os.environ, DATA_DIR=str(data_dir), **FAST_ENV, **(extra_env or {}))
        self.env.pop("DATABASE_URL", None)
        if database_url:
            self.env["DATABASE_URL"] = database_url
        self.proc: subprocess.Popen | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def start(self, timeout: float = 180) -> "AppProcess":
        self.port = free_port()
        env = dict(self.env, GRADIO_SERVER_PORT=str(self.port))
        log = open(self.data_dir.parent / f"app-{self.port}.log", "wb")
        self.proc = subprocess.Popen([sys.executable, "app.py"], cwd=REPO, env=env, stdout=log, stderr=log)
        t0 = time.time()
        while time.time() - t0 < timeout:
            if self.proc.poll() is not None:
                raise RuntimeError(f"app exited with {self.proc.returncode}; see {log.name}")
            try:
                with urllib.request.urlopen(self.url, timeout=2) as r:
                    if r.status == 200:
                        return self
            except OSError:
                time.sleep(0.2)
        raise TimeoutError("app did not start")

    def kill9(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=30)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()


def sample_image(tmp: Path) -> str:
    from PIL import Image
    import skimage

    p = tmp / "cat.png"
    Image.open(Path(skimage.__file__).parent / "data" / "chelsea.png").convert("RGB").resize((225, 150)).save(p)
    return str(p)


@dataclass
class Log:
    acked: dict = field(default_factory=dict)     # battle_id -> {"winner", "model_a", "model_b"}
    latencies: dict = field(default_factory=lambda: {"battle": [], "vote": [], "inspect": [], "svg": []})
    errors: list = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def client_loop(url: str, image: str, rounds: int, seed: int, log: Log, stop: threading.Event | None = None,
                mix: bool = False) -> None:
    from gradio_client import Client, handle_file

    rng = random.Random(seed)
    c = Client(url, verbose=False)
    for i in range(rounds):
        if stop is not None and stop.is_set():
            return
        try:
            t0 = time.perf_counter()
            out = c.predict(handle_file(image), "Point to the cat's nose", api_name="/new_battle")
            t1 = time.perf_counter()
            battle_id = out[0]
            choice = rng.choice(["A", "B", "tie", "bothbad"])
            r = c.predict(battle_id, choice, api_name="/vote")
            t2 = time.perf_counter()
            with log.lock:
                log.acked[battle_id] = {"winner": r["winner"], "model_a": r["model_a"], "model_b": r["model_b"]}
                log.latencies["battle"].append(t1 - t0)
                log.latencies["vote"].append(t2 - t1)
            if mix and i % 10 == 0:
                _mixed_calls(c, image, log)
        except Exception as exc:  # noqa: BLE001 - counted and reported
            with log.lock:
                log.errors.append(f"{type(exc).__name__}: {str(exc)[:200]}")


def _mixed_calls(c, image: str, log: Log) -> None:
    from gradio_client import handle_file

    names = {ep for ep in c.view_api(print_info=False, return_format="dict")["named_endpoints"]}
    if "/inspect_one" in names:
        t0 = time.perf_counter()
        c.predict(handle_file(image), handle_file(image), api_name="/inspect_one")
        with log.lock:
            log.latencies["inspect"].append(time.perf_counter() - t0)
    if "/svg_generate" in names:
        t0 = time.perf_counter()
        c.predict("bell", api_name="/svg_generate")
        with log.lock:
            log.latencies["svg"].append(time.perf_counter() - t0)


def audit(database_url: str, log: Log) -> dict:
    """Compare the database with the clients' log."""
    from backend.arena import formats, ratings
    from backend.config import Settings, get_settings
    from storage.db import Storage
    from storage.repos.reliability import sqlite_integrity_check, vote_integrity, votes_by_battle
    import pandas as pd

    base = get_settings()
    st = Storage(Settings(data_dir=Path(tempfile.mkdtemp()), database_url=database_url, models_dir=base.models_dir,
                          models_config=base.models_config, device="cpu", admin_token=None,
                          max_upload_bytes=base.max_upload_bytes, max_image_pixels=base.max_image_pixels,
                          ip_salt_env="x"))
    try:
        counts = st.read(vote_integrity)
        db_votes = st.read(votes_by_battle)
        integrity = st.read(sqlite_integrity_check) if database_url.startswith("sqlite") else "n/a"
    finally:
        st.engine.dispose()
    missing = [b for b in log.acked if b not in db_votes]
    mismatched = [b for b, v in log.acked.items() if b in db_votes and db_votes[b] != v]
    res = {**counts, "acked": len(log.acked), "lost": len(missing), "mismatched": len(mismatched),
           "sqlite_integrity": integrity}
    if log.acked:
        def frame(d):
            return pd.DataFrame([{"model_a": v["model_a"], "model_b": v["model_b"], "winner": v["winner"]}
                                 for _, v in sorted(d.items())])
        mine = ratings.compute_leaderboard(frame(log.acked), method="bt", bootstrap=0)
        theirs = ratings.compute_leaderboard(frame({b: db_votes[b] for b in log.acked if b in db_votes}),
                                             method="bt", bootstrap=0)
        res["ratings_equal"] = _ratings_of(mine) == _ratings_of(theirs)
    return res


def _ratings_of(board) -> dict:
    models = board["models"] if isinstance(board, dict) and "models" in board else board
    return {k: round(float(v["rating"]), 6) for k, v in models.items()}


def pct(xs: list[float], q: float) -> float:
    if not xs:
        return float("nan")
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(q * (len(xs) - 1))))]


def run(clients: int, votes: int, database_url: str | None, mix: bool = False) -> dict:
    tmp = Path(tempfile.mkdtemp(prefix="load-"))
    data = tmp / "data"
    data.mkdir()
    app = AppProcess(data, database_url).start()
    url = database_url or f"sqlite:///{data / 'app.db'}"
    image = sample_image(tmp)
    log = Log()
    t0 = time.perf_counter()
    threads = [threading.Thread(target=client_loop, args=(app.url, image, votes, i, log), kwargs={"mix": mix})
               for i in range(clients)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    wall = time.perf_counter() - t0
    app.stop()
    res = audit(url, log)
    res.update({"database": "postgresql" if database_url else "sqlite", "clients": clients, "votes_per_client": votes,
                "wall_s": round(wall, 1), "rounds_per_s": round(len(log.acked) / wall, 2),
                "errors": len(log.errors), "error_samples": log.errors[:5]})
    for k, xs in log.latencies.items():
        if xs:
            res[f"{k}_p50_s"], res[f"{k}_p99_s"] = round(statistics.median(xs), 3), round(pct(xs, 0.99), 3)
    return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clients", type=int, default=16)
    ap.add_argument("--votes", type=int, default=200, help="battle+vote rounds per client")
    ap.add_argument("--database-url", default=None, help="PostgreSQL URL (default: SQLite in a temp DATA_DIR)")
    ap.add_argument("--mix", action="store_true", help="also run anomaly inspections and SVG generations")
    ap.add_argument("--out", type=Path, default=None)
    a = ap.parse_args()
    res = run(a.clients, a.votes, a.database_url, a.mix)
    print(json.dumps(res, indent=2))
    if a.out:
        a.out.write_text(json.dumps(res, indent=2))
    ok = res["lost"] == 0 and res["duplicate_votes"] == 0 and res["orphan_votes"] == 0 and res.get("ratings_equal", True)
    print("RESULT:", "nothing lost, nothing duplicated" if ok else "INTEGRITY FAILURE")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()

"""Benchmark: what one leaderboard recompute costs, the work a vote would trigger if it refreshed the tables.

The leaderboard is cached for ARENA_LEADERBOARD_TTL_S and a vote never recomputes it; the vote's confirmation says
from when the tables include it (backend/arena/leaderboard_cache.py). This measures, on a fresh SQLite database
(WAL, as the app runs) holding N imported voted battles among M models, `service.leaderboard_report(fresh=True)`
(the GROUP BY in SQL, Bradley-Terry with 100 bootstrap rounds, or online Elo over the votes in order) against
a cached read and against the vote itself (`service.vote`, p50 over a few votes). Appends one JSON line per run.

    nice -n 10 .venv/bin/python bench/leaderboard_recompute.py --battles 10000 50000 \
        --out bench/results/leaderboard_recompute.jsonl
"""
from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

import storage.db as db  # noqa: E402
from backend.arena import service  # noqa: E402
from bench.vote_path import _storage  # noqa: E402
from storage.repos import arena as repo  # noqa: E402
from storage.repos.sessions import touch_session  # noqa: E402


def _items(n: int, m: int, seed: int = 0) -> list[dict]:
    rng = random.Random(seed)
    models = [f"model-{i:02d}" for i in range(m)]
    winners = ["model_a", "model_b", "tie", "tie (bothbad)"]
    out = []
    for i in range(n):
        a, b = rng.sample(models, 2)
        out.append({"model_a": a, "model_b": b, "winner": rng.choices(winners, [45, 45, 7, 3])[0],
                    "judge": f"judge-{i % 500}", "tstamp": 1764000000 + i, "prompt": f"item {i}"})
    return out


def _timed(fn, repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        out.append(round(time.perf_counter() - t, 4))
    return out


def _votes(st, n: int) -> list[float]:
    """Latency of n votes on battles made for them (one session)."""
    st.write(lambda s: touch_session(s, "bench-voter"))
    ids = [uuid.uuid4().hex for _ in range(n)]
    for bid in ids:
        st.write(lambda s, bid=bid: repo.insert_battle(
            s, id=bid, session_id="bench-voter", judge_id="j", model_a="model-00", model_b="model-01", swapped=False,
            anony=True, parse_ok_a=True, parse_ok_b=True, invalid=False, source="live", category="upload"))
    return [t for bid in ids for t in _timed(lambda bid=bid: service.vote(bid, "A", session_id="bench-voter"), 1)]


def run(n: int, m: int, repeat: int) -> dict:
    os.environ.setdefault("ARENA_MIN_DWELL_S", "0")
    with tempfile.TemporaryDirectory(prefix="lb-recompute-") as tmp:
        st = _storage(f"sqlite:///{Path(tmp) / 'app.db'}", Path(tmp) / "data")
        db._storage = st
        service.clear_cache()
        t = time.perf_counter()
        service.import_battles(_items(n, m), "clean_battle")
        import_s = time.perf_counter() - t
        bt = _timed(lambda: service.leaderboard_report("bt", None, fresh=True), repeat)
        cached = _timed(lambda: service.leaderboard_report("bt", None), repeat)  # right after: within the TTL
        elo = _timed(lambda: service.leaderboard_report("elo", None, fresh=True), repeat)
        votes = _votes(st, 5)
        st.engine.dispose()
    return {"battles": n, "models": m, "import_s": round(import_s, 2), "bt_fresh_s": bt, "elo_fresh_s": elo,
            "cached_s": cached, "vote_s": votes, "bt_fresh_median_s": round(statistics.median(bt), 4),
            "elo_fresh_median_s": round(statistics.median(elo), 4), "vote_median_s": round(statistics.median(votes), 4),
            "bt_recompute_per_vote": round(statistics.median(bt) / statistics.median(votes), 1)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--battles", type=int, nargs="+", default=[10_000])
    ap.add_argument("--models", type=int, default=20)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--out", type=Path, default=None, help="append one JSON line per run")
    a = ap.parse_args(argv)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True,
                            text=True).stdout.strip() or None
    for n in a.battles:
        load = os.getloadavg()[0]
        res = {"utc": time.strftime("%Y-%m-%d %H:%M", time.gmtime()), "commit": commit, "cpus": os.cpu_count(),
               "load_avg_1m": round(load, 2), **run(n, a.models, a.repeat),
               "load_avg_1m_after": round(os.getloadavg()[0], 2)}
        line = json.dumps(res)
        print(line, flush=True)
        if a.out:
            with a.out.open("a", encoding="utf-8") as f:
                f.write(line + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

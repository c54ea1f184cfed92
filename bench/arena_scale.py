"""Benchmark: the arena at Chatbot-Arena scale (issue 14), every figure a ratio against a reference run in the
same invocation, each step a fresh process timed wall-clock (start-up and imports included).

    nice -n 10 .venv/bin/python bench/arena_scale.py --battles 1000000     # the issue's scale
    .venv/bin/python bench/arena_scale.py --battles 100000                   # quick iteration

Steps, on one synthetic FastChat `clean_battle` file (50 models, 15% ties, 90% anonymous, several judges):
1. reference: a plain FastChat-style script (`json.load` -> DataFrame -> anonymous rows -> unique (a, b, outcome)
   rows -> BT by L-BFGS -> 100 multinomial bootstrap refits), as in FastChat's `rating_systems.py`;
2. `python -m backend.arena.ratings --battles FILE` (BT + 100 bootstrap);             target <= 0.5x (1)
3. reference: bare `sqlite3` `executemany` of the same battle and vote rows into the same schema (rows built
   beforehand, only the inserts and the commit timed);
4. `python -m backend.arena.transfer import FILE` into a fresh SQLite store;            target <= 4x (3)
5. `python -m backend.arena.transfer export-leaderboard` from that database;             target <= 0.5x (1)
6. `python -m backend.arena.transfer export` (streamed) of the whole database, for the record.
Prints a table and writes bench/results/arena_scale.json.

`--steps ratings` runs only steps 1-2, `--repeat` times (script and CLI back to back each time, so every ratio has
its own reference from the same moment), and writes bench/results/arena_scale_ratings.json; the database steps
(`--steps database`: 1 and 3-6) take about an hour at 1M on the 2-core box.

    .venv/bin/python bench/arena_scale.py --steps ratings --repeat 3 [--file clean_battle.json]
"""
from __future__ import annotations

import argparse
import json
import math
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402
import orjson  # noqa: E402
import pandas as pd  # noqa: E402
from scipy.optimize import minimize  # noqa: E402
from scipy.special import expit  # noqa: E402

from bench.synthetic import WINNERS, draw_battles  # noqa: E402


def make_file(path: Path, n: int, m: int = 50, seed: int = 0) -> None:
    """A clean_battle file as FastChat writes it (`--mode simple` fields plus question_id)."""
    rng = np.random.default_rng(seed)
    a, b, code, _ = draw_battles(rng, n, m)
    names = [f"model-{i:02d}" for i in range(m)]
    anony = rng.random(n) < 0.9
    judge = rng.integers(0, max(1, n // 20), n)
    t0 = 1.7e9
    ts = t0 + np.sort(rng.random(n)) * 86400 * 365
    qid = rng.integers(0, 2**63 - 1, n)
    items = [{"question_id": f"{int(q):016x}{i:016x}", "model_a": names[x], "model_b": names[y],
              "winner": str(WINNERS[c]), "judge": f"arena_user_{j}", "anony": bool(an), "tstamp": float(t),
              "turn": 1, "language": "English"}
             for i, (q, x, y, c, j, an, t) in enumerate(zip(qid, a, b, code, judge, anony, ts, strict=True))]
    path.write_bytes(orjson.dumps(items))


# ---------------------------------------------------------------- the FastChat-style reference script

def fastchat_style(path: str, rounds: int = 100) -> dict:
    """FastChat `rating_systems.py`: compute_bt + compute_bootstrap_bt on anonymous battles."""
    with open(path, encoding="utf-8") as fh:
        battles = pd.DataFrame(json.load(fh))
    battles = battles[battles["anony"]].reset_index(drop=True)

    # preprocess_for_bt
    models = pd.unique(pd.concat([battles["model_a"], battles["model_b"]]))
    idx = pd.Series(np.arange(len(models)), index=models)
    schedule = np.column_stack([idx[battles["model_a"]].to_numpy(), idx[battles["model_b"]].to_numpy(),
                                battles["winner"].map({"model_a": 2, "model_b": 0, "tie": 1,
                                                       "tie (bothbad)": 1}).to_numpy()])
    rows, weights = np.unique(schedule, return_counts=True, axis=0)
    matchups, outcomes = rows[:, :2].astype(int), rows[:, 2] / 2.0
    alpha = math.log(10.0)

    def loss_grad(r, w):
        logits = alpha * (r[matchups[:, 0]] - r[matchups[:, 1]])
        p = expit(logits)
        loss = -((np.log(p) * outcomes + np.log(1.0 - p) * (1.0 - outcomes)) * w).sum()
        g = (p - outcomes) * w * alpha
        grad = np.zeros_like(r)
        np.add.at(grad, matchups[:, 0], g)
        np.add.at(grad, matchups[:, 1], -g)
        return loss, grad

    def fit(w):
        r0 = np.zeros(len(models))
        return minimize(loss_grad, r0, args=(w,), jac=True, method="L-BFGS-B",
                        options={"disp": False, "maxiter": 100, "gtol": 1e-6}).x

    ratings = fit(weights / weights.sum())
    boot = np.random.multinomial(len(battles), weights / weights.sum(), size=rounds).astype(float) / len(battles)
    samples = np.stack([fit(w) for w in boot])
    scaled = 400 * samples + 1000
    return {"models": len(models), "rating": (400 * ratings + 1000).tolist(),
            "ci": np.percentile(scaled, [2.5, 97.5], axis=0).tolist()}


# ---------------------------------------------------------------- the bare sqlite3 reference

def bare_sqlite_insert(path: Path, db: Path) -> float:
    """Seconds for sqlite3 executemany of the same battle + vote rows into the app's schema (migrated first)."""
    env = dict(os.environ, DATA_DIR=str(db.parent))
    env.pop("DATABASE_URL", None)
    subprocess.run([sys.executable, "-c", "from storage.db import init_storage; init_storage()"], cwd=REPO, env=env,
                   check=True)
    items = orjson.loads(path.read_bytes())
    ids = os.urandom(16 * len(items)).hex()
    battles, votes = [], []
    for i, it in enumerate(items):
        bid = ids[32 * i:32 * i + 32]
        when = datetime.fromtimestamp(it["tstamp"], tz=UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
        battles.append((bid, when, it["judge"], it["model_a"], it["model_b"], 0, int(it["anony"]), 0, 0, 0,
                        "clean_battle", f"{i:064x}"))
        votes.append((bid, when, it["judge"], it["winner"], 1, "imported:clean_battle"))
    del items
    con = sqlite3.connect(db)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=NORMAL")
    t0 = time.perf_counter()
    con.executemany("INSERT INTO arena_battles (id, created, judge_id, model_a, model_b, swapped, anony, parse_ok_a, "
                    "parse_ok_b, invalid, source, content_hash) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", battles)
    con.executemany("INSERT INTO arena_votes (battle_id, created, judge_id, winner, counted, note) "
                    "VALUES (?,?,?,?,?,?)", votes)
    con.commit()
    dt = time.perf_counter() - t0
    con.close()
    return dt


def timed(cmd: list[str], env: dict) -> tuple[float, str]:
    t0 = time.perf_counter()
    r = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True)
    dt = time.perf_counter() - t0
    if r.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{r.stdout}\n{r.stderr}")
    return dt, r.stdout


def _run_info() -> dict:
    """When and under what load a run was made (the box is shared: the ratios matter more than the seconds)."""
    rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True).stdout
    return {"utc": datetime.now(UTC).strftime("%Y-%m-%d %H:%M"), "load_avg_1m": round(os.getloadavg()[0], 2),
            "commit": rev.strip() or None}


def ratings_runs(py: str, path: Path, env: dict, repeat: int) -> list[dict]:
    """Steps 1-2 `repeat` times: the script, then the CLI right after it, each pair one ratio."""
    runs = []
    for i in range(repeat):
        info = _run_info()
        script_s, _ = timed([py, __file__, "--fastchat", str(path)], env)
        cli_s, _ = timed([py, "-m", "backend.arena.ratings", "--battles", str(path)], env)
        run = {**info, "fastchat_script_s": round(script_s, 2), "ratings_cli_s": round(cli_s, 2),
               "ratio": round(cli_s / script_s, 3), "load_avg_1m_after": round(os.getloadavg()[0], 2)}
        runs.append(run)
        print(f"run {i + 1}: FastChat-style script {script_s:6.2f} s, python -m backend.arena.ratings {cli_s:6.2f} s, "
              f"ratio {run['ratio']:.3f} (load {run['load_avg_1m']} -> {run['load_avg_1m_after']})", flush=True)
    return runs


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--battles", type=int, default=1_000_000)
    ap.add_argument("--models", type=int, default=50)
    ap.add_argument("--workdir", default=None, help="keep files here (default: a temporary directory)")
    ap.add_argument("--file", default=None, help="use this clean_battle file (made by an earlier run) instead")
    ap.add_argument("--steps", choices=["all", "ratings", "database"], default="all")
    ap.add_argument("--repeat", type=int, default=1, help="with --steps ratings: script/CLI pairs to time")
    ap.add_argument("--append", action="store_true", help="with --steps ratings: add the runs to those in --out")
    ap.add_argument("--out", default=None, help="default bench/results/arena_scale.json "
                                                "(arena_scale_ratings.json with --steps ratings)")
    args = ap.parse_args(argv)
    work = Path(args.workdir or tempfile.mkdtemp(prefix="arena-scale-"))
    work.mkdir(parents=True, exist_ok=True)
    path = Path(args.file) if args.file else work / "clean_battle.json"
    if not args.file:
        make_file(path, args.battles, args.models)
    n_battles = len(orjson.loads(path.read_bytes())) if args.file else args.battles
    mb = path.stat().st_size / 1e6
    print(f"{n_battles:,} battles, {args.models} models, file {mb:.0f} MB ({path})", flush=True)
    env = dict(os.environ, OMP_NUM_THREADS=os.environ.get("OMP_NUM_THREADS", "1"), GRADIO_ANALYTICS_ENABLED="False")
    env.pop("DATABASE_URL", None)
    py = sys.executable
    res: dict = {"battles": n_battles, "models": args.models, "file_mb": round(mb, 1)}
    results = REPO / "bench" / "results"

    if args.steps == "ratings":
        out = Path(args.out or results / "arena_scale_ratings.json")
        earlier = json.loads(out.read_text())["runs"] if args.append and out.exists() else []
        res.update(steps="ratings", runs=earlier + ratings_runs(py, path, env, args.repeat),
                   targets={"ratings_cli_vs_fastchat": 0.5}, cpu=os.cpu_count())
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(res, indent=2) + "\n")
        return 0

    res.update(_run_info())
    res["fastchat_script_s"], _ = timed([py, __file__, "--fastchat", str(path)], env)
    print(f"FastChat-style script            {res['fastchat_script_s']:7.2f} s", flush=True)
    if args.steps == "all":
        res["ratings_cli_s"], out = timed([py, "-m", "backend.arena.ratings", "--battles", str(path)], env)
        print(f"python -m backend.arena.ratings  {res['ratings_cli_s']:7.2f} s", flush=True)

    bare_db = work / "bare" / "app.db"
    bare_db.parent.mkdir(exist_ok=True)
    res["bare_sqlite_executemany_s"] = bare_sqlite_insert(path, bare_db)
    print(f"bare sqlite3 executemany         {res['bare_sqlite_executemany_s']:7.2f} s", flush=True)
    store = work / "store"
    env_db = dict(env, DATA_DIR=str(store))
    res["import_s"], out = timed([py, "-m", "backend.arena.transfer", "import", str(path), "--quiet"], env_db)
    print(f"transfer import                  {res['import_s']:7.2f} s   ({out.strip()})", flush=True)
    res["export_leaderboard_s"], _ = timed([py, "-m", "backend.arena.transfer", "export-leaderboard", "--out",
                                            str(work / "lb.csv")], env_db)
    print(f"transfer export-leaderboard      {res['export_leaderboard_s']:7.2f} s", flush=True)
    res["export_s"], out = timed([py, "-m", "backend.arena.transfer", "export", "--out", str(work / "export.json")],
                                 env_db)
    print(f"transfer export (streamed)       {res['export_s']:7.2f} s   ({out.strip()})", flush=True)

    ref = res["fastchat_script_s"]
    res["ratios"] = {"import_vs_bare_executemany": round(res["import_s"] / res["bare_sqlite_executemany_s"], 3),
                     "export_leaderboard_vs_fastchat": round(res["export_leaderboard_s"] / ref, 3)}
    res["targets"] = {"import_vs_bare_executemany": 4.0, "export_leaderboard_vs_fastchat": 0.5}
    if "ratings_cli_s" in res:
        res["ratios"]["ratings_cli_vs_fastchat"] = round(res["ratings_cli_s"] / ref, 3)
        res["targets"]["ratings_cli_vs_fastchat"] = 0.5
    res["cpu"] = os.cpu_count()
    print("ratios (target):", ", ".join(f"{k} {v} (<= {res['targets'][k]})" for k, v in res["ratios"].items()))
    out_path = Path(args.out or results / "arena_scale.json")
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_text(json.dumps(res, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--fastchat":
        fastchat_style(sys.argv[2])
        raise SystemExit(0)
    raise SystemExit(main())

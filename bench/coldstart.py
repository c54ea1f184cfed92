"""App cold start: process start → first page served (HTTP 200 on /), on a fresh DATA_DIR.

Baseline in the same run: a bare `python -c "import gradio"` process, so the ratio shows how much
the app adds on top of importing Gradio itself.

    python bench/coldstart.py [--runs 3] [--out bench/results/coldstart.json]   # --out: append this run there
"""
from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cold_start() -> float:
    port = free_port()
    env = dict(os.environ, DATA_DIR=tempfile.mkdtemp(prefix="cold-"), GRADIO_SERVER_PORT=str(port))
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "app.py"], cwd=REPO, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        while True:
            if proc.poll() is not None:
                raise RuntimeError("app exited during start")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as r:
                    if r.status == 200:
                        return time.perf_counter() - t0
            except OSError:
                time.sleep(0.1)
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def import_gradio() -> float:
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import gradio"], check=True)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--out", type=Path, default=None, help="append this run (times, UTC, commit, load) to a JSON list")
    a = ap.parse_args()
    load_before = os.getloadavg()[0]
    base = [import_gradio() for _ in range(a.runs)]
    app = [cold_start() for _ in range(a.runs)]
    b, m = statistics.median(base), statistics.median(app)
    print(f"import gradio (baseline): median {b:.2f} s over {a.runs} runs")
    print(f"app cold start to first page: median {m:.2f} s (min {min(app):.2f}, max {max(app):.2f})")
    print(f"ratio app / bare gradio import: {m / b:.2f}x")
    if a.out:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True,
                                text=True).stdout.strip() or "unknown"
        run = {"utc": time.strftime("%Y-%m-%d %H:%M", time.gmtime()), "commit": commit, "cpus": os.cpu_count(),
               "load_before": round(load_before, 2), "load_after": round(os.getloadavg()[0], 2),
               "import_gradio_s": [round(x, 2) for x in base], "app_first_page_s": [round(x, 2) for x in app],
               "median_import_gradio_s": round(b, 2), "median_app_s": round(m, 2), "ratio": round(m / b, 2)}
        runs = json.loads(a.out.read_text()) if a.out.exists() else []
        a.out.write_text(json.dumps(runs + [run], indent=1) + "\n")


if __name__ == "__main__":
    main()

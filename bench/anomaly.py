"""Anomaly engine speed: ms per query image at 256 and 512 px, per engine, on this machine.

Run: `.venv/bin/python bench/anomaly.py [--threads 2] [--repeats 5]`. The prompt's features are
cached (as in the app), so the figure is the per-query cost. The baseline is one bare Lite0
encoder forward at the same size in the same process; the ratio says how much each engine adds
on top of feature extraction, independently of how loaded the machine is.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import torch  # noqa: E402
from PIL import Image  # noqa: E402


def _time(fn, repeats: int) -> float:
    fn()  # warm-up (and fills the prompt cache)
    ts = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        ts.append((time.perf_counter() - t0) * 1000)
    return statistics.median(ts)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--sizes", default="256,512")
    ap.add_argument("--json", default=None, help="also write the figures here")
    a = ap.parse_args(argv)
    torch.set_num_threads(a.threads)
    from backend.anomaly import service
    from backend.anomaly.preprocess import normalise
    from backend.registry import get_registry

    rng = np.random.default_rng(0)
    prompt = Image.fromarray(rng.integers(0, 255, (600, 800, 3), dtype=np.uint8))
    query = Image.fromarray(rng.integers(0, 255, (600, 800, 3), dtype=np.uint8))
    enc = get_registry().get("lite0-imagenet")
    rows = []
    for size in [int(s) for s in a.sizes.split(",")]:
        x = torch.from_numpy(normalise(np.zeros((size, size, 3), np.uint8)))[None]

        def bare(x=x):
            with torch.no_grad():
                enc.model.extract_features(x)

        base = _time(bare, a.repeats)
        row = {"size": size, "lite0_forward_ms": round(base, 1)}
        for engine in ("knn", "metauas", "ensemble"):
            ms = _time(lambda engine=engine, size=size: service.inspect([prompt], [query], engine=engine, size=size),
                       a.repeats)
            row[f"{engine}_ms"] = round(ms, 1)
            row[f"{engine}_x_lite0"] = round(ms / base, 2)
        rows.append(row)
        print(f"{size:>4} px | Lite0 forward {base:7.1f} ms | " + " | ".join(
            f"{e} {row[e + '_ms']:7.1f} ms ({row[e + '_x_lite0']:.1f}× Lite0)" for e in ("knn", "metauas", "ensemble")))
    print(f"threads={a.threads}, repeats={a.repeats} (median), query 800×600 letterboxed, prompt features cached")
    if a.json:
        Path(a.json).write_text(json.dumps({"threads": a.threads, "rows": rows}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

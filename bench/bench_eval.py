"""Point-Bench evaluator overhead: ms per item to score the sample bench, against the cost of just
opening each item's image and mask in the same process (the floor any evaluator pays).

Run: `.venv/bin/python bench/bench_eval.py [--repeats 3]`. Prints ms/item for (a) load image + mask only,
(b) full evaluation from a predictions dict (loading, PointArena scoring, result rows), (c) the same with
overlays written, (d) the `center` registry pointer through the pointing service, and each ratio to (a).
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from PIL import Image  # noqa: E402

from backend.arena import bench as B  # noqa: E402

SAMPLE = Path(__file__).resolve().parents[1] / "static" / "bench"


def _ms_per_item(fn, n: int, repeats: int) -> float:
    fn()
    ts = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        ts.append((time.perf_counter() - t0) * 1000 / n)
    return statistics.median(ts)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args(argv)
    import torch

    torch.set_num_threads(1)
    bench = B.load_bench(SAMPLE)
    n = len(bench.items)
    preds = {it.image_filename: [[1.0, 1.0]] * (it.count or 1) for it in bench.items}

    def floor():
        for it in bench.items:
            B.load_mask(it)
            with Image.open(it.image_path) as im:
                im.convert("RGB")

    def with_preds():
        B.evaluate(bench, B.predictions_predictor(preds), "p")

    def with_overlays():
        with tempfile.TemporaryDirectory() as d:
            B.evaluate(bench, B.predictions_predictor(preds), "p", overlay_dir=d)

    def center():
        B.evaluate_pointer(SAMPLE, "center", resume=False)

    base = _ms_per_item(floor, n, args.repeats)
    print(f"sample bench: {n} items")
    print(f"load image+mask only      : {base:7.2f} ms/item (baseline)")
    for name, fn in (("predictions (scoring)", with_preds), ("predictions + overlays", with_overlays),
                     ("center pointer (service)", center)):
        ms = _ms_per_item(fn, n, args.repeats)
        print(f"{name:<26}: {ms:7.2f} ms/item  ratio {ms / base:5.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())

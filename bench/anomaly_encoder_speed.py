"""Protocol v12: time per query of the default ensemble D vs the ensemble with the Lite2 kNN member, and of each kNN
member alone vs MetaUAS alone, side by side in one run.

    .venv/bin/python bench/anomaly_encoder_speed.py [--n 30] [--size 256] [--threads 1]
        [--out static/anomaly/protocol_v12/speed.json]

Every engine's `map_square` with the prompt's memory cached (what a query costs once the prompt is known),
interleaved ABBA over the five engines (each its own distinct 400 px crops of skimage's coffee.png, letterboxed).
The Lite2 kNN member is built as protocol v12 built it (levers_v12.knn_engine, the committed calibration; the
calibration does not change the time). Compare the ratios, not the absolute ms (shared, loaded machine).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
OUT = ROOT / "static" / "anomaly" / "protocol_v12" / "speed.json"

from bench.anomaly_speed import _interleaved, _quartiles  # noqa: E402


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=30)
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", default=str(OUT))
    a = ap.parse_args(argv)
    import torch
    from PIL import Image

    from backend.anomaly import engines
    from backend.anomaly.offline import levers_v12 as v12
    from backend.anomaly.preprocess import letterbox
    from backend.embedded import Lite2Encoder

    torch.set_num_threads(a.threads)
    if not 1 <= a.n <= 100:
        raise SystemExit("--n must be 1..100")
    res_path = v12.OUT
    cal = json.loads(res_path.read_text())["calibration"]["c"]["lite2"] if res_path.is_file() else None
    meta, knn0, d = engines.get("metauas", a.size), engines.get("knn", a.size), engines.get("ensemble", a.size)
    knn2 = v12.knn_engine(Lite2Encoder(), cal)
    engs = {"ensemble_D": d, "ensemble_knn_lite2": v12.ensemble_with(meta, knn2), "metauas": meta,
            "knn_lite0": knn0, "knn_lite2": knn2}
    photo = Image.open(Path(__import__("skimage").__file__).parent / "data" / "coffee.png").convert("RGB")
    prompt = photo.crop((0, 0, 400, 400))
    arrs = {k: [letterbox(photo.crop((1 + 20 * j + i, 0, 401 + 20 * j + i, 400)), a.size)[0] for i in range(a.n)]
            for j, k in enumerate(engs)}
    mems = {k: [e.memory(prompt, a.size, "bench-v12-prompt")] for k, e in engs.items()}
    for k, e in engs.items():  # warm-up
        e.map_square(arrs[k][0], mems[k])
    times = _interleaved({k: (lambda i, k=k, e=e: e.map_square(arrs[k][i], mems[k])) for k, e in engs.items()}, a.n)
    med = {k: statistics.median(v) for k, v in times.items()}
    res = {"command": "python bench/anomaly_encoder_speed.py" + (f" --n {a.n}" if a.n != 30 else ""),
           "size": a.size, "threads": a.threads, "n": a.n, "order": "ABBA interleaved (5 engines)",
           "knn_lite2_calibration": cal,
           "ms_median": {k: round(v, 1) for k, v in med.items()},
           "ms_quartiles": {k: _quartiles(v) for k, v in times.items()},
           "ratios_of_medians": {
               "ensemble_knn_lite2 / ensemble_D": round(med["ensemble_knn_lite2"] / med["ensemble_D"], 3),
               "knn_lite2 / knn_lite0": round(med["knn_lite2"] / med["knn_lite0"], 3),
               "metauas / knn_lite2": round(med["metauas"] / med["knn_lite2"], 3),
               "metauas / knn_lite0": round(med["metauas"] / med["knn_lite0"], 3)},
           "load_average": [round(v, 1) for v in os.getloadavg()], "cpus": os.cpu_count(),
           "note": "map_square per query, prompt cached; shared 2-core machine under load; compare the ratios"}
    print(json.dumps(res, indent=1))
    if a.out:
        Path(a.out).parent.mkdir(parents=True, exist_ok=True)
        Path(a.out).write_text(json.dumps(res, indent=1) + "\n")
    return res


if __name__ == "__main__":
    main()

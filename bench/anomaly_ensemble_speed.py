"""Protocol v10: the default ensemble's time per query before / after a position-aware kNN config, side by side.

    .venv/bin/python bench/anomaly_ensemble_speed.py [--config NAME] [--n 30] [--size 256] [--threads 1]
        [--out static/anomaly/protocol_v10/ensemble_speed.json]

`--config`: a protocol-v10 config name (default: the top of the committed ranking in
static/anomaly/protocol_v10/validation.json). Both ensembles' `map_square` with the prompt's memory cached (what a
query costs once the prompt is known), interleaved ABBA (one pair per repeat, each engine its own distinct 400 px
crops of skimage's coffee.png, letterboxed). Compare the ratio, not the absolute ms (shared, loaded machine).
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
OUT = ROOT / "static" / "anomaly" / "protocol_v10" / "ensemble_speed.json"

from bench.anomaly_speed import _interleaved, _quartiles  # noqa: E402


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", default=None)
    ap.add_argument("--n", type=int, default=30)
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", default=str(OUT))
    a = ap.parse_args(argv)
    import torch
    from PIL import Image

    from backend.anomaly import engines
    from backend.anomaly.offline import levers_v10 as v10
    from backend.anomaly.preprocess import letterbox

    torch.set_num_threads(a.threads)
    if not 1 <= a.n <= 100:
        raise SystemExit("--n must be 1..100")
    name = a.config or json.loads(v10.OUT.read_text())["selection"]["ranking"][0]
    cfg = next((c for c in v10.configs() if c["name"] == name), None)
    if cfg is None:
        raise SystemExit(f"unknown config {name!r}; one of {', '.join(c['name'] for c in v10.configs())}")
    meta, knn, d = engines.get("metauas", a.size), engines.get("knn", a.size), engines.get("ensemble", a.size)
    new = v10.ensemble_for(cfg["use"], meta, knn, v10.local_engine(cfg["window"], cfg["colour"], knn.encoder))
    engs = {"D": d, name: new}
    photo = Image.open(Path(__import__("skimage").__file__).parent / "data" / "coffee.png").convert("RGB")
    prompt = photo.crop((0, 0, 400, 400))
    arrs = {"D": [letterbox(photo.crop((1 + i, 0, 401 + i, 400)), a.size)[0] for i in range(a.n)],
            name: [letterbox(photo.crop((101 + i, 0, 501 + i, 400)), a.size)[0] for i in range(a.n)]}
    mems = {k: [e.memory(prompt, a.size, "bench-v10-prompt")] for k, e in engs.items()}
    for k, e in engs.items():  # warm-up
        e.map_square(arrs[k][0], mems[k])
    times = _interleaved({k: (lambda i, k=k, e=e: e.map_square(arrs[k][i], mems[k])) for k, e in engs.items()}, a.n)
    res = {"command": "python bench/anomaly_ensemble_speed.py" + (f" --config {a.config}" if a.config else "")
                      + (f" --n {a.n}" if a.n != 30 else ""),
           "config": cfg, "size": a.size, "threads": a.threads, "n": a.n, "order": "ABBA interleaved",
           "ms_median": {k: round(statistics.median(v), 1) for k, v in times.items()},
           "ms_quartiles": {k: _quartiles(v) for k, v in times.items()},
           "ratio_of_medians": round(statistics.median(times[name]) / statistics.median(times["D"]), 3),
           "load_average": [round(v, 1) for v in os.getloadavg()], "cpus": os.cpu_count(),
           "note": "ensemble map_square per query, prompt cached; shared 2-core machine under load; compare the ratio"}
    print(json.dumps(res, indent=1))
    if a.out:
        Path(a.out).parent.mkdir(parents=True, exist_ok=True)
        Path(a.out).write_text(json.dumps(res, indent=1) + "\n")
    return res


if __name__ == "__main__":
    main()

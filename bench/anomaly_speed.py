"""MetaUAS-Lite0 vs patch kNN: time per image and GMAC at 256 px on 1 thread, side by side in one run.

    .venv/bin/python bench/anomaly_speed.py [--n 20] [--size 256] [--threads 1] [--out FILE]

Both engines map the same letterboxed query against the same cached prompt (what a query costs once
the prompt is known); runs are interleaved and the median of each is reported, so the ratio holds
on a shared, loaded machine even when the absolute figures do not. GMAC are counted with
torch.utils.flop_counter on one query (FLOPs / 2), MetaUAS split into encoder and the rest.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=20)
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", default=None)
    ap.add_argument("--checkpoint", default=None, help="MetaUAS checkpoint (default: the registry's)")
    args = ap.parse_args(argv)
    import torch
    from PIL import Image
    from torch.utils.flop_counter import FlopCounterMode

    from backend.anomaly import engines
    from backend.anomaly.preprocess import letterbox, normalise

    torch.set_num_threads(args.threads)
    photo = Image.open(Path(__import__("skimage").__file__).parent / "data" / "coffee.png").convert("RGB")
    prompt = photo.crop((0, 0, 400, 400))
    queries = [photo.crop((i, i, 400 + i, 400 + i)) for i in range(args.n)]
    engs = {"knn": engines.get("knn", args.size), "metauas": engines.get("metauas", args.size, args.checkpoint)}
    mems = {k: [e.memory(prompt, args.size, "bench-prompt")] for k, e in engs.items()}
    arrs = [letterbox(q, args.size)[0] for q in queries]
    for k, e in engs.items():  # warm-up
        e.map_square(arrs[0], mems[k])
    times = {k: [] for k in engs}
    for a in arrs:
        for k, e in engs.items():
            t0 = time.perf_counter()
            e.map_square(a, mems[k])
            times[k].append((time.perf_counter() - t0) * 1000)
    ms = {k: round(statistics.median(v), 1) for k, v in times.items()}

    x = torch.from_numpy(normalise(arrs[0]))[None]
    gmac = {}
    m = engs["metauas"].model
    with FlopCounterMode(display=False) as fc:
        m.encode(x)
    gmac["metauas_encoder"] = fc.get_total_flops() / 2e9
    q, p = m.encode(x), mems["metauas"]
    with FlopCounterMode(display=False) as fc, torch.no_grad():
        m.decode(q, p)
    gmac["metauas_alignment_decoder"] = fc.get_total_flops() / 2e9
    with FlopCounterMode(display=False) as fc:
        engs["knn"].map_square(arrs[0], mems["knn"])
    gmac["knn_total"] = fc.get_total_flops() / 2e9
    gmac["metauas_total"] = gmac["metauas_encoder"] + gmac["metauas_alignment_decoder"]
    res = {"size": args.size, "threads": args.threads, "n": args.n, "ms_per_image_median": ms,
           "ratio_metauas_over_knn": round(ms["metauas"] / ms["knn"], 2),
           "gmac": {k: round(v, 3) for k, v in gmac.items()},
           "decoder_channels": list(getattr(m, "decoder_channels", [])),
           "note": "shared 2-core machine under load; compare the ratio, not the absolute ms"}
    print(json.dumps(res, indent=1))
    if args.out:
        Path(args.out).write_text(json.dumps(res, indent=1) + "\n")
    return res


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()

"""MetaUAS (the Lite architecture) on EfficientNet-Lite0 / Lite1 / Lite2 beside the shipped kNN engine: GMAC and ms per
image at 256 px on 1 thread, in one run (the issue's speed bar: MetaUAS time <= kNN time).

    .venv/bin/python bench/anomaly_metauas_encoders.py [--n 40] [--size 256] [--threads 1]
        [--out bench/results/anomaly_metauas_encoders.json]

The three MetaUAS networks are built as `train --encoder lite0|lite1|lite2` builds them (ImageNet encoder, decoder and
alignment at their initialisation: UNTRAINED, which costs exactly what a trained one costs), saved as checkpoints and
loaded through MetaUASEngine, so each figure is the engine's `map_square` (letterboxed query -> square map, the
prompt's features cached). The baseline is the shipped kNN engine (`engines.get("knn")`, its registry settings). The
engines run interleaved in ABBA order (drift and load spikes hit all of them), each on its own distinct queries; the
report gives medians, quartiles and each MetaUAS's ratio of medians to kNN. GMAC: torch.utils.flop_counter on one
query (FLOPs / 2): the MetaUAS encoder pass and its alignment + decoder, and the kNN map.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
OUT = ROOT / "bench" / "results" / "anomaly_metauas_encoders.json"
ENCODERS = ("lite0", "lite1", "lite2")


def build(encoder: str):
    """The untrained MetaUAS of `train --encoder <encoder> --arch lite` (same seed for all three)."""
    import torch  # noqa: PLC0415

    from backend.anomaly.encoders import SHORT_NAMES  # noqa: PLC0415
    from backend.anomaly.model import LITE_ALIGNMENT, LITE_DECODER, LITE_ENCODER_TAPS, MetaUAS  # noqa: PLC0415

    torch.manual_seed(0)
    name = SHORT_NAMES[encoder]
    return MetaUAS(name, fusion_policy="catdist", decoder="lite", encoder_taps=LITE_ENCODER_TAPS[name],
                   num_alignment_layers=len(LITE_ALIGNMENT), alignment_types=LITE_ALIGNMENT,
                   decoder_channels=LITE_DECODER).eval()


def table(res: dict) -> str:
    """The docs/anomaly.md block (anomaly-metauas-encoders) from the committed result."""
    lines = ["| engine (256 px, 1 thread) | GMAC: encoder + alignment/decoder = total | ms / image (median, IQR) | "
             "× kNN time |", "|---|---|---|---|"]
    for e in ENCODERS:
        k = f"metauas_{e}"
        g, q = res["gmac"][k], res["ms_quartiles"][k]
        lines.append(f"| MetaUAS-{e.capitalize()} (untrained) | {g['encoder']:.3f} + {g['alignment_decoder']:.3f} = "
                     f"{g['total']:.3f} | {res['ms_median'][k]:.1f} ({q[0]:.1f}–{q[2]:.1f}) | "
                     f"{res['ratio_to_knn_of_medians'][k]:.2f} |")
    q = res["ms_quartiles"]["knn"]
    lines.append(f"| kNN (shipped, Lite0) | {res['gmac']['knn']['total']:.3f} | {res['ms_median']['knn']:.1f} "
                 f"({q[0]:.1f}–{q[2]:.1f}) | 1.00 |")
    lines.append("")
    lines.append(f"`{res['command']}` → `bench/results/anomaly_metauas_encoders.json`; n {res['n']} per engine, ABBA "
                 f"interleaved, prompt features cached, {res['cpus']} CPUs under load (load average "
                 f"{res['load_average'][0]}): compare the ratios, not the ms.")
    return "\n".join(lines)


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=40)
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", default=str(OUT))
    args = ap.parse_args(argv)
    import torch  # noqa: PLC0415
    from PIL import Image  # noqa: PLC0415
    from torch.utils.flop_counter import FlopCounterMode  # noqa: PLC0415

    from backend.anomaly import engines  # noqa: PLC0415
    from backend.anomaly.checkpoint import save_lite0  # noqa: PLC0415
    from backend.anomaly.metauas_engine import MetaUASEngine  # noqa: PLC0415
    from backend.anomaly.model import count_params  # noqa: PLC0415
    from backend.anomaly.preprocess import letterbox, normalise  # noqa: PLC0415

    if not 1 <= args.n <= 40:
        raise SystemExit("--n must be 1..40 (distinct queries per engine)")
    torch.set_num_threads(args.threads)
    photo = Image.open(Path(__import__("skimage").__file__).parent / "data" / "coffee.png").convert("RGB")
    prompt = photo.crop((0, 0, 400, 400))
    names = [f"metauas_{e}" for e in ENCODERS] + ["knn"]
    # distinct 400×400 crops of the 600×400 photo per engine (no engine reuses another's cached features)
    queries = {k: [photo.crop((1 + 45 * j + i, 0, 401 + 45 * j + i, 400)) for i in range(args.n)]
               for j, k in enumerate(names)}
    engs, params = {}, {}
    with tempfile.TemporaryDirectory() as tmp:
        for e in ENCODERS:
            model = build(e)
            params[f"metauas_{e}"] = dict(zip(("total", "learnable"), count_params(model), strict=True))
            engs[f"metauas_{e}"] = MetaUASEngine(None, path=save_lite0(model, Path(tmp) / f"metauas_{e}.pt"))
    engs["knn"] = engines.get("knn", args.size)
    mems = {k: [e.memory(prompt, args.size, f"bench-prompt-{k}")] for k, e in engs.items()}
    arrs = {k: [letterbox(q, args.size)[0] for q in v] for k, v in queries.items()}
    for k, e in engs.items():  # warm-up: weights, allocator, the prompt's cached features
        e.map_square(arrs[k][0], mems[k])
    times: dict[str, list[float]] = {k: [] for k in names}
    for i in range(args.n):
        for k in (names if i % 2 == 0 else names[::-1]):
            t0 = time.perf_counter()
            engs[k].map_square(arrs[k][i], mems[k])
            times[k].append((time.perf_counter() - t0) * 1000)
    gmac: dict[str, dict[str, float]] = {}
    for e in ENCODERS:
        k = f"metauas_{e}"
        m = engs[k].model
        x = torch.from_numpy(normalise(arrs[k][0]))[None]
        with FlopCounterMode(display=False) as fc:
            q = m.encode(x)
        enc = fc.get_total_flops() / 2e9
        p = m.encode(torch.from_numpy(normalise(arrs[k][1]))[None])  # the prompt's features (cached in use)
        with FlopCounterMode(display=False) as fc, torch.no_grad():
            m.decode(q, p)
        dec = fc.get_total_flops() / 2e9
        gmac[k] = {"encoder": round(enc, 3), "alignment_decoder": round(dec, 3), "total": round(enc + dec, 3)}
    with FlopCounterMode(display=False) as fc:
        engs["knn"].map_square(arrs["knn"][0], mems["knn"])
    gmac["knn"] = {"total": round(fc.get_total_flops() / 2e9, 3)}
    knn_med = statistics.median(times["knn"])
    res = {"command": "python bench/anomaly_metauas_encoders.py" + (f" --n {args.n}" if args.n != 40 else ""),
           "size": args.size, "threads": args.threads, "n": args.n,
           "order": "ABBA interleaved over the four engines, one round per repeat",
           "weights": "ImageNet encoders; alignment/decoder/head at their initialisation (untrained: timing only)",
           "ms_median": {k: round(statistics.median(v), 1) for k, v in times.items()},
           "ms_quartiles": {k: [round(float(x), 1) for x in np.percentile(np.asarray(v), [25, 50, 75])]
                            for k, v in times.items()},
           "ratio_to_knn_of_medians": {k: round(statistics.median(times[k]) / knn_med, 3) for k in names[:-1]},
           "gmac": gmac, "params": params,
           "load_average": [round(v, 1) for v in os.getloadavg()], "cpus": os.cpu_count(),
           "note": "shared, loaded 2-core machine; compare the ratios, not the absolute ms"}
    print(json.dumps(res, indent=1))
    if args.out:
        Path(args.out).write_text(json.dumps(res, indent=1) + "\n")
    return res


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()

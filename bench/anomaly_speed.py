"""MetaUAS-Lite0 vs patch kNN: time per image and GMAC at 256 px on 1 thread, side by side in one run.

    .venv/bin/python bench/anomaly_speed.py [--n 40] [--size 256] [--threads 1] [--out static/anomaly/speed.json]
        [--prompt-aug K]

Two figures per engine, both with the prompt's features already cached (what a query costs once the
prompt is known):
- `map`: the engine's `map_square` alone (letterboxed query → square map);
- `inspect`: `service.inspect` with ONE prompt, per query — the map plus everything the inspector needs
  for its verdict (the prompt↔query similarity behind MISMATCH, unletterboxing, the image score). kNN
  needs a separate Lite0 global-feature pass for the similarity; MetaUAS reads it off its own encoder pass.

Robust on a shared, loaded machine: the engines run interleaved in ABBA order (so drift and load spikes
hit both), each repeat is one pair, and the report gives medians, quartiles, the ratio of medians and the
median of the per-pair ratios. Compare the ratios, not the absolute ms. GMAC are counted with
torch.utils.flop_counter on one query (FLOPs / 2).

`--prompt-aug K` (protocol v4): MetaUAS runs with K nuisance views per prompt and is compared with the PLAIN
kNN engine (K = 0), the eligibility bar; kNN with K views is timed in the same interleaved run as a third
engine (`knn_aug`, its ratio to plain kNN reported).

`--plain-knn` (protocol v5): the kNN engine is the PLAIN one (K 0, no normal-variation normalisation, score max:
`KnnEngine()` with no options) and MetaUAS runs with its registry settings (NV normalisation, score aggregation);
a third row `map_score` times map_square + the engine's own image score for both (the eligibility bar of
static/anomaly/protocol_v5.json). The `inspect` rows then compare MetaUAS with the SHIPPED kNN (its registry settings).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
OUT = ROOT / "static" / "anomaly" / "speed.json"


def _quartiles(v: list[float]) -> list[float]:
    q = np.percentile(np.asarray(v), [25, 50, 75])
    return [round(float(x), 1) for x in q]


def _interleaved(fns: dict, n: int) -> dict[str, list[float]]:
    """ms per call of each fn, n repeats, ABBA order (A B, B A, A B, ...)."""
    names = list(fns)
    times = {k: [] for k in names}
    for i in range(n):
        for k in (names if i % 2 == 0 else names[::-1]):
            t0 = time.perf_counter()
            fns[k](i)
            times[k].append((time.perf_counter() - t0) * 1000)
    return times


def _summary(times: dict[str, list[float]]) -> dict:
    a, b = times["metauas"], times["knn"]
    extra = {f"{k}_ratio_of_medians": round(statistics.median(v) / statistics.median(b), 3)
             for k, v in times.items() if k not in ("metauas", "knn")}
    return {**extra, "ms_median": {k: round(statistics.median(v), 1) for k, v in times.items()},
            "ms_quartiles": {k: _quartiles(v) for k, v in times.items()},
            "ratio_of_medians": round(statistics.median(a) / statistics.median(b), 3),
            "median_pair_ratio": round(statistics.median(x / y for x, y in zip(a, b, strict=True)), 3),
            "pair_ratio_quartiles": [round(float(x), 3) for x in np.percentile(np.asarray(a) / np.asarray(b),
                                                                                 [25, 50, 75])]}


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=40)
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", default=str(OUT))
    ap.add_argument("--checkpoint", default=None, help="MetaUAS checkpoint (default: the registry's)")
    ap.add_argument("--plain-knn", action="store_true",
                    help="protocol v5: compare with the plain kNN (K 0, no NV, max) and time map + image score")
    ap.add_argument("--prompt-aug", type=int, default=None,
                    help="nuisance views per prompt for MetaUAS (and a third engine, kNN with them); kNN stays plain")
    args = ap.parse_args(argv)
    import torch
    from PIL import Image
    from torch.utils.flop_counter import FlopCounterMode

    from backend.anomaly import engines, service
    from backend.anomaly.engine_base import expand_views, split_nv
    from backend.anomaly.preprocess import letterbox, normalise

    torch.set_num_threads(args.threads)
    photo = Image.open(Path(__import__("skimage").__file__).parent / "data" / "coffee.png").convert("RGB")
    prompt = photo.crop((0, 0, 400, 400))
    if not 1 <= args.n <= 100:
        raise SystemExit("--n must be 1..100 (distinct queries per engine)")
    # Each engine gets its own distinct queries, so no query's features (e.g. its global feature) are cached
    # by the other engine's run: coffee.png is 600×400, 400×400 crops at x = 1..100 and 101..200.
    queries = {"metauas": [photo.crop((1 + i, 0, 401 + i, 400)) for i in range(args.n)],
               "knn": [photo.crop((101 + i, 0, 501 + i, 400)) for i in range(args.n)]}
    aug = args.prompt_aug
    if aug:  # kNN with the views gets its own distinct queries too (mirror images of MetaUAS's)
        queries["knn_aug"] = [q.transpose(Image.Transpose.FLIP_LEFT_RIGHT) for q in queries["metauas"]]
    warm = photo.crop((0, 0, 399, 400))
    engs = {"metauas": engines.get("metauas", args.size, args.checkpoint, aug),
            "knn": engines.get("knn", args.size, prompt_aug=0 if aug is not None else None)}
    if args.plain_knn:
        from backend.anomaly.knn import KnnEngine
        engs["knn"] = KnnEngine()  # K 0, no NV normalisation, score max, σ 4
    if aug:
        engs["knn_aug"] = engines.get("knn", args.size, prompt_aug=aug)
    role = {"metauas": "metauas", "knn": "knn", "knn_aug": "knn"}
    views = {"metauas": aug, "knn": 0 if aug is not None else None, "knn_aug": aug}
    mems = {k: [e.memory(prompt, args.size, "bench-prompt")] for k, e in engs.items()}
    arrs = {k: [letterbox(q, args.size)[0] for q in v] for k, v in queries.items()}
    for k, e in engs.items():  # warm-up: weights, allocator, the prompt's cached features
        e.map_square(arrs[k][0], mems[k])
        service.inspect([prompt], [warm], engine=role[k], size=args.size, checkpoint=args.checkpoint,
                        prompt_aug=views[k])

    map_times = _interleaved({k: (lambda i, k=k, e=e: e.map_square(arrs[k][i], mems[k])) for k, e in engs.items()},
                             args.n)
    from backend.anomaly.knn import image_score
    score_times = _interleaved({k: (lambda i, k=k, e=e: image_score(e.map_square(arrs[k][i], mems[k]),
                                                                    e.score_mode)) for k, e in engs.items()},
                               args.n) if args.plain_knn else None
    insp_times = _interleaved({k: (lambda i, k=k: service.inspect([prompt], [queries[k][i]], engine=role[k],
                                                                  size=args.size, checkpoint=args.checkpoint,
                                                                  prompt_aug=views[k]))
                               for k in engs}, args.n)

    x = torch.from_numpy(normalise(arrs["metauas"][0]))[None]
    gmac = {}
    m = engs["metauas"].model
    with FlopCounterMode(display=False) as fc:
        m.encode(x)
    gmac["metauas_encoder"] = fc.get_total_flops() / 2e9
    q, p = m.encode(x), split_nv(mems["metauas"])[0]
    with FlopCounterMode(display=False) as fc, torch.no_grad():
        m.decode(q, expand_views(p))
    gmac["metauas_alignment_decoder"] = fc.get_total_flops() / 2e9
    gmac["metauas_total"] = gmac["metauas_encoder"] + gmac["metauas_alignment_decoder"]
    with FlopCounterMode(display=False) as fc:  # the inspector's similarity from the map's own encoder pass
        engs["metauas"].global_from(q)
    gmac["metauas_similarity"] = fc.get_total_flops() / 2e9
    with FlopCounterMode(display=False) as fc:
        engs["knn"].map_square(arrs["knn"][0], mems["knn"])
    gmac["knn_map"] = fc.get_total_flops() / 2e9
    with FlopCounterMode(display=False) as fc:
        service.global_features(warm, key="bench-flops-not-cached")
    gmac["global_pass"] = fc.get_total_flops() / 2e9

    res = {"command": "python bench/anomaly_speed.py" + (f" --n {args.n}" if args.n != 40 else "")
                      + (f" --checkpoint {args.checkpoint}" if args.checkpoint else "")
                      + (f" --prompt-aug {aug}" if aug is not None else "")
                      + (" --plain-knn" if args.plain_knn else ""),
           "prompt_aug": aug,
           "size": args.size, "threads": args.threads, "n": args.n, "order": "ABBA interleaved, one pair per repeat",
           "map": _summary(map_times), "inspect_one_prompt": _summary(insp_times),
           **({"map_score": _summary(score_times),
               "settings": {k: e.map_options() for k, e in engs.items() if hasattr(e, "map_options")}}
              if score_times else {}),
           "gmac": {k: round(v, 3) for k, v in gmac.items()},
           "decoder_channels": list(getattr(m, "decoder_channels", [])),
           "load_average": [round(v, 1) for v in os.getloadavg()], "cpus": os.cpu_count(),
           "note": "shared 2-core machine under load; compare the ratios, not the absolute ms"}
    print(json.dumps(res, indent=1))
    if args.out:
        Path(args.out).write_text(json.dumps(res, indent=1) + "\n")
    return res


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()

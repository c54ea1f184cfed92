"""Verdicts at the inspector's DEFAULT thresholds (calibrated from the one prompt alone) on a benchmark folder.

    .venv/bin/python bench/anomaly_default_verdicts.py [--data /tmp/heldout] [--out static/anomaly/default_verdicts.json]

Without --data the reported held-out benchmark (v2: offline/heldout.generate_v2, protocol_v3.json) is generated into
a temp folder; with a v2 benchmark the totals are also given per class group (fresh / old).

Per class: `inspector.calibrate_from_prompts([train/good/000])`, then every test query is inspected with that
prompt and counted NG when its score reaches the image threshold (MISMATCH counted apart). Engines: metauas,
knn, ensemble.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=None, help="MVTec-layout benchmark (default: generate the held-out one)")
    ap.add_argument("--out", default=str(ROOT / "static" / "anomaly" / "default_verdicts.json"))
    args = ap.parse_args(argv)
    import torch
    from PIL import Image

    from backend.anomaly import inspector as insp
    from backend.anomaly import service
    from backend.anomaly.dataset import list_classes, load_class

    torch.set_num_threads(1)
    if args.data is None:
        import tempfile

        from backend.anomaly.offline import heldout

        args.data = tempfile.mkdtemp(prefix="heldout-")
        heldout.generate_v2(args.data)
    bench = json.loads((Path(args.data) / "benchmark.json").read_text())
    res: dict = {"command": "python bench/anomaly_default_verdicts.py --data /tmp/" + Path(args.data).name,
                 "benchmark": bench.get("classes"), "benchmark_version": bench.get("version", 1), "engines": {}}
    parts = bench.get("parts") or {}
    for eng in ("metauas", "knn", "ensemble"):
        tot = {"good": 0, "good_ng": 0, "bad": 0, "bad_ng": 0, "mismatch": 0}
        per = {}
        for cls in list_classes(args.data):
            prompts, test = load_class(Path(args.data), cls)
            prompt = Image.open(prompts[0]).convert("RGB")
            t = insp.calibrate_from_prompts([prompt], engine=eng)
            out = service.inspect([prompt], [Image.open(s.path).convert("RGB") for s in test], engine=eng)
            c = {"image_threshold": t.image, "good": 0, "good_ng": 0, "bad": 0, "bad_ng": 0, "mismatch": 0}
            for r, s in zip(out, test, strict=True):
                v = insp.verdict(r.score, t.image, r.prompt_similarity)
                k = "bad" if s.label else "good"
                c[k] += 1
                c[k + "_ng"] += v == "NG"
                c["mismatch"] += v == "MISMATCH"
            per[cls] = c
            for k in tot:
                tot[k] += c[k]
        res["engines"][eng] = {"total": tot, "per_class": per}
        for g, p in parts.items():
            res["engines"][eng].setdefault("groups", {})[g] = {k: sum(per[c][k] for c in p["classes"]) for k in tot}
        print(eng, tot, flush=True)
    Path(args.out).write_text(json.dumps(res, indent=1) + "\n")
    return res


if __name__ == "__main__":
    main()

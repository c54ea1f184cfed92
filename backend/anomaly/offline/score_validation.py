"""Choose how MetaUAS's image score is read off its map, on a validation set of TRAINING photos only.

    python -m backend.anomaly.offline.score_validation [--out static/anomaly/score_validation.json]

The held-out benchmark must not pick the aggregation, so the same generator (offline/heldout.py: nuisance
views, five defect kinds) is run on photos of the committed training split (split.TRAIN_PHOTOS; never an
evaluation-only photo), the shipped MetaUAS maps are computed once per query, and every candidate
aggregation (max; mean of the top q% of pixels) is scored by I-AUROC pooled per class. The winner is what
`MetaUASEngine.score_mode` ships; the held-out report is then regenerated and reported whatever it says.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import torch
from sklearn.metrics import roc_auc_score

from backend.anomaly import service
from backend.anomaly.dataset import load_class
from backend.anomaly.knn import image_score
from backend.anomaly.offline import split
from backend.anomaly.offline.heldout import generate
from backend.imageio import open_image

REPO = Path(__file__).resolve().parents[3]
OUT = REPO / "static" / "anomaly" / "score_validation.json"
VAL_CLASSES = {"chelsea": "data/chelsea.png", "coffee": "data/coffee.png", "astronaut": "data/astronaut.png",
               "rocket": "data/rocket.jpg", "motorcycle": "data/motorcycle_left.png"}
VAL_DONORS = ("data/coins.png", "data/brick.png")
CANDIDATES = ("max", "top0.1p", "top0.5p", "top1p", "top2p")


def run(out: Path = OUT, seed: int = 5) -> dict:
    photos = {c: split._resolve("skimage", [p])[0] for c, p in VAL_CLASSES.items()}
    donors = [split._resolve("skimage", [p])[0] for p in VAL_DONORS]
    for p in list(photos.values()) + donors:
        if split.is_eval_only(p):
            raise RuntimeError(f"{p} is evaluation-only")
    train = {str(p) for p in split.train_photos()}
    assert all(str(p) in train for p in list(photos.values()) + donors), "validation photos must be training photos"
    per_class: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        generate(tmp, seed=seed, photo_paths=photos, donor_paths=donors)
        for cls in VAL_CLASSES:
            prompts_s, test = load_class(Path(tmp), cls)
            prompt = open_image(prompts_s[0])
            labels, maps = [], []
            for s in test:
                r = service.inspect([prompt], [open_image(s.path)], engine="metauas", size=256)[0]
                labels.append(int(s.label))
                maps.append(r.anomaly_map)
            per_class[cls] = {}
            for c in CANDIDATES:
                scores = [image_score(m, c) for m in maps]
                per_class[cls][c] = round(100 * float(roc_auc_score(labels, scores)), 2)
            print(cls, per_class[cls], flush=True)
    mean = {c: round(float(np.mean([per_class[k][c] for k in per_class])), 2) for c in CANDIDATES}
    best = max(CANDIDATES, key=lambda c: (mean[c], c == "max"))  # ties keep the current "max"
    res = {"command": "python -m backend.anomaly.offline.score_validation", "seed": seed,
           "classes": {c: f"skimage:{p}" for c, p in VAL_CLASSES.items()},
           "donors": [f"skimage:{p}" for p in VAL_DONORS],
           "note": "training photos only (static/anomaly/split.json); the held-out benchmark played no part",
           "metric": "I-AUROC per class, MetaUAS-Lite0, one prompt (train/good/000), 256 px",
           "per_class": per_class, "mean": mean, "chosen": best}
    out.write_text(json.dumps(res, indent=1) + "\n")
    print(json.dumps({"mean": mean, "chosen": best}))
    return res


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(OUT))
    ap.add_argument("--seed", type=int, default=5)
    a = ap.parse_args(argv)
    torch.set_num_threads(1)
    run(Path(a.out), a.seed)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Synthetic anomaly benchmark in MVTec layout: `python -m backend.anomaly.offline.synth --out DIR --seed S`.

Six procedural classes (four textures, two objects with random pose); each class has fixed
parameters and every image is a new random instance, like good parts off one line. Test defects are
by default the HELD-OUT kinds (scratch, stain, missing part) that training never saw, so a trained
model is scored on generalisation, not on recognising its own synthesiser. Deterministic from the
seed; writes `benchmark.json` with the command, parameters and licence (generated, CC0).
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from backend.anomaly.offline.defects import HELDOUT_KINDS, TRAIN_KINDS
from backend.anomaly.offline.textures import render, sample_params

CLASSES = {"stripes": "grating", "tiles": "checker", "fabric": "weave", "wood": "marble", "nut": "object",
           "pill": "object"}


def _class_params(name: str, kind: str, rng) -> dict:
    p = sample_params(kind, rng)
    if kind == "object":
        p["shape"] = name
    return p


def _to8(x):
    return (np.clip(x, 0, 1) * 255 + 0.5).astype(np.uint8)


def generate(out: str | Path, seed: int = 2026, classes=None, n_train: int = 5, n_good: int = 4,
             n_defect: int = 6, size: int = 256, kinds=None) -> dict:
    """Write the tree; returns the metadata also saved as benchmark.json."""
    out = Path(out)
    classes = list(classes or CLASSES)
    kinds = list(kinds or HELDOUT_KINDS)
    all_kinds = {**TRAIN_KINDS, **HELDOUT_KINDS}
    unknown = [k for k in kinds if k not in all_kinds]
    if unknown:
        raise ValueError(f"Unknown defect kinds {unknown}; choose from {sorted(all_kinds)}.")
    meta: dict[str, Any] = {"seed": seed, "size": size, "classes": {}, "defect_kinds": kinds,
            "heldout_from_training": [k for k in kinds if k in HELDOUT_KINDS],
            "licence": "generated procedurally by backend.anomaly.offline.synth (CC0)",
            "command": "python -m backend.anomaly.offline.synth " + " ".join(sys.argv[1:])}
    for ci, name in enumerate(classes):
        if name not in CLASSES:
            raise ValueError(f"Unknown class {name!r}; choose from {sorted(CLASSES)}.")
        params = _class_params(name, CLASSES[name], np.random.default_rng([seed, ci]))
        base = out / name
        for split, n in (("train/good", n_train), ("test/good", n_good)):
            (base / split).mkdir(parents=True, exist_ok=True)
            for i in range(n):
                rng = np.random.default_rng([seed, ci, 0 if split.startswith("train") else 1, i])
                Image.fromarray(_to8(render(params, size, rng))).save(base / split / f"{i:03d}.png")
        counters = {k: 0 for k in kinds}
        for i in range(n_defect):
            kind = kinds[i % len(kinds)]
            rng = np.random.default_rng([seed, ci, 2, i])
            img = render(params, size, rng)
            kw = {"background": params["colors"][0]} if kind == "missing" and CLASSES[name] == "object" else {}
            for _ in range(10):
                bad, mask = all_kinds[kind](img, rng, None, **kw)
                if mask.sum() >= 16:
                    break
            j = counters[kind]
            counters[kind] += 1
            (base / "test" / kind).mkdir(parents=True, exist_ok=True)
            (base / "ground_truth" / kind).mkdir(parents=True, exist_ok=True)
            Image.fromarray(_to8(bad)).save(base / "test" / kind / f"{j:03d}.png")
            Image.fromarray((mask > 0).astype(np.uint8) * 255).save(base / "ground_truth" / kind / f"{j:03d}_mask.png")
        meta["classes"][name] = {k: (np.asarray(v).round(4).tolist() if not isinstance(v, str) else v)
                                 for k, v in params.items() if k != "colors"}
    (out / "benchmark.json").write_text(json.dumps(meta, indent=1))
    return meta


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m backend.anomaly.offline.synth", description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True, help="output folder (MVTec layout)")
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--classes", default=",".join(CLASSES), help=f"comma list from {','.join(CLASSES)}")
    ap.add_argument("--train", type=int, default=5, help="normal train images per class (prompt pool)")
    ap.add_argument("--test-good", type=int, default=4)
    ap.add_argument("--test-defect", type=int, default=6)
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--kinds", default=",".join(HELDOUT_KINDS),
                    help=f"defect kinds; held-out: {','.join(HELDOUT_KINDS)}; training kinds: {','.join(TRAIN_KINDS)}")
    a = ap.parse_args(argv)
    meta = generate(a.out, a.seed, a.classes.split(","), a.train, a.test_good, a.test_defect, a.size,
                    a.kinds.split(","))
    print(f"wrote {len(meta['classes'])} classes to {a.out} (seed {a.seed}, defects {meta['defect_kinds']})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

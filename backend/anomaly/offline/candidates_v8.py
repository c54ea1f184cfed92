"""Protocol v8 (static/anomaly/protocol_v8.json): training-pair recipes aimed at the diagnosed weakness (removal,
recolour, small defects), six device-trained MetaUAS-Lite0 candidates against protocol v6's three same-recipe
controls, chosen on VALIDATION v2 by a rule that accounts for the best-of-seeds winner's curse.

    python -m backend.anomaly.offline.candidates_v8 --pair-stats   # the recipes' pair statistics (no model)

The recipes (RECIPES) are what backend/anomaly/offline/gpu_candidates_v8.sh passes to the trainer.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from backend.anomaly.offline import changes, pairs, split
from backend.anomaly.offline.textures import load_photos

REPO = Path(__file__).resolve().parents[3]
FOLDER = REPO / "static" / "anomaly" / "protocol_v8"
PROTOCOL = REPO / "static" / "anomaly" / "protocol_v8.json"
PAIR_STATS = FOLDER / "recipe_pairs.json"
SCRIPT = REPO / "backend" / "anomaly" / "offline" / "gpu_candidates_v8.sh"
WEIGHTS_A = "paste=0.1,recolour=0.35,remove=0.45,duplicate=0.1"
RECIPES = {"A": pairs.Recipe(pairs.parse_kind_weights(WEIGHTS_A)),
           "B": pairs.Recipe(pairs.parse_kind_weights(WEIGHTS_A), p_small=0.5)}
SEEDS = (21, 22, 23)
CANDIDATES = tuple(f"{r}_s{s}" for r in RECIPES for s in SEEDS)
CONTROLS = tuple(f"s{s}_iw0.5" for s in SEEDS)  # protocol v6's runs of the unchanged recipe (static/anomaly/protocol_v6)
PAIR_SEED, PAIR_N = 21, 1000


def pair_stats(n: int = PAIR_N, seed: int = PAIR_SEED, size: int = 192) -> dict:
    """Per recipe (and the default): realised share of each change kind after the visibility retries, attempts per
    change, visible-area quartiles (% of the canvas) and CPU seconds per change, on the training photos' scenes
    drawn as make_group draws them. Describes the pairs only; no model is involved."""
    photos = load_photos(split.train_photos(extra=True))
    out = {}
    for name, recipe in {"default": pairs.DEFAULT_RECIPE, **RECIPES}.items():
        kinds, areas, attempts = [], [], []
        t0 = time.process_time()
        for i in range(n):
            rng = np.random.default_rng([seed, i])
            scene = pairs._scene(rng, size + 16, photos)
            _, m, kind, k = pairs.draw_change(scene, rng, photos, recipe)
            kinds.append(kind or "none")
            attempts.append(k)
            if kind:
                areas.append(float(m.mean()))
        cpu = time.process_time() - t0
        a = np.array(areas)
        out[name] = {"recipe": recipe.describe(),
                     "share": {k: round(kinds.count(k) / n, 3) for k in (*changes.TRAIN_CHANGES, "none")},
                     "attempts_per_change": round(float(np.mean(attempts)), 2),
                     "area_pct_quartiles": [round(100 * float(np.quantile(a, q)), 2) for q in (0.25, 0.5, 0.75)],
                     "share_area_lt_0.5pct": round(float((a < 0.005).mean()), 3),
                     "cpu_ms_per_change": round(1000 * cpu / n, 1)}
    return {"command": "python -m backend.anomaly.offline.candidates_v8 --pair-stats", "n": n, "seed": seed,
            "note": "change draws on training-photo scenes (the procedural share included), canvas 208 px; CPU time "
                    "on the shared 2-core machine (indicative: it sets how many pairs the trainer's workers make)",
            "recipes": out}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pair-stats", action="store_true", help=f"write {PAIR_STATS.relative_to(REPO)}")
    a = ap.parse_args(argv)
    if a.pair_stats:
        res = pair_stats()
        PAIR_STATS.parent.mkdir(parents=True, exist_ok=True)
        PAIR_STATS.write_text(json.dumps(res, indent=1) + "\n")
        print(json.dumps(res, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())

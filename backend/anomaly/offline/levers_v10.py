"""Protocol v10 (static/anomaly/protocol_v10.json): a training-free, position-aware kNN member for the default ensemble,
chosen on VALIDATION v2 against the current defaults (D) recomputed in the same run.

    python -m backend.anomaly.offline.levers_v10 [--data DIR] [--out static/anomaly/protocol_v10/validation.json]
    python -m backend.anomaly.offline.levers_v10 --tables-only   # docs/README blocks from the committed JSON

Maps through the shipped inference path (candidates_v6.class_maps: engine.memory + map_square, prompt seed 0):
MetaUAS and the global kNN with the registry's settings (D), and one `knn_local.LocalKnnEngine` per (window,
colour) of the grid with the global kNN's registry settings plus its window / chroma weight. Lite0 patch features
are shared between the kNN engines (memoised by image bytes; the same features the engines would compute).
Each config's ensemble is a registry-style `EnsembleEngine` ("replace": MetaUAS + local kNN; "third": MetaUAS +
global kNN + local kNN, equal weights, every kNN member calibrated) scored with the registry's ensemble score.
The pre-registered rule (`select`) picks. Validation photos only: the held-out benchmarks play no part here.
"""
from __future__ import annotations

import hashlib
import json
import sys
import time
import types
from pathlib import Path
from typing import Any

import numpy as np

from backend.anomaly import engines
from backend.anomaly.knn import KnnEngine
from backend.anomaly.knn_local import LocalKnnEngine
from backend.anomaly.offline import candidates_common as cc
from backend.anomaly.offline import candidates_v6 as c6
from backend.anomaly.offline import candidates_v8 as c8
from backend.anomaly.offline import levers_v10_tables as tables

REPO = cc.REPO
FOLDER = REPO / "static" / "anomaly" / "protocol_v10"
PROTOCOL = REPO / "static" / "anomaly" / "protocol_v10.json"
OUT = FOLDER / "validation.json"
DATA = "/tmp/a13_validation_v2"
USES = ("replace", "third")
COLOURS = (0.0, 0.5)
WINDOWS = (4, 2, 1, 0)  # cells of 8 px; 0 = global (no window)
MIN_GAIN, PAP_SLACK = 1.0, 2.0
REPRO_OF = REPO / "static" / "anomaly" / "protocol_v9" / "validation.json"  # D's figures (shipped_S) in protocol v9


def config_name(use: str, window: int, colour: float) -> str:
    return f"{use}_w{window or 'global'}_c{colour:g}"


def configs() -> list[dict]:
    """The 14 registered configs in the listed order (use, then colour, then window); (global, λ 0) is D."""
    return [{"name": config_name(u, w, c), "use": u, "window": w, "colour": c}
            for u in USES for c in COLOURS for w in WINDOWS if (w, c) != (0, 0.0)]


def select(rows: dict[str, dict], d: dict, order: list[str]) -> dict:
    """The pre-registered rule: rank by ensemble mean I-AUROC (ties: the listed `order`); the top must reach D's + 1.0;
    its ensemble mean P-AP must be >= D's - 2.0, else the next config in the ranking that still has the gain."""
    eps = 1e-9
    ranking = sorted(order, key=lambda n: (-rows[n]["ensemble"]["i_auroc"], order.index(n)))
    tried, chosen = [], None
    for n in ranking:
        e = rows[n]["ensemble"]
        step: dict[str, Any] = {"config": n, "ensemble_i_auroc": e["i_auroc"], "ensemble_p_ap": e["p_ap"]}
        tried.append(step)
        if e["i_auroc"] < d["ensemble"]["i_auroc"] + MIN_GAIN - eps:
            step["why_not"] = f"ensemble I-AUROC {e['i_auroc']} < D's {d['ensemble']['i_auroc']} + {MIN_GAIN}"
            break
        if e["p_ap"] < d["ensemble"]["p_ap"] - PAP_SLACK - eps:
            step["why_not"] = f"ensemble P-AP {e['p_ap']} < D's {d['ensemble']['p_ap']} - {PAP_SLACK}"
            continue
        chosen = n
        break
    return {"chosen": chosen, "ranking": ranking, "tried": tried,
            "gain_of_top": round(rows[ranking[0]]["ensemble"]["i_auroc"] - d["ensemble"]["i_auroc"], 2)}


# -- maps ---------------------------------------------------------------------------------------------------------
def share_features(engs: list, cache: dict) -> None:
    """Memoise every kNN engine's Lite0 patch features by image bytes (one cache for all): the same tensors the
    engines would compute, computed once per image."""
    for eng in engs:
        base = eng.patch_features

        def cached(arr, base=base):
            a = np.ascontiguousarray(arr)
            key = (a.shape, hashlib.sha1(a.tobytes()).hexdigest())
            if key not in cache:
                cache[key] = base(a)
            return cache[key]

        eng.patch_features = cached


def local_engine(window: int, colour: float, encoder) -> LocalKnnEngine:
    """A LocalKnnEngine with the global kNN's registry settings plus the window and chroma weight."""
    opts = dict(getattr(engines._registry().entry(engines.entry_name("knn")), "options", {}) or {})
    opts.update(window=window, colour=colour)
    return LocalKnnEngine(types.SimpleNamespace(name=f"knn-lite0-local-w{window}-c{colour:g}", options=opts),
                          encoder=encoder)


def ensemble_for(use: str, meta, knn, local) -> engines.EnsembleEngine:
    reg = engines.get("ensemble")
    assert isinstance(reg, engines.EnsembleEngine)
    if use == "replace":
        ens = engines.EnsembleEngine.of({"metauas": meta, "knn": local})
        ens.weights = dict(reg.weights)
    else:
        ens = engines.EnsembleEngine.of({"metauas": meta, "knn": knn, "knn_local": local})
        ens.weights = {"metauas": 1.0, "knn": 1.0, "knn_local": 1.0}
    ens.score_mode, ens.size = reg.score_mode, reg.size
    return ens


def fused(ens: engines.EnsembleEngine, maps: dict[str, dict], classes: list[str]) -> dict[str, np.ndarray]:
    return {c: np.stack([ens.fuse({k: maps[k][c]["maps"][i] for k in ens.weights})
                         for i in range(len(maps["metauas"][c]["maps"]))]) for c in classes}


def row(ens_maps: dict, ref: dict, score: str, parts: dict) -> dict:
    return {**c6.summary(ens_maps, ref, score, parts), **c8.breakdown(ens_maps, ref, score)}


def reproduction(d: dict) -> dict:
    prev = json.loads(REPRO_OF.read_text())["shipped_S"]
    diffs = {f"{e}_{m}": round(d[e][m] - prev[e][m], 2) for e in ("ensemble", "metauas") for m in ("i_auroc", "p_ap")}
    worst = max(abs(x) for x in diffs.values())
    return {"of": str(REPRO_OF.relative_to(REPO)) + " shipped_S", "diffs": diffs, "max_abs_diff": worst,
            "within_0.01": worst <= 0.01 + 1e-9}


def run(data: Path, out: Path = OUT, progress=print) -> dict:
    parts, classes = cc.validation_v2(data)
    t0 = time.time()
    meta, knn, ens_d = engines.get("metauas"), engines.get("knn"), engines.get("ensemble")
    assert isinstance(ens_d, engines.EnsembleEngine) and isinstance(knn, KnnEngine)
    cache: dict = {}
    share_features([knn], cache)
    maps = {"metauas": c6.class_maps(data, classes, meta)}
    progress(f"MetaUAS maps {time.time() - t0:.0f} s")
    maps["knn"] = c6.class_maps(data, classes, knn)
    progress(f"kNN maps {time.time() - t0:.0f} s")
    ref = maps["metauas"]
    d = {"ensemble": row(fused(ens_d, maps, classes), ref, ens_d.score_mode, parts),
         "metauas": row({c: v["maps"] for c, v in ref.items()}, ref, meta.score_mode, parts),
         "knn": row({c: v["maps"] for c, v in maps["knn"].items()}, ref, knn.score_mode, parts),
         "settings": engines.map_settings_of(ens_d), "prompt_aug": engines.prompt_aug_of(ens_d)}
    progress(f"D: ensemble {d['ensemble']['i_auroc']} / {d['ensemble']['p_ap']}")
    rows: dict[str, dict] = {}
    locals_: dict[tuple[int, float], dict] = {}
    for cfg in configs():
        key = (cfg["window"], cfg["colour"])
        if key not in locals_:
            t1 = time.time()
            eng = local_engine(cfg["window"], cfg["colour"], knn.encoder)
            share_features([eng], cache)
            lm = c6.class_maps(data, classes, eng)
            locals_[key] = {"maps": lm, "alone": row({c: v["maps"] for c, v in lm.items()}, ref, eng.score_mode, parts),
                            "settings": eng.map_options(), "seconds": round(time.time() - t1, 1),
                            "engine": eng}
            progress(f"local w{cfg['window']} c{cfg['colour']}: alone {locals_[key]['alone']['i_auroc']} "
                     f"({locals_[key]['seconds']} s)")
        loc = locals_[key]
        ens = ensemble_for(cfg["use"], meta, knn, loc["engine"])
        ens_maps = fused(ens, {**maps, "knn_local": loc["maps"]} if cfg["use"] == "third"
                         else {"metauas": maps["metauas"], "knn": loc["maps"]}, classes)
        rows[cfg["name"]] = {"config": {k: cfg[k] for k in ("use", "window", "colour")},
                             "ensemble": row(ens_maps, ref, ens.score_mode, parts),
                             "local_knn_alone": {k: loc["alone"][k] for k in ("i_auroc", "p_ap", "per_kind")},
                             "local_settings": loc["settings"], "weights": dict(ens.weights)}
        progress(f"{cfg['name']}: ensemble {rows[cfg['name']]['ensemble']['i_auroc']} / "
                 f"{rows[cfg['name']]['ensemble']['p_ap']}")
    order = [c["name"] for c in configs()]
    res = {"protocol": str(PROTOCOL.relative_to(REPO)), "command": "python -m backend.anomaly.offline.levers_v10",
           "D": d, "reproduction": reproduction(d), "configs": rows, "order": order,
           "selection": select(rows, d, order), "rule": {"min_gain": MIN_GAIN, "pap_slack": PAP_SLACK},
           "local_seconds": {f"w{w}_c{c:g}": v["seconds"] for (w, c), v in locals_.items()},
           "minutes": round((time.time() - t0) / 60, 1), "note": c8.NOTE}
    return cc.save(res, out)


def main(argv=None) -> int:
    ap = cc.parser(__doc__, OUT)
    ap.set_defaults(data=DATA)
    return cc.finish(ap.parse_args(argv), OUT, run, (tables.BEGIN, tables.END, tables.table),
                     (tables.SUM_BEGIN, tables.SUM_END, tables.summary_line))


if __name__ == "__main__":
    sys.exit(main())

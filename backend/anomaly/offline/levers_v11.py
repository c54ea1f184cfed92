"""Protocol v11 (static/anomaly/protocol_v11.json): a confirmatory test of ONE pre-specified configuration — protocol
v10's replace_wglobal_c0.5 (the ensemble's kNN member = the global patch kNN with the CIELAB chroma term, λ 0.5) —
against the shipped defaults D, recomputed in the same run, on the FRESH validation v3 (four Pillow 12.0.0 sdist colour
photos, seed 35; nothing was ever chosen on them).

    python -m backend.anomaly.offline.levers_v11 [--data DIR] [--out static/anomaly/protocol_v11/validation.json]
    python -m backend.anomaly.offline.levers_v11 --tables-only   # docs/README blocks from the committed JSON

Maps through the shipped inference path (candidates_v6.class_maps, prompt seed 0): MetaUAS and the global kNN with
the registry's settings (D), and the colour kNN built exactly as protocol v10 built it (levers_v10.local_engine(0, 0.5)
and levers_v10.ensemble_for("replace")). No other configuration is scored, so nothing is selected: `decide` applies
the registered rule to the one comparison.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

import cv2
import numpy as np
import torch

from backend.anomaly import engines
from backend.anomaly.dataset import list_classes
from backend.anomaly.evaluate import _prompts_for
from backend.anomaly.knn import KnnEngine
from backend.anomaly.offline import candidates_common as cc
from backend.anomaly.offline import candidates_v6 as c6
from backend.anomaly.offline import levers_v10 as v10
from backend.anomaly.offline import levers_v11_tables as tables
from backend.anomaly.offline import split
from backend.anomaly.offline.heldout import generate
from backend.anomaly.preprocess import letterbox

REPO = cc.REPO
FOLDER = REPO / "static" / "anomaly" / "protocol_v11"
PROTOCOL = REPO / "static" / "anomaly" / "protocol_v11.json"
OUT = FOLDER / "validation.json"
DATA = "/tmp/a14_validation_v3"
NAME, USE, WINDOW, COLOUR = "replace_wglobal_c0.5", "replace", 0, 0.5
CONFIG = {"name": NAME, "use": USE, "window": WINDOW, "colour": COLOUR}
MIN_GAIN, PAP_SLACK = 1.0, 2.0
NOTE = ("validation v3 only (protocol v11: 4 fresh colour classes, 240 queries); 256 px, 1 thread, nice 10, on the "
        "shared 2-core machine; D and the configuration computed in the same run")
CHROMA_COLOURED = 10.0  # a pixel counts as coloured when its CIELAB chroma ‖(a*, b*)‖ >= this (descriptive only)


def build(data: Path) -> list[str]:
    """Validation v3 in MVTec layout under `data` (protocol v11): the generator validation v2 used, seed 35."""
    v3 = split.VALIDATION_V3
    photos, donors = split.validation_v3_photos()
    generate(data, seed=v3["seed"], n_prompts=v3["prompts"], n_good=v3["good"], n_per_kind=v3["per_defect_kind"],
             photo_paths=photos, donor_paths=donors, write_meta=False)
    return list(photos)


def classes_of(data: Path) -> list[str]:
    if not all((data / c).is_dir() for c in split.VALIDATION_V3["classes"]):
        build(data)
    classes = list(split.VALIDATION_V3["classes"])
    assert sorted(classes) == sorted(list_classes(data)), "validation v3 has exactly these four classes"
    return classes


def decide(d: dict, c: dict) -> dict:
    """The registered rule on 2-decimal figures (ties pass): config ensemble I-AUROC >= D's + 1.0 AND config ensemble
    P-AP >= D's - 2.0. `d` / `c`: {"i_auroc", "p_ap"} of D's and the config's ensemble."""
    eps = 1e-9
    gain = round(c["i_auroc"] - d["i_auroc"], 2)
    pap = round(c["p_ap"] - d["p_ap"], 2)
    why = []
    if c["i_auroc"] < d["i_auroc"] + MIN_GAIN - eps:
        why.append(f"ensemble I-AUROC {c['i_auroc']:.2f} < D's {d['i_auroc']:.2f} + {MIN_GAIN}")
    if c["p_ap"] < d["p_ap"] - PAP_SLACK - eps:
        why.append(f"ensemble P-AP {c['p_ap']:.2f} < D's {d['p_ap']:.2f} - {PAP_SLACK}")
    return {"passes": not why, "gain_i_auroc": gain, "delta_p_ap": pap, "why_not": "; ".join(why)}


def colour_share(data: Path, classes: list[str]) -> dict:
    """Descriptive: per class, on its prompt (256 px letterbox), the mean CIELAB chroma and the share of pixels whose
    chroma is >= CHROMA_COLOURED."""
    out = {}
    for cls in classes:
        prompt = _prompts_for(data, cls, classes, 0, None, "correct")[0]
        arr, _ = letterbox(prompt, c6.SIZE)
        lab = cv2.cvtColor(np.asarray(arr, np.float32) / 255.0, cv2.COLOR_RGB2LAB)
        chroma = np.hypot(lab[..., 1], lab[..., 2])
        out[cls] = {"mean_chroma": round(float(chroma.mean()), 2),
                    "share_coloured": round(float((chroma >= CHROMA_COLOURED).mean()), 3)}
    return out


def run(data: Path, out: Path = OUT, progress=print) -> dict:
    torch.set_num_threads(1)
    classes = classes_of(data)
    parts = {"v3": classes}
    t0 = time.time()
    meta, knn, ens_d = engines.get("metauas"), engines.get("knn"), engines.get("ensemble")
    assert isinstance(ens_d, engines.EnsembleEngine) and isinstance(knn, KnnEngine)
    cache: dict = {}
    v10.share_features([knn], cache)
    maps = {"metauas": c6.class_maps(data, classes, meta)}
    progress(f"MetaUAS maps {time.time() - t0:.0f} s")
    maps["knn"] = c6.class_maps(data, classes, knn)
    progress(f"kNN maps {time.time() - t0:.0f} s")
    ref = maps["metauas"]
    d = {"ensemble": v10.row(v10.fused(ens_d, maps, classes), ref, ens_d.score_mode, parts),
         "metauas": v10.row({c: v["maps"] for c, v in ref.items()}, ref, meta.score_mode, parts),
         "knn": v10.row({c: v["maps"] for c, v in maps["knn"].items()}, ref, knn.score_mode, parts),
         "settings": engines.map_settings_of(ens_d), "prompt_aug": engines.prompt_aug_of(ens_d)}
    progress(f"D: ensemble {d['ensemble']['i_auroc']} / {d['ensemble']['p_ap']}")
    eng = v10.local_engine(WINDOW, COLOUR, knn.encoder)
    v10.share_features([eng], cache)
    t1 = time.time()
    lm = c6.class_maps(data, classes, eng)
    progress(f"colour kNN maps {time.time() - t1:.0f} s")
    ens = v10.ensemble_for(USE, meta, knn, eng)
    cfg = {"config": dict(CONFIG), "weights": dict(ens.weights), "colour_knn_settings": eng.map_options(),
           "ensemble": v10.row(v10.fused(ens, {"metauas": maps["metauas"], "knn": lm}, classes), ref, ens.score_mode, parts),
           "colour_knn_alone": v10.row({c: v["maps"] for c, v in lm.items()}, ref, eng.score_mode, parts)}
    progress(f"{NAME}: ensemble {cfg['ensemble']['i_auroc']} / {cfg['ensemble']['p_ap']}")
    v3 = split.VALIDATION_V3
    res = {"protocol": str(PROTOCOL.relative_to(REPO)), "command": "python -m backend.anomaly.offline.levers_v11",
           "validation_v3": {"classes": {c: split.wheel_photos.WHEEL_PHOTOS[c].spec for c in classes},
                             "seed": v3["seed"], "per_class": {k: v3[k] for k in ("prompts", "good", "per_defect_kind")},
                             "queries": int(sum(len(ref[c]["labels"]) for c in classes)), "prompt_seed": 0},
           "D": d, "config": cfg, "decision": decide(d["ensemble"], cfg["ensemble"]),
           "rule": {"min_gain": MIN_GAIN, "pap_slack": PAP_SLACK}, "colour_share": colour_share(data, classes),
           "chroma_coloured_threshold": CHROMA_COLOURED, "colour_knn_seconds": round(time.time() - t1, 1),
           "minutes": round((time.time() - t0) / 60, 1), "note": NOTE}
    return cc.save(res, out)


def main(argv=None) -> int:
    ap = cc.parser(__doc__, OUT)
    ap.set_defaults(data=DATA)
    a = ap.parse_args(argv)
    a.data = str(Path(a.data))
    return cc.finish(a, OUT, _run_and_print, (tables.BEGIN, tables.END, tables.table),
                     (tables.SUM_BEGIN, tables.SUM_END, tables.summary_line))


def _run_and_print(data: Path, out: Path) -> dict:
    res = run(data, out)
    res["selection"] = res["decision"]  # cc.finish prints res["selection"]; not written to the JSON
    return res


if __name__ == "__main__":
    sys.exit(main())

"""Protocol v12 (static/anomaly/protocol_v12.json): ONE pre-specified configuration — the ensemble's kNN member on
EfficientNet-Lite2 features (same stages, strides, settings as the shipped Lite0 kNN; calibration re-derived from
training-photo prompts by a fixed ratio rule) — against the shipped defaults D, recomputed in the same run, on
validation v2 + validation v3 pooled (10 classes). Lite1 and Lite2 with the shipped 0.30 are descriptive only.

    python -m backend.anomaly.offline.levers_v12 [--data V2_DIR] [--data-v3 V3_DIR]
    python -m backend.anomaly.offline.levers_v12 --tables-only   # docs/README blocks from the committed JSON

Maps through the shipped inference path (candidates_v6.class_maps, prompt seed 0): MetaUAS and the Lite0 kNN with
the registry's settings (D), and `KnnEngine`s with the registry's knn-lite0 settings on the Lite1 / Lite2 encoders
(backend/embedded.py), fused by registry-style `EnsembleEngine`s (weights, score; each kNN member divided by its own
calibration). `decide` applies the registered rule to the one comparison; nothing is selected.
"""
from __future__ import annotations

import json
import sys
import time
import types
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image

from backend.anomaly import engines
from backend.anomaly import normal_variation as nvar
from backend.anomaly.knn import KnnEngine
from backend.anomaly.nuisance import prompt_views
from backend.anomaly.offline import candidates_common as cc
from backend.anomaly.offline import candidates_v6 as c6
from backend.anomaly.offline import candidates_v8 as c8
from backend.anomaly.offline import levers_v10 as v10
from backend.anomaly.offline import levers_v11 as v11
from backend.anomaly.offline import levers_v12_tables as tables
from backend.anomaly.offline import split
from backend.anomaly.preprocess import letterbox
from backend.embedded import Lite1Encoder, Lite2Encoder

REPO = cc.REPO
FOLDER = REPO / "static" / "anomaly" / "protocol_v12"
PROTOCOL = REPO / "static" / "anomaly" / "protocol_v12.json"
OUT = FOLDER / "validation.json"
DATA_V2, DATA_V3 = "/tmp/a13_validation_v2", "/tmp/a14_validation_v3"
PRIMARY = "knn_lite2"
# config name -> (encoder, calibration: "rule" = c_E of the ratio rule, or a fixed number); only PRIMARY decides
CONFIGS = {PRIMARY: ("lite2", "rule"), "knn_lite1": ("lite1", "rule"), "knn_lite2_c0.30": ("lite2", 0.30)}
DESCRIPTIVE = ("knn_lite1", "knn_lite2_c0.30")
MIN_GAIN, PAP_SLACK = 1.0, 2.0
PERCENTILE = 99.5
REPRO = {"v2": (REPO / "static" / "anomaly" / "protocol_v10" / "validation.json", (90.39, 60.87)),
         "v3": (REPO / "static" / "anomaly" / "protocol_v11" / "validation.json", (89.38, 57.18))}
NOTE = ("validation v2 (6 classes, 360 queries) + validation v3 (4 classes, 240 queries); 256 px, 1 thread, nice 10, "
        "on the shared 2-core machine; D and every configuration computed in the same run")


# -- the rule --------------------------------------------------------------------------------------------------------
def pooled(v2: dict, v3: dict) -> dict:
    """The 10-class mean of the per-class 2-decimal figures of both sets (ensemble rows: {"per_class": ...})."""
    per = [*v2["per_class"].values(), *v3["per_class"].values()]
    return {m: round(float(np.mean([p[m] for p in per])), 2) for m in ("i_auroc", "p_ap")}


def decide(d: dict, c: dict) -> dict:
    """The registered rule on 2-decimal figures (ties pass). `d` / `c`: {"pooled", "v2", "v3"}, each {"i_auroc",
    "p_ap"} (the sets' own class means): pooled I-AUROC >= D's + 1.0, pooled P-AP >= D's - 2.0, and neither set's
    I-AUROC below D's."""
    eps = 1e-9
    why = []
    if c["pooled"]["i_auroc"] < d["pooled"]["i_auroc"] + MIN_GAIN - eps:
        why.append(f"pooled ensemble I-AUROC {c['pooled']['i_auroc']:.2f} < D's {d['pooled']['i_auroc']:.2f} + {MIN_GAIN}")
    if c["pooled"]["p_ap"] < d["pooled"]["p_ap"] - PAP_SLACK - eps:
        why.append(f"pooled ensemble P-AP {c['pooled']['p_ap']:.2f} < D's {d['pooled']['p_ap']:.2f} - {PAP_SLACK}")
    for s in ("v2", "v3"):
        if c[s]["i_auroc"] < d[s]["i_auroc"] - eps:
            why.append(f"validation {s} ensemble I-AUROC {c[s]['i_auroc']:.2f} < D's {d[s]['i_auroc']:.2f}")
    return {"passes": not why, "gain_i_auroc": round(c["pooled"]["i_auroc"] - d["pooled"]["i_auroc"], 2),
            "delta_p_ap": round(c["pooled"]["p_ap"] - d["pooled"]["p_ap"], 2),
            "gain_v2": round(c["v2"]["i_auroc"] - d["v2"]["i_auroc"], 2),
            "gain_v3": round(c["v3"]["i_auroc"] - d["v3"]["i_auroc"], 2), "why_not": "; ".join(why)}


def figures(res: dict, name: str) -> dict:
    """{"pooled", "v2", "v3"} ensemble figures of D ("D") or a config from a result JSON."""
    rows = {s: (res["sets"][s]["D"]["ensemble"] if name == "D" else res["sets"][s]["configs"][name]["ensemble"])
            for s in ("v2", "v3")}
    return {"pooled": pooled(rows["v2"], rows["v3"]),
            **{s: {"i_auroc": r["i_auroc"], "p_ap": r["p_ap"]} for s, r in rows.items()}}


def reproduction(d_rows: dict) -> dict:
    out: dict[str, Any] = {}
    for s, (path, (ia, pa)) in REPRO.items():
        e = d_rows[s]
        diff = max(abs(e["i_auroc"] - ia), abs(e["p_ap"] - pa))
        out[s] = {"of": str(path.relative_to(REPO)) + " D ensemble", "committed": [ia, pa],
                  "now": [e["i_auroc"], e["p_ap"]], "max_abs_diff": round(diff, 2), "within_0.01": diff <= 0.01 + 1e-9}
    out["all_within_0.01"] = all(v["within_0.01"] for v in out.values() if isinstance(v, dict))
    return out


# -- engines ---------------------------------------------------------------------------------------------------------
def knn_engine(encoder, calibration: float | None = None, name: str = "knn-lite2") -> KnnEngine:
    """A KnnEngine with the shipped knn-lite0 row's settings on `encoder` (its knn_blocks), with `calibration`."""
    opts = dict(getattr(engines._registry().entry(engines.entry_name("knn")), "options", {}) or {})
    opts.pop("encoder", None)
    if calibration is not None:
        opts["calibration"] = calibration
    return KnnEngine(types.SimpleNamespace(name=name, options=opts), encoder=encoder)


def ensemble_with(meta, knn: KnnEngine) -> engines.EnsembleEngine:
    """The registry's ensemble (weights, score, size) with `knn` as its kNN member (divided by knn.calibration)."""
    reg = engines.get("ensemble")
    assert isinstance(reg, engines.EnsembleEngine)
    ens = engines.EnsembleEngine.of({"metauas": meta, "knn": knn})
    ens.weights, ens.score_mode, ens.size = dict(reg.weights), reg.score_mode, reg.size
    return ens


def calibration_stat(eng: KnnEngine, photos: list[Path], size: int = c6.SIZE) -> float:
    """P_E: the PERCENTILE-th percentile of all pixels, pooled over `photos`, of the raw kNN maps of each photo's
    normal-variation views (nv_views, seed 505) against its own prompt memory (prompt + prompt_aug views)."""
    px = []
    for p in photos:
        arr, _ = letterbox(Image.open(p).convert("RGB"), size)
        mem = eng.pool_views([eng.prompt_features(v) for v in prompt_views(arr, eng.prompt_aug)])
        px += [eng.raw_map(v, [mem]).ravel() for v in nvar.nv_views(arr)]
    return float(np.percentile(np.concatenate(px), PERCENTILE))


def calibrate(encs: dict, photos: list[Path]) -> dict:
    """The registered ratio rule: c_E = round(0.30 * P_E / P_lite0, 3) (so c_lite0 = 0.30)."""
    stat = {k: calibration_stat(knn_engine(e), photos) for k, e in encs.items()}
    c = {k: round(engines.KNN_CALIBRATION * v / stat["lite0"], 3) for k, v in stat.items()}
    return {"photos": [f"{p.parent.name}/{p.name}" for p in photos],
            "n_photos": len(photos), "percentile": PERCENTILE, "P": {k: round(v, 5) for k, v in stat.items()}, "c": c}


# -- the run ---------------------------------------------------------------------------------------------------------
def score_set(data: Path, classes: list[str], parts: dict, meta, knn0, engs: dict, progress) -> dict:
    """D, each config's ensemble, each kNN alone and MetaUAS alone on one validation set."""
    t0 = time.time()
    maps = {"metauas": c6.class_maps(data, classes, meta)}
    progress(f"  MetaUAS maps {time.time() - t0:.0f} s")
    maps["lite0"] = c6.class_maps(data, classes, knn0)
    progress(f"  kNN-Lite0 maps {time.time() - t0:.0f} s")
    ref = maps["metauas"]
    ens_d = engines.get("ensemble")
    assert isinstance(ens_d, engines.EnsembleEngine)
    seconds = {}
    for enc in ("lite1", "lite2"):
        t1 = time.time()
        maps[enc] = c6.class_maps(data, classes, engs[enc])
        seconds[enc] = round(time.time() - t1, 1)
        progress(f"  kNN-{enc} maps {seconds[enc]} s")
    alone = {k: v10.row({c: v["maps"] for c, v in maps[k].items()}, ref, knn0.score_mode, parts)
             for k in ("lite0", "lite1", "lite2")}
    out: dict[str, Any] = {"D": {"ensemble": v10.row(v10.fused(ens_d, {"metauas": ref, "knn": maps["lite0"]}, classes), ref,
                                     ens_d.score_mode, parts),
                 "metauas": v10.row({c: v["maps"] for c, v in ref.items()}, ref, meta.score_mode, parts),
                 "settings": engines.map_settings_of(ens_d), "prompt_aug": engines.prompt_aug_of(ens_d)},
           "knn_alone": alone, "configs": {}, "knn_seconds": seconds,
           "queries": int(sum(len(ref[c]["labels"]) for c in classes)), "classes": classes}
    for name, eng in engs["configs"].items():
        ens = ensemble_with(meta, eng)
        enc = CONFIGS[name][0]
        out["configs"][name] = {"encoder": enc, "calibration": ens.calibration("knn"), "weights": dict(ens.weights),
                                "knn_settings": eng.map_options(), "blocks": list(eng.blocks),
                                "ensemble": v10.row(v10.fused(ens, {"metauas": ref, "knn": maps[enc]}, classes), ref,
                                                    ens.score_mode, parts)}
        progress(f"  {name}: ensemble {out['configs'][name]['ensemble']['i_auroc']} / "
                 f"{out['configs'][name]['ensemble']['p_ap']}")
    progress(f"  D: ensemble {out['D']['ensemble']['i_auroc']} / {out['D']['ensemble']['p_ap']}")
    return out


def run(data: Path, out: Path = OUT, data_v3: Path = Path(DATA_V3), progress=print) -> dict:
    torch.set_num_threads(1)
    t0 = time.time()
    parts2, classes2 = cc.validation_v2(data)
    classes3 = v11.classes_of(data_v3)
    meta, knn0 = engines.get("metauas"), engines.get("knn")
    assert isinstance(knn0, KnnEngine)
    encs = {"lite0": knn0.encoder, "lite1": Lite1Encoder(), "lite2": Lite2Encoder()}
    cal = calibrate(encs, split.train_photos())
    progress(f"calibration P {cal['P']} -> c {cal['c']} ({time.time() - t0:.0f} s)")
    engs: dict = {"lite1": knn_engine(encs["lite1"], cal["c"]["lite1"], "knn-lite1"),
                  "lite2": knn_engine(encs["lite2"], cal["c"]["lite2"], "knn-lite2")}
    engs["configs"] = {PRIMARY: engs["lite2"], "knn_lite1": engs["lite1"],
                       "knn_lite2_c0.30": knn_engine(encs["lite2"], 0.30, "knn-lite2-c0.30")}
    for k in ("lite1", "lite2"):
        v10.share_features([engs[k]], {})  # one feature cache per encoder
    v10.share_features([knn0], {})
    sets = {}
    for s, (d, classes, parts) in {"v2": (data, classes2, parts2), "v3": (data_v3, classes3, {"v3": classes3})}.items():
        progress(f"validation {s}")
        sets[s] = score_set(d, classes, parts, meta, knn0, engs, progress)
    res: dict[str, Any] = {"protocol": str(PROTOCOL.relative_to(REPO)),
           "command": "python -m backend.anomaly.offline.levers_v12",
           "primary": PRIMARY, "descriptive": list(DESCRIPTIVE),
           "encoders": {k: {"class": type(e).__name__, "blocks": list(getattr(e, "knn_blocks", (4, 10)))}
                        for k, e in encs.items()},
           "calibration": cal, "sets": sets, "rule": {"min_gain": MIN_GAIN, "pap_slack": PAP_SLACK},
           "reproduction": reproduction({s: sets[s]["D"]["ensemble"] for s in sets}),
           "minutes": round((time.time() - t0) / 60, 1), "note": NOTE}
    res["pooled"] = {n: figures(res, n) for n in ("D", *CONFIGS)}
    res["pooled_per_kind"] = {n: pooled_kinds(res, n) for n in ("D", *CONFIGS)}
    res["decision"] = (decide(res["pooled"]["D"], res["pooled"][PRIMARY]) if res["reproduction"]["all_within_0.01"]
                       else {"passes": False, "why_not": "D did not reproduce the committed figures: no decision"})
    return cc.save(res, out)


def pooled_kinds(res: dict, name: str) -> dict:
    """Descriptive: per defect kind, the 10-class mean (each set's per-kind figure is its class mean)."""
    rows = [(len(res["sets"][s]["classes"]), res["sets"][s]["D"]["ensemble"] if name == "D"
             else res["sets"][s]["configs"][name]["ensemble"]) for s in ("v2", "v3")]
    n = sum(k for k, _ in rows)
    return {kind: round(sum(k * r["per_kind"][kind] for k, r in rows) / n, 2) for kind in c8.KINDS}


def main(argv=None) -> int:
    ap = cc.parser(__doc__, OUT)
    ap.set_defaults(data=DATA_V2)
    ap.add_argument("--data-v3", default=DATA_V3, help="validation v3 folder (built when missing)")
    a = ap.parse_args(argv)
    return cc.finish(a, OUT, lambda data, out: _run_and_print(data, out, Path(a.data_v3)),
                     (tables.BEGIN, tables.END, tables.table), (tables.SUM_BEGIN, tables.SUM_END, tables.summary_line))


def _run_and_print(data: Path, out: Path, data_v3: Path) -> dict:
    res = run(data, out, data_v3)
    res = json.loads(json.dumps(res))
    res["selection"] = res["decision"]  # cc.finish prints res["selection"]; not written to the JSON
    return res


if __name__ == "__main__":
    sys.exit(main())

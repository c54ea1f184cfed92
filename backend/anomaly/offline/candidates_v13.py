"""Protocol v13 (DRAFT, static/anomaly/protocol_v13_draft.json; register it before use): score the device runs of
gpu_candidates_v13.sh (three MetaUAS candidates on a stronger encoder, three same-call Lite0 controls) and S on
validation v2 + validation v3, pooled, and apply the draft's selection rule mechanically.

    tar xzf $OUT/candidates.tgz -C static/anomaly/protocol_v13      # the device call's snapshot
    python -m backend.anomaly.offline.candidates_v13 [--candidate lite1] [--data V2] [--data-v3 V3] [--folder DIR]

Scoring is protocol v8/v9's (candidates_v8.score: the shipped inference path with the registry's settings, the
shipped kNN's maps computed once per set), per set; each checkpoint loads the encoder it records. Validation photos
only: the held-out benchmarks play no part here. Writes static/anomaly/protocol_v13/validation.json and prints the
decision; no docs blocks yet (to be added with the result).
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from backend.anomaly import engines
from backend.anomaly.offline import candidates_common as cc
from backend.anomaly.offline import candidates_v6 as c6
from backend.anomaly.offline import candidates_v8 as c8
from backend.anomaly.offline import levers_v11 as v11
from backend.anomaly.offline.train import checkpoint_name

REPO = cc.REPO
FOLDER = REPO / "static" / "anomaly" / "protocol_v13"
DRAFT = REPO / "static" / "anomaly" / "protocol_v13_draft.json"
OUT = FOLDER / "validation.json"
DATA_V2, DATA_V3 = "/tmp/a13_validation_v2", "/tmp/a14_validation_v3"
SEEDS = (21, 22, 23)
GAIN, PAP_SLACK, META_SLACK = 1.0, 2.0, 1.0
REPRO = {"v2": (90.39, 60.87), "v3": (89.38, 57.18)}  # S's ensemble I-AUROC / P-AP (protocols v10 / v11)
EPS = 1e-9


def names(candidate: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(candidates, controls) as gpu_candidates_v13.sh names its run folders."""
    return tuple(f"{candidate}_s{s}" for s in SEEDS), tuple(f"lite0_s{s}" for s in SEEDS)


def pooled(v2: dict, v3: dict) -> dict:
    """The 10-class mean of the per-class 2-decimal figures of both sets (rows with "per_class")."""
    per = [*v2["per_class"].values(), *v3["per_class"].values()]
    return {m: round(float(np.mean([p[m] for p in per])), 2) for m in ("i_auroc", "p_ap")}


def figures(row: dict[str, dict]) -> dict:
    """One checkpoint's {"v2": score row, "v3": score row} -> the rule's figures."""
    return {e: {"pooled": pooled(row["v2"][e], row["v3"][e]),
                "v2": {m: row["v2"][e][m] for m in ("i_auroc", "p_ap")},
                "v3": {m: row["v3"][e][m] for m in ("i_auroc", "p_ap")}} for e in ("ensemble", "metauas")}


def _mean(figs: list[dict], *path: str) -> float:
    vals: list[float] = []
    for f in figs:
        v: Any = f
        for p in path:
            v = v[p]
        vals.append(float(v))
    return round(float(np.mean(vals)), 2)


def select(cands: dict[str, dict], controls: dict[str, dict], s: dict) -> dict:
    """The draft rule (protocol_v13_draft.json selection_rule) on figures() of each run and of S; ties pass."""
    cf, kf = list(cands.values()), list(controls.values())
    means = {g: {"pooled_i_auroc": _mean(f, "ensemble", "pooled", "i_auroc"),
                 "pooled_p_ap": _mean(f, "ensemble", "pooled", "p_ap"),
                 "v2_i_auroc": _mean(f, "ensemble", "v2", "i_auroc"),
                 "v3_i_auroc": _mean(f, "ensemble", "v3", "i_auroc")} for g, f in (("candidates", cf), ("controls", kf))}
    c, k = means["candidates"], means["controls"]
    checks: dict[str, Any] = {
        "1_group_gain": {"gain": round(c["pooled_i_auroc"] - k["pooled_i_auroc"], 2),
                         "pass": c["pooled_i_auroc"] >= k["pooled_i_auroc"] + GAIN - EPS},
        "2_group_maps": {"delta": round(c["pooled_p_ap"] - k["pooled_p_ap"], 2),
                         "pass": c["pooled_p_ap"] >= k["pooled_p_ap"] - PAP_SLACK - EPS},
        "3_both_sets": {"pass": c["v2_i_auroc"] >= k["v2_i_auroc"] - EPS and c["v3_i_auroc"] >= k["v3_i_auroc"] - EPS}}
    order = sorted(cands, key=lambda n: (-cands[n]["ensemble"]["pooled"]["i_auroc"],
                                         -cands[n]["metauas"]["pooled"]["i_auroc"], list(cands).index(n)))
    tried, pick = [], None
    for n in order:
        e, m = cands[n]["ensemble"]["pooled"], cands[n]["metauas"]["pooled"]
        why = None
        if e["i_auroc"] < s["ensemble"]["pooled"]["i_auroc"] + GAIN - EPS:
            why = f"pooled ensemble I-AUROC {e['i_auroc']} < S's {s['ensemble']['pooled']['i_auroc']} + {GAIN}"
        elif m["p_ap"] < s["metauas"]["pooled"]["p_ap"] - PAP_SLACK - EPS:
            why = f"MetaUAS pooled P-AP {m['p_ap']} < S's {s['metauas']['pooled']['p_ap']} - {PAP_SLACK}"
        elif m["i_auroc"] < s["metauas"]["pooled"]["i_auroc"] - META_SLACK - EPS:
            why = f"MetaUAS pooled I-AUROC {m['i_auroc']} < S's {s['metauas']['pooled']['i_auroc']} - {META_SLACK}"
        tried.append({"candidate": n, "pooled_ensemble_i_auroc": e["i_auroc"], **({"why_not": why} if why else {})})
        if why is None:
            pick = n
            break
    checks["4_pick"] = {"ranking": order, "tried": tried, "pick": pick, "pass": pick is not None}
    passed = all(v["pass"] for v in checks.values())
    return {"means": means, "checks": checks, "passes": passed, "chosen": pick if passed else None}


def reproduction(s_rows: dict[str, dict]) -> dict:
    diffs = {st: [round(s_rows[st]["ensemble"][m] - REPRO[st][i], 2) for i, m in enumerate(("i_auroc", "p_ap"))]
             for st in REPRO}
    return {"expected": REPRO, "diffs": diffs, "all_within_0.01": all(abs(d) <= 0.01 + EPS for v in diffs.values()
                                                                      for d in v)}


def score_set(data: Path, classes: list[str], parts: dict, checkpoints: dict[str, Path], progress=print):
    """candidates_v8.score_runs for any validation set: every checkpoint on `classes`, kNN's maps computed once."""
    t0 = time.time()
    knn = c6.class_maps(data, classes, engines.get("knn"))
    progress(f"  knn maps {time.time() - t0:.0f} s")
    rows = {}
    for name, ck in checkpoints.items():
        r = rows[name] = c8.score(ck, data, classes, knn, parts)
        progress(f"  {name}: ensemble {r['ensemble']['i_auroc']} / {r['ensemble']['p_ap']}, MetaUAS "
                 f"{r['metauas']['i_auroc']} / {r['metauas']['p_ap']} ({r['seconds']} s)")
    return rows


def run(candidate: str, data: Path, data_v3: Path, folder: Path = FOLDER, out: Path = OUT, progress=print) -> dict:
    cand_names, ctrl_names = names(candidate)
    cks = {"S": c6.SHIPPED, **{n: folder / n / checkpoint_name(n.split("_")[0]) for n in (*cand_names, *ctrl_names)}}
    missing = [str(p) for p in cks.values() if not p.is_file()]
    if missing:
        raise SystemExit(f"missing checkpoints (unpack the device call's candidates.tgz into {folder}): {missing}")
    parts2, classes2 = cc.validation_v2(data)
    classes3 = v11.classes_of(data_v3)
    sets = {}
    for st, (d, classes, parts) in {"v2": (data, classes2, parts2), "v3": (data_v3, classes3, {"v3": classes3})}.items():
        progress(f"validation {st}")
        sets[st] = score_set(d, classes, parts, cks, progress)
    figs = {n: figures({st: sets[st][n] for st in sets}) for n in cks}
    rep = reproduction({st: sets[st]["S"] for st in sets})
    sel = (select({n: figs[n] for n in cand_names}, {n: figs[n] for n in ctrl_names}, figs["S"])
           if rep["all_within_0.01"] else {"passes": False, "chosen": None,
                                           "why_not": "S did not reproduce its committed figures: no decision"})
    res = {"protocol": "static/anomaly/protocol_v13.json (drafted as protocol_v13_draft.json)",
           "command": f"python -m backend.anomaly.offline.candidates_v13 --candidate {candidate}",
           "candidate_encoder": candidate, "candidates": list(cand_names), "controls": list(ctrl_names),
           "figures": figs, "sets": sets, "reproduction": rep, "selection": sel,
           "training": {n: c6.training_meta(ck) for n, ck in cks.items()},
           "rule": {"gain": GAIN, "pap_slack": PAP_SLACK, "meta_slack": META_SLACK}}
    return cc.save(res, out)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--candidate", default="lite1", choices=["lite1", "lite2"])
    ap.add_argument("--data", default=DATA_V2, help="validation v2 folder (built when missing)")
    ap.add_argument("--data-v3", default=DATA_V3, help="validation v3 folder (built when missing)")
    ap.add_argument("--folder", default=str(FOLDER), help="where the runs' folders are (the unpacked candidates.tgz)")
    ap.add_argument("--out", default=str(OUT))
    a = ap.parse_args(argv)
    res = run(a.candidate, Path(a.data), Path(a.data_v3), Path(a.folder), Path(a.out))
    print(json.dumps(res["selection"], indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Protocol v9 (static/anomaly/protocol_v9.json): more, more varied real training photos. Three device-trained
MetaUAS-Lite0 candidates with the 21 photos of offline/photos.py group "v9" (`train --more-photos`) against three
controls without them, trained in the same device call at the same minutes, chosen on VALIDATION v2 by protocol v8's
rule (candidates_v8.select with this protocol's group and controls).

    python -m backend.anomaly.offline.candidates_v9 [--data DIR]    # score on validation v2, apply the rule
    python -m backend.anomaly.offline.candidates_v9 --tables-only   # docs blocks from the committed JSON

backend/anomaly/offline/gpu_candidates_v9.sh trains RUNS. Scoring is protocol v8's (candidates_v8.score: the shipped
inference path with the registry's settings, kNN maps computed once, per-kind and per-area-band figures descriptive),
in one run for S, the controls and the candidates. Validation photos only: the held-out benchmarks play no part here.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

from backend.anomaly import engines
from backend.anomaly.dataset import list_classes
from backend.anomaly.offline import candidates_v6 as c6
from backend.anomaly.offline import candidates_v8 as c8
from backend.anomaly.offline import levers, split
from backend.anomaly.offline.failure_analysis import AREA_BINS
from backend.docs_blocks import replace_block

REPO = c8.REPO
FOLDER = REPO / "static" / "anomaly" / "protocol_v9"
PROTOCOL = REPO / "static" / "anomaly" / "protocol_v9.json"
SCRIPT = REPO / "backend" / "anomaly" / "offline" / "gpu_candidates_v9.sh"
OUT = FOLDER / "validation.json"
SEEDS = c8.SEEDS
MINUTES = 5
CANDIDATES = tuple(f"M_s{s}" for s in SEEDS)  # --more-photos: the 26 photos + the 21 of group "v9"
CONTROLS = tuple(f"C_s{s}" for s in SEEDS)  # same call, same arguments and minutes, the 26 photos
RUNS = (*CANDIDATES, *CONTROLS)
GROUPS = {"M": list(CANDIDATES)}
N_PHOTOS = {"M": len(split.TRAIN_PHOTOS["skimage"]) + len(split.TRAIN_PHOTOS["sklearn"])
            + len(split.TRAIN_WHEEL_PHOTOS) + len(split.MORE_TRAIN_PHOTOS)}
N_PHOTOS["C"] = N_PHOTOS["M"] - len(split.MORE_TRAIN_PHOTOS)
KINDS = c8.KINDS


def select(cands: dict[str, dict], controls: dict[str, dict], s: dict) -> dict:
    """The pre-registered rule (protocol_v9.json selection_rule = protocol v8's with group M and controls C)."""
    return c8.select(cands, controls, s, groups=GROUPS, control_names=CONTROLS)


def reproduction(s: dict) -> dict:
    """S against its protocol-v6 figures (the same code on the same data must give the same)."""
    v6 = json.loads(c6.OUT.read_text())["shipped_S"]
    diffs = {f"{e}_{m}": c8._r2(s[e][m] - v6[e][m]) for e in ("ensemble", "metauas") for m in ("i_auroc", "p_ap")}
    worst = max(abs(x) for x in diffs.values())
    return {"diffs": diffs, "max_abs_diff": worst, "within_0.01": worst <= 0.01 + 1e-9}


def run(data: Path, out: Path = OUT, folder: Path = FOLDER, progress=print) -> dict:
    torch.set_num_threads(1)
    if not (data / "chelsea").is_dir():
        levers.build(data)
    parts = {"v1": list(split.VALIDATION_CLASSES), "new": list(split.VALIDATION_V2_NEW)}
    classes = [c for p in parts.values() for c in p]
    assert sorted(classes) == sorted(list_classes(data)), "validation v2 has exactly these six classes"
    t0 = time.time()
    knn = c6.class_maps(data, classes, engines.get("knn"))
    progress(f"knn maps {time.time() - t0:.0f} s")

    def one(ck: Path, name: str) -> dict:
        r = c8.score(ck, data, classes, knn, parts)
        r["photos"] = torch.load(ck, map_location="cpu", weights_only=False)["meta"].get("photos")
        progress(f"{name}: ensemble {r['ensemble']['i_auroc']} / {r['ensemble']['p_ap']}, MetaUAS "
                 f"{r['metauas']['i_auroc']} / {r['metauas']['p_ap']} ({r['seconds']} s)")
        return r

    s = one(c6.SHIPPED, "S")
    controls = {n: one(folder / n / "metauas_lite0.pt", n) for n in CONTROLS}
    cands = {n: one(folder / n / "metauas_lite0.pt", n) for n in CANDIDATES}
    knn_mm = {c: v["maps"] for c, v in knn.items()}
    kscore = engines.get("knn").score_mode
    res = {"protocol": "static/anomaly/protocol_v9.json", "command": "python -m backend.anomaly.offline.candidates_v9",
           "shipped_S": s, "controls": controls, "candidates": cands,
           "knn": {**c6.summary(knn_mm, knn, kscore, parts), **c8.breakdown(knn_mm, knn, kscore)},
           "reproduction": reproduction(s), "selection": select(cands, controls, s),
           "rule": {"recipe_gain": c8.RECIPE_GAIN, "recipe_pap_slack": c8.RECIPE_PAP_SLACK,
                    "pick_gain": c8.PICK_GAIN, "pap_slack": c8.PAP_SLACK, "metauas_i_auroc_slack": c8.META_SLACK},
           "note": "validation v2 only (protocol v5's set, 6 classes, 360 queries); 256 px, 1 thread, shared 2-core "
                   "machine; per-kind and by-area figures are descriptive (not used by the rule); the held-out "
                   "benchmarks played no part"}
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(res, indent=1) + "\n")
    return res


# -- generated docs ----------------------------------------------------------------------------------------------
BEGIN, END = "<!-- anomaly-photos-candidates:begin -->", "<!-- anomaly-photos-candidates:end -->"
SUM_BEGIN, SUM_END = "<!-- anomaly-photos-summary:begin -->", "<!-- anomaly-photos-summary:end -->"


def _row(name: str, r: dict, s: dict, what: str) -> str:
    t = r["training"]
    delta = "–" if r is s else f"{r['ensemble']['i_auroc'] - s['ensemble']['i_auroc']:+.2f}"
    return (f"| {name} | {what}, {t['step']} × {t['batch']} | {r['ensemble']['i_auroc']:.2f} | {delta} | "
            f"{r['ensemble']['p_ap']:.2f} | {r['metauas']['i_auroc']:.2f} | {r['metauas']['p_ap']:.2f} |")


def verdict(res: dict) -> str:
    sel, rule = res["selection"], res["rule"]
    if sel["chosen"]:
        return (f"**The new photos pass the pre-registered rule; the pick is {sel['chosen']}** (one held-out-v3 look "
                f"follows, the second look at v3).")
    c = sel["recipes"]["M"]["checks"]
    fails = []
    if not c["1_recipe_gain"]["pass"]:
        fails.append(f"seed mean {c['1_recipe_gain']['gain']:+.2f} vs the same-call controls "
                     f"(needs +{rule['recipe_gain']})")
    if not c["2_recipe_maps"]["pass"]:
        fails.append(f"ensemble P-AP {c['2_recipe_maps']['p_ap_delta']:+.2f} vs the controls "
                     f"(needs ≥ −{rule['recipe_pap_slack']})")
    if not c["3_recipe_pick"]["pass"]:
        best = c["3_recipe_pick"]["tried"][0]
        fails.append(f"best seed {best['candidate']} "
                     f"{best['ensemble_i_auroc'] - res['shipped_S']['ensemble']['i_auroc']:+.2f} vs S "
                     f"(needs +{rule['pick_gain']})")
    return ("**The new photos do not pass** (" + "; ".join(fails) + "); S stays the default and held-out v3 was not "
            "looked at again.")


def _area_mean(names, src) -> list[float]:
    cols = zip(*[src[n]["ensemble"]["by_area"]["i_auroc"] for n in names], strict=True)
    return [float(np.mean([x for x in c if x is not None])) for c in cols]


def table(res: dict) -> str:
    s, sel = res["shipped_S"], res["selection"]
    rows = ["| checkpoint | photos, training | ensemble I-AUROC (default) | Δ vs S | ensemble P-AP | MetaUAS I-AUROC | "
            "MetaUAS P-AP |", "|---|---|---|---|---|---|---|",
            _row("S (shipped)", s, s, f"26 photos, CPU {s['training']['minutes']:.0f} min")]
    for group, names, src in (("C", CONTROLS, res["controls"]), ("M", CANDIDATES, res["candidates"])):
        rows += [_row(f"{n} ({'control' if group == 'C' else 'candidate'})", src[n], s,
                      f"{len(src[n]['photos'])} photos, H200 {src[n]['training']['minutes']:.1f} min")
                 for n in names]
    for name, m in (("controls C (mean of 3)", sel["controls"]), ("candidates M (mean of 3)", sel["recipes"]["M"])):
        rows.append(f"| **{name}** | – | {m['ensemble_i_auroc']:.2f} | "
                    f"{m['ensemble_i_auroc'] - s['ensemble']['i_auroc']:+.2f} | {m['ensemble_p_ap']:.2f} | "
                    f"{m['metauas_i_auroc']:.2f} | {m['metauas_p_ap']:.2f} |")
    k = res["knn"]
    rows.append(f"| kNN alone (reference) | training-free | – | – | – | {k['i_auroc']:.2f} (kNN) | {k['p_ap']:.2f} (kNN) |")
    edges = s["ensemble"]["by_area"]["edges"]
    kinds = ["", "Ensemble I-AUROC per defect kind (good vs that kind, mean over the 6 classes) and by visible area "
                 "(share of good queries a defect outscores); descriptive, not used by the rule:", "",
             "| | " + " | ".join(KINDS) + " | " + " | ".join(
                 f"area {100 * lo:g}–{100 * hi:g} %" for lo, hi in zip(edges[:-1], edges[1:], strict=True)) + " |",
             "|---" * (1 + len(KINDS) + len(s["ensemble"]["by_area"]["n"])) + "|"]
    kind_rows = [("S", s["ensemble"]["per_kind"], s["ensemble"]["by_area"]["i_auroc"]),
                 ("controls C (mean)", sel["controls"]["ensemble_per_kind"], _area_mean(CONTROLS, res["controls"])),
                 ("candidates M (mean)", sel["recipes"]["M"]["ensemble_per_kind"],
                  _area_mean(CANDIDATES, res["candidates"])),
                 ("kNN alone", res["knn"]["per_kind"], res["knn"]["by_area"]["i_auroc"])]
    for name, pk, ar in kind_rows:
        kinds.append(f"| {name} | " + " | ".join(f"{pk[k]:.1f}" for k in KINDS) + " | " +
                     " | ".join("–" if x is None else f"{x:.1f}" for x in ar) + " |")
    kinds.append(f"| n defects | {' | '.join(str(6 * levers.N_PER_KIND) for _ in KINDS)} | "
                 + " | ".join(str(n) for n in s["ensemble"]["by_area"]["n"]) + " |")
    ctrl, m = sel["controls"], sel["recipes"]["M"]
    kinds.append(f"\nSteps per run (batch 32): controls {', '.join(map(str, ctrl['steps']))}; candidates "
                 f"{', '.join(map(str, m['steps']))}. Against the controls' means (descriptive): defects under "
                 f"{100 * AREA_BINS[0]:g} % of the image {_area_mean(CONTROLS, res['controls'])[0]:.1f} → "
                 f"{_area_mean(CANDIDATES, res['candidates'])[0]:.1f}, MetaUAS P-AP {ctrl['metauas_p_ap']:.1f} → "
                 f"{m['metauas_p_ap']:.1f}.")
    rep = res["reproduction"]
    same = "exactly" if rep["max_abs_diff"] == 0 else f"within {rep['max_abs_diff']:.2f}"
    return "\n".join(rows + kinds) + (
        f"\n\nValidation v2 (6 classes, 360 queries, 256 px, 1 thread), every checkpoint through the shipped inference "
        f"path with the registry's settings, all in one run; S reproduces its protocol-v6 figures {same}. "
        f"{verdict(res)} Source: `static/anomaly/protocol_v9/validation.json`, "
        f"`python -m backend.anomaly.offline.candidates_v9`.")


def summary_line(res: dict) -> str:
    s, sel = res["shipped_S"], res["selection"]
    ctrl, m = sel["controls"]["ensemble_i_auroc"], sel["recipes"]["M"]["ensemble_i_auroc"]
    out = (f"Protocol v9 (`static/anomaly/protocol_v9.json`) retrained with {N_PHOTOS['M']} instead of "
           f"{N_PHOTOS['C']} training photos (21 real photos of the opencv-python sdist added), three seeds on the "
           f"device machine beside three same-call controls on the old photos: on validation v2 the default ensemble "
           f"reads {m:.2f} (seed mean) against {ctrl:.2f} for the controls ({m - ctrl:+.2f}) and "
           f"{s['ensemble']['i_auroc']:.2f} with the shipped checkpoint; ")
    if sel["chosen"]:
        return out + f"the new photos pass the pre-registered rule and {sel['chosen']} gets one held-out-v3 look."
    return out + (f"that misses the pre-registered +{res['rule']['recipe_gain']} over the controls' mean, so nothing "
                  f"ships and held-out v3 was not looked at again.")


def write_tables(res: dict) -> None:
    for path, (b, e, body) in ((REPO / "docs" / "anomaly.md", (BEGIN, END, table(res))),
                               (REPO / "README.md", (SUM_BEGIN, SUM_END, summary_line(res)))):
        path.write_text(replace_block(path.read_text(), b, e, body, required=True, where=str(path)))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default="/tmp/validation_v2", help="validation v2 folder (built when missing)")
    ap.add_argument("--folder", default=str(FOLDER), help="where the runs' checkpoints are")
    ap.add_argument("--out", default=str(OUT))
    ap.add_argument("--tables-only", action="store_true", help="regenerate the docs blocks from the committed JSON")
    a = ap.parse_args(argv)
    if a.tables_only:
        write_tables(json.loads(Path(a.out).read_text()))
        return 0
    res = run(Path(a.data), Path(a.out), Path(a.folder))
    if Path(a.out) == OUT:
        write_tables(res)
    print(json.dumps(res["selection"], indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())

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

import json
import sys
from pathlib import Path

from backend.anomaly.offline import candidates_common as cc
from backend.anomaly.offline import candidates_v6 as c6
from backend.anomaly.offline import candidates_v8 as c8
from backend.anomaly.offline import split
from backend.anomaly.offline.failure_analysis import AREA_BINS

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
    rep = c8.reproduction_of([("S", s, json.loads(c6.OUT.read_text())["shipped_S"])])
    return {**rep, "diffs": rep["diffs"]["S"]}


def run(data: Path, out: Path = OUT, folder: Path = FOLDER, progress=print) -> dict:
    rows, knn = c8.score_runs(data, {"S": c6.SHIPPED, **{n: folder / n / "metauas_lite0.pt" for n in RUNS}},
                              progress, extra=lambda ck: {"photos": cc.checkpoint_meta(ck).get("photos")})
    s, controls, cands = rows["S"], {n: rows[n] for n in CONTROLS}, {n: rows[n] for n in CANDIDATES}
    res = {"protocol": "static/anomaly/protocol_v9.json", "command": "python -m backend.anomaly.offline.candidates_v9",
           "shipped_S": s, "controls": controls, "candidates": cands, "knn": knn,
           "reproduction": reproduction(s), "selection": select(cands, controls, s), "rule": dict(c8.RULE),
           "note": c8.NOTE}
    return cc.save(res, out)


# -- generated docs ----------------------------------------------------------------------------------------------
BEGIN, END = "<!-- anomaly-photos-candidates:begin -->", "<!-- anomaly-photos-candidates:end -->"
SUM_BEGIN, SUM_END = "<!-- anomaly-photos-summary:begin -->", "<!-- anomaly-photos-summary:end -->"


def verdict(res: dict) -> str:
    sel = res["selection"]
    if sel["chosen"]:
        return (f"**The new photos pass the pre-registered rule; the pick is {sel['chosen']}** (one held-out-v3 look "
                f"follows, the second look at v3).")
    fails = c8._fails(sel["recipes"]["M"]["checks"], res, "the same-call controls")
    return ("**The new photos do not pass** (" + "; ".join(fails) + "); S stays the default and held-out v3 was not "
            "looked at again.")


def table(res: dict) -> str:
    s, sel = res["shipped_S"], res["selection"]
    rows = c8._head("photos, training", s, f"26 photos, CPU {s['training']['minutes']:.0f} min")
    for group, names, src in (("C", CONTROLS, res["controls"]), ("M", CANDIDATES, res["candidates"])):
        rows += [c8._row(f"{n} ({'control' if group == 'C' else 'candidate'})", src[n], s,
                      f"{len(src[n]['photos'])} photos, H200 {src[n]['training']['minutes']:.1f} min")
                 for n in names]
    rows += [c8._mean_row(name, m, s) for name, m in (("controls C (mean of 3)", sel["controls"]),
                                                     ("candidates M (mean of 3)", sel["recipes"]["M"]))]
    rows.append(c8._knn_row(res))
    kind_rows = [("S", s["ensemble"]["per_kind"], s["ensemble"]["by_area"]["i_auroc"]),
                 ("controls C (mean)", sel["controls"]["ensemble_per_kind"], c8.area_mean(CONTROLS, res["controls"])),
                 ("candidates M (mean)", sel["recipes"]["M"]["ensemble_per_kind"],
                  c8.area_mean(CANDIDATES, res["candidates"])),
                 ("kNN alone", res["knn"]["per_kind"], res["knn"]["by_area"]["i_auroc"])]
    kinds = c8.kinds_table(s, kind_rows)
    ctrl, m = sel["controls"], sel["recipes"]["M"]
    kinds.append(f"\nSteps per run (batch 32): controls {', '.join(map(str, ctrl['steps']))}; candidates "
                 f"{', '.join(map(str, m['steps']))}. Against the controls' means (descriptive): defects under "
                 f"{100 * AREA_BINS[0]:g} % of the image {c8.area_mean(CONTROLS, res['controls'])[0]:.1f} → "
                 f"{c8.area_mean(CANDIDATES, res['candidates'])[0]:.1f}, MetaUAS P-AP {ctrl['metauas_p_ap']:.1f} → "
                 f"{m['metauas_p_ap']:.1f}.")
    return "\n".join(rows + kinds) + (
        f"\n\n{cc.SCORED}, all in one run; S reproduces its protocol-v6 figures {c8.same_as_v6(res)}. "
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


def main(argv=None) -> int:
    return cc.finish(cc.parser(__doc__, OUT, FOLDER, "where the runs' checkpoints are").parse_args(argv), OUT, run,
                     (BEGIN, END, table), (SUM_BEGIN, SUM_END, summary_line))


if __name__ == "__main__":
    sys.exit(main())

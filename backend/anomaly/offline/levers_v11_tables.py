"""Generated text of protocol v11 (levers_v11): the docs/anomaly.md table "Colour term, confirmatory test (protocol
v11)" and the README summary line, from static/anomaly/protocol_v11/validation.json (and, when present, the
held-out-v3 look and the speed measurement of the same folder) only."""
from __future__ import annotations

import json
from pathlib import Path

from backend.anomaly.offline import candidates_v8 as c8
from backend.anomaly.offline import levers_v10_tables

KINDS = c8.KINDS
BEGIN, END = "<!-- anomaly-colour-confirm-table:begin -->", "<!-- anomaly-colour-confirm-table:end -->"
SUM_BEGIN, SUM_END = "<!-- anomaly-colour-confirm-summary:begin -->", "<!-- anomaly-colour-confirm-summary:end -->"
FOLDER = c8.REPO / "static" / "anomaly" / "protocol_v11"
SPEED = FOLDER / "ensemble_speed.json"
LOOK = FOLDER / "heldout_v3_report.json"
V10 = c8.REPO / "static" / "anomaly" / "protocol_v10" / "validation.json"


def _kinds(per_kind: dict) -> str:
    return " | ".join(f"{per_kind[k]:.1f}" for k in KINDS)


def verdict(res: dict) -> str:
    dec, d, c = res["decision"], res["D"]["ensemble"], res["config"]["ensemble"]
    if dec["passes"]:
        return (f"**The configuration passes the pre-registered rule** ({c['i_auroc']:.2f} vs D's {d['i_auroc']:.2f}, "
                f"{dec['gain_i_auroc']:+.2f}; P-AP {dec['delta_p_ap']:+.2f}); held-out v3 gets its second look.")
    return (f"**It does not pass**: {c['i_auroc']:.2f} vs D's {d['i_auroc']:.2f} ({dec['gain_i_auroc']:+.2f}; "
            f"{dec['why_not']}). Nothing changes and held-out v3 was not looked at again.")


def table(res: dict) -> str:
    d, cf = res["D"], res["config"]
    classes = list(d["ensemble"]["per_class"])
    rows = [("D (shipped): MetaUAS + global kNN", d["ensemble"]),
            (f"{cf['config']['name']}: MetaUAS + colour kNN (λ {cf['config']['colour']:g})", cf["ensemble"]),
            ("MetaUAS alone", d["metauas"]), ("global kNN alone", d["knn"]), ("colour kNN alone", cf["colour_knn_alone"])]
    head = ["| engine | I-AUROC | P-AP | " + " | ".join(KINDS) + " | " + " | ".join(f"{c} I-AUROC / P-AP" for c in classes)
            + " |", "|---" * (3 + len(KINDS) + len(classes)) + "|"]
    for name, r in rows:
        per = " | ".join(f"{r['per_class'][c]['i_auroc']:.2f} / {r['per_class'][c]['p_ap']:.2f}" for c in classes)
        head.append(f"| {name} | {r['i_auroc']:.2f} | {r['p_ap']:.2f} | {_kinds(r['per_kind'])} | {per} |")
    share = res["colour_share"]
    col = ", ".join(f"{c} {v['mean_chroma']:.1f} ({100 * v['share_coloured']:.0f} %)" for c, v in share.items())
    v3 = res["validation_v3"]
    return "\n".join(head) + (
        f"\n\nValidation v3 ({len(classes)} classes, {v3['queries']} queries: {v3['per_class']['good']} good + "
        f"{v3['per_class']['per_defect_kind']} per defect kind per class, seed {v3['seed']}; four colour photos of the "
        f"Pillow 12.0.0 sdist, never used before; 256 px, 1 thread). Per-kind columns: I-AUROC of good vs that kind, "
        f"class mean (descriptive). Colour of the classes (mean CIELAB chroma of the prompt, share of pixels with chroma "
        f"≥ {res['chroma_coloured_threshold']:g}): {col}. Rule (registered before the set was generated): ensemble "
        f"I-AUROC ≥ D + {res['rule']['min_gain']:.1f} and ensemble P-AP ≥ D − {res['rule']['pap_slack']:.1f}. "
        f"{verdict(res)} {reading(res)}{look_text()}{speed_text()}Source: `static/anomaly/protocol_v11/validation.json`, "
        f"`python -m backend.anomaly.offline.levers_v11` ({res['minutes']:.0f} min on the shared 2-core machine).")


def reading(res: dict) -> str:
    """What moved (generated from the JSON): P-AP, recolour and the kNN member alone; v10's gain beside it."""
    d, cf = res["D"], res["config"]
    c = cf["ensemble"]
    v10 = json.loads(V10.read_text()) if V10.is_file() else None
    was = ""
    if v10:
        top = v10["configs"][cf["config"]["name"]]["ensemble"]["i_auroc"] - v10["D"]["ensemble"]["i_auroc"]
        was = f" (on validation v2, where it was chosen: {top:+.2f})"
    return (f"Reading: the chroma term again raises ensemble P-AP ({d['ensemble']['p_ap']:.2f} → {c['p_ap']:.2f}) and "
            f"recolour I-AUROC ({d['ensemble']['per_kind']['recolour']:.1f} → {c['per_kind']['recolour']:.1f}); the "
            f"kNN member alone goes {d['knn']['i_auroc']:.2f} / {d['knn']['p_ap']:.2f} → "
            f"{cf['colour_knn_alone']['i_auroc']:.2f} / {cf['colour_knn_alone']['p_ap']:.2f}; the ensemble's image-level "
            f"gain is {res['decision']['gain_i_auroc']:+.2f}{was}, "
            f"{'meeting' if res['decision']['passes'] else 'below'} the registered +{res['rule']['min_gain']:.1f}. ")


def look_text(path: Path = LOOK) -> str:
    if not path.is_file():
        return ""
    rep = json.loads(path.read_text())
    e = rep["results"]["ensemble"]["correct"]["mean"]
    ok = e["i_auroc"] >= 86.39 - 1e-9 and e["p_ap"] >= 50.10 - 1e-9
    return (f"Held-out v3, second look overall (correct prompt, 4-class means): ensemble {e['i_auroc']:.2f} / "
            f"{e['p_ap']:.2f} (gate 86.39 / 50.10: {'passes' if ok else 'fails'}; "
            f"`static/anomaly/protocol_v11/heldout_v3_report.json`). ")


def speed_text(path: Path = SPEED) -> str:
    return levers_v10_tables.speed_text(path, lead="Speed (descriptive)")


def summary_line(res: dict) -> str:
    dec, d, c = res["decision"], res["D"]["ensemble"], res["config"]["ensemble"]
    out = (f"Protocol v11 (`static/anomaly/protocol_v11.json`) re-tested protocol v10's best, the chroma term in the kNN "
           f"member, once, on a fresh validation v3 of four colour photos: ensemble {c['i_auroc']:.2f} I-AUROC / "
           f"{c['p_ap']:.2f} P-AP against {d['i_auroc']:.2f} / {d['p_ap']:.2f} for the shipped one "
           f"({dec['gain_i_auroc']:+.2f}; recolour {d['per_kind']['recolour']:.1f} → {c['per_kind']['recolour']:.1f}); ")
    if dec["passes"]:
        return out + "it passes the pre-registered +1.0 and gets held-out v3's second look. " + look_text()
    return out + f"that misses the pre-registered +{res['rule']['min_gain']:.1f}, so nothing changes."

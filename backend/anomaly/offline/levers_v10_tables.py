"""Generated text of protocol v10 (levers_v10): the docs/anomaly.md table "Position-aware kNN (protocol v10)" and the
README summary line, from static/anomaly/protocol_v10/validation.json only."""
from __future__ import annotations

import json
from pathlib import Path

from backend.anomaly.offline import candidates_v8 as c8

KINDS = c8.KINDS
BEGIN, END = "<!-- anomaly-windowed-table:begin -->", "<!-- anomaly-windowed-table:end -->"
SUM_BEGIN, SUM_END = "<!-- anomaly-windowed-summary:begin -->", "<!-- anomaly-windowed-summary:end -->"
SPEED = c8.REPO / "static" / "anomaly" / "protocol_v10" / "ensemble_speed.json"
USE_TEXT = {"replace": "in place of the global kNN", "third": "as a third member"}


def _window(w: int) -> str:
    return "global" if not w else f"±{w} ({8 * w} px)"


def _kinds(per_kind: dict) -> str:
    return " | ".join(f"{per_kind[k]:.1f}" for k in KINDS)


def verdict(res: dict) -> str:
    sel, d = res["selection"], res["D"]["ensemble"]
    top = sel["ranking"][0]
    if sel["chosen"]:
        return (f"**{sel['chosen']} passes the pre-registered rule** (one held-out-v3 look follows, the second look at "
                f"v3 overall).")
    why = sel["tried"][-1].get("why_not", "")
    return (f"**No config passes**: the best, {top}, reads {res['configs'][top]['ensemble']['i_auroc']:.2f} against "
            f"D's {d['i_auroc']:.2f} ({sel['gain_of_top']:+.2f}; {why}). Nothing changes and held-out v3 was not "
            f"looked at again.")


def table(res: dict) -> str:
    d = res["D"]
    head = ["| config | kNN member | window (cells) | chroma λ | ensemble I-AUROC | Δ vs D | ensemble P-AP | "
            + " | ".join(KINDS) + " | local kNN alone I-AUROC / P-AP |",
            "|---" * (8 + len(KINDS)) + "|",
            f"| D (shipped) | global kNN | global | 0 | {d['ensemble']['i_auroc']:.2f} | – | {d['ensemble']['p_ap']:.2f} | "
            f"{_kinds(d['ensemble']['per_kind'])} | {d['knn']['i_auroc']:.2f} / {d['knn']['p_ap']:.2f} (global) |"]
    for name in res["selection"]["ranking"]:
        r = res["configs"][name]
        c, e, loc = r["config"], r["ensemble"], r["local_knn_alone"]
        head.append(f"| {name} | {USE_TEXT[c['use']]} | {_window(c['window'])} | {c['colour']:g} | {e['i_auroc']:.2f} | "
                    f"{e['i_auroc'] - d['ensemble']['i_auroc']:+.2f} | {e['p_ap']:.2f} | {_kinds(e['per_kind'])} | "
                    f"{loc['i_auroc']:.2f} / {loc['p_ap']:.2f} |")
    rep = res["reproduction"]
    same = "exactly" if rep["max_abs_diff"] == 0 else f"within {rep['max_abs_diff']:.2f}"
    return "\n".join(head) + (
        f"\n\nRows in rank order (ensemble mean I-AUROC; ties: the registered order). Per-kind columns: ensemble "
        f"I-AUROC of good vs that kind, mean over the 6 classes (8 defects of a kind per class; descriptive, not used "
        f"by the rule). MetaUAS alone: {d['metauas']['i_auroc']:.2f} / {d['metauas']['p_ap']:.2f}. Validation v2 "
        f"(6 classes, 360 queries, 256 px, 1 thread), every engine through the shipped inference path (kNN members "
        f"with the shipped kNN's settings plus window / chroma); D recomputed in the same run reproduces protocol v9's "
        f"S {same}. Rule: ensemble I-AUROC ≥ D + {res['rule']['min_gain']:.1f} and ensemble P-AP ≥ D − "
        f"{res['rule']['pap_slack']:.1f}. {verdict(res)} {reading(res)}{speed_text()}Source: "
        f"`static/anomaly/protocol_v10/validation.json`, `python -m backend.anomaly.offline.levers_v10` "
        f"({res['minutes']:.0f} min on the shared 2-core machine, 1 thread).")


def _span(xs: list[float]) -> str:
    lo, hi = min(xs), max(xs)
    return f"{lo:.1f}" if round(lo, 1) == round(hi, 1) else f"{lo:.1f}–{hi:.1f}"


def reading(res: dict) -> str:
    """What the grid separates (generated from the JSON): the window alone, the chroma term, and removals."""
    d, cf = res["D"], res["configs"].values()
    win = [r for r in cf if r["config"]["colour"] == 0]
    col = [r for r in cf if r["config"]["colour"] > 0 and r["config"]["use"] == "replace"]
    gains = [r["ensemble"]["i_auroc"] - d["ensemble"]["i_auroc"] for r in win if r["config"]["use"] == "replace"]
    return (f"Reading: the window alone moves the ensemble {min(gains):+.2f} to {max(gains):+.2f} and does not make "
            f"removals visible to kNN (local kNN alone on removals {_span([r['local_knn_alone']['per_kind']['removal'] for r in win])} "
            f"vs the global kNN's {d['knn']['per_kind']['removal']:.1f}: an inpainted fill also matches the background "
            f"right next to it); the chroma term carries the gain (recolour "
            f"{d['ensemble']['per_kind']['recolour']:.1f} → {_span([r['ensemble']['per_kind']['recolour'] for r in col])}, "
            f"ensemble P-AP {d['ensemble']['p_ap']:.1f} → {_span([r['ensemble']['p_ap'] for r in col])}), with or "
            f"without a window; a third member dilutes MetaUAS and does worse than replacing the global kNN. ")


def speed_text(path: Path = SPEED, lead: str = "Speed (descriptive, registered for the top-ranked config)") -> str:
    """The ensemble-speed sentence of a protocol's committed `ensemble_speed.json` (v10's; v11 passes its own)."""
    if not path.is_file():
        return ""
    sp = json.loads(path.read_text())
    name = sp["config"]["name"]
    return (f"{lead}: ensemble map per query {sp['ms_median']['D']:.0f} ms "
            f"(D) vs {sp['ms_median'][name]:.0f} ms ({name}), ratio {sp['ratio_of_medians']:.2f} "
            f"(`bench/anomaly_ensemble_speed.py`, {sp['n']} ABBA pairs, 256 px, 1 thread, load average "
            f"{sp['load_average'][0]:.1f} on {sp['cpus']} CPUs → `{path.relative_to(c8.REPO).as_posix()}`). ")


def summary_line(res: dict) -> str:
    sel, d = res["selection"], res["D"]["ensemble"]
    top = sel["ranking"][0]
    t = res["configs"][top]
    out = (f"Protocol v10 (`static/anomaly/protocol_v10.json`) tried a training-free, position-aware kNN member "
           f"(each patch matched only near its own place in the prompt, optionally with a chroma term; 14 configs): "
           f"on validation v2 the best, {top}, gives the ensemble {t['ensemble']['i_auroc']:.2f} I-AUROC against "
           f"{d['i_auroc']:.2f} for the shipped one ({sel['gain_of_top']:+.2f}; removal "
           f"{d['per_kind']['removal']:.1f} → {t['ensemble']['per_kind']['removal']:.1f}, recolour "
           f"{d['per_kind']['recolour']:.1f} → {t['ensemble']['per_kind']['recolour']:.1f}); ")
    if sel["chosen"]:
        return out + f"{sel['chosen']} passes the pre-registered rule and gets one held-out-v3 look."
    best = {lam: max(r["ensemble"]["i_auroc"] for r in res["configs"].values() if (r["config"]["colour"] > 0) == lam)
            for lam in (False, True)}
    why = (f" (the window alone gives at most {best[False] - d['i_auroc']:+.2f}; the chroma term gives the rest)"
           if best[True] > best[False] else "")
    return out + (f"that misses the pre-registered +{res['rule']['min_gain']:.1f}, so nothing changes and held-out v3 "
                  f"was not looked at again{why}.")

"""The style judge's selection (bench/svg_judge_select.py, protocol bench/results/svg_judge_protocol.json, svg12) and,
when a candidate was adopted, the restyles judged by the previous and the new judge side by side. Generated from
committed files only; re-exported into the svg-eval block by legibility_tables.
"""
from __future__ import annotations

import json
from pathlib import Path

from backend.config import REPO_ROOT

SELECT = REPO_ROOT / "bench" / "results" / "svg_judge_select.json"
BLOCK_NAMES = {"M": "measurements + 16-px render (the judge before)", "I": "identifier features (incl. fill rule)",
               "H": "HOG of the 64-px render", "L": "Lite0 embedding of the 128-px render (PCA 48)"}


def load_selection(path: Path = SELECT) -> dict | None:
    return json.loads(path.read_text()) if path.exists() else None


def selection_lines(sel: dict | None = None) -> list[str]:
    """Every candidate's genuine held-out accuracy and the registered rule's decision."""
    sel = load_selection() if sel is None else sel
    if not sel or "decision" not in sel:
        return []
    cands = sel["candidates"]
    targets = list(next(iter(cands.values()))["by_target"])
    out = ["", "Choosing the style judge (svg12; `bench/svg_judge_select.py`, protocol and rule committed before any "
           "measurement in `bench/results/svg_judge_protocol.json`): candidates fitted on the judge's training-concept "
           "icons and scored on GENUINE icons of held-out concepts only (no restyled or generated icon is used to "
           "choose); at the restyles' mix = the mean over the target styles:", "",
           "| candidate | all 23 styles | target styles pooled | at the restyles' mix | " + " | ".join(targets) +
           " | ms per icon |", "|---|---|---|---|---|" + "---|" * len(targets)]
    for name, c in cands.items():
        out.append(f"| {name} | {c['overall']:.3f} | {c['targets_pooled']:.3f} | **{c['mix']:.3f}** | " +
                   " | ".join(f"{c['right_by_target'][st]}/{c['n_by_target'][st]}" for st in targets) +
                   f" | {c['s_per_icon'] * 1000:.0f} |")
    d = sel["decision"]
    blocks = "; ".join(f"{k} = {v}" for k, v in BLOCK_NAMES.items())
    rule = ("adopt the best eligible candidate at the mix when it gains ≥ 3 points there, loses no target style by "
            "more than 3 points and the 23-style accuracy by no more than 1 point")
    if d["changed"]:
        a = cands[d["adopted"]]
        verdict = (f"**adopted {d['adopted']}** ({a['mix']:.3f} at the mix against {cands['C0 current']['mix']:.3f}); "
                   "its figure is optimistic by the best-of-candidates choice made on the same icons. The restyles "
                   "were judged again by it, once, with the restyle engine unchanged")
    else:
        verdict = "no candidate passed, **the judge stays**"
    fails = "; ".join(f"{n}: {', '.join(f)}" for n, f in d["failed"].items() if f)
    return out + ["", f"Blocks: {blocks}. Rule: {rule}. Decision: {verdict}." + (f" Not eligible — {fails}." if fails
                                                                                  else "")]


def judge_switch(reps: list[dict]) -> dict | None:
    """Restyles judged by both judges (rows carrying `style_prev_judge`), per target style and overall."""
    rows = [x for r in reps for x in r["rows"] if x["condition"] == "retrieval + restyle"]
    if not rows or not all("style_prev_judge" in x for x in rows):
        return None
    per: dict[str, dict] = {}
    for x in rows:
        d = per.setdefault(x["target_style"], {"n": 0, "new": 0, "prev": 0})
        d["n"] += 1
        d["new"] += bool(x["style"])
        d["prev"] += bool(x["style_prev_judge"])
    return {"by_style": per, "n": len(rows), "new": sum(d["new"] for d in per.values()),
            "prev": sum(d["prev"] for d in per.values())}


def judge_switch_lines(rep: dict, dev: list[dict]) -> list[str]:
    s0, sp = judge_switch([rep]), judge_switch([rep] + dev)
    if s0 is None or sp is None or "style_classifier_prev" not in rep:
        return []
    k = 1 + len(dev)
    new, old = rep["style_classifier"]["real_heldout_acc_by_style"], rep["style_classifier_prev"]["real_heldout_acc_by_style"]
    out = ["", f"The same restyles judged by the previous judge and by the new one (every row carries both verdicts; "
           f"the restyle engine is unchanged, so the difference is the instrument's), seed 0 and all {k} "
           "configurations, beside each judge's accuracy on genuine held-out-concept icons of the target style:", "",
           f"| target style | previous judge, seed 0 | new judge, seed 0 | previous judge, all {k} | new judge, all {k} "
           "| genuine icons, previous judge | genuine icons, new judge |", "|---|---|---|---|---|---|---|"]
    for st in rep["target_styles"]:
        a, b = s0["by_style"][st], sp["by_style"][st]
        out.append(f"| {st} | {a['prev']}/{a['n']} | {a['new']}/{a['n']} | {b['prev']}/{b['n']} | {b['new']}/{b['n']} "
                   f"| {old[st]:.2f} | {new[st]:.2f} |")
    mix_new, mix_old = (sum(v[st] for st in rep["target_styles"]) / len(rep["target_styles"]) for v in (new, old))
    out.append(f"| all | {s0['prev']}/{s0['n']} ({s0['prev'] / s0['n']:.0%}) | {s0['new']}/{s0['n']} "
               f"({s0['new'] / s0['n']:.0%}) | {sp['prev']}/{sp['n']} ({sp['prev'] / sp['n']:.0%}) | {sp['new']}/"
               f"{sp['n']} ({sp['new'] / sp['n']:.0%}) | {mix_old:.2f} at the mix | {mix_new:.2f} at the mix |"
               .replace("%)", " %)"))
    out += ["", "A better instrument is not a better restyle: the restyles are the same drawings under both judges. "
            "The style bar above is now measured by the new judge, whose ceiling (genuine icons at the restyles' mix) "
            f"is {mix_new * 100:.0f} % against {mix_old * 100:.0f} % for the previous one; the previous judge's figures stay here "
            "for comparison."]
    return out


def prev_judge_bullet(rep: dict, dev: list[dict]) -> list[str]:
    """Bar-status line: the style bar by the previous judge, when the reports carry both verdicts."""
    s0, sp = judge_switch([rep]), judge_switch([rep] + dev)
    if s0 is None or sp is None:
        return []
    k = 1 + len(dev)
    return [f"- the style bar above is measured by the new judge (svg12, chosen on genuine icons only); the previous "
            f"judge calls the same restyles the target style {s0['prev']}/{s0['n']} "
            f"({s0['prev'] / s0['n']:.0%}) on seed 0 and {sp['prev']}/{sp['n']} ({sp['prev'] / sp['n']:.0%}) over "
            f"all {k} — the same drawings, another instrument;".replace("%)", " %)")]

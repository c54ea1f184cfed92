"""Tables and derived figures of the legibility/style evaluation, generated from committed reports only.

`report_tables` writes the block between BEGIN/END in docs/svg_studio.md and README.md (`cli tables`); the
structural ceiling and the family-identification lines are computed from the reports' rows, so README and docs
never disagree with static/svg/eval/. The evaluation itself (what is measured, how) is in legibility_eval.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from backend.docs_blocks import replace_block
from backend.svg import engines as engines_mod
from backend.svg.family_match import load_identifier
from backend.svg.offline.legibility_eval import CONDITIONS, DEV_DIR, MATCHERS, summarise


def identification_lines(reps: list[dict]) -> list[str]:
    reps = [r for r in reps if "exemplar_families" in r]
    if not reps:
        return []
    hits = {m: sum(r["exemplar_families"][st][m][:1] == [st] for r in reps for st in r["exemplar_families"])
            for m in MATCHERS}
    n = sum(len(r["exemplar_families"]) for r in reps)
    misses: dict[str, int] = {}
    for r in reps:
        for st, v in r["exemplar_families"].items():
            if v[engines_mod.MATCHER][:1] != [st]:
                key = f"{st} → {(v[engines_mod.MATCHER] or ['none'])[0]}"
                misses[key] = misses.get(key, 0) + 1
    miss = "; ".join(f"{k} ×{v}" for k, v in sorted(misses.items(), key=lambda t: (-t[1], t[0])))
    return ["", f"On the evaluation's own exemplars (held-out concepts; {len(reps)} configuration(s) × "
            f"{n // len(reps)} target styles = {n} triples) the family identifier names the target family first "
            f"{hits['identifier']}/{n} times, the drawing-convention distance (svg4) {hits['signature']}/{n}, the "
            f"card matcher {hits['card']}/{n}" + (f"; the shipped matcher's misses: {miss}." if miss else ".")]


def _family(style: str) -> str:
    return style.split("/")[0]


def structural_ceiling(reps: list[dict]) -> dict:
    """What retrieval + restyle could reach at best, per target style, pooled over `reps` (each must carry
    `concept_styles`). For every restyle: does the target variant itself draw the prompt's concept, does its family
    (any variant)? `other_rate` = today's style accuracy of restyles whose source is another family's drawing.
    Ceilings: `perfect_variant` = every concept the target variant draws judged correct, the rest at other_rate;
    `perfect_family` = the same for every concept any variant of the family draws (a perfect restyle of the
    family's own drawing); `judge_family` = those own-family drawings judged correct only at the classifier's
    accuracy on real held-out-concept icons of that style (the judge's own ceiling)."""
    per: dict[str, dict] = {}
    for rep in reps:
        draws = rep["concept_styles"]
        acc = rep["style_classifier"]["real_heldout_acc_by_style"]
        for r in rep["rows"]:
            if r["condition"] != "retrieval + restyle":
                continue
            st = r["target_style"]
            d = per.setdefault(st, {"n": 0, "variant": 0, "family": 0, "correct": 0, "own_source": 0,
                                    "other_n": 0, "other_correct": 0, "judge_acc": acc[st]})
            styles = draws.get(r["retrieved_concept"], [])
            own = _family(r["source"]) == _family(st)
            d["n"] += 1
            d["variant"] += st in styles
            d["family"] += any(_family(x) == _family(st) for x in styles)
            d["correct"] += bool(r["style"])
            d["own_source"] += own
            d["other_n"] += not own
            d["other_correct"] += bool(r["style"]) and not own
    all_other = sum(d["other_correct"] for d in per.values()) / max(sum(d["other_n"] for d in per.values()), 1)
    for d in per.values():
        rate = d["other_correct"] / d["other_n"] if d["other_n"] else all_other
        d["other_rate"] = rate
        d["perfect_variant"] = (d["variant"] + (d["n"] - d["variant"]) * rate) / d["n"]
        d["perfect_family"] = (d["family"] + (d["n"] - d["family"]) * rate) / d["n"]
        d["judge_family"] = (d["family"] * d["judge_acc"] + (d["n"] - d["family"]) * rate) / d["n"]
    n = sum(d["n"] for d in per.values())
    tot = {"n": n, **{k: sum(d[k] for d in per.values()) for k in ("variant", "family", "correct", "own_source",
                                                                    "other_n", "other_correct")}}
    for k in ("perfect_variant", "perfect_family", "judge_family"):
        tot[k] = sum(d[k] * d["n"] for d in per.values()) / max(n, 1)
    return {"by_style": per, "all": tot}


def identifier_lines() -> list[str]:
    """The exemplar → family identifier's measurement, from its committed table (static/svg/family_identifier.json)."""
    t = load_identifier()
    if not t or "measured" not in t:
        return []
    m = t["measured"]["by_card_kind"]
    rows = [f"| {kind} | {v['n']} | {v['identifier']} ({v['identifier'] / v['n']:.0%}) | "
            f"{v['rank_families']} ({v['rank_families'] / v['n']:.0%}) | {v['card_matcher']} ({v['card_matcher'] / v['n']:.0%}) |"
            for kind, v in m.items()]
    return ["", f"Which installed family three exemplars are (top-1), on exemplar triples of training-concept icons whose "
            f"concepts the identifier was not fitted on ({t['measured']['triples_per_style']} triples per set/variant; "
            f"identifier: {len(t['members'])} small networks on each exemplar's drawing measurements, fitted on "
            f"{t['fit_icons']:,} icons of the other half of the training concepts, exemplars vote; "
            "`static/svg/family_identifier.json`):", "",
            "| exemplars | triples | identifier (default) | drawing-convention distance (svg4) | card matcher |",
            "|---|---|---|---|---|", *rows]


def ceiling_lines(rep: dict, dev: list[dict]) -> list[str]:
    reps = [r for r in [rep] + dev if "concept_styles" in r]
    if not reps:
        return []
    c = structural_ceiling(reps)
    a, seed0 = c["all"], structural_ceiling([rep])["all"] if "concept_styles" in rep else None
    lines = ["", f"Structural ceiling of retrieval + restyle ({len(reps)} configuration(s), {a['n']} restyles): how "
             "many prompts the target style itself and its family (any variant) draw, and the best style accuracy if "
             "every restyle of an own-family drawing were judged the target style while every restyle of another "
             "family's drawing kept today's rate (last column: own-family drawings judged only at the classifier's "
             "accuracy on real icons of that style):", "",
             "| target style | prompts | drawn by the style | by its family | restyled now | other-family restyles "
             "right now | ceiling, style draws | ceiling, family draws | ceiling at the judge's real-icon accuracy |",
             "|---|---|---|---|---|---|---|---|---|"]
    for st in rep["target_styles"]:
        d = c["by_style"].get(st)
        if d is None:
            continue
        lines.append(f"| {st} | {d['n']} | {d['variant']} | {d['family']} | {d['correct'] / d['n']:.2f} | "
                     f"{d['other_correct']}/{d['other_n']} | {d['perfect_variant']:.2f} | {d['perfect_family']:.2f} "
                     f"| {d['judge_family']:.2f} |")
    lines.append(f"| all | {a['n']} | {a['variant']} | {a['family']} | {a['correct'] / a['n']:.2f} | "
                 f"{a['other_correct']}/{a['other_n']} | {a['perfect_variant']:.2f} | {a['perfect_family']:.2f} | "
                 f"{a['judge_family']:.2f} |")
    s0 = (f" (seed 0 alone: {seed0['perfect_family']:.0%}, {seed0['judge_family']:.0%} at the judge's accuracy)"
          if seed0 and len(reps) > 1 else "")
    lines += ["", f"Even a perfect restyle of every available own-family drawing caps style accuracy at "
              f"**{a['perfect_family']:.0%}**{s0}, and at {a['judge_family']:.0%} when own-family drawings are judged "
              f"at the classifier's real-icon accuracy, against the bar of 80 %: the target families do not draw "
              f"{a['n'] - a['family']} of the {a['n']} prompts, and restyles of another family's drawing are judged "
              f"the target style {a['other_correct']}/{a['other_n']} times."]
    return lines


# ------------------------------------------------------------------------------------------------ tables
BEGIN, END = "<!-- svg-eval:begin (generated by python -m backend.svg.offline.cli tables) -->", "<!-- svg-eval:end -->"


def dev_reports(folder: Path = DEV_DIR) -> list[dict]:
    return [json.loads(f.read_text()) for f in sorted(folder.glob("legibility_report_seed*.json"))]


def report_tables(rep: dict, dev: list[dict] | None = None) -> str:
    dev = dev_reports() if dev is None else dev
    s = rep["summary"]
    sc = rep["style_classifier"]
    judge = (f"the style classifier (gradient-boosted trees on style measurements and a 16-px render, trained on "
             f"{sc['train_icons']:,} training-concept icons; accuracy on {sc['test_icons']:,} real held-out-concept "
             f"icons {sc['real_heldout_acc']:.0%}, balanced over styles {sc['real_heldout_acc_balanced']:.0%})"
             if "test_icons" in sc else
             f"the style classifier (accuracy on real held-out icons {sc['real_heldout_acc']:.0%})")
    lines = [f"Held-out exemplar styles ({len(rep['target_styles'])} styles × {len(rep['prompts'])} prompts; "
             f"three exemplars each from held-out concepts). Concept = the corpus raster recogniser names the "
             f"prompted concept (source icon left out); style = {judge} names the target style.", "",
             "| condition | concept top-1 | concept top-5 | style acc. | ink | out of viewBox % | near copy % |",
             "|---|---|---|---|---|---|---|"]
    for cond in CONDITIONS:
        if cond in s:
            m = s[cond]["all"]
            lines.append(f"| {cond} | {m['concept_top1']:.2f} | {m['concept_top5']:.2f} | {m['style_acc']:.2f} | "
                         f"{m['ink']:.3f} | {m['outside_pct']:.2f} | {m['near_copy_pct']:.1f} |")
    by = rep["style_classifier"].get("real_heldout_acc_by_style")
    if by:
        rows = [r for r in rep["rows"] if r["condition"] == "retrieval + restyle"]
        n_by, conf = sc.get("test_icons_by_style", {}), sc.get("most_confused_with", {})
        lines += ["", "Style accuracy per target style (retrieval + restyle, and the same with the unmodified source), "
                  "the share of restyles whose source is the target family's own drawing (any of its variants), and "
                  "the classifier's own accuracy on real held-out-concept icons of that style (its ceiling; n icons, "
                  "most frequent confusion):", "",
                  "| target style | restyled | unmodified source | source from the target family | "
                  "classifier on real icons |", "|---|---|---|---|---|"]
        plain = [r for r in rep["rows"] if r["condition"] == "retrieved, unmodified"]
        for st in rep["target_styles"]:
            a = np.mean([r["style"] for r in rows if r["target_style"] == st])
            b = np.mean([r["style"] for r in plain if r["target_style"] == st])
            fam = np.mean([r["source"].split("/")[0] == st.split("/")[0] for r in rows if r["target_style"] == st])
            ceil = f"{by[st]:.2f}" + (f" (n={n_by[st]}, else {conf[st]})" if st in n_by and st in conf else
                                      f" (n={n_by[st]})" if st in n_by else "")
            lines.append(f"| {st} | {a:.2f} | {b:.2f} | {fam:.2f} | {ceil} |")
        own = [r["style"] for r in rows if r["source"].split("/")[0] == r["target_style"].split("/")[0]]
        other = [r["style"] for r in rows if r["source"].split("/")[0] != r["target_style"].split("/")[0]]
        lines += ["", f"Restyles from the target family's own drawing: {sum(own)}/{len(own)} classified as the target "
                  f"style; from another family's drawing (the family does not draw the concept): "
                  f"{sum(other)}/{len(other)}."]
    lines += identifier_lines()
    lines += identification_lines([rep] + dev)
    lines += ceiling_lines(rep, dev)
    if dev:
        lines += ["", "The same measurement on development configurations (other exemplars and prompts, `evaluate --seed "
                  "N --no-generator`, same judge; changes are chosen on these before the reported seed-0 run; "
                  "`static/svg/eval/dev/`): style accuracy of the restyles, and restyles classified as the target "
                  "style per target style (of the prompts; of all prompts in the last row):", "",
                  "| configuration | restyled | unmodified source | concept top-5 restyled / unmodified | "
                  + " | ".join(rep["target_styles"]) + " |", "|---|---|---|---|" + "---|" * len(rep["target_styles"])]
        for r in [rep] + dev:
            rs = r["summary"]
            rr = [x for x in r["rows"] if x["condition"] == "retrieval + restyle"]
            per = [str(sum(x["style"] for x in rr if x["target_style"] == st)) for st in rep["target_styles"]]
            name = f"seed {r['seed']}" + (" (reported)" if r is rep else " (development)")
            lines.append(f"| {name} | {rs['retrieval + restyle']['all']['style_acc']:.2f} | "
                         f"{rs['retrieved, unmodified']['all']['style_acc']:.2f} | "
                         f"{rs['retrieval + restyle']['all']['concept_top5']:.2f} / "
                         f"{rs['retrieved, unmodified']['all']['concept_top5']:.2f} | " + " | ".join(per) + " |")
        pooled = [x for r in [rep] + dev for x in r["rows"]]
        ps = summarise(pooled)
        per = [str(sum(x["style"] for x in pooled if x["condition"] == "retrieval + restyle" and x["target_style"] == st))
               for st in rep["target_styles"]]
        n_rest = ps["retrieval + restyle"]["all"]["n"]
        lines.append(f"| all {1 + len(dev)} configurations ({n_rest} restyles) | "
                     f"{ps['retrieval + restyle']['all']['style_acc']:.2f} | "
                     f"{ps['retrieved, unmodified']['all']['style_acc']:.2f} | "
                     f"{ps['retrieval + restyle']['all']['concept_top5']:.2f} / "
                     f"{ps['retrieved, unmodified']['all']['concept_top5']:.2f} | " + " | ".join(per) + " |")
    gen = [c for c in ("learned generator", "generator, untrained") if c in s]
    if gen:
        lines += ["", "Generator vs its untrained floor, by prompt split (seen = training concepts):", "",
                  "| condition | split | concept top-1 | concept top-5 | style acc. | out of viewBox % |",
                  "|---|---|---|---|---|---|"]
        for cond in gen:
            for split in ("seen", "heldout"):
                m = s[cond][split]
                lines.append(f"| {cond} | {split} | {m['concept_top1']:.2f} | {m['concept_top5']:.2f} | "
                             f"{m['style_acc']:.2f} | {m['outside_pct']:.2f} |")
    p = rep["paraphrases"]["summary"]
    lines += ["", f"Retrieval on {p['n']} everyday paraphrases (synonyms, “a … of …”, plurals, spelling variants; "
              f"`static/svg/eval/paraphrases.tsv`, written for evaluation only): **top-1 {p['top1']:.0%}, "
              f"top-5 {p['top5']:.0%}**; on the {p['n_not_a_name']} that are not themselves a corpus concept name "
              f"(no name bonus): top-1 {p['top1_not_a_name']:.0%}, top-5 {p['top5_not_a_name']:.0%}. The old "
              "150/150 figure was a name lookup (prompt = the concept's own name)."]
    return "\n".join(lines)


def write_tables(rep: dict, files: list[Path]) -> list[Path]:
    body = report_tables(rep)
    changed = []
    for f in files:
        text = f.read_text()
        if BEGIN not in text:
            continue
        new = replace_block(text, BEGIN, END, body)
        if new != text:
            f.write_text(new)
            changed.append(f)
    return changed

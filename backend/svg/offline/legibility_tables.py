"""Tables and derived figures of the legibility/style evaluation, generated from committed reports only.

`report_tables` writes the block between BEGIN/END in docs/svg_studio.md and README.md (`cli tables`); the
structural ceiling and the family-identification lines are computed from the reports' rows, so README and docs
never disagree with static/svg/eval/. The evaluation itself (what is measured, how) is in legibility_eval.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from backend.config import REPO_ROOT
from backend.docs_blocks import replace_block
from backend.svg import engines as engines_mod
from backend.svg.family_match import load_identifier
from backend.svg.offline.judge_switch import BLOCK_NAMES, judge_switch_lines, prev_judge_bullet, selection_lines
from backend.svg.offline.judge_tables import (  # noqa: F401 (judge_ceiling, miss_breakdown: re-exported)
    STYLE_BAR,
    _family,
    _own,
    judge_ceiling,
    judge_ceiling_lines,
    miss_breakdown,
    miss_lines,
)
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
            "|---|---|---|---|---|", *rows] + fill_rule_lines()


FILL_RULE_BENCH = REPO_ROOT / "bench" / "results" / "svg_identifier_features.json"  # svg11's before/after


def fill_rule_lines(path: Path = FILL_RULE_BENCH) -> list[str]:
    """The identifier before/after the fill-rule feature (style.IDENTITY_FILL_RULE), same real triples."""
    if not path.exists():
        return []
    d = json.loads(path.read_text())
    r, b, a = d["rule"], d["before"]["by_style"], d["after"]["by_style"]
    moved = [f"{st} {b[st]['identifier']}→{a[st]['identifier']}" for st in sorted(b)
             if a[st]["identifier"] != b[st]["identifier"]]
    return ["", f"The identifier's features include the filled paths' even-odd fill-rule share (how knock-outs are "
            f"encoded; svg11, `bench/svg_identifier_features.py`, rule fixed before the run): on the same {r['n']} "
            f"triples {r['after']}/{r['n']} right against {r['before']}/{r['n']} without it (of 20 per set/variant: "
            + ", ".join(moved) + "); rule " + ("passed" if r["passes"] else "failed") + "."]


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


# ------------------------------------------------------------------------------------------------ bar status
CONCEPT_MARGIN = 0.10  # issue 18: concept top-5 ≥ unmodified − 10 points (STYLE_BAR: judge_tables)
SECOND_JUDGE = REPO_ROOT / "bench" / "results" / "svg_second_judge.json"  # svg4's restyles re-judged (history)


def _pct(k: int, n: int) -> str:
    return f"{k}/{n} ({k / max(n, 1):.0%})".replace("%)", " %)")


def _seeds(seeds: list[int]) -> str:
    s = sorted(seeds)
    return (f"{s[0]}–{s[-1]}" if s == list(range(s[0], s[-1] + 1)) else ", ".join(map(str, s))) if s else ""


def bar_status(rep: dict, dev: list[dict]) -> dict:
    """Issue 18's two bars and what stands behind them, from the reported configuration `rep` and the development
    configurations `dev` (rows of condition "retrieval + restyle" vs "retrieved, unmodified")."""
    reps = [rep] + dev

    def restyles(rs: list[dict]) -> list[dict]:
        return [x for r in rs for x in r["rows"] if x["condition"] == "retrieval + restyle"]

    def counts(rows: list[dict]) -> dict:
        own = [x for x in rows if _own(x)]
        oth = [x for x in rows if not _own(x)]
        return {"n": len(rows), "right": sum(bool(x["style"]) for x in rows), "own_n": len(own),
                "own_right": sum(bool(x["style"]) for x in own), "other_n": len(oth),
                "other_right": sum(bool(x["style"]) for x in oth)}

    def top5(rs: list[dict]) -> tuple[float, float]:
        # exact shares (summarise rounds to 3 decimals, and rounding twice can move the shown 2-decimal figure)
        def share(cond: str) -> float:
            xs = [bool(x["top5"]) for r in rs for x in r["rows"] if x["condition"] == cond]
            return sum(xs) / max(len(xs), 1)
        return share("retrieval + restyle"), share("retrieved, unmodified")

    seed0, pooled = counts(restyles([rep])), counts(restyles(reps))
    t0, tp = top5([rep]), top5(reps)
    per = [top5([r]) for r in reps]
    draws, none, prompts = rep.get("concept_styles", {}), [], [p for p, _ in rep["prompts"]]
    for st in rep["target_styles"]:
        if draws and not any(st in draws.get(p, []) for p in prompts):
            fam = sum(any(_family(x) == _family(st) for x in draws.get(p, [])) for p in prompts)
            all_n = sum(1 for r in reps for _ in r["prompts"])
            all_draw = sum(st in r.get("concept_styles", {}).get(p, []) for r in reps for p, _ in r["prompts"])
            right = sum(bool(x["style"]) for x in restyles([rep]) if x["target_style"] == st)
            none.append({"style": st, "family_draws": fam, "right": right, "prompts": len(prompts),
                         "draws_all": all_draw, "prompts_all": all_n})
    return {"seed0": seed0, "pooled": pooled, "configurations": len(reps), "dev_seeds": [r["seed"] for r in dev],
            "style_met_seed0": seed0["right"] >= STYLE_BAR * seed0["n"],
            "style_met_pooled": pooled["right"] >= STYLE_BAR * pooled["n"],
            "top5_seed0": t0, "top5_pooled": tp,
            "concept_met": sum(a >= b - CONCEPT_MARGIN - 1e-9 for a, b in per),
            "draws_none": none, "history": _history(reps)}


def _history(reps: list[dict]) -> dict | None:
    """svg4's restyles (the reports at the commit `bench/results/svg_second_judge.json` names), re-generated and
    judged by the same trees judge on the same configurations; None unless that file covers exactly `reps`."""
    if not SECOND_JUDGE.exists():
        return None
    d = json.loads(SECOND_JUDGE.read_text())
    if sorted(d.get("seeds", [])) != sorted(r["seed"] for r in reps):
        return None
    old = d["restyles"]["old"]["judge1"]
    s0, pl = old["seed0"], old["pooled"]
    return {"commit": d["old_reports_commit"], "seed0": (s0["all"]["correct"], s0["all"]["n"]),
            "pooled": (pl["all"]["correct"], pl["all"]["n"]),
            "seed0_own": (s0["own-family source"]["correct"], s0["own-family source"]["n"]),
            "seed0_other": (s0["other-family source"]["correct"], s0["other-family source"]["n"])}


def bar_status_lines(rep: dict, dev: list[dict]) -> list[str]:
    b = bar_status(rep, dev)
    s0, pl, k = b["seed0"], b["pooled"], b["configurations"]
    met = {True: "**met**", False: "**not met**"}
    style_met = met[b["style_met_seed0"]] if b["style_met_seed0"] == b["style_met_pooled"] else \
        f"{met[b['style_met_seed0']]} on seed 0, {met[b['style_met_pooled']]} over all {k}"
    out = ["**Bar status** (issue 18's two bars, computed from the committed reports by `cli tables`; seed 0 = the "
           "reported configuration" + (f", all {k} = seed 0 and development seeds {_seeds(b['dev_seeds'])}" if k > 1
                                        else "") + "):", "",
           f"- style bar (≥ {STYLE_BAR * 100:.0f} % of restyles classified as the target style): {style_met}: "
           f"{_pct(s0['right'], s0['n'])} on seed 0" + (f", {_pct(pl['right'], pl['n'])} over all {k} "
                                                        "configurations" if k > 1 else "") + ";",
           f"- restyles of the target family's own drawing judged the target style {s0['own_right']}/{s0['own_n']} "
           f"on seed 0" + (f" ({pl['own_right']}/{pl['own_n']} over all {k})" if k > 1 else "") +
           f", of another family's drawing {s0['other_right']}/{s0['other_n']}" +
           (f" ({pl['other_right']}/{pl['other_n']})" if k > 1 else "") + ";",
           f"- concept bar (restyled concept top-5 ≥ unmodified − {CONCEPT_MARGIN * 100:.0f} points): "
           f"{met[b['concept_met'] == k]}: {b['top5_seed0'][0]:.2f} vs {b['top5_seed0'][1]:.2f} on seed 0" +
           (f", {b['top5_pooled'][0]:.2f} vs {b['top5_pooled'][1]:.2f} over all {k} (met in {b['concept_met']} of "
            f"{k} configurations)" if k > 1 else "") + ";"]
    if b["draws_none"]:
        z = b["draws_none"]
        out.append(f"- target styles that draw none of seed 0's {z[0]['prompts']} prompts (their restyles start from "
                   "another drawing): " + ", ".join(
                       f"{d['style']} (" + (f"its family draws {d['family_draws']}" if d["family_draws"] else
                                            "nor does any variant of its family") +
                       f"; judged the target style {d['right']}/"
                       f"{d['prompts']}" + (f"; draws {d['draws_all']} of {d['prompts_all']} over all {k}" if k > 1
                                            else "") + ")" for d in z) + ";")
    out += prev_judge_bullet(rep, dev)
    jc = judge_ceiling([rep] + dev)
    low = ", ".join(f"{st} {jc['by_style'][st]['genuine_acc']:.2f}" for st in jc["all"]["below_bar"])
    out.append(f"- the judge's own ceiling: on genuine icons of the target styles that it never trained on it names "
               f"the style {jc['all']['expected'] * 100:.0f} % of the time at the restyles' mix of targets" +
               (f" (below the bar on genuine icons: {low})" if low else "") + "; table below;")
    h = b["history"]
    if h:
        judge = "the previous judge" if "style_classifier_prev" in rep else "same judge"
        out.append(f"- history, {judge} and same configurations (svg4's restyles, the reports at {h['commit']}, "
                   "regenerated and judged in `bench/results/svg_second_judge.json`): "
                   f"{_pct(*h['seed0'])} on seed 0, {_pct(*h['pooled'])} over all {k}; own-family "
                   f"{h['seed0_own'][0]}/{h['seed0_own'][1]}, other-family {h['seed0_other'][0]}/"
                   f"{h['seed0_other'][1]} on seed 0.")
    out[-1] = out[-1].rstrip(";") + ("." if not out[-1].endswith(".") else "")
    return out


BEGIN, END = "<!-- svg-eval:begin (generated by python -m backend.svg.offline.cli tables) -->", "<!-- svg-eval:end -->"


def dev_reports(folder: Path = DEV_DIR) -> list[dict]:
    return [json.loads(f.read_text()) for f in sorted(folder.glob("legibility_report_seed*.json"))]


def report_tables(rep: dict, dev: list[dict] | None = None) -> str:
    dev = dev_reports() if dev is None else dev
    s = rep["summary"]
    sc = rep["style_classifier"]
    extra = [BLOCK_NAMES[b] for b in sc.get("features", ["M"]) if b != "M"]
    judge = ("the style classifier (gradient-boosted trees on style measurements and a 16-px render"
             + "".join(f" + {e}" for e in extra)
             + "".join(f", {k}={v}" for k, v in sorted(sc.get("params", {}).items())) + ", trained on "
             f"{sc['train_icons']:,} training-concept icons; accuracy on {sc['test_icons']:,} real held-out-concept "
             f"icons {sc['real_heldout_acc']:.0%}, balanced over styles {sc['real_heldout_acc_balanced']:.0%})"
             if "test_icons" in sc else
             f"the style classifier (accuracy on real held-out icons {sc['real_heldout_acc']:.0%})")
    lines = bar_status_lines(rep, dev) + [""] + [f"Held-out exemplar styles ({len(rep['target_styles'])} styles × {len(rep['prompts'])} prompts; "
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
    lines += judge_ceiling_lines(rep, dev)
    lines += selection_lines() + judge_switch_lines(rep, dev)
    lines += identifier_lines()
    lines += identification_lines([rep] + dev)
    lines += ceiling_lines(rep, dev)
    lines += miss_lines([rep] + dev)
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

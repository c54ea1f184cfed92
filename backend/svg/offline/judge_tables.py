"""Why restyles miss the target style, generated from committed legibility reports: the style judge's own ceiling
on genuine icons of each target style (never trained on, Wilson interval) and the per-target breakdown of
other-family misses (judged as the source drawing's family, or as the target's usual confusion on real icons).
Re-exported by legibility_tables, which writes them into the svg-eval block.
"""
from __future__ import annotations

import numpy as np

from backend.svg import engines as engines_mod

STYLE_BAR = 0.80  # issue 18: ≥ 80 % of restyles judged the target style


def _family(style: str) -> str:
    return style.split("/")[0]


def _own(r: dict) -> bool:
    return _family(r["source"]) == _family(r["target_style"])

def _wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """95 % Wilson score interval of k successes in n trials."""
    if n <= 0:
        return 0.0, 1.0
    p = k / n
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    mid = (p + z * z / (2 * n)) / (1 + z * z / n)
    return max(0.0, float(mid - half)), min(1.0, float(mid + half))


def judge_ceiling(reps: list[dict]) -> dict:
    """The measuring instrument's own ceiling, per target style and pooled over `reps`: the style judge's accuracy
    on GENUINE icons of the target style that it never trained on (every real icon of a held-out concept: the judge
    is fitted on training-concept icons only, `dataset.style_split`; its test figures are committed in each report's
    `style_classifier`) beside the restyles' style accuracy. A perfect restyle that produced the family's own
    drawing would be judged right at about the genuine rate, so `expected` (the genuine rate of each restyle's target,
    averaged over the restyles) is the best style accuracy this judge can give these restyles. Counts of genuine
    icons judged right are recovered from the committed rate × n (rates carry 3 decimals, n ≤ 1000)."""
    per: dict[str, dict] = {}
    expected = 0.0
    for rep in reps:
        sc = rep["style_classifier"]
        acc, n_by, conf = sc["real_heldout_acc_by_style"], sc.get("test_icons_by_style", {}), \
            sc.get("most_confused_with", {})
        for r in rep["rows"]:
            if r["condition"] != "retrieval + restyle":
                continue
            st = r["target_style"]
            n = int(n_by.get(st, 0))
            d = per.setdefault(st, {"genuine_n": n, "genuine_right": int(round(acc[st] * n)), "genuine_acc": acc[st],
                                    "confused_with": conf.get(st, ""), "n": 0, "right": 0, "own_n": 0,
                                    "own_right": 0})
            if d["genuine_acc"] != acc[st] or d["genuine_n"] != n:
                raise ValueError(f"reports judged by different judges ({st}): pool only one judge's reports")
            own = _own(r)
            d["n"] += 1
            d["right"] += bool(r["style"])
            d["own_n"] += own
            d["own_right"] += bool(r["style"]) and own
            expected += acc[st]
    for d in per.values():
        d["genuine_ci"] = _wilson(d["genuine_right"], d["genuine_n"])
        d["restyle_acc"] = d["right"] / max(d["n"], 1)
    n = sum(d["n"] for d in per.values())
    gn, gk = sum(d["genuine_n"] for d in per.values()), sum(d["genuine_right"] for d in per.values())
    return {"by_style": per, "all": {"n": n, "right": sum(d["right"] for d in per.values()),
                                     "restyle_acc": sum(d["right"] for d in per.values()) / max(n, 1),
                                     "expected": expected / max(n, 1), "genuine_n": gn, "genuine_right": gk,
                                     "genuine_acc": gk / max(gn, 1),
                                     "below_bar": sorted(st for st, d in per.items()
                                                         if d["genuine_acc"] < STYLE_BAR)}}


def judge_ceiling_lines(rep: dict, dev: list[dict]) -> list[str]:
    reps = [rep] + dev
    c, c0 = judge_ceiling(reps), judge_ceiling([rep])
    a, k = c["all"], len(reps)
    out = ["", f"The judge's ceiling: its accuracy on genuine icons of each target style that it never trained on (every "
           "real icon of a held-out concept; the judge is trained on training-concept icons only) beside the "
           f"restyles' style accuracy (seed 0, and all {k} configurations). A restyle that reproduced the family's "
           "own drawing would be judged right at about the genuine rate; the last row weights each target's genuine "
           "rate by its restyles:", "",
           "| target style | genuine icons judged right | 95 % interval | genuine icons most often called | restyled "
           f"right, seed 0 | restyled right, all {k} | restyled minus genuine (all {k}) |",
           "|---|---|---|---|---|---|---|"]
    for st in rep["target_styles"]:
        d, d0 = c["by_style"].get(st), c0["by_style"].get(st)
        if d is None or d0 is None:
            continue
        lo, hi = d["genuine_ci"]
        out.append(f"| {st} | {d['genuine_right']}/{d['genuine_n']} ({d['genuine_acc']:.2f}) | {lo:.2f}–{hi:.2f} | "
                   f"{d['confused_with'] or '–'} | {d0['right']}/{d0['n']} ({d0['restyle_acc']:.2f}) | "
                   f"{d['right']}/{d['n']} ({d['restyle_acc']:.2f}) | {d['restyle_acc'] - d['genuine_acc']:+.2f} |")
    a0 = c0["all"]
    out.append(f"| all targets | {a['genuine_right']}/{a['genuine_n']} ({a['genuine_acc']:.2f}); at the restyles' "
               f"mix {a['expected']:.2f} | | | {a0['right']}/{a0['n']} ({a0['restyle_acc']:.2f}) | "
               f"{a['right']}/{a['n']} ({a['restyle_acc']:.2f}) | {a['restyle_acc'] - a['expected']:+.2f} |")
    below = ", ".join(a["below_bar"]) or "none"
    out += ["", f"At the restyles' mix of targets the judge would call genuine icons the target style "
            f"{a['expected'] * 100:.0f} % of the time ({a0['expected'] * 100:.0f} % on seed 0): the {STYLE_BAR * 100:.0f} % bar is "
            f"within this judge's reach only if restyles are about as recognisable as the families' own drawings. "
            f"Targets whose genuine icons the judge itself calls right less often than the bar: {below}. "
            + ("The bar is unchanged; the judge is the one chosen on genuine icons in svg12 (below), and the previous "
               "judge's verdicts on the same restyles are kept beside it." if "style_classifier_prev" in rep else
               "The bar and the judge are unchanged; this is context for the figures above, not a correction of "
               "them.")]
    return out


def miss_breakdown(reps: list[dict]) -> list[dict]:
    """Per target style, over `reps`: what stands behind the restyles of another family's drawing that the judge
    does not call the target style. `matched` = configurations whose exemplars the engine's matcher put in the
    target style itself (else the engine restyles toward the family it matched); a miss is "the source's family"
    when the judge names a variant of the family the drawing came from, and "the usual confusion" when it names
    the style the judge most often mistakes the target for on real held-out-concept icons."""
    out = []
    conf = reps[0]["style_classifier"].get("most_confused_with", {})
    real = reps[0]["style_classifier"].get("real_heldout_acc_by_style", {})
    for st in reps[0]["target_styles"]:
        rows = [x for r in reps for x in r["rows"] if x["condition"] == "retrieval + restyle"
                and x["target_style"] == st and not _own(x)]
        miss = [x for x in rows if not x["style"]]
        matcher = engines_mod.MATCHER
        matched = sum((r.get("exemplar_families", {}).get(st, {}).get(matcher) or [None])[0] == st for r in reps)
        out.append({"style": st, "other_n": len(rows), "other_right": sum(bool(x["style"]) for x in rows),
                    "matched": matched, "configurations": len(reps), "misses": len(miss),
                    "as_source_family": sum(_family(x["predicted_style"]) == _family(x["source"]) for x in miss),
                    "as_usual_confusion": sum(x["predicted_style"] == conf.get(st) for x in miss),
                    "usual_confusion": conf.get(st, ""), "real_acc": real.get(st)})
    return out


def miss_lines(reps: list[dict]) -> list[str]:
    rows = miss_breakdown(reps)
    k = len(reps)
    out = ["", f"Why restyles of another family's drawing miss the target style (all {k} configurations; a miss can "
           "be both kinds): exemplars matched to the target style itself (the engine otherwise restyles toward the "
           "family it matched), misses the judge assigns to the family the drawing came from, and misses it assigns "
           "to the style it most often mistakes the target for on real held-out-concept icons:", "",
           "| target style | other-family restyles right | exemplars matched to the target | misses | judged as the "
           "source's family | judged as the usual confusion | judge on real icons |", "|---|---|---|---|---|---|---|"]
    for d in rows:
        acc = f"{d['real_acc']:.2f}" if d["real_acc"] is not None else "–"
        out.append(f"| {d['style']} | {d['other_right']}/{d['other_n']} | {d['matched']}/{d['configurations']} | "
                   f"{d['misses']} | {d['as_source_family']} | {d['as_usual_confusion']} "
                   f"({d['usual_confusion'] or '–'}) | {acc} |")
    tot = [sum(d[c] for d in rows) for c in ("misses", "as_source_family", "as_usual_confusion")]
    out.append(f"| all | {sum(d['other_right'] for d in rows)}/{sum(d['other_n'] for d in rows)} | | {tot[0]} | "
               f"{tot[1]} | {tot[2]} | |")
    return out


# ------------------------------------------------------------------------------------------------ tables

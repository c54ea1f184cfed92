"""What the shipped anomaly engines miss: a failure analysis of data already produced (no new settings, no selection).

    python -m backend.anomaly.offline.failure_analysis [--out static/anomaly/protocol_v5/failure_analysis.json]
        [--tables-only]

Recomputes the per-query image scores of the shipped defaults (metauas, knn, ensemble; `evaluate._class_maps`,
prompt seed 0, 256 px, correct prompt, exactly as `report.run` did for static/anomaly/heldout_report.json) on the
held-out benchmark v2 (`heldout.generate_v2`) and on validation v2 (`levers.build`), checks that the recomputed class
I-AUROCs equal the committed report's, and breaks the scores down: I-AUROC per defect kind (class means, fresh vs old
classes), the nuisances of good queries that outscore defects (recorded while the benchmarks are regenerated: the rng
draws of `changes.view` / `changes.photometric` are observed, not changed), and detection against defect area. Nothing
here is chosen from held-out data: the figures describe the one committed run.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from backend.anomaly.dataset import list_classes, load_class
from backend.anomaly.evaluate import _class_maps
from backend.anomaly.offline import changes, heldout, levers, report
from backend.docs_blocks import replace_block

REPO = Path(__file__).resolve().parents[3]
OUT = REPO / "static" / "anomaly" / "protocol_v5" / "failure_analysis.json"
ENGINES = ("metauas", "knn", "ensemble")
LABELS = {"metauas": "MetaUAS-Lite0", "knn": "Patch kNN", "ensemble": "Ensemble (default)"}
AREA_BINS = (0.005, 0.01, 0.02, 0.05)  # fraction of the 256 px image
BEGIN, END = "<!-- anomaly-failure-analysis:begin -->", "<!-- anomaly-failure-analysis:end -->"
README_BEGIN, README_END = "<!-- anomaly-failure-summary:begin -->", "<!-- anomaly-failure-summary:end -->"
NUISANCES = ("blur", "noise", "jpeg")


# -- observing the generators' nuisance draws ----------------------------------------------------------
class _Tap:
    """Passes every call through to the real Generator and records (method, result)."""

    def __init__(self, rng, calls: list):
        self._rng, self._calls = rng, calls

    def __getattr__(self, name):
        fn = getattr(self._rng, name)

        def call(*a, **k):
            r = fn(*a, **k)
            self._calls.append((name, r))
            return r
        return call


def _parse_view(calls: list) -> dict:
    ang, sc, shift = (c[1] for c in calls[:3])
    return {"rotation_deg": round(float(ang), 2), "scale": round(1 + float(sc), 4),
            "shift_px": round(float(np.hypot(*shift)), 2)}


def _parse_photometric(calls: list) -> dict:
    """The draws of changes.photometric in order: gain, offset, gamma, blur?, [σ], noise?, [std, noise], jpeg?, [q]."""
    out: dict[str, Any] = {"gain": round(1 + float(calls[0][1]), 4), "offset": round(float(calls[1][1]), 4),
                           "gamma": round(1 + float(calls[2][1]), 4), "blur": None, "noise": None, "jpeg": None}
    i = 3
    if calls[i][1] < 0.3:
        out["blur"], i = round(float(calls[i + 1][1]), 3), i + 2
    else:
        i += 1
    if calls[i][1] < 0.3:
        out["noise"], i = round(float(calls[i + 1][1]), 4), i + 3
    else:
        i += 1
    if calls[i][1] < 0.4:
        out["jpeg"] = int(calls[i + 1][1])
    return out


def record_nuisances(build) -> list[dict]:
    """Runs `build()` (a benchmark generator) with the nuisance draws observed; one dict per saved image, in order."""
    records: list[dict] = []
    view, photometric = changes.view, changes.photometric

    def tapped_view(canvas_img, size, rng, strength=1.0, mask=None):
        calls: list = []
        out = view(canvas_img, size, _Tap(rng, calls), strength, mask)
        records.append({"view": _parse_view(calls)})
        return out

    def tapped_photometric(img, rng, strength=1.0):
        calls: list = []
        out = photometric(img, _Tap(rng, calls), strength)
        records[-1].update(_parse_photometric(calls))
        return out

    changes.view, changes.photometric = tapped_view, tapped_photometric
    try:
        build()
    finally:
        changes.view, changes.photometric = view, photometric
    return records


def attach_nuisances(records: list[dict], parts: list[tuple[list[str], int, int, int]]) -> dict:
    """{class: {"good/000.png": nuisance}} from the generation order of heldout.generate (per class: prompts, good
    queries, then n_per_kind per defect kind); parts = [(classes, n_prompts, n_good, n_per_kind)] per generate call."""
    out: dict[str, dict] = {}
    i = 0
    for classes, n_prompts, n_good, n_per_kind in parts:
        for cls in classes:
            i += n_prompts
            out[cls] = {f"good/{k:03d}.png": records[i + k] for k in range(n_good)}
            i += n_good + n_per_kind * len(changes.EVAL_CHANGES)
    assert i == len(records), "generation order changed: the nuisance records no longer line up"
    return out


# -- scores --------------------------------------------------------------------------------------------
def query_scores(root: Path, progress=print) -> dict:
    """{class: [{"file", "defect", "area", scores per engine, peak_in_mask per engine}]} with the shipped defaults."""
    classes = list_classes(root)
    out: dict[str, list] = {}
    t0 = time.time()
    for cls in classes:
        _, test = load_class(root, cls)
        maps, labels, masks = _class_maps(root, cls, list(ENGINES), 256, 0, None, None, None, None, "correct", classes)
        rows = []
        for j, s in enumerate(test):
            m = masks[j]
            row: dict[str, Any] = {"file": f"{s.defect}/{s.path.name}", "defect": s.defect,
                                   "area": round(float(m.mean()), 5),
                                   "score": {e: float(maps[e][0][j]) for e in ENGINES}}
            if s.label:
                row["peak_in_mask"] = {e: bool(m.flat[int(np.argmax(maps[e][1][j]))]) for e in ENGINES}
            rows.append(row)
        out[cls] = rows
        progress(f"[{time.time() - t0:.0f}s] {cls}: {len(rows)} queries")
    return out


def _outscored(d: float, goods: np.ndarray) -> float:
    """Fraction of good scores below a defect's (ties count half): the per-defect share of the class I-AUROC."""
    return float(np.mean((goods < d) + 0.5 * (goods == d)))


def class_auroc(rows: list, eng: str, kinds=None) -> float:
    goods = np.array([r["score"][eng] for r in rows if r["defect"] == "good"])
    bad = [r["score"][eng] for r in rows if r["defect"] != "good" and (kinds is None or r["defect"] in kinds)]
    return 100 * float(np.mean([_outscored(d, goods) for d in bad]))


def _mean(xs) -> float:
    return round(float(np.mean(xs)), 2) if len(xs) else float("nan")


def breakdown(scores: dict, groups: dict[str, list[str]]) -> dict:
    kinds = list(changes.EVAL_CHANGES)
    per_kind = {e: {g: {k: _mean([class_auroc(scores[c], e, None if k == "all" else [k]) for c in cls])
                        for k in kinds + ["all"]} for g, cls in groups.items()} for e in ENGINES}
    per_class_kind = {e: {c: {k: round(class_auroc(scores[c], e, [k]), 2) for k in kinds} for c in scores}
                      for e in ENGINES}
    localised = {e: {k: _mean([100 * r["peak_in_mask"][e] for c in scores for r in scores[c] if r["defect"] == k])
                     for k in kinds} for e in ENGINES}
    # detection vs defect area: per defect, the share of its class's good queries it outscores
    edges = (0.0,) + AREA_BINS + (1.0,)
    by_area: dict[str, Any] = {"edges": list(edges), "n": [], **{e: [] for e in ENGINES}}
    defects = [(c, r) for c in scores for r in scores[c] if r["defect"] != "good"]
    for lo, hi in zip(edges[:-1], edges[1:], strict=True):
        sel = [(c, r) for c, r in defects if lo <= r["area"] < hi]
        by_area["n"].append(len(sel))
        for e in ENGINES:
            by_area[e].append(_mean([100 * _outscored(r["score"][e], np.array(
                [g["score"][e] for g in scores[c] if g["defect"] == "good"])) for c, r in sel]))
    area_by_kind = {k: _mean([100 * r["area"] for c, r in defects if r["defect"] == k]) for k in kinds}
    # good queries above the lowest-scoring defects: per good query, the share of its class's defects it outscores
    goods = []
    for c in scores:
        for r in scores[c]:
            if r["defect"] != "good":
                continue
            bad = {e: np.array([x["score"][e] for x in scores[c] if x["defect"] != "good"]) for e in ENGINES}
            g = {"class": c, "file": r["file"], "nuisance": r.get("nuisance"),
                 "defects_outscored": {e: round(100 * float(np.mean(bad[e] < r["score"][e])), 1) for e in ENGINES}}
            goods.append(g)
    return {"per_kind": per_kind, "per_class_kind": per_class_kind, "peak_in_mask": localised, "by_area": by_area, "area_pct_by_kind": area_by_kind,
            "goods": goods, "nuisance_effect": nuisance_effect(goods)}


def nuisance_effect(goods: list) -> dict:
    """Mean share of defects outscored by good queries with / without each photometric nuisance, and by the
    geometric ones (above / below the median)."""
    out: dict[str, Any] = {}
    if not goods or goods[0]["nuisance"] is None:
        return out
    for nz in NUISANCES:
        has = [g for g in goods if g["nuisance"][nz] is not None]
        out[nz] = {"n_with": len(has), "n_without": len(goods) - len(has),
                   **{e: {"with": _mean([g["defects_outscored"][e] for g in has]),
                          "without": _mean([g["defects_outscored"][e] for g in goods
                                            if g["nuisance"][nz] is None])} for e in ENGINES}}
    for key, f in (("rotation", lambda g: abs(g["nuisance"]["view"]["rotation_deg"])),
                   ("shift", lambda g: g["nuisance"]["view"]["shift_px"])):
        med = float(np.median([f(g) for g in goods]))
        out[key] = {"median": round(med, 2), **{e: {
            "above_median": _mean([g["defects_outscored"][e] for g in goods if f(g) > med]),
            "at_or_below": _mean([g["defects_outscored"][e] for g in goods if f(g) <= med])} for e in ENGINES}}
    return out


def analyse(scores: dict, nuisances: dict, groups: dict) -> dict:
    for c, rows in scores.items():
        for r in rows:
            if r["defect"] == "good":
                r["nuisance"] = nuisances.get(c, {}).get(r["file"])
    return {"groups": groups, "class_i_auroc": {e: {c: round(class_auroc(scores[c], e), 2) for c in scores}
                                                for e in ENGINES},
            **breakdown(scores, groups), "queries": scores}


def run(out: Path = OUT, progress=print) -> dict:
    torch.set_num_threads(1)
    t0 = time.time()
    rep = json.loads(report.REPORT.read_text())
    res: dict[str, Any] = {"command": "python -m backend.anomaly.offline.failure_analysis",
                           "report": "static/anomaly/heldout_report.json", "protocol": rep["protocol"],
                           "settings": {"size": 256, "prompt_seed": 0, "prompt_mode": "correct",
                                        "map_settings": rep["results"]["ensemble"]["correct"]["map_settings"]},
                           "note": "per-query scores of the shipped defaults recomputed on the same benchmarks; "
                                   "nothing chosen from them; shared 2-core machine, 1 thread"}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "heldout_v2"
        recs = record_nuisances(lambda: heldout.generate_v2(root))
        b = rep["benchmark"]
        pc = b["per_class"]
        parts = [(b["parts"][p]["classes"], pc["prompts"], pc["good"], pc["per_defect_kind"]) for p in ("old", "fresh")]
        scores = query_scores(root, progress)
        groups = {"fresh": b["parts"]["fresh"]["classes"], "old": b["parts"]["old"]["classes"], "all": list(scores)}
        res["heldout_v2"] = analyse(scores, attach_nuisances(recs, parts), groups)
        vroot = Path(tmp) / "validation_v2"
        vparts: dict = {}
        vrecs = record_nuisances(lambda: vparts.update(levers.build(vroot)))
        vscores = query_scores(vroot, progress)
        vgroups = {"v1": vparts["v1"], "new": vparts["new"], "all": list(vscores)}
        order = [(vparts[p], 3, levers.N_GOOD, levers.N_PER_KIND) for p in ("v1", "new")]
        res["validation_v2"] = analyse(vscores, attach_nuisances(vrecs, order), vgroups)
    res["check"] = check_against_report(res, rep)
    res["minutes"] = round((time.time() - t0) / 60, 1)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(res, indent=1) + "\n")
    return res


def check_against_report(res: dict, rep: dict) -> dict:
    """Recomputed class I-AUROC (from the per-query scores) minus the committed report's, per engine and class."""
    diffs = {e: {c: round(res["heldout_v2"]["class_i_auroc"][e][c] - rep["results"][e]["correct"]["per_class"][c]
                          ["i_auroc"], 2) for c in rep["results"][e]["correct"]["per_class"]} for e in ENGINES}
    return {"max_abs_diff": max(abs(v) for d in diffs.values() for v in d.values()), "diff": diffs}


# -- docs -----------------------------------------------------------------------------------------------
def _f(x: float) -> str:
    return "—" if x != x else f"{x:.1f}"


def kind_table(part: dict, group_names: tuple[str, ...]) -> list[str]:
    kinds = list(changes.EVAL_CHANGES) + ["all"]
    lines = ["| engine | classes | " + " | ".join(kinds) + " |", "|---|---|" + "---|" * len(kinds)]
    for e in ENGINES:
        for g in group_names:
            row = part["per_kind"][e][g]
            lines.append(f"| {LABELS[e]} | {g} ({len(part['groups'][g])}) | "
                         + " | ".join(_f(row[k]) for k in kinds) + " |")
    return lines


def summary(res: dict) -> dict:
    """The figures the prose states (also checked by the tests)."""
    h, v = res["heldout_v2"], res["validation_v2"]
    ens = h["per_kind"]["ensemble"]
    kinds = list(changes.EVAL_CHANGES)
    worst = min(kinds, key=lambda k: ens["all"][k])
    best = max(kinds, key=lambda k: ens["all"][k])
    small = h["by_area"]["ensemble"][0]
    large = h["by_area"]["ensemble"][-1]
    rest = sorted(kinds, key=lambda k: ens["all"][k])[2:]
    gap = max(kinds, key=lambda k: ens["old"][k] - ens["fresh"][k])
    vens = v["per_kind"]["ensemble"]["all"]
    return {"without_two_weakest": round(float(np.mean([ens["all"][k] for k in rest])), 2), "rest_kinds": rest,
            "second_worst_kind": sorted(kinds, key=lambda k: ens["all"][k])[1], "worst_kind": worst, "worst_kind_auroc": ens["all"][worst], "best_kind": best,
            "best_kind_auroc": ens["all"][best], "fresh_worst": ens["fresh"][worst], "old_worst": ens["old"][worst],
            "val_worst_kind": min(kinds, key=lambda k: vens[k]), "val_worst_auroc": min(vens.values()),
            "val_of_worst": vens[worst], "gap_kind": gap, "gap_fresh": ens["fresh"][gap], "gap_old": ens["old"][gap],
            "smallest_bin_auroc": small, "largest_bin_auroc": large,
            "smallest_bin_n": h["by_area"]["n"][0], "largest_bin_n": h["by_area"]["n"][-1]}


def docs_block(res: dict) -> str:
    h, v = res["heldout_v2"], res["validation_v2"]
    s = summary(res)
    edges = h["by_area"]["edges"]
    bins = [f"{100 * lo:g}–{100 * hi:g} %" for lo, hi in zip(edges[:-1], edges[1:], strict=True)]
    bins[-1] = f"≥ {100 * edges[-2]:g} %"
    lines = [f"Recomputed per-query scores of the shipped defaults reproduce the committed report's class I-AUROCs "
             f"(largest difference {res['check']['max_abs_diff']:.2f} points). I-AUROC per defect kind = per class, "
             "the defects of that kind against the class's good queries; class means.", "",
             "**Held-out v2** (the one pre-registered run):", "", *kind_table(h, ("fresh", "old", "all")), "",
             "**Validation v2** (where the settings were chosen):", "", *kind_table(v, ("v1", "new", "all")), "",
             "Defect area (share of the image) and detection (share of the class's good queries each defect "
             "outscores, mean; the I-AUROC of that size band), and whether the map's peak lies inside the mask:", "",
             "| benchmark | " + " | ".join(bins) + " |", "|---|" + "---|" * len(bins)]
    for name, part in (("held-out v2", h), ("validation v2", v)):
        lines.append(f"| {name}: defects (n) | " + " | ".join(str(n) for n in part["by_area"]["n"]) + " |")
        for e in ENGINES:
            lines.append(f"| {name}: {LABELS[e]} | " + " | ".join(_f(x) for x in part["by_area"][e]) + " |")
    kinds = list(changes.EVAL_CHANGES)
    lines += ["", "| peak of the map inside the mask (% of defects) | " + " | ".join(kinds) + " |",
              "|---|" + "---|" * len(kinds)]
    for name, part in (("held-out v2", h), ("validation v2", v)):
        for e in ENGINES:
            lines.append(f"| {name}: {LABELS[e]} | " + " | ".join(_f(part["peak_in_mask"][e][k]) for k in kinds)
                         + " |")
        lines.append(f"| {name}: mean defect area (% of the image) | "
                     + " | ".join(_f(part["area_pct_by_kind"][k]) for k in kinds) + " |")
    lines += ["", "Held-out v2 per class and kind (default ensemble; MetaUAS / kNN in brackets):", "",
              "| class | group | " + " | ".join(kinds) + " | all |", "|---|---|" + "---|" * (len(kinds) + 1)]
    pck = h["per_class_kind"]
    for c in h["groups"]["fresh"] + h["groups"]["old"]:
        grp = "fresh" if c in h["groups"]["fresh"] else "old"
        lines.append(f"| {c} | {grp} | " + " | ".join(
            f"{pck['ensemble'][c][k]:.0f} ({pck['metauas'][c][k]:.0f} / {pck['knn'][c][k]:.0f})" for k in kinds)
            + f" | {h['class_i_auroc']['ensemble'][c]:.1f} |")
    lines += ["", "Good queries against the defects of their class (mean % of defects a good query outscores; "
              "nuisances recorded while the benchmark was regenerated):", "",
              "| benchmark | nuisance | n with / without | " + " | ".join(f"{LABELS[e]} with / without" for e in ENGINES)
              + " |", "|---|---|---|" + "---|" * len(ENGINES)]
    for name, part in (("held-out v2", h), ("validation v2", v)):
        ne = part["nuisance_effect"]
        for nz in NUISANCES:
            lines.append(f"| {name} | {nz} | {ne[nz]['n_with']} / {ne[nz]['n_without']} | " + " | ".join(
                f"{_f(ne[nz][e]['with'])} / {_f(ne[nz][e]['without'])}" for e in ENGINES) + " |")
        for key in ("rotation", "shift"):
            lines.append(f"| {name} | {key} > median ({ne[key]['median']}) | — | " + " | ".join(
                f"{_f(ne[key][e]['above_median'])} / {_f(ne[key][e]['at_or_below'])}" for e in ENGINES) + " |")
    for name, part in (("Held-out v2", h), ("Validation v2", v)):
        n_fa = {e: sum(g["defects_outscored"][e] > 0 for g in part["goods"]) for e in ENGINES}
        lines += ["", f"{name}: good queries that outscore at least one defect of their class: " + ", ".join(
            f"{LABELS[e]} {n_fa[e]} of {len(part['goods'])}" for e in ENGINES) + "."]
    top = sorted(h["goods"], key=lambda g: -g["defects_outscored"]["ensemble"])[:5]
    lines += ["", "Held-out good queries that outscore the most defects of their class (ensemble):", "",
              "| class | query | % of defects outscored (ensemble / MetaUAS / kNN) | nuisance |", "|---|---|---|---|"]
    for g in top:
        n = g["nuisance"] or {}
        desc = ", ".join(x for x in (f"blur σ {n['blur']}" if n.get("blur") else "",
                                     f"noise {n['noise']}" if n.get("noise") else "",
                                     f"JPEG q{n['jpeg']}" if n.get("jpeg") else "",
                                     f"rot {n['view']['rotation_deg']}°, shift {n['view']['shift_px']} px"
                                     if n.get("view") else "") if x)
        d = g["defects_outscored"]
        lines.append(f"| {g['class']} | {g['file']} | {d['ensemble']:.0f} / {d['metauas']:.0f} / {d['knn']:.0f} | "
                     f"{desc} |")
    lines += ["", f"Weakest kind for the default ensemble on held-out v2: **{s['worst_kind']}** "
              f"({s['worst_kind_auroc']:.1f}; fresh classes {s['fresh_worst']:.1f}, old {s['old_worst']:.1f}); "
              f"strongest: {s['best_kind']} ({s['best_kind_auroc']:.1f}). With equal numbers per kind the class I-AUROC is the "
              f"mean of the kinds': {', '.join(s['rest_kinds'])} alone average {s['without_two_weakest']:.1f}, so "
              f"{s['worst_kind']} and {s['second_worst_kind']} are what keeps the mean under 90. "
              f"The largest fresh-vs-old gap is on "
              f"{s['gap_kind']} ({s['gap_fresh']:.1f} fresh vs {s['gap_old']:.1f} old). On validation v2 the weakest "
              f"kind is {s['val_worst_kind']} ({s['val_worst_auroc']:.1f}) and {s['worst_kind']} reaches "
              f"{s['val_of_worst']:.1f}. Defects under {100 * edges[1]:g} % of the image: {_f(s['smallest_bin_auroc'])} "
              f"(n {s['smallest_bin_n']}) against {_f(s['largest_bin_auroc'])} at ≥ {100 * edges[-2]:g} % "
              f"(n {s['largest_bin_n']}). Source: `static/anomaly/protocol_v5/failure_analysis.json` "
              f"(`{res['command']}`; per-query scores included)."]
    return "\n".join(lines)


def readme_block(res: dict) -> str:
    s = summary(res)
    return (f"What the default misses on held-out v2 ([docs/anomaly.md](docs/anomaly.md#what-it-misses)): "
            f"its weakest defect kind is {s['worst_kind']} (I-AUROC {s['worst_kind_auroc']:.1f}, strongest "
            f"{s['best_kind']} {s['best_kind_auroc']:.1f}), and defects under {100 * AREA_BINS[0]:g} % of the image "
            f"are detected at I-AUROC {_f(s['smallest_bin_auroc'])} against {_f(s['largest_bin_auroc'])} for those over "
            f"{100 * AREA_BINS[-1]:g} %.")


def write_blocks(res: dict, files=(REPO / "docs" / "anomaly.md", REPO / "README.md")) -> None:
    for f, (b, e, body) in zip(files, ((BEGIN, END, docs_block(res)), (README_BEGIN, README_END, readme_block(res))), strict=True):
        text = f.read_text()
        new = replace_block(text, b, e, body)
        if new != text:
            f.write_text(new)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(OUT))
    ap.add_argument("--tables-only", action="store_true", help="regenerate the docs blocks from the committed JSON")
    a = ap.parse_args(argv)
    res = json.loads(Path(a.out).read_text()) if a.tables_only else run(Path(a.out))
    write_blocks(res)
    print(f"max |recomputed - report| class I-AUROC: {res['check']['max_abs_diff']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

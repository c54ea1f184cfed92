"""Protocol v4 (static/anomaly/protocol_v4.json): choose the number K of nuisance views per prompt on the
VALIDATION photos only (never the held-out benchmark).

    python -m backend.anomaly.offline.prompt_aug [--out static/anomaly/prompt_aug/validation.json] [--select]
        [--tables-only]

Prompt augmentation: each prompt plus K seeded nuisance views of it (`backend.anomaly.nuisance.prompt_views`,
the inspector's calibration generator) used as extra prompts by the engine's own multi-prompt path. Candidates
K = 0, 4, 8 (in this order). Validation = score_validation's generator and classes, unchanged (seed 5, 20 good +
8 per defect kind per class, chelsea / coffee / motorcycle_left, donors coins / brick), one prompt, 256 px.
Rule (pre-registered before any measurement):
- MetaUAS (the shipped checkpoint, score mode max): eligible when its map time with K views is ≤ 1.0× the
  PLAIN kNN engine's (bench/anomaly_speed.py --n 60 --prompt-aug K → static/anomaly/prompt_aug/speed_k{K}.json);
  among eligible K the highest mean validation I-AUROC, but a K > 0 must beat K = 0 by ≥ 0.5 points (exact ties:
  the smaller K); otherwise K = 0 stays.
- kNN: the same gain rule on its own mean validation I-AUROC, no speed bar (its time is reported).
P-AP (all pixels of a class, class mean) is reported, not used.
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

from backend.anomaly import metrics, service
from backend.anomaly.dataset import load_class, read_mask
from backend.anomaly.nuisance import PROMPT_AUG_RECIPE, PROMPT_AUG_SEED
from backend.anomaly.offline import split
from backend.anomaly.offline.heldout import generate
from backend.anomaly.offline.report import subsets
from backend.anomaly.offline.score_validation import N_GOOD, N_PER_KIND, SEED
from backend.docs_blocks import replace_block
from backend.imageio import open_image

REPO = Path(__file__).resolve().parents[3]
FOLDER = REPO / "static" / "anomaly" / "prompt_aug"
OUT = FOLDER / "validation.json"
KS = (0, 4, 8)
ENGINES = ("metauas", "knn")
SPEED_BAR = 1.0
MIN_GAIN = 0.5
BEGIN, END = "<!-- anomaly-prompt-aug-table:begin -->", "<!-- anomaly-prompt-aug-table:end -->"


def _score(tmp: str, engine: str, k: int) -> dict:
    per_class: dict[str, Any] = {}
    ms: list[float] = []
    for cls in split.VALIDATION_CLASSES:
        prompts_s, test = load_class(Path(tmp), cls)
        prompt = open_image(prompts_s[0])
        labels, scores, pix, pix_lab = [], [], [], []
        for s in test:
            q = open_image(s.path)
            r = service.inspect([prompt], [q], engine=engine, size=256, prompt_aug=k)[0]
            assert r.prompt_aug == {"views": k}, "the engine ran with the requested views"
            labels.append(s.label)
            scores.append(r.score)
            pix.append(np.asarray(r.anomaly_map, np.float32).ravel())
            pix_lab.append(read_mask(s, q.size).ravel() > 0)
            ms.append(r.ms)
        per_class[cls] = {"i_auroc": round(100 * metrics.auroc(scores, labels), 2),
                          "p_ap": round(100 * metrics.average_precision(np.concatenate(pix),
                                                                        np.concatenate(pix_lab)), 2)}
        print(engine, k, cls, per_class[cls], flush=True)
    mean = {m: round(float(np.mean([v[m] for v in per_class.values()])), 2) for m in ("i_auroc", "p_ap")}
    return {"per_class": per_class, "mean": mean, "inspect_ms_mean": round(float(np.mean(ms)), 1)}


def speed(k: int, folder: Path = FOLDER) -> dict:
    f = folder / f"speed_k{k}.json"
    if not f.is_file():
        return {"file": None, "why": f"no {f.name}"}
    sp = json.loads(f.read_text())
    if sp.get("prompt_aug") != k:
        return {"file": f.name, "why": f"{f.name} was measured with prompt_aug={sp.get('prompt_aug')}"}
    out = {"file": f"static/anomaly/prompt_aug/{f.name}", "metauas_map_ratio": sp["map"]["ratio_of_medians"],
           "map_ms": sp["map"]["ms_median"], "inspect_ms": sp["inspect_one_prompt"]["ms_median"],
           "load_average": sp.get("load_average"), "n": sp["n"], "gmac": sp.get("gmac")}
    if "knn_aug_ratio_of_medians" in sp["map"]:
        out["knn_map_ratio"] = sp["map"]["knn_aug_ratio_of_medians"]
    return out


def choose(results: dict, engine: str, speeds: dict | None = None) -> int:
    """The pre-registered rule (module docstring); `speeds` only for MetaUAS (its eligibility)."""
    base = results[engine]["0"]["mean"]["i_auroc"]
    best_k, best = 0, base
    for k in KS[1:]:
        if speeds is not None:
            ratio = speeds[str(k)].get("metauas_map_ratio")
            if ratio is None or ratio > SPEED_BAR:
                continue
        v = results[engine][str(k)]["mean"]["i_auroc"]
        if v >= base + MIN_GAIN and v > best:  # strictly higher: exact ties keep the smaller K
            best_k, best = k, v
    return best_k


def run(out: Path = OUT) -> dict:
    photos, donors = split.validation_photos()
    results: dict[str, dict] = {e: {} for e in ENGINES}
    t0 = time.time()
    with tempfile.TemporaryDirectory() as tmp:
        generate(tmp, seed=SEED, n_good=N_GOOD, n_per_kind=N_PER_KIND, photo_paths=photos, donor_paths=donors)
        for k in KS:
            for e in ENGINES:
                results[e][str(k)] = _score(tmp, e, k)
    res = {"protocol": "static/anomaly/protocol_v4.json",
           "command": "python -m backend.anomaly.offline.prompt_aug",
           "recipe": {"generator": "backend.anomaly.nuisance.nuisance_view", "name": PROMPT_AUG_RECIPE,
                      "seed": PROMPT_AUG_SEED, "applied_to": "the letterboxed prompt at 256 px"},
           "candidates_k": list(KS), "seed": SEED,
           "per_class_queries": {"good": N_GOOD, "per_defect_kind": N_PER_KIND},
           "classes": {c: f"{p}:{r}" for c, (p, r) in split.VALIDATION_CLASSES.items()},
           "donors": [f"{p}:{r}" for p, r in split.VALIDATION_DONORS],
           "engines": {"metauas": "the shipped MetaUAS-Lite0 (= candidates/val_more_seed3), score max",
                       "knn": "knn-lite0, score max"},
           "rule": f"MetaUAS: eligible K (map ≤ {SPEED_BAR}× plain kNN, side by side) with the highest mean "
                   f"validation I-AUROC, a K > 0 only with a gain ≥ {MIN_GAIN} over K = 0 (exact ties: smaller K); "
                   "kNN: the same gain rule, no speed bar",
           "results": results, "minutes": round((time.time() - t0) / 60, 1),
           "note": "validation photos only; the held-out benchmark played no part; shared 2-core machine, 1 thread"}
    return select(res, out)


def select(res: dict, out: Path = OUT) -> dict:
    """Read the speed runs, apply the rule, write the JSON (also after the fact: `--select`)."""
    res["speed"] = {str(k): speed(k) for k in KS}
    res["chosen"] = {"metauas": choose(res["results"], "metauas", res["speed"]),
                     "knn": choose(res["results"], "knn")}
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(res, indent=1) + "\n")
    print(json.dumps(res["chosen"]))
    return res


def table(res: dict) -> str:
    """The docs table (generated from the committed validation.json)."""
    names = {"metauas": "MetaUAS-Lite0 (shipped)", "knn": "Patch kNN"}
    classes = list(res["classes"])
    lines = ["| engine | K views | " + " | ".join(f"I-AUROC {c}" for c in classes)
             + " | I-AUROC mean | P-AP mean | map ms (median) | plain kNN ms, same run | map / plain kNN | GMAC | chosen |",
             "|---|---|" + "---|" * (len(classes) + 7)]
    for e in ENGINES:
        for k in res["candidates_k"]:
            v = res["results"][e][str(k)]
            sp = res["speed"][str(k)]
            key = "metauas" if e == "metauas" else ("knn_aug" if k else "knn")
            ms = (sp.get("map_ms") or {}).get(key)
            base_ms = (sp.get("map_ms") or {}).get("knn")
            ratio = sp.get("metauas_map_ratio") if e == "metauas" else (sp.get("knn_map_ratio") if k else 1.0)
            gmac = (sp.get("gmac") or {}).get("metauas_total" if e == "metauas" else "knn_map")
            lines.append(f"| {names[e]} | {k} | " + " | ".join(f"{v['per_class'][c]['i_auroc']:.1f}" for c in classes)
                         + f" | **{v['mean']['i_auroc']:.1f}** | {v['mean']['p_ap']:.1f} | "
                         + (f"{ms:.0f}" if ms is not None else "—") + " | "
                         + (f"{base_ms:.0f}" if base_ms is not None else "—") + " | "
                         + (f"{ratio:.2f}×" if ratio is not None else "—") + " | "
                         + (f"{gmac:.2f}" if gmac is not None and (e == "metauas" or not k) else "—") + " | "
                         + ("**yes**" if res["chosen"][e] == k else "") + " |")
    loads = sorted({str(s.get("load_average")) for s in res["speed"].values()})
    lines += ["", f"Validation photos only ({len(classes)} classes × ({res['per_class_queries']['good']} good + "
              f"{5 * res['per_class_queries']['per_defect_kind']} defective) queries, seed {res['seed']}, one prompt "
              f"+ K nuisance views (`{res['recipe']['generator']}`, seed {res['recipe']['seed']}), 256 px, 1 thread). "
              "I-AUROC with each engine's score (map max); P-AP over all pixels of a class, class mean. Map time: "
              "median ms of `map_square` with the prompt cached, from one side-by-side run per K "
              "(absolute ms differ between runs with the machine's load: compare each row with the plain kNN of its "
              "own run) "
              "(`python bench/anomaly_speed.py --n 60 --prompt-aug K`: MetaUAS with K views, plain kNN and kNN with "
              f"K views interleaved); the ratio is to the plain kNN of the same run; GMAC per query counted by "
              "torch's FlopCounterMode (kNN with K views: its search grows with the bank, not counted as GMAC) "
              f"(load averages {', '.join(loads)} "
              f"on the shared 2-core machine). Source: `static/anomaly/prompt_aug/validation.json`, "
              f"`{res['command']}`."]
    return "\n".join(lines)


HELDOUT_BEGIN, HELDOUT_END = "<!-- anomaly-prompt-aug-heldout:begin -->", "<!-- anomaly-prompt-aug-heldout:end -->"
REPORT_V3 = REPO / "static" / "anomaly" / "previous" / "heldout_report_v3.json"
REPORT_V4 = REPO / "static" / "anomaly" / "previous" / "heldout_report_v4.json"  # protocol v4's run (v5 replaced it)


def heldout_table(v3: dict, v4: dict) -> str:
    """Protocol v3's held-out v2 run beside protocol v4's (the same benchmark; only the prompt views changed)."""
    names = {"metauas": "MetaUAS-Lite0 (shipped)", "knn": "Patch kNN", "ensemble": "Ensemble (default)"}
    lines = ["| engine | run | prompt views | I-AUROC fresh | I-AUROC old | I-AUROC all | P-AP fresh | P-AP old | "
             "P-AP all | P-AP swapped | ms/img |", "|---|---|---|---|---|---|---|---|---|---|---|"]
    for e in ("metauas", "knn", "ensemble"):
        for tag, rep in (("v3", v3), ("v4", v4)):
            g, r = subsets(rep)[e]["correct"], rep["results"][e]
            views = r["correct"].get("prompt_aug", {"views": 0} if e != "ensemble" else {"metauas": 0, "knn": 0})
            vtxt = ", ".join(f"{k} {v}" if k != "views" else str(v) for k, v in views.items())
            lines.append(f"| {names[e]} | {tag} | {vtxt} | " + " | ".join(
                f"{g[k][m]:.1f}" for m in ("i_auroc", "p_ap") for k in ("fresh", "old", "all"))
                + f" | {r['swapped']['mean']['p_ap']:.1f} | {r['correct']['ms_per_image']:.0f} |")
    lines += ["", "Benchmark v2 (8 classes, correct prompt unless stated; class means). *v3*: protocol v3's one run "
              "(`static/anomaly/previous/heldout_report_v3.json`, no prompt views); *v4*: protocol v4's one run "
              "with the views chosen on the validation photos (`static/anomaly/previous/heldout_report_v4.json`). For the fresh "
              "classes v4 is the second look, for the old ones the third. ms/img: as measured in each run on the "
              "shared, loaded machine (indicative only)."]
    return "\n".join(lines)


def write_table(res: dict, files=(REPO / "docs" / "anomaly.md",)) -> None:
    for f in files:
        text = replace_block(f.read_text(), BEGIN, END, table(res))
        if REPORT_V3.is_file() and REPORT_V4.is_file():
            text = replace_block(text, HELDOUT_BEGIN, HELDOUT_END,
                                  heldout_table(json.loads(REPORT_V3.read_text()), json.loads(REPORT_V4.read_text())))
        f.write_text(text)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(OUT))
    ap.add_argument("--tables-only", action="store_true", help="regenerate the docs table from the committed JSON")
    ap.add_argument("--select", action="store_true",
                    help="re-read the speed runs and apply the rule to the committed validation results")
    a = ap.parse_args(argv)
    if a.select:
        write_table(select(json.loads(Path(a.out).read_text()), Path(a.out)))
        return 0
    if a.tables_only:
        write_table(json.loads(Path(a.out).read_text()))
        return 0
    torch.set_num_threads(1)
    write_table(run(Path(a.out)))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Choose which MetaUAS checkpoint ships and how its image score is read off its map, on the VALIDATION photos
of the committed split (photos no candidate trained on; never the held-out benchmark).

    python -m backend.anomaly.offline.score_validation --checkpoint A.pt [--checkpoint B.pt ...]
        [--reference SHIPPED.pt ...] [--out static/anomaly/score_validation.json]

Selection rule (issue 17, committed 2026-11-29 BEFORE the candidates were trained and before any held-out run):
1. Candidates are checkpoints trained WITHOUT the validation photos (split.VALIDATION_PHOTOS: skimage chelsea,
   coffee, motorcycle_left as classes; coins, brick as foreign-patch donors). A checkpoint whose recorded
   training photos (meta["photos"]) include one of them is not a candidate.
2. Speed eligibility: the map alone must cost ≤ 1.0× the kNN engine at 256 px on 1 thread, measured side by side
   in one run by `python bench/anomaly_speed.py --n 60 --checkpoint CAND --out <CAND's folder>/speed.json`
   (ratio of medians of the `map` rows). A candidate without that file, or over 1.0×, is not eligible.
3. Among eligible candidates the highest mean validation I-AUROC ships (mean over the validation classes of the
   per-class I-AUROC with the candidate's best image-score aggregation: max or the mean of the top 0.1/0.5/1/2 % of
   pixels; aggregation ties keep "max"), with that aggregation as `MetaUASEngine.score_mode`. Exact ties between
   candidates go to the first listed.
4. If no candidate is eligible, the current checkpoint stays.
5. The held-out benchmark is then run once for the shipped checkpoint and reported whatever it says; nothing is
   re-tuned on it.
The validation set is the held-out *generator* (offline/heldout.py: nuisance views, five defect kinds) run on the
validation photos with more queries than the benchmark (20 good + 8 per defect kind per class, seed 5), so a few
points are not noise. `--reference` checkpoints (e.g. the current default, trained on these photos before they
were reserved) are scored for information only and can never be chosen.
Disclosed researcher degree of freedom: the architecture of the candidates (`--arch lite`) was chosen after the
previous session looked at an unshipped lite checkpoint's held-out result (90.9 I-AUROC) post hoc.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import torch
from sklearn.metrics import roc_auc_score

from backend.anomaly import service
from backend.anomaly.dataset import load_class
from backend.anomaly.knn import image_score
from backend.anomaly.offline import split
from backend.anomaly.offline.heldout import generate
from backend.imageio import open_image

REPO = Path(__file__).resolve().parents[3]
OUT = REPO / "static" / "anomaly" / "score_validation.json"
CANDIDATES = ("max", "top0.1p", "top0.5p", "top1p", "top2p")
SEED, N_GOOD, N_PER_KIND = 5, 20, 8
SPEED_BAR = 1.0  # map-only time / kNN's, ratio of medians, 256 px, 1 thread (bench/anomaly_speed.py)
RULE_VERSION = 2  # 1: the 2026-11-29 selection on training photos (anomaly3); 2: the validation split


def _score_checkpoint(tmp: str, checkpoint: str | None) -> dict:
    per_class: dict[str, Any] = {}
    for cls in split.VALIDATION_CLASSES:
        prompts_s, test = load_class(Path(tmp), cls)
        prompt = open_image(prompts_s[0])
        labels, maps = [], []
        for s in test:
            r = service.inspect([prompt], [open_image(s.path)], engine="metauas", size=256, checkpoint=checkpoint)[0]
            labels.append(int(s.label))
            maps.append(r.anomaly_map)
        per_class[cls] = {}
        for c in CANDIDATES:
            scores = [image_score(m, c) for m in maps]
            per_class[cls][c] = round(100 * float(roc_auc_score(labels, scores)), 2)
        print(checkpoint or "shipped", cls, per_class[cls], flush=True)
    mean = {c: round(float(np.mean([per_class[k][c] for k in per_class])), 2) for c in CANDIDATES}
    best = max(CANDIDATES, key=lambda c: (mean[c], c == "max"))  # ties keep "max"
    return {"per_class": per_class, "mean": mean, "chosen": best, "best_mean": mean[best]}


def trained_on_validation(checkpoint: str) -> list[str]:
    """The validation photos a checkpoint's recorded training list contains (file names, as train.py records)."""
    meta = torch.load(checkpoint, map_location="cpu", weights_only=False).get("meta", {})
    if "photos" not in meta:
        return ["(no recorded training photos)"]
    names = {Path(r).name for names in split.VALIDATION_PHOTOS.values() for r in names}
    return sorted(names & set(meta["photos"]))


def training_photos(checkpoint: str) -> list[str]:
    return list(torch.load(checkpoint, map_location="cpu", weights_only=False).get("meta", {}).get("photos", []))


def speed_of(checkpoint: str) -> dict:
    """The side-by-side speed run recorded next to the checkpoint (bench/anomaly_speed.py --checkpoint it)."""
    f = Path(checkpoint).resolve().parent / "speed.json"
    if not f.is_file():
        return {"file": None, "map_ratio": None, "why": "no speed.json next to the checkpoint"}
    sp = json.loads(f.read_text())
    if _rel(checkpoint) not in sp.get("command", "") and str(Path(checkpoint)) not in sp.get("command", ""):
        return {"file": _rel(str(f)), "map_ratio": None, "why": "speed.json was measured for another checkpoint"}
    return {"file": _rel(str(f)), "map_ratio": sp["map"]["ratio_of_medians"], "size": sp["size"],
            "threads": sp["threads"], "n": sp["n"], "load_average": sp.get("load_average")}


def select(by_ckpt: dict) -> str | None:
    """The rule (module docstring): the eligible candidate with the highest best mean; exact ties: first listed."""
    eligible = [k for k, v in by_ckpt.items() if v["eligible"]]
    if not eligible:
        return None
    top = max(by_ckpt[k]["best_mean"] for k in eligible)
    return next(k for k in eligible if by_ckpt[k]["best_mean"] == top)


def run(out: Path = OUT, checkpoints: list[str] | None = None, references: list[str] | None = None) -> dict:
    photos, donors = split.validation_photos()  # raises if one is also a training or evaluation-only photo
    cands = list(checkpoints or [])
    refs = list(references or [])
    by_ckpt: dict[str, Any] = {}
    refs_out: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        generate(tmp, seed=SEED, n_good=N_GOOD, n_per_kind=N_PER_KIND, photo_paths=photos, donor_paths=donors)
        for ck in cands:
            seen = trained_on_validation(ck)
            speed = speed_of(ck)
            fast = speed["map_ratio"] is not None and speed["map_ratio"] <= SPEED_BAR
            v = _score_checkpoint(tmp, ck)
            v.update(trained_on_validation_photos=seen, speed=speed, eligible=not seen and fast,
                     n_training_photos=len(training_photos(ck)),
                     why_not=("trained on validation photos" if seen else "" if fast else
                              f"map-only speed not ≤ {SPEED_BAR}× kNN ({speed.get('why') or speed['map_ratio']})"))
            by_ckpt[_rel(ck)] = v
        for ck in refs:
            v = _score_checkpoint(tmp, ck)
            v.update(trained_on_validation_photos=trained_on_validation(ck) if ck else ["(shipped)"],
                     eligible=False, why_not="reference only")
            refs_out[_rel(ck)] = v
    ship = select(by_ckpt)
    res = {"command": "python -m backend.anomaly.offline.score_validation"
                      + "".join(f" --checkpoint {_rel(c)}" for c in cands)
                      + "".join(f" --reference {_rel(c)}" for c in refs),
           "rule_version": RULE_VERSION, "seed": SEED,
           "per_class_queries": {"good": N_GOOD, "per_defect_kind": N_PER_KIND},
           "classes": {c: f"{p}:{r}" for c, (p, r) in split.VALIDATION_CLASSES.items()},
           "donors": [f"{p}:{r}" for p, r in split.VALIDATION_DONORS],
           "note": "validation photos of static/anomaly/split.json (never training pairs, never the held-out "
                   "benchmark); the held-out benchmark played no part",
           "metric": "I-AUROC per class, MetaUAS-Lite0, one prompt (train/good/000), 256 px",
           "rule": "candidates: checkpoints trained without the validation photos; eligible: map-only time "
                   f"≤ {SPEED_BAR}× kNN (bench/anomaly_speed.py, side by side, 256 px, 1 thread); the eligible one "
                   "whose best aggregation has the highest mean I-AUROC ships with that aggregation (exact ties: "
                   "first listed; aggregation ties keep max); none eligible: the current checkpoint stays",
           "candidates": by_ckpt, "references": refs_out,
           "chosen_checkpoint": ship or "current (no eligible candidate)"}
    if ship:
        res.update(chosen=by_ckpt[ship]["chosen"], per_class=by_ckpt[ship]["per_class"], mean=by_ckpt[ship]["mean"])
    out.write_text(json.dumps(res, indent=1) + "\n")
    print(json.dumps({k: res.get(k) for k in ("chosen_checkpoint", "chosen", "mean")}))
    return res


BEGIN, END = "<!-- anomaly-validation-table:begin -->", "<!-- anomaly-validation-table:end -->"


def table(res: dict) -> str:
    """The docs table of a rule-v2 selection (generated from the committed score_validation.json)."""
    classes = list(res["classes"])
    lines = ["| checkpoint | training photos | trained on validation photos | map / kNN time | best aggregation | "
             + " | ".join(classes) + " | mean |", "|---|---|---|---|---|" + "---|" * (len(classes) + 1)]
    rows = [(k, v, False) for k, v in res["candidates"].items()] + \
           [(k, v, True) for k, v in res.get("references", {}).items()]
    for k, v, ref in rows:
        name = f"`{k.removeprefix('static/anomaly/').removesuffix('/metauas_lite0.pt')}`"
        tag = " — **ships**" if k == res["chosen_checkpoint"] else (", reference only" if ref else "")
        if not ref and not v["eligible"]:
            tag += f" (not eligible: {v['why_not']})"
        ratio = v.get("speed", {}).get("map_ratio")
        lines.append(f"| {name}{tag} | {v.get('n_training_photos', '?')} | "
                     f"{'yes' if v['trained_on_validation_photos'] else 'no'} | "
                     f"{f'{ratio:.2f}×' if ratio is not None else '—'} | {v['chosen']} | "
                     + " | ".join(f"{v['per_class'][c][v['chosen']]:.1f}" for c in classes)
                     + f" | **{v['best_mean']:.1f}** |")
    lines += ["", f"Validation I-AUROC per class with each checkpoint's best image-score aggregation "
              f"({len(classes)} classes × ({res['per_class_queries']['good']} good + "
              f"{5 * res['per_class_queries']['per_defect_kind']} defective) queries, seed {res['seed']}, rule "
              f"version {res['rule_version']}). Source: `static/anomaly/score_validation.json`, `{res['command']}`."]
    return "\n".join(lines)


def _rel(path: str | None) -> str:
    if path is None:
        return "shipped"
    p = Path(path).resolve()
    return str(p.relative_to(REPO)) if p.is_relative_to(REPO) else str(p)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(OUT))
    ap.add_argument("--checkpoint", action="append", required=True,
                    help="candidate MetaUAS checkpoint (repeatable; exact ties go to the first listed)")
    ap.add_argument("--reference", action="append", default=None,
                    help="checkpoint scored for information only, never chosen (repeatable)")
    a = ap.parse_args(argv)
    torch.set_num_threads(1)
    run(Path(a.out), a.checkpoint, a.reference)
    return 0


if __name__ == "__main__":
    sys.exit(main())

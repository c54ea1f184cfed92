"""Evaluation mode of the inspector: an uploaded MVTec-layout zip → per-class metrics table.

The zip is unpacked with `zipsafe` (no traversal, no bombs) into a private temp dir, the layout is
checked with messages that say what is missing, and `evaluate.run_evaluation` computes the
metrics (anomalib definitions, no AUROC flipping). The temp dir is always removed.
"""
from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

from backend.anomaly.evaluate import run_evaluation
from backend.anomaly.inspector import parse_k, parse_resolution
from backend.anomaly.zipsafe import IMAGE_SUFFIXES, ZipLimits, extract_tree
from backend.errors import UserError
from backend.tempfiles import scratch_dir

MAX_EVAL_IMAGES = 1500
EVAL_LIMITS = ZipLimits(max_files=4000, max_total_bytes=1024 * 1024 * 1024)


def _images(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES]


def check_layout(root: Path) -> list[str]:
    """Class folders of an MVTec tree (<cls>/train/good, <cls>/test/...); raises with what is missing."""
    root = Path(root)
    if (root / "train").is_dir() or (root / "test").is_dir():  # a single class zipped without its folder
        raise UserError("The zip holds train/ and test/ directly; please zip the class folder itself "
                         "(e.g. bottle/train/good, bottle/test/…, bottle/ground_truth/…).")
    classes = []
    problems = []
    for d in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith((".", "__"))):
        good, test = d / "train" / "good", d / "test"
        if not good.is_dir() or not _images(good):
            problems.append(f"{d.name}: no images in train/good")
        elif not test.is_dir() or not _images(test):
            problems.append(f"{d.name}: no images in test/")
        else:
            classes.append(d.name)
    if not classes:
        detail = "; ".join(problems) if problems else "no class folders found"
        raise UserError("This is not an MVTec-layout dataset (<class>/train/good, <class>/test/<defect>, "
                         f"<class>/ground_truth/<defect>/*_mask.png): {detail}.")
    n = sum(len(_images(root / c / "test")) for c in classes)
    if n > MAX_EVAL_IMAGES:
        raise UserError(f"The dataset has {n} test images; the evaluation mode accepts at most {MAX_EVAL_IMAGES}. "
                         "Please upload fewer classes or use the CLI (python -m backend.anomaly.evaluate).")
    return classes


def evaluate_zip(zip_path, *, engine: str, resolution: str = "256", prompt_seeds=(0,), retrieval_k=None,
                 progress: Callable | None = None) -> dict:
    """Unpack, check and evaluate; returns the service's result plus `classes`."""
    size, _tiled = parse_resolution(resolution)
    tmp = scratch_dir("anomaly-eval-")  # under the swept temp root; removed below when the request ends
    try:
        root = extract_tree(zip_path, tmp / "data", EVAL_LIMITS)
        classes = check_layout(root)
        out = run_evaluation(str(root), engine, size=size, prompt_seeds=tuple(prompt_seeds),
                             retrieval_k=parse_k(retrieval_k), progress=progress)
        out = dict(out)
        out["classes"] = classes
        return out
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def metrics_rows(result: dict) -> tuple[list[str], list[list]]:
    """(columns, rows) for a table: one row per class, then the mean."""
    per = result.get("per_class") or {}
    metrics: list[str] = []
    for vals in list(per.values()) + [result.get("mean") or {}]:
        for k in vals:
            if k not in metrics:
                metrics.append(k)
    rows = [[cls] + [_fmt(vals.get(m)) for m in metrics] for cls, vals in per.items()]
    if result.get("mean"):
        rows.append(["mean"] + [_fmt(result["mean"].get(m)) for m in metrics])
        std = result.get("std_over_seeds") or {}
        if len(result.get("prompt_seeds") or ()) > 1 and std:
            rows.append(["± std over prompt seeds"] + [_fmt(std.get(m)) for m in metrics])
    return ["class"] + metrics, rows


def _fmt(v):
    if isinstance(v, (int, float)):
        return round(float(v), 2)
    if isinstance(v, (list, tuple)) and len(v) == 2 and all(isinstance(x, (int, float)) for x in v):
        return f"{v[0]:.1f} ± {v[1]:.1f}"
    return v

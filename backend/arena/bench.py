"""Point-Bench evaluation with PointArena's exact rules, for a bench directory in PointArena's layout.

Layout: `DIR/data.json` (list of {image_filename, user_input, category, mask_filename, count?}),
images in `DIR/images/<file>` or `DIR/images/<category>/<file>` (the released bench), masks in
`DIR/masks/<mask_filename>`. Steerable reference points come from an item's `ref_point: [x, y]`
(pixels) or, for the released bench, `DIR/pixmo_metadata.csv` (x, y in percent), and are appended to the
instruction with PointArena's own sentence.

Scoring (`model_evaluator.py` of PointArena): mask pixel > 127 (any channel for RGB masks) is target;
a point is `(int(x), int(y))`; no points → fail; counting → fail unless len(points) == count;
non-counting answers keep only their first point; success needs every kept point in bounds and inside
the mask. Accuracy is per category, and the headline is the unweighted mean of the category accuracies.

    python -m backend.arena.bench_cli evaluate --bench static/bench --pointer center --out r.json
"""
from __future__ import annotations

import csv
import hashlib
import json
import math
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from backend.arena.bench_overlay import save_overlay
from backend.arena.vocab import (  # noqa: F401 - CATEGORY_LABELS is re-exported for bench users
    BENCH_CATEGORIES,
    CATEGORY_LABELS,
    POINTER_ERROR,
)
from backend.config import get_settings
from backend.errors import UserError
from backend.pointing.service import run_pointer
from backend.registry import ModelEntry, _import_factory
from backend.zipsafe import UNREADABLE, ZipSafetyError, resolve_inside

CATEGORIES = BENCH_CATEGORIES  # Point-Bench keys ("affordable"), defined in vocab
STEER_NOTE = ("The image contains an existing original point at pixel coordinates: [{x:.1f}, {y:.1f}]. "
              "The query refers to this existing point.")
SAVE_EVERY = 10
Progress = Callable[[int, int, str], None]


class BenchError(UserError):
    """The bench directory or predictions are unusable; the message names the file or item."""


@dataclass
class BenchItem:
    image_filename: str
    user_input: str
    category: str
    mask_filename: str
    count: int | None
    ref_point: tuple[float, float] | None
    image_path: Path
    mask_path: Path

    @property
    def instruction(self) -> str:
        """What a pointer is asked: the query, plus PointArena's sentence for a steerable reference point."""
        if self.ref_point is None:
            return self.user_input
        return f"{self.user_input} {STEER_NOTE.format(x=self.ref_point[0], y=self.ref_point[1])}"


@dataclass
class Bench:
    root: Path
    items: list[BenchItem]
    fingerprint: str

    @property
    def name(self) -> str:
        return self.root.name


def _pixmo_points(root: Path) -> dict[str, list[dict]]:
    path = root / "pixmo_metadata.csv"
    if not path.is_file():
        return {}
    out = {}
    with path.open(newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            if row.get("points") and row["points"] != "[]":
                try:
                    out[row["image_filename"]] = json.loads(row["points"])
                except (KeyError, json.JSONDecodeError):
                    continue
    return out


def load_bench(bench_dir: str | os.PathLike, check_masks: bool = True) -> Bench:
    """Read and validate a bench; every problem is reported with the item it belongs to."""
    root = Path(bench_dir)
    data_path = root / "data.json"
    if not root.is_dir():
        raise BenchError(f"Bench directory {str(root)!r} does not exist.")
    if not data_path.is_file():
        raise BenchError(f"Bench directory {str(root)!r} has no data.json.")
    raw = data_path.read_bytes()
    try:
        rows = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise BenchError(f"data.json is not valid JSON ({exc.msg} at line {exc.lineno}).") from exc
    if not isinstance(rows, list) or not rows:
        raise BenchError("data.json must be a non-empty JSON list of items.")
    pixmo = _pixmo_points(root)
    items, seen = [], set()
    for i, row in enumerate(rows):
        where = f"item {i} ({row.get('image_filename', '?')!s})" if isinstance(row, dict) else f"item {i}"
        if not isinstance(row, dict):
            raise BenchError(f"{where}: each item must be a JSON object.")
        missing = [k for k in ("image_filename", "user_input", "category", "mask_filename") if not row.get(k)]
        if missing:
            raise BenchError(f"{where}: missing {', '.join(missing)}.")
        cat, fname = str(row["category"]), str(row["image_filename"])
        if cat not in CATEGORIES:
            raise BenchError(f"{where}: unknown category {cat!r} (expected one of {', '.join(CATEGORIES)}).")
        if fname in seen:
            raise BenchError(f"{where}: image_filename {fname!r} appears twice; predictions are keyed by it.")
        seen.add(fname)
        count = row.get("count")
        if cat == "counting":
            if not isinstance(count, int) or isinstance(count, bool) or count < 1:
                raise BenchError(f"{where}: a counting item needs an integer count ≥ 1, got {count!r}.")
        elif count is not None:
            raise BenchError(f"{where}: has count={count!r} but is a {cat!r} item; only counting items take a count.")
        ref = row.get("ref_point")
        if ref is not None:
            if not (isinstance(ref, (list, tuple)) and len(ref) == 2 and all(isinstance(v, (int, float)) for v in ref)):
                raise BenchError(f"{where}: ref_point must be [x, y] in pixels, got {ref!r}.")
            ref = (float(ref[0]), float(ref[1]))
        img_path = _inside(root, "images", fname) or _inside(root, f"images/{cat}", fname)
        if img_path is None:
            raise BenchError(f"{where}: {UNREADABLE.format(name=fname[:120])} (looked in images/ and images/{cat}/)")
        mask_path = _inside(root, "masks", str(row["mask_filename"]))
        if mask_path is None:
            raise BenchError(f"{where}: {UNREADABLE.format(name=str(row['mask_filename'])[:120])}")
        if ref is None and cat == "steerable" and fname in pixmo:
            with Image.open(img_path) as im:
                w, h = im.size
            p = pixmo[fname][0]
            ref = (float(p["x"]) * w / 100, float(p["y"]) * h / 100)
        item = BenchItem(fname, str(row["user_input"]), cat, str(row["mask_filename"]),
                         count if cat == "counting" else None, ref, img_path, mask_path)
        if check_masks:
            load_mask(item)
        items.append(item)
    return Bench(root, items, hashlib.sha256(raw).hexdigest()[:16])


def _inside(root: Path, subdir: str, name: str) -> Path | None:
    """`root/subdir/name` when it is a regular file inside root (no absolute paths, `..` or symlinks), else None."""
    try:
        return resolve_inside(root, name, subdir=subdir)
    except ZipSafetyError:
        return None


def load_mask(item: BenchItem) -> np.ndarray:
    """Boolean target mask: pixel > 127, any channel for RGB(A) masks (PointArena's `load_mask`).

    Sizes are compared from the headers before anything is decoded; every unreadable case gets one sentence
    (no file path, no exception text) and a size mismatch names only the mask's own size.
    """
    unreadable = BenchError(f"{item.image_filename}: the image or its mask {item.mask_filename} is not a readable "
                            "PNG/JPEG image.")
    try:
        with Image.open(item.image_path) as im:
            size = im.size
        with Image.open(item.mask_path) as m:
            if m.size != size:
                raise BenchError(f"{item.image_filename}: mask {item.mask_filename} ({m.size[0]}x{m.size[1]}) does "
                                 "not have the same size as its image; they must match.")
            if size[0] * size[1] > get_settings().max_image_pixels:
                raise BenchError(f"{item.image_filename}: the image is larger than the pixel limit.")
            arr = np.array(m)
    except BenchError:
        raise
    except Exception as exc:  # PIL's messages carry server paths; say one thing for every case
        raise unreadable from exc
    if arr.ndim == 2:
        mask = arr > 127
    elif arr.ndim == 3:
        mask = np.any(arr > 127, axis=2)
    else:
        raise BenchError(f"{item.image_filename}: unexpected mask shape {arr.shape}.")
    if not mask.any():
        raise BenchError(f"{item.image_filename}: mask {item.mask_filename} is empty (no pixel above 127).")
    return mask


def score_points(points: list, mask: np.ndarray, category: str, count: int | None) -> tuple[bool, str, list]:
    """(success, reason, kept points) under PointArena's rules; `reason` is "" on success."""
    pts = []
    for p in points or []:
        x, y = float(p[0]), float(p[1])
        if math.isfinite(x) and math.isfinite(y):
            pts.append((x, y))
    if not pts:
        return False, "No points returned", []
    if category == "counting":
        if len(pts) != count:
            return False, f"Count mismatch: expected {count}, got {len(pts)}", pts
    else:
        pts = pts[:1]
    h, w = mask.shape
    for x, y in pts:
        px, py = int(x), int(y)
        if px < 0 or py < 0 or px >= w or py >= h:
            return False, "Point outside image bounds", pts
        if not mask[py, px]:
            return False, "Points outside mask", pts
    return True, "", pts


def summarise(item_rows: list[dict]) -> dict:
    """Per-category accuracy (%) and their unweighted mean over the categories present."""
    per = {}
    for cat in CATEGORIES:
        rows = [r for r in item_rows if r["category"] == cat]
        if rows:
            per[cat] = round(100.0 * sum(r["success"] for r in rows) / len(rows), 2)
    avg = round(sum(per.values()) / len(per), 2) if per else 0.0
    ok = sum(r["success"] for r in item_rows)
    return {"per_category": per, "average": avg, "n": len(item_rows), "total": len(item_rows), "success": ok,
            "failure": len(item_rows) - ok}


def parse_predictions(obj: Any) -> dict[str, list[list[float]]]:
    """`{image_filename: [[x, y], ...]}`; also accepts PointArena's `[{"point": [x, y]}, ...]` values."""
    if not isinstance(obj, dict):
        raise BenchError("Predictions must be a JSON object mapping image_filename to a list of [x, y] points.")
    out = {}
    for key, pts in obj.items():
        if not isinstance(pts, list):
            raise BenchError(f"Predictions for {key!r} must be a list of [x, y] points, got {type(pts).__name__}.")
        clean = []
        for p in pts:
            if isinstance(p, dict) and "point" in p:
                p = p["point"]
            if not (isinstance(p, (list, tuple)) and len(p) == 2 and
                    all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in p)):
                raise BenchError(f"Predictions for {key!r}: each point must be [x, y] numbers, got {p!r}.")
            clean.append([float(p[0]), float(p[1])])
        out[str(key)] = clean
    return out


def load_predictions(path: str | os.PathLike) -> dict[str, list[list[float]]]:
    try:
        obj = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise BenchError(f"Predictions file {str(path)!r} not found.") from exc
    except json.JSONDecodeError as exc:
        raise BenchError(f"Predictions file {str(path)!r} is not valid JSON ({exc.msg} at line {exc.lineno}).") from exc
    return parse_predictions(obj)


def _atomic_json(path: Path, obj: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".json")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(obj, fh, indent=1)
    os.chmod(tmp, 0o644)  # mkstemp makes 0600; results files are meant to be shared and committed
    os.replace(tmp, path)


def _resume_rows(out: Path | None, bench: Bench, model: str) -> dict[str, dict]:
    if out is None or not out.is_file():
        return {}
    try:
        prev = json.loads(out.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return {}
    if prev.get("bench_fingerprint") != bench.fingerprint or prev.get("model") != model:
        return {}
    return {r["image_filename"]: r for r in prev.get("items", []) if "image_filename" in r}


Predictor = Callable[[BenchItem, Image.Image], dict]


def evaluate(bench: Bench, predictor: Predictor, model: str, *, progress: Progress | None = None,
             out: str | os.PathLike | None = None, resume: bool = True, overlay_dir: str | os.PathLike | None = None,
             source: str = "pointer") -> dict:
    """Run `predictor(item, image) -> {"points": [...], "raw_text"?, "error"?, "latency_s"?}` over the bench.

    Results are saved to `out` every few items so a killed run resumes where it stopped (same bench
    fingerprint and model). Overlays (points on mask) are written to `overlay_dir` when given.
    """
    out_path = Path(out) if out else None
    done = _resume_rows(out_path, bench, model) if resume else {}
    rows: list[dict] = []
    n = len(bench.items)
    t0 = time.perf_counter()

    def result() -> dict:
        res = summarise(rows)
        res.update({"model": model, "source": source, "bench": bench.name, "bench_fingerprint": bench.fingerprint,
                    "complete": len(rows) == n, "elapsed_s": round(time.perf_counter() - t0, 2), "items": rows})
        return res

    for i, item in enumerate(bench.items):
        if progress:
            progress(i, n, f"{model}: {item.image_filename}")
        if item.image_filename in done:
            rows.append(done[item.image_filename])
            continue
        mask = load_mask(item)
        with Image.open(item.image_path) as im:
            img = im.convert("RGB")
        pred = predictor(item, img)
        ok, reason, kept = score_points(pred.get("points") or [], mask, item.category, item.count)
        if not pred.get("points") and pred.get("error"):
            reason = f"{POINTER_ERROR}: {pred['error']}"
        row = {"image_filename": item.image_filename, "category": item.category, "success": ok, "reason": reason,
               "points": [[round(float(x), 2), round(float(y), 2)] for x, y in (pred.get("points") or [])],
               "points_count": len(pred.get("points") or []), "latency_s": round(float(pred.get("latency_s", 0)), 3)}
        if item.count is not None:
            row["count"] = item.count
        if pred.get("raw_text"):
            row["raw_text"] = str(pred["raw_text"])[:300]
        rows.append(row)
        if overlay_dir:
            row["overlay"] = save_overlay(item, img, mask, kept, ok, Path(overlay_dir))
        if out_path and len(rows) % SAVE_EVERY == 0:
            _atomic_json(out_path, result())
    if progress:
        progress(n, n, f"{model}: done")
    res = result()
    if out_path:
        _atomic_json(out_path, res)
    return res


def predictions_predictor(preds: dict[str, list]) -> Predictor:
    def predict(item: BenchItem, _img: Image.Image) -> dict:
        if item.image_filename not in preds:
            return {"points": [], "error": "no prediction for this image"}
        return {"points": preds[item.image_filename]}

    return predict


def pointer_predictor(run: Callable[[Image.Image, str], Any]) -> Predictor:
    """Wrap something returning a PointResult (a registry pointer, an HTTP adapter) as a predictor."""
    def predict(item: BenchItem, img: Image.Image) -> dict:
        res = run(img, item.instruction)
        return {"points": [list(p) for p in (res.points or [])], "raw_text": res.raw_text,
                "error": res.error or (None if res.parse_ok else "could not parse points"),
                "latency_s": res.latency_s}

    return predict


def evaluate_pointer(bench_dir, pointer_name: str, progress: Progress | None = None, out=None, *,
                     timeout_s: float = 60, resume: bool = True, overlay_dir=None) -> dict:
    """Evaluate the registry pointer `pointer_name` (through the pointing service's timeout wrapper)."""
    bench = load_bench(bench_dir)
    predictor = pointer_predictor(lambda img, text: run_pointer(pointer_name, img, text, timeout_s))
    return evaluate(bench, predictor, pointer_name, progress=progress, out=out, resume=resume,
                    overlay_dir=overlay_dir, source="pointer")


def endpoint_pointer(base_url: str, model: str, family: str, api_key: str | None = None, timeout_s: float = 60):
    """An OpenAI-compatible endpoint as a pointer, through the pointing package's HTTP adapter."""
    entry = ModelEntry(name=f"endpoint:{model}", capability="pointing", kind="remote",
                       factory="backend.pointing.remote:OpenAIPointer", label=f"{model} at {base_url}",
                       options={"base_url": base_url, "model": model, "family": family, "timeout_s": timeout_s,
                                **({"api_key": api_key} if api_key else {})})
    try:
        factory = _import_factory(entry.factory)
    except Exception as exc:  # noqa: BLE001 - the adapter module belongs to another package
        raise BenchError(f"The OpenAI-compatible HTTP adapter is not available ({exc}).") from exc
    return factory(entry, "cpu")


def evaluate_endpoint(bench_dir, base_url: str, model: str, family: str, progress: Progress | None = None,
                      out=None, **kw) -> dict:
    ptr = endpoint_pointer(base_url, model, family)
    bench = load_bench(bench_dir)
    return evaluate(bench, pointer_predictor(ptr.point), model, progress=progress, out=out, source="endpoint", **kw)


def evaluate_predictions(bench_dir, predictions, model: str = "predictions", progress: Progress | None = None,
                         out=None, **kw) -> dict:
    preds = parse_predictions(predictions) if isinstance(predictions, dict) else load_predictions(predictions)
    bench = load_bench(bench_dir)
    unknown = sorted(set(preds) - {it.image_filename for it in bench.items})
    if unknown:
        raise BenchError(f"Predictions name {len(unknown)} image(s) not in the bench, e.g. {unknown[0]!r}.")
    return evaluate(bench, predictions_predictor(preds), model, progress=progress, out=out, resume=False,
                    source="predictions", **kw)

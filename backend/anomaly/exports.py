"""Rendered views and downloadable files of an inspection run.

Everything is computed from a `Run` (maps kept in memory) and the CURRENT thresholds, so what a user
downloads is exactly what the sliders show. PNG is used throughout (lossless maps and masks); CSV and
JSON carry the thresholds, engine, resolution and the prompts used (by sha256) so a result can be
traced and reproduced.
"""
from __future__ import annotations

import csv
import io
import json
import re
import unicodedata
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import PurePosixPath

import numpy as np
from PIL import Image

from backend.anomaly import corrections
from backend.anomaly import visualize as viz
from backend.anomaly.inspector import (
    QueryRecord,
    Run,
    binary_mask,
    display_regions,
    find_regions,
    query_warning,
    summary_rows,
    verdict,
)

CSV_COLUMNS = ["file", "score", "verdict", "regions", "largest_region_px", "prompt", "prompt_similarity", "ms",
               "warning", "folder"]  # folder: where the batch zip keeps the query (last, so older columns keep their places)


@dataclass
class View:
    """The pictures of one query at given thresholds."""
    overlay: np.ndarray
    heatmap: np.ndarray      # with colour bar
    mask: np.ndarray         # uint8 0/255
    side_by_side: np.ndarray
    regions: list            # Region, original pixels
    verdict: str
    info: dict


def render(run: Run, index: int, image_threshold: float, pixel_threshold: float, normalise: bool = False,
           vmax: float = 1.0) -> View:
    rec: QueryRecord = run.record(index)
    mask = binary_mask(rec.amap, pixel_threshold)
    regions = find_regions(rec.amap, pixel_threshold, rec.scale)
    ov = viz.overlay(rec.query, rec.amap, mask, display_regions(regions, rec.scale), normalise=normalise, vmax=vmax)
    heat = viz.heatmap_with_bar(rec.amap, normalise, vmax)
    prompt_name, prompt = run.prompts[rec.prompt_index] if 0 <= rec.prompt_index < len(run.prompts) else ("?", None)
    pooled = f" +{rec.n_prompts_used - 1} pooled" if rec.n_prompts_used > 1 else ""
    panels = ([(f"prompt: {prompt_name[:24]}{pooled} (sim {rec.prompt_similarity:.2f})", prompt)]
              if prompt is not None else [])
    panels += [(f"query: {rec.name[:28]}", rec.query), (f"map (score {rec.score:.3f})", heat)]
    sbs = viz.side_by_side(panels, height=256)
    v = verdict(rec.score, image_threshold, rec.prompt_similarity)
    info = {"file": rec.name, "score": round(rec.score, 4), "verdict": v, "image_threshold": image_threshold,
            "pixel_threshold": pixel_threshold, "engine": rec.engine, "resolution": run.size, "tiled": run.tiled,
            "prompt": prompt_name, "prompts_pooled": rec.n_prompts_used,
            "prompt_aug_views": dict(getattr(rec, "prompt_aug", {}) or {}),
            "prompt_sha256": (run.prompt_shas[rec.prompt_index]
                              if 0 <= rec.prompt_index < len(run.prompt_shas) else None),
            "prompt_similarity": round(rec.prompt_similarity, 4), "query_sha256": rec.query_sha,
            "original_size": list(rec.orig_size), "ms": round(rec.ms, 1),
            "colour_scale": "per-image min-max" if normalise else f"absolute 0–{vmax:g}",
            "regions": [r.to_dict() for r in regions], "warning": query_warning(run, rec) or None}
    return View(ov, heat, viz.mask_png(mask), sbs, regions, v, info)


def png_bytes(arr: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(np.asarray(arr, dtype=np.uint8)).save(buf, format="PNG", compress_level=4)
    return buf.getvalue()


def settings_dict(run: Run, image_threshold: float, pixel_threshold: float, normalise: bool, vmax: float) -> dict:
    return {"engine": run.engine, "resolution": run.size, "tiled": run.tiled, "retrieval_k": run.retrieval_k,
            "image_threshold": image_threshold, "pixel_threshold": pixel_threshold,
            "colour_scale": "per-image min-max" if normalise else f"absolute 0–{vmax:g}",
            "prompts": [{"file": n, "sha256": s} for (n, _), s in zip(run.prompts, run.prompt_shas, strict=False)],
            "inspection_id": run.inspection_id, "ms_total": round(run.ms_total, 1),
            "skipped": [{"file": n, "why": w} for n, w in run.skipped],
            "read_in_part": [{"file": n, "why": w} for n, w in getattr(run, "notes", [])],
            "exported": datetime.now(UTC).isoformat(timespec="seconds")}


# A cell a spreadsheet reads as a formula (OWASP "CSV injection"): Excel and LibreOffice run `=HYPERLINK(…)` or
# `@SUM(…)` typed as a file name. Upload names keep these characters, so a file someone sent you could run one.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value):
    """Text that a spreadsheet would read as a formula gets a leading apostrophe (shown as typed, never run);
    numbers and other text are unchanged."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def results_csv(rows: list[dict]) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=CSV_COLUMNS, extrasaction="ignore")
    w.writeheader()
    for r in rows:
        w.writerow({k: csv_cell(v) for k, v in r.items()})
    return buf.getvalue()


def results_json(run: Run, image_threshold: float, pixel_threshold: float, normalise: bool = False,
                 vmax: float = 1.0) -> dict:
    rows = summary_rows(run, image_threshold, pixel_threshold)
    for row, rec, folder in zip(rows, run.records, query_folders(run), strict=False):
        row["folder"] = folder  # where the batch zip keeps this query's PNGs and result.json
        row["regions_detail"] = [g.to_dict() for g in find_regions(rec.amap, pixel_threshold, rec.scale)]
        row["query_sha256"] = rec.query_sha
    return {"settings": settings_dict(run, image_threshold, pixel_threshold, normalise, vmax), "results": rows}


_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_UNSAFE_FOLDER = re.compile(r"[^\w.-]+")  # \w: letters and digits of any script, so "日本語.png" stays readable
# names Windows refuses as a file or folder, whatever the extension
_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(10)), *(f"LPT{i}" for i in range(10))}
STEM_MAX = 64


def safe_stem(name: str, used: set[str]) -> str:
    """A folder / file stem for an upload name that is safe on every file system and unique in `used` (compared
    case-insensitively: `A` and `a` are one folder on Windows and macOS). Archive members keep their archive and
    folders ("x.zip:sub/a.png" -> "x_sub_a"); "..", separators, colons, control and bidi characters are dropped."""
    text = unicodedata.normalize("NFKC", str(name)).replace("\\", "/").replace(":", "/")
    parts = [q for q in text.split("/") if q not in ("", ".", "..")]
    if parts:
        parts[-1] = PurePosixPath(parts[-1]).stem if "." in parts[-1].strip(".") else parts[-1]
        parts[:-1] = [q[:-4] if q.lower().endswith(".zip") else q for q in parts[:-1]]
    stem = "_".join(_UNSAFE_FOLDER.sub("_", q) for q in parts)
    stem = stem[:STEM_MAX].strip("._-") or "image"
    if stem.split(".")[0].upper() in _RESERVED:
        stem += "_"
    cand, n = stem, 1
    while cand.casefold() in used:
        n += 1
        cand = f"{stem}_{n}"
    used.add(cand.casefold())
    return cand


def query_folders(run: Run) -> list[str]:
    """The batch zip's folder of every query, in upload order (the same for a subset of the batch)."""
    used: set[str] = set()
    return [safe_stem(r.name, used) for r in run.records]


def batch_zip(run: Run, image_threshold: float, pixel_threshold: float, normalise: bool = False,
              vmax: float = 1.0, indices: list[int] | None = None) -> bytes:
    """results.csv + results.json + colorbar.png + per query heatmap/overlay/mask/side-by-side PNGs and result.json in
    the folder that the `folder` column of results.csv / results.json names (`query_folders`)."""
    data = results_json(run, image_threshold, pixel_threshold, normalise, vmax)
    buf = io.BytesIO()
    folders = query_folders(run)
    pick = range(len(run.records)) if indices is None else indices
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("results.csv", results_csv([data["results"][i] for i in pick]))
        zf.writestr("results.json", json.dumps({"settings": data["settings"],
                                                "results": [data["results"][i] for i in pick]}, indent=2))
        zf.writestr("colorbar.png", png_bytes(viz.colour_bar(256, 0.0, vmax, title="absolute")))
        for i in pick:
            v = render(run, i, image_threshold, pixel_threshold, normalise, vmax)
            stem = folders[i]
            v.info["folder"] = stem
            for part, arr in (("heatmap", v.heatmap), ("overlay", v.overlay), ("mask", v.mask),
                              ("side_by_side", v.side_by_side)):  # PNG is compressed already: store, don't deflate
                zf.writestr(f"{stem}/{part}.png", png_bytes(arr), compress_type=zipfile.ZIP_STORED)
            zf.writestr(f"{stem}/result.json", json.dumps(v.info, indent=2))
    return buf.getvalue()


def mvtec_zip(items: list[dict]) -> bytes:
    """Corrections as an MVTec-AD tree: <product>/test/<defect>/NNN.png + ground_truth/<defect>/NNN_mask.png.

    `items` carry product, defect_type, image (PIL RGB), mask (bool array) and optional prompts
    (PIL images written to <product>/train/good), query_sha, session_id and created. An empty mask goes to test/good
    with no mask file. Several sessions' corrections of one image follow `corrections.resolve`: agreeing versions give
    one tree entry, conflicting ones go to `_conflicts/<product>/NNN/` (the image and each version's mask) instead of
    the tree; manifest.json lists every image with its status and versions.
    """
    buf = io.BytesIO()
    counters: dict[tuple[str, str], int] = {}
    written_train: set[str] = set()
    manifest = []
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for res in corrections.resolve(items):
            it = res.item
            product = _UNSAFE.sub("_", it["product"]).strip("._") or "product"
            versions = [{"session": corrections.session_tag(v.get("session_id")), "created": v.get("created"),
                         "defect_type": v.get("defect_type"), "mask_pixels": int((np.asarray(v["mask"]) > 0).sum())}
                        for v in res.versions]
            entry = {"product": product, "status": res.status, "source_file": it.get("filename"),
                     "query_sha256": it.get("query_sha"), "versions": versions}
            if res.status == "conflict":
                n = counters.get((product, "_conflicts"), 0)
                counters[(product, "_conflicts")] = n + 1
                base = f"_conflicts/{product}/{n:03d}"
                zf.writestr(f"{base}/image.png", _img_png(it["image"]))
                for k, (v, info) in enumerate(zip(res.versions, versions, strict=True)):
                    mask_file = f"{base}/{k}_{info['session']}_mask.png"
                    info["mask_file"] = mask_file
                    zf.writestr(mask_file, png_bytes(viz.mask_png(np.asarray(v["mask"]) > 0)))
                manifest.append({**entry, "why": res.why, "file": f"{base}/image.png"})
                continue
            mask = np.asarray(it["mask"]) > 0
            defect = "good" if not mask.any() else (_UNSAFE.sub("_", it["defect_type"]).strip("._") or "defect")
            if defect == "good" and mask.any():
                defect = "defect"
            n = counters.get((product, defect), 0)
            counters[(product, defect)] = n + 1
            zf.writestr(f"{product}/test/{defect}/{n:03d}.png", _img_png(it["image"]))
            if defect != "good":
                zf.writestr(f"{product}/ground_truth/{defect}/{n:03d}_mask.png", png_bytes(viz.mask_png(mask)))
            manifest.append({**entry, "defect_type": defect, "file": f"{n:03d}.png"})
            if product not in written_train:
                written_train.add(product)
                for j, p in enumerate(it.get("prompts") or []):
                    zf.writestr(f"{product}/train/good/{j:03d}.png", _img_png(p))
        zf.writestr("manifest.json", json.dumps(manifest, indent=2))
    return buf.getvalue()


def _img_png(img) -> bytes:
    if isinstance(img, Image.Image):
        buf = io.BytesIO()
        img.convert("RGB").save(buf, format="PNG")
        return buf.getvalue()
    return png_bytes(img)

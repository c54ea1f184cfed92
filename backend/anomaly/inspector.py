"""Everything the Anomaly Inspector needs around the engines: batches, thresholds, regions, calibration.

The engine (`backend.anomaly.service.inspect`) turns prompts + a query into an absolute anomaly map;
this module runs it over a batch with progress, keeps what the UI needs to re-threshold WITHOUT
re-running the model (`Run` lives in gr.State), and turns a map plus two thresholds into a verdict,
a binary mask and the top anomalous regions. Default thresholds are calibrated from the prompts themselves
(`calibrate_from_prompts`: nuisance-augmented copies of each prompt are scored against the prompts,
the thresholds sit a margin above the highest score and pixel), so a clearly mapped defect is NG at
the defaults; they can also be calibrated from extra normal images (a high percentile of their
scores, anomalib's fallback when no defects are labelled) or made F1-optimal when labelled defects
are given. A query that looks like a different product than the prompts gets its own verdict,
MISMATCH, whatever its score: its map compares two different things.
"""
from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from PIL import Image
from scipy import ndimage

from backend.anomaly import service
from backend.anomaly.metrics import f1_max
from backend.anomaly.nuisance import nuisance_view
from backend.errors import UserError
from storage.repos.images import image_sha256

MAX_BATCH = 100               # queries per run (≈ 4 MB of UI state each at 768 px); more is refused, number stated
DISPLAY_MAX_SIDE = 768        # maps/images kept in the UI state are at most this big (boxes stay in original px)
MAX_BATCH_PIXELS = 400_000_000  # decoded pixels of one batch together (≈ 1.2 GB of RGB); more is refused
SIMILARITY_WARN = 0.5         # global prompt–query similarity below this → "different product?" warning
TOP_REGIONS = 5
RESOLUTIONS = {"256": (256, False), "512": (512, False), "tiled": (256, True)}
# Engine-specific starting points (absolute map units). kNN maps are ½(1−cos): defects rarely pass 0.5.
DEFAULTS = {"knn": {"image": 0.12, "pixel": 0.10, "vmax": 0.4},
            "metauas": {"image": 0.50, "pixel": 0.50, "vmax": 1.0},
            "ensemble": {"image": 0.35, "pixel": 0.30, "vmax": 0.75}}


def engine_defaults(engine: str) -> dict:
    for key, vals in DEFAULTS.items():
        if engine.startswith(key):
            return dict(vals)
    return {"image": 0.5, "pixel": 0.5, "vmax": 1.0}


@dataclass
class Region:
    """A connected anomalous area; coordinates and area in ORIGINAL image pixels."""
    x0: int
    y0: int
    x1: int
    y1: int
    area_px: int
    area_pct: float
    peak: float
    mean: float

    def to_dict(self) -> dict:
        return {"box": [self.x0, self.y0, self.x1, self.y1], "area_px": self.area_px,
                "area_pct": round(self.area_pct, 3), "peak": round(self.peak, 4), "mean": round(self.mean, 4)}


@dataclass
class QueryRecord:
    """One inspected query as kept in the UI state (display-sized copies, original-size bookkeeping)."""
    name: str
    query: np.ndarray          # uint8 (h, w, 3), display size
    amap: np.ndarray           # float32 (h, w), display size, absolute units
    scale: float               # display / original
    orig_size: tuple[int, int]  # (w, h)
    score: float
    prompt_index: int
    prompt_similarity: float
    engine: str
    ms: float
    query_sha: str = ""
    n_prompts_used: int = 1    # > 1: the maps of that many prompts were pooled; prompt_index = the most similar
    prompt_aug: dict = field(default_factory=dict)  # nuisance views per prompt used as extra prompts (protocol v4)


@dataclass
class Run:
    """A finished batch: enough to re-threshold, re-render, export and correct without the model."""
    prompts: list[tuple[str, np.ndarray]]
    prompt_shas: list[str]
    records: list[QueryRecord]
    engine: str
    size: int
    tiled: bool
    retrieval_k: int | None
    skipped: list[tuple[str, str]] = field(default_factory=list)
    notes: list[tuple[str, str]] = field(default_factory=list)  # queries read in part (an animated image: frame 1)
    ms_total: float = 0.0
    inspection_id: int | None = None
    not_saved: str | None = None  # why the run is not in the inspection history (the database's sentence)
    calibrated: Thresholds | None = None  # the default thresholds calibrated from the prompts

    def record(self, index: int) -> QueryRecord:
        if not self.records:
            raise UserError("There are no inspected queries yet; run an inspection first.")
        if not 0 <= int(index) < len(self.records):
            raise UserError(f"There is no query number {index}; this run has {len(self.records)}.")
        return self.records[int(index)]


# --- post-processing ---------------------------------------------------------------------------------
VERDICTS = ("OK", "NG", "MISMATCH")


def verdict(score: float, image_threshold: float, similarity: float | None = None) -> str:
    """NG at or above the threshold; MISMATCH (never OK) when the query looks like another product."""
    if similarity_warning(similarity) is not None:
        return "MISMATCH"
    return "NG" if float(score) >= float(image_threshold) else "OK"


def binary_mask(amap: np.ndarray, pixel_threshold: float) -> np.ndarray:
    return np.asarray(amap) >= float(pixel_threshold)


def find_regions(amap: np.ndarray, pixel_threshold: float, scale: float = 1.0, top_k: int = TOP_REGIONS,
                 min_area_px: int = 4) -> list[Region]:
    """Connected components of the thresholded map, strongest peak first, in original-image units."""
    mask = binary_mask(amap, pixel_threshold)
    labels, n = ndimage.label(mask)
    if n == 0:
        return []
    idx = np.arange(1, n + 1)
    peaks = ndimage.maximum(amap, labels, idx)
    means = ndimage.mean(amap, labels, idx)
    areas = ndimage.sum(np.ones_like(amap, dtype=np.int64), labels, idx)
    slices = ndimage.find_objects(labels)
    total = amap.size
    inv = 1.0 / max(scale, 1e-9)
    regions = []
    for i in np.argsort(-np.asarray(peaks)):
        if areas[i] < min_area_px:
            continue
        sl = slices[i]
        regions.append(Region(x0=int(sl[1].start * inv), y0=int(sl[0].start * inv),
                              x1=int(round(sl[1].stop * inv)) - 1, y1=int(round(sl[0].stop * inv)) - 1,
                              area_px=int(round(areas[i] * inv * inv)), area_pct=100.0 * float(areas[i]) / total,
                              peak=float(peaks[i]), mean=float(means[i])))
        if len(regions) >= top_k:
            break
    return regions


def display_regions(regions: list[Region], scale: float) -> list[Region]:
    """Regions moved back to display pixels (for drawing on the display-sized overlay)."""
    return [Region(int(r.x0 * scale), int(r.y0 * scale), int(r.x1 * scale), int(r.y1 * scale), r.area_px,
                   r.area_pct, r.peak, r.mean) for r in regions]


def summary_rows(run: Run, image_threshold: float, pixel_threshold: float) -> list[dict]:
    """One row per query (in upload order) at the given thresholds; the UI sorts the table."""
    rows = []
    for i, r in enumerate(run.records):
        regions = find_regions(r.amap, pixel_threshold, r.scale)
        warn = query_warning(run, r)
        rows.append({"index": i, "file": r.name, "score": round(r.score, 4),
                     "verdict": verdict(r.score, image_threshold, r.prompt_similarity), "regions": len(regions),
                     "largest_region_px": max((g.area_px for g in regions), default=0),
                     "prompt": prompt_label(run, r),
                     "prompt_similarity": round(r.prompt_similarity, 3), "ms": round(r.ms, 1),
                     "warning": warn or ""})
    return rows


def prompt_label(run: Run, rec: QueryRecord) -> str:
    name = run.prompts[rec.prompt_index][0] if 0 <= rec.prompt_index < len(run.prompts) else "?"
    return name if rec.n_prompts_used <= 1 else f"{name} + {rec.n_prompts_used - 1} more (pooled)"


FRAMING_LIMIT = 1.25  # query / prompt aspect ratios further apart than this: "framed differently"


def framing_warning(run: Run, rec: QueryRecord, limit: float = FRAMING_LIMIT) -> str | None:
    """Said when the query's aspect ratio is far from its prompt's: the engines compare images framed alike (both
    letterboxed to the input size; tiled, the prompt is stretched onto the query), so the same product at another
    framing is seen at another scale and reads as anomalous (and often as another product)."""
    if not 0 <= rec.prompt_index < len(run.prompts):
        return None
    ph, pw = run.prompts[rec.prompt_index][1].shape[:2]
    qw, qh = rec.orig_size
    if min(pw, ph, qw, qh) <= 0:
        return None
    ratio = (qw / qh) / (pw / ph)
    if max(ratio, 1 / ratio) <= limit:
        return None
    return (f"the query ({qw}×{qh}) is framed differently from the prompt ({pw}×{ph} as shown): the engines compare "
            "images framed alike, so its map and similarity are not reliable; crop the query like the prompt, or use "
            "a prompt framed like the query")


def query_warning(run: Run, rec: QueryRecord) -> str:
    """Every warning of one query (different product, different framing), as one sentence for tables and files."""
    return "; ".join(w for w in (similarity_warning(rec.prompt_similarity), framing_warning(run, rec)) if w)


def similarity_warning(similarity: float | None, limit: float = SIMILARITY_WARN) -> str | None:
    if similarity is None or not np.isfinite(similarity) or similarity >= limit:
        return None
    return (f"prompt and query look like different products (similarity {similarity:.2f} < {limit:.2f}); "
            "the map is probably meaningless — use a normal image of the same product as prompt")


# --- calibration -----------------------------------------------------------------------------------
@dataclass
class Thresholds:
    """Image and pixel thresholds with how they were obtained (shown to the user)."""
    image: float
    pixel: float
    method: str
    warning: str = ""  # set when the prompts could not inform the threshold (shown beside it)
    calibrated: bool = True  # False: the prompts could not inform them; `method` says which fixed defaults are used


PROMPT_VIEWS = 6        # augmented copies per prompt (at most MAX_CALIBRATION_VIEWS in all)
MAX_CALIBRATION_VIEWS = 8
CALIBRATION_MARGIN = 1.25  # thresholds sit at this factor × the ODDS of the worst nuisance-only score / pixel
# Engines whose maps are discounted by the prompt's normal variation (protocol v5) score nuisance-only views near 0,
# where 1.25× their odds is a razor-thin margin (good queries flagged far more often on validation v2); the margin
# for them was chosen on validation v2 only (static/anomaly/protocol_v5/calibration.json, highest summed Youden index).
NV_CALIBRATION_MARGIN = 4.0
# Below this, every augmented prompt view scored as perfectly normal (its normal variation cancelled it), so the
# thresholds sit at their floor and carry no information about how far a good image may drift.
DEGENERATE_SCORE = 1e-3
DEGENERATE_WARNING = ("Every augmented view of the prompt scored as perfectly normal, so the default thresholds sit "
                      "at their floor and small differences in good images may be flagged NG. Add more prompt "
                      "images, or calibrate from a few good images ('Calibrate thresholds').")
FALLBACK_WARNING = ("The thresholds were NOT calibrated from this prompt (it looks spotless to the engine under shift, "
                    "rotation, brightness, blur and JPEG), so the engine's fixed defaults are used. For thresholds "
                    "that fit your product, calibrate from a few good images ('Calibrate thresholds').")
# The engines' fixed defaults for such prompts: the median prompt-calibrated thresholds of the validation photos,
# written by bench/anomaly_threshold_fallback.py (which also measures them against the floor they replace).
FALLBACK_FILE = Path(__file__).resolve().parents[2] / "static" / "anomaly" / "threshold_fallback.json"


def fallback_thresholds(engine: str) -> dict | None:
    """{"image", "pixel", "source"} for an engine role from FALLBACK_FILE, or None when it has none."""
    try:
        table = json.loads(FALLBACK_FILE.read_text())["fallback"]
    except (OSError, ValueError, KeyError):
        return None
    for role, vals in table.items():
        if str(engine).startswith(role):
            return vals
    return None


def calibration_margin(engine: str) -> float:
    """CALIBRATION_MARGIN, or NV_CALIBRATION_MARGIN when the engine (or a member of it) runs NV-normalised maps."""
    eng = service.engines.get(engine)
    members = list(getattr(eng, "members", {}).values()) or [eng]
    return NV_CALIBRATION_MARGIN if any(getattr(m, "nv_norm", "none") != "none" for m in members) \
        else CALIBRATION_MARGIN


def above(value: float, margin: float = CALIBRATION_MARGIN) -> float:
    """`value` raised by `margin` in odds space, v·m / (1 − v + v·m): ≈ m·v for small v (what a plain factor
    gave), but it never reaches 1 for v < 1. A plain factor saturated for maps that are probabilities: with the
    Lite checkpoint (image score = map max) nuisance-only prompt views score 0.6–0.95, 1.25× of that is ≥ 1 and
    nothing could ever be NG (measured on the validation photos, static/anomaly/score_validation.json's split)."""
    v = min(max(float(value), 0.0), 1.0)
    return v * margin / (1.0 - v + v * margin)


def calibrate_from_prompts(prompts: list[Image.Image], *, engine: str, resolution: str = "256", retrieval_k=None,
                           seed: int = 0, fallback: bool = True) -> Thresholds:
    """Default thresholds from the prompts alone: score nuisance-augmented copies of the prompts against
    the prompts, put the image threshold at CALIBRATION_MARGIN × the odds of their highest score and the
    pixel threshold the same way above their 99.9th-percentile pixel (`above`).

    When every view scores as perfectly normal (below DEGENERATE_SCORE: a spotless prompt whose nuisance the
    normal-variation discount cancels) the views say nothing about how far a good image may drift, and the floor
    they gave (0.001) flagged nearly everything; with `fallback` such a threshold is the engine's fixed default
    (`fallback_thresholds`) instead, and the result says it is not calibrated."""
    if not prompts:
        raise UserError("Calibration needs at least one prompt image.")
    rng = np.random.default_rng(seed)
    per = max(1, min(PROMPT_VIEWS, MAX_CALIBRATION_VIEWS // len(prompts)))
    views = [nuisance_view(p, rng) for p in prompts[:MAX_CALIBRATION_VIEWS] for _ in range(per)]
    scores, maps = score_images(prompts, views, engine=engine, resolution=resolution, retrieval_k=retrieval_k)
    pix = _sample_pixels(maps, 500_000, seed)
    margin = calibration_margin(engine)
    top, p999 = max(scores), float(np.percentile(pix, 99.9))
    image = min(1.0, above(top, margin) + 1e-3)
    pixel = min(1.0, above(p999, margin) + 1e-3)
    method = (f"from the prompts: {len(views)} augmented prompt view(s) (shift, rotation, brightness, "
              f"blur, JPEG) scored against the prompts; {margin:g}× the odds of their highest image score and "
              "99.9th-percentile pixel")
    flat_image, flat_pixel = top < DEGENERATE_SCORE, p999 < DEGENERATE_SCORE
    fb = fallback_thresholds(engine) if fallback and (flat_image or flat_pixel) else None
    if fb is None:
        return Thresholds(image=round(image, 4), pixel=round(min(pixel, image), 4),
                          warning=DEGENERATE_WARNING if flat_image else "", method=method)
    image = float(fb["image"]) if flat_image else image
    pixel = float(fb["pixel"]) if flat_pixel else pixel
    which = " and ".join(w for w, f in (("image", flat_image), ("pixel", flat_pixel)) if f)
    return Thresholds(image=round(image, 4), pixel=round(min(pixel, image), 4), warning=FALLBACK_WARNING,
                      calibrated=False,
                      method=f"{len(views)} augmented prompt view(s) all scored as perfectly normal (highest image "
                             f"score {top:.4f}, 99.9th-percentile pixel {p999:.4f}), so the {which} "
                             f"threshold{'s are' if flat_image and flat_pixel else ' is'} the engine's fixed default"
                             f"{'s' if flat_image and flat_pixel else ''} ({fb['source']})")


def calibrate_from_normal(scores: list[float], maps: list[np.ndarray], image_percentile: float = 99.0,
                          pixel_percentile: float = 99.9, max_pixels: int = 2_000_000, seed: int = 0) -> dict:
    """Thresholds from defect-free images: a high percentile of their image scores and pixel values.

    With few images the percentile is close to the maximum, which is the point: none of these good
    images should be flagged. Pixels are subsampled (seeded) so huge batches stay cheap.
    """
    if not scores:
        raise UserError("Calibration needs at least one extra normal (good) image.")
    pix = _sample_pixels(maps, max_pixels, seed)
    return {"image_threshold": float(np.percentile(np.asarray(scores, np.float64), image_percentile,
                                                   method="higher")) + 1e-4,
            "pixel_threshold": float(np.percentile(pix, pixel_percentile)) + 1e-4 if pix.size else None,
            "method": f"p{image_percentile:g} of {len(scores)} normal image score(s); p{pixel_percentile:g} of their "
                      "pixels",
            "warning": "No labelled defects were given, so the F1-optimal threshold could not be computed; "
                       "the threshold only guarantees these normal images pass."}




def calibrate_f1(good_scores: list[float], bad_scores: list[float], good_maps: list[np.ndarray] | None = None,
                 bad_maps: list[np.ndarray] | None = None, bad_masks: list[np.ndarray | None] | None = None,
                 max_pixels: int = 2_000_000, seed: int = 0) -> dict:
    """F1-optimal image threshold; pixel threshold too when defect masks are given."""
    scores = np.asarray(list(good_scores) + list(bad_scores), np.float64)
    labels = np.asarray([0] * len(good_scores) + [1] * len(bad_scores))
    if not good_scores or not bad_scores:
        raise UserError("F1-optimal thresholds need both normal and defective examples.")
    img_f1, img_thr = f1_max(scores, labels)  # the one F1-max definition (anomalib F1Max)
    out: dict[str, Any] = {"image_threshold": img_thr, "image_f1": img_f1, "pixel_threshold": None, "pixel_f1": None,
           "method": f"F1-optimal over {len(good_scores)} good and {len(bad_scores)} defective image(s)",
           "warning": None}
    pairs = [(m, g) for m, g in zip(bad_maps or [], bad_masks or [], strict=False) if g is not None]
    if pairs:
        rng = np.random.default_rng(seed)
        vals, labs = [], []
        maps_and_masks = pairs + [(m, np.zeros(m.shape, bool)) for m in (good_maps or [])]
        per = max(1, max_pixels // len(maps_and_masks))
        for m, g in maps_and_masks:
            g = _fit_mask(g, m.shape)
            flat, lab = m.ravel(), g.ravel()
            take = rng.choice(flat.size, size=min(per, flat.size), replace=False)
            vals.append(flat[take])
            labs.append(lab[take])
        pv, pl = np.concatenate(vals), np.concatenate(labs)
        if pl.any() and not pl.all():
            out["pixel_f1"], out["pixel_threshold"] = f1_max(pv, pl)
            out["method"] += f"; pixel threshold F1-optimal over {len(pairs)} mask(s)"
    else:
        out["warning"] = "No defect masks were given, so the pixel threshold was left unchanged."
    return out


def _fit_mask(mask: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    mask = np.asarray(mask) > 0
    if mask.shape == tuple(shape):
        return mask
    return cv2.resize(mask.astype(np.uint8), (shape[1], shape[0]), interpolation=cv2.INTER_NEAREST) > 0


def _sample_pixels(maps: list[np.ndarray], max_pixels: int, seed: int) -> np.ndarray:
    if not maps:
        return np.zeros(0, np.float32)
    rng = np.random.default_rng(seed)
    per = max(1, max_pixels // len(maps))
    parts = []
    for m in maps:
        flat = np.asarray(m, np.float32).ravel()
        parts.append(flat if flat.size <= per else flat[rng.choice(flat.size, per, replace=False)])
    return np.concatenate(parts)


# --- running the engine over a batch -----------------------------------------------------------------
def to_display(img: Image.Image | np.ndarray, max_side: int = DISPLAY_MAX_SIDE) -> tuple[np.ndarray, float]:
    arr = np.asarray(img.convert("RGB") if isinstance(img, Image.Image) else img, dtype=np.uint8)
    h, w = arr.shape[:2]
    s = min(1.0, max_side / max(h, w))
    if s < 1.0:
        arr = cv2.resize(arr, (max(1, round(w * s)), max(1, round(h * s))), interpolation=cv2.INTER_AREA)
    return arr, s


def _map_to_display(amap: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    amap = np.asarray(amap, np.float32)
    if amap.shape == shape:
        return amap
    return cv2.resize(amap, (shape[1], shape[0]), interpolation=cv2.INTER_LINEAR)


def parse_resolution(resolution: str | int) -> tuple[int, bool]:
    key = str(resolution).strip().lower()
    if key not in RESOLUTIONS:
        raise UserError(f"Resolution must be one of {', '.join(RESOLUTIONS)}, not {resolution!r}.")
    return RESOLUTIONS[key]


def parse_k(retrieval_k) -> int | None:
    """0 / None / '' / 'all' → use every prompt; n ≥ 1 → retrieve the n most similar prompts per query."""
    if retrieval_k in (None, "", "all"):
        return None
    k = int(float(retrieval_k))
    if k < 0:
        raise UserError("Retrieval top-k must be 0 (use all prompts) or a positive number.")
    return k or None


Progress = Callable[[int, int, str], None]


def inspect_batch(prompts: list[tuple[str, Image.Image]], queries: list[tuple[str, Image.Image]], *,
                  engine: str, resolution: str = "256", retrieval_k=None, progress: Progress | None = None,
                  skipped: list[tuple[str, str]] | None = None) -> Run:
    """Run the engine on every query (one call each, so progress is exact and prompt features stay cached)."""
    if not prompts:
        raise UserError("Please add at least one normal (defect-free) prompt image of the product first.")
    if not queries:
        raise UserError("Please add at least one query image to inspect.")
    if len(queries) > MAX_BATCH:
        raise UserError(f"{len(queries)} queries were given; the limit is {MAX_BATCH} per run. "
                         "Please split the batch.")
    size, tiled = parse_resolution(resolution)
    k = parse_k(retrieval_k)
    prompt_imgs = [p for _, p in prompts]
    run = Run(prompts=[(n, to_display(p, 512)[0]) for n, p in prompts],
              prompt_shas=[image_sha256(p) for p in prompt_imgs], records=[], engine=engine, size=size,
              tiled=tiled, retrieval_k=k, skipped=list(skipped or []))
    t0 = time.perf_counter()
    for i, (name, q) in enumerate(queries):
        if progress:
            progress(i, len(queries), name)
        # tiled: one update per tile (a large query runs up to 64 tiles, each with its own prompt features: minutes)
        tile_progress = (lambda f, text, i=i, name=name: progress(i + min(f, 0.999), len(queries), f"{name} ({text})")
                         ) if progress and tiled else None
        res = service.inspect(prompt_imgs, [q], engine=engine, size=size, retrieval_k=k, tiled=tiled,
                              progress=tile_progress)[0]
        used = min(k or len(prompt_imgs), len(prompt_imgs))
        pi = int(res.prompt_index)
        if pi < 0 or pi >= len(prompt_imgs):  # several prompts pooled: show the most similar one
            pi = int(np.argmax([service.global_similarity(p, q) for p in prompt_imgs]))
        disp, s = to_display(q)
        run.records.append(QueryRecord(
            name=name, query=disp, amap=_map_to_display(res.anomaly_map, disp.shape[:2]), scale=s,
            orig_size=q.size, score=float(res.score), prompt_index=pi,
            prompt_similarity=float(res.prompt_similarity), engine=str(res.engine), ms=float(res.ms),
            query_sha=image_sha256(q), n_prompts_used=used, prompt_aug=dict(res.prompt_aug)))
    if progress:
        progress(len(queries), len(queries), "done")
    run.ms_total = (time.perf_counter() - t0) * 1000.0
    return run


def score_images(prompts: list[Image.Image], images: list[Image.Image], *, engine: str, resolution: str = "256",
                 retrieval_k=None) -> tuple[list[float], list[np.ndarray]]:
    """Scores and maps of extra images (for calibration), with the same settings as the run."""
    size, tiled = parse_resolution(resolution)
    out = service.inspect(prompts, images, engine=engine, size=size, retrieval_k=parse_k(retrieval_k), tiled=tiled)
    return [float(r.score) for r in out], [np.asarray(r.anomaly_map, np.float32) for r in out]

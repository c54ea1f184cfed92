"""The one entry point the inspector tab (and the CLIs) call: prompts + queries → maps and scores.

Engines ("metauas", "knn", "ensemble") come from the model registry, so each loads once per process;
prompt features are cached inside each engine by image content hash (SamPredictor style: the
expensive prompt work is done once, queries are cheap). Maps and scores are in absolute units —
never min-max normalised per image — so a defect-free query really looks cold.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np
from PIL import Image

from backend.anomaly.preprocess import check_image, image_key, letterbox, normalise, unletterbox
from backend.errors import UserError

ENGINES = ("metauas", "knn", "ensemble")
METAUAS_ENTRIES = {256: "metauas-b4-256", 512: "metauas-b4-512"}
METAUAS_DEFAULT = "metauas-lite0"
KNN_ENTRY = "knn-lite0"
# kNN distances live in [0, ~0.4]; dividing by this scale (≈ the 99th-99.9th percentile of normal-pixel
# kNN distances on the held-in validation change pairs, 0.24-0.30) puts them on the MetaUAS probability scale.
KNN_CALIBRATION = 0.30
MAX_TILES = 64

Progress = Callable[[float, str], None] | None


@dataclass
class InspectionResult:
    score: float                 # image score (absolute units, comparable across images)
    anomaly_map: np.ndarray      # float32 (H, W) at the query's original size, in [0, 1]
    prompt_index: int            # which prompt of the pool was used (best), or -1 when several were averaged
    prompt_similarity: float     # global cosine similarity prompt↔query (Lite0 global features)
    engine: str
    ms: float


# -- engine resolution ---------------------------------------------------------------------
def _registry():
    from backend.registry import get_registry

    return get_registry()


def _metauas_entry_name(size: int) -> str:
    preferred = METAUAS_ENTRIES.get(size)
    prefer = ([preferred] if preferred else []) + [METAUAS_DEFAULT] + list(METAUAS_ENTRIES.values())
    return _registry().pick("anomaly", prefer, default=METAUAS_DEFAULT, any_checkpoint=False)


def _engine_label(name: str) -> tuple[bool, str, str | None]:
    reg = _registry()
    try:
        ok, why = reg.availability(name)
        e = reg.entry(name)
        if e.factory.startswith("backend.anomaly.metauas_engine"):
            from backend.anomaly.metauas_engine import _entry_path

            p = _entry_path(e)
        else:
            p = e.resolved_path
        return ok, why, str(p) if p else None
    except Exception as exc:
        return False, str(exc), None


def engines() -> list[dict]:
    """What the UI can offer, with the reason when an engine cannot run here."""
    m_name = _metauas_entry_name(256)
    m_ok, m_why, m_ckpt = _engine_label(m_name)
    k_ok, k_why, _ = _engine_label(KNN_ENTRY)
    m_label = "MetaUAS (EfficientNet-b4, official checkpoint)" if m_name != METAUAS_DEFAULT else \
        "MetaUAS-Lite0 (trained here on synthetic change pairs; embedded default)"
    return [
        {"name": "metauas", "label": m_label, "available": m_ok, "why": m_why, "checkpoint": m_ckpt},
        {"name": "knn", "label": "Patch kNN on EfficientNet-Lite0 features (training-free)", "available": k_ok,
         "why": k_why, "checkpoint": None},
        {"name": "ensemble", "label": "Ensemble: mean of MetaUAS and calibrated kNN maps",
         "available": m_ok and k_ok, "why": m_why if not m_ok else k_why, "checkpoint": m_ckpt},
    ]


def _get_engines(engine: str, size: int, checkpoint: str | None = None) -> list[tuple[str, object]]:
    if engine not in ENGINES:
        raise UserError(f"Unknown engine {engine!r}; choose one of {', '.join(ENGINES)}.")
    out = []
    if engine in ("metauas", "ensemble"):
        if checkpoint:
            from backend.anomaly.metauas_engine import engine_from_checkpoint

            out.append(("metauas", engine_from_checkpoint(checkpoint)))
        else:
            out.append(("metauas", _registry().get(_metauas_entry_name(size))))
    if engine in ("knn", "ensemble"):
        out.append(("knn", _registry().get(KNN_ENTRY)))
    return out


# -- global similarity (prompt retrieval) ----------------------------------------------------
_GLOBAL_CACHE: dict[str, np.ndarray] = {}


def global_features(img: Image.Image, key: str | None = None) -> np.ndarray:
    """Unit-norm 1280-d Lite0 head features (average-pooled), cached by content hash."""
    key = key or image_key(img)
    if key in _GLOBAL_CACHE:
        return _GLOBAL_CACHE[key]
    import torch

    enc = _registry().get("lite0-imagenet")
    arr, _ = letterbox(img, 224)
    x = torch.from_numpy(normalise(arr))[None].to(enc.device)
    with torch.no_grad():
        f = enc.model.extract_features(x).mean(dim=(2, 3))[0]
        f = torch.nn.functional.normalize(f, dim=0).cpu().numpy().astype(np.float32)
    if len(_GLOBAL_CACHE) > 512:
        _GLOBAL_CACHE.clear()
    _GLOBAL_CACHE[key] = f
    return f


def global_similarity(a: Image.Image, b: Image.Image) -> float:
    return float(np.dot(global_features(check_image(a, "first image")), global_features(check_image(b, "second image"))))


# -- inspection ------------------------------------------------------------------------------
def _fuse(maps: dict[str, np.ndarray]) -> np.ndarray:
    if len(maps) == 1:
        return next(iter(maps.values()))
    knn = np.clip(maps["knn"] / KNN_CALIBRATION, 0.0, 1.0)
    return (0.5 * maps["metauas"] + 0.5 * knn).astype(np.float32)


def _square_map(engs, q_arr: np.ndarray, prompts: list[tuple[Image.Image, str]], size: int) -> np.ndarray:
    maps = {}
    for name, eng in engs:
        mems = [eng.memory(p, size, k) for p, k in prompts]
        maps[name] = eng.map_square(q_arr, mems)
    return _fuse(maps)


def _tile_grid(length: int, tile: int) -> list[int]:
    if length <= tile:
        return [0]
    n = math.ceil((length - tile) / (tile * 0.75)) + 1
    return [round(i * (length - tile) / (n - 1)) for i in range(n)]


def _tiled_map(engs, query: Image.Image, prompts: list[tuple[Image.Image, str]], size: int) -> np.ndarray:
    """Overlapping tiles at native resolution (small defects survive); prompt resized to the query."""
    w, h = query.size
    tile = size
    while len(_tile_grid(w, tile)) * len(_tile_grid(h, tile)) > MAX_TILES:
        tile = int(tile * 1.25)
    acc = np.zeros((h, w), np.float32)
    cnt = np.zeros((h, w), np.float32)
    resized = [(p.resize((w, h), Image.BILINEAR), k) for p, k in prompts]
    for y in _tile_grid(h, tile):
        for x in _tile_grid(w, tile):
            box = (x, y, min(x + tile, w), min(y + tile, h))
            q_arr, lb = letterbox(query.crop(box), size)
            tp = [(p.crop(box), f"{k}:{box}") for p, k in resized]
            m = unletterbox(_square_map(engs, q_arr, tp, size), lb)
            acc[box[1]:box[3], box[0]:box[2]] += m
            cnt[box[1]:box[3], box[0]:box[2]] += 1
    return acc / np.maximum(cnt, 1)


def inspect(prompts: Sequence[Image.Image], queries: Sequence[Image.Image], engine: str = "metauas",
            size: int = 256, retrieval_k: int | None = None, tiled: bool = False, progress: Progress = None,
            checkpoint: str | None = None) -> list[InspectionResult]:
    """Inspect every query against the prompt pool (all prompts, or the `retrieval_k` most similar)."""
    if not prompts:
        raise UserError("Add at least one normal (defect-free) prompt image.")
    if not queries:
        raise UserError("Add at least one query image to inspect.")
    if size not in (128, 192, 256, 320, 384, 448, 512):
        raise UserError(f"Input size must be one of 128…512 in steps of 64, got {size}.")
    if retrieval_k is not None and retrieval_k < 1:
        raise UserError("retrieval_k must be at least 1.")
    prompts = [check_image(p, f"prompt image #{i + 1}") for i, p in enumerate(prompts)]
    queries = [check_image(q, f"query image #{i + 1}") for i, q in enumerate(queries)]
    engs = _get_engines(engine, size, checkpoint)
    keys = [image_key(p) for p in prompts]
    p_glob = np.stack([global_features(p, k) for p, k in zip(prompts, keys)])
    results = []
    for qi, query in enumerate(queries):
        if progress:
            progress(qi / len(queries), f"Inspecting image {qi + 1}/{len(queries)}")
        t0 = time.perf_counter()
        sims = p_glob @ global_features(query)
        order = np.argsort(-sims, kind="stable")
        chosen = order[: retrieval_k] if retrieval_k else order
        pool = [(prompts[i], keys[i]) for i in chosen]
        if tiled:
            amap = _tiled_map(engs, query, pool, size)
        else:
            q_arr, lb = letterbox(query, size)
            amap = unletterbox(_square_map(engs, q_arr, pool, size), lb)
        amap = np.clip(amap, 0.0, 1.0).astype(np.float32)
        score_mode = getattr(engs[-1][1], "score_mode", "max") if engine == "knn" else "max"
        from backend.anomaly.knn import image_score

        results.append(InspectionResult(
            score=image_score(amap, score_mode), anomaly_map=amap,
            prompt_index=int(chosen[0]) if len(chosen) == 1 else -1,
            prompt_similarity=float(sims[chosen[0]]), engine=engine,
            ms=(time.perf_counter() - t0) * 1000.0))
    if progress:
        progress(1.0, "Done")
    return results


def evaluate(data_dir: str, engine: str, size: int = 256, prompt_seeds=(0,), retrieval_k=None,
             progress: Progress = None, checkpoint: str | None = None, max_per_class: int | None = None) -> dict:
    """Metrics over an MVTec-layout tree; the same JSON as `python -m backend.anomaly.evaluate`."""
    from backend.anomaly.evaluate import run_evaluation

    return run_evaluation(data_dir, engine=engine, size=size, prompt_seeds=tuple(prompt_seeds),
                          retrieval_k=retrieval_k, progress=progress, checkpoint=checkpoint,
                          max_per_class=max_per_class)

"""Prompts + queries → maps and scores: the engine-running core under the inspector and the CLIs.

Engines are found by role ("metauas", "knn", "ensemble") among the registry's `anomaly` plug-ins
(backend.anomaly.engines), so each loads once per process; prompt features are cached in one shared
LRU by image content hash (SamPredictor style: the
expensive prompt work is done once, queries are cheap). Maps and scores are in absolute units —
never min-max normalised per image — so a defect-free query really looks cold.
"""
from __future__ import annotations

import functools
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from PIL import Image

from backend.anomaly import engines
from backend.anomaly.knn import image_score
from backend.anomaly.nuisance import MAX_PROMPT_AUG
from backend.anomaly.preprocess import check_image, image_key, letterbox, normalise, unletterbox
from backend.errors import UserError
from backend.registry import get_registry

ENGINES = engines.ROLES
MAX_TILES = 64

Progress = Callable[[float, str], None] | None


@dataclass
class InspectionResult:
    score: float                 # image score (absolute units, comparable across images)
    anomaly_map: np.ndarray      # float32 (H, W) at the query's original size, in [0, 1]
    prompt_index: int            # which prompt of the pool was used (best), or -1 when several were averaged
    prompt_similarity: float     # global cosine similarity prompt↔query (Lite0 head features, average-pooled)
    engine: str
    ms: float
    prompt_aug: dict = field(default_factory=dict)  # nuisance views per prompt used ({"views": K}; ensemble: per member)


def _registry():
    return get_registry()


def engines_available() -> list[dict]:
    """What the UI can offer (one row per role), with the reason when an engine cannot run here."""
    return engines.describe()


# -- global similarity (prompt retrieval) ----------------------------------------------------
def global_features(img: Image.Image, key: str | None = None) -> np.ndarray:
    """Unit-norm 1280-d Lite0 head features (average-pooled), cached by content hash in the shared LRU."""
    def compute():
        enc = _registry().get("lite0-imagenet")
        arr, _ = letterbox(img, 224)
        x = torch.from_numpy(normalise(arr))[None].to(enc.device)
        with torch.no_grad():
            f = enc.model.extract_features(x).mean(dim=(2, 3))[0]
            return torch.nn.functional.normalize(f, dim=0).cpu().numpy().astype(np.float32)

    return engines.PROMPT_CACHE.get_or_compute(("global", key or image_key(img)), compute)


def global_similarity(a: Image.Image, b: Image.Image) -> float:
    fa = global_features(check_image(a, "first image"))
    return float(np.dot(fa, global_features(check_image(b, "second image"))))


# -- inspection ------------------------------------------------------------------------------
def _square_map(eng, q_arr: np.ndarray, prompts: list[tuple[Image.Image, str]], size: int) -> np.ndarray:
    return eng.map_square(q_arr, [eng.memory(p, size, k) for p, k in prompts])


def _tile_grid(length: int, tile: int) -> list[int]:
    if length <= tile:
        return [0]
    n = math.ceil((length - tile) / (tile * 0.75)) + 1
    return [round(i * (length - tile) / (n - 1)) for i in range(n)]


def _tiled_map(eng, query: Image.Image, prompts: list[tuple[Image.Image, str]], size: int,
               tile_done: Callable[[int, int], None] | None = None) -> np.ndarray:
    """Overlapping tiles at native resolution (small defects survive); prompt resized to the query. `tile_done(k, n)`
    after each tile: each tile's prompt crop gets its own prompt features, so a large query can take minutes."""
    w, h = query.size
    tile = size
    while len(_tile_grid(w, tile)) * len(_tile_grid(h, tile)) > MAX_TILES:
        tile = int(tile * 1.25)
    acc = np.zeros((h, w), np.float32)
    cnt = np.zeros((h, w), np.float32)
    resized = [(p.resize((w, h), Image.Resampling.BILINEAR), k) for p, k in prompts]
    boxes = [(x, y, min(x + tile, w), min(y + tile, h)) for y in _tile_grid(h, tile) for x in _tile_grid(w, tile)]
    for t, box in enumerate(boxes):
        q_arr, lb = letterbox(query.crop(box), size)
        tp = [(p.crop(box), f"{k}:{box}") for p, k in resized]
        m = unletterbox(_square_map(eng, q_arr, tp, size), lb)
        acc[box[1]:box[3], box[0]:box[2]] += m
        cnt[box[1]:box[3], box[0]:box[2]] += 1
        if tile_done:
            tile_done(t + 1, len(boxes))
    return acc / np.maximum(cnt, 1)


def inspect(prompts: Sequence[Image.Image], queries: Sequence[Image.Image], engine: str = "metauas",
            size: int = 256, retrieval_k: int | None = None, tiled: bool = False, progress: Progress = None,
            checkpoint: str | None = None, prompt_aug: int | None = None,
            map_options: dict | None = None) -> list[InspectionResult]:
    """Inspect every query against the prompt pool (all prompts, or the `retrieval_k` most similar).
    `prompt_aug`: nuisance views per prompt used as extra prompts (None: the engine's configured default)."""
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
    if prompt_aug is not None and not 0 <= int(prompt_aug) <= MAX_PROMPT_AUG:
        raise UserError(f"Prompt augmentation must be 0…{MAX_PROMPT_AUG} views per prompt, got {prompt_aug}.")
    eng = engines.get(engine, size, checkpoint, prompt_aug, map_options)
    views = engines.prompt_aug_of(eng)
    keys = [image_key(p) for p in prompts]
    # One prompt, one square map, an engine whose encoder ends in Lite0's last block: nothing to
    # retrieve, and the similarity is read off the map's own encoder pass (no separate global pass).
    shared = len(prompts) == 1 and not tiled and getattr(eng, "shares_global", False)
    p_glob = None if shared else np.stack([global_features(p, k) for p, k in zip(prompts, keys, strict=False)])
    results = []
    for qi, query in enumerate(queries):
        if progress:
            progress(qi / len(queries), f"Inspecting image {qi + 1}/{len(queries)}")
        t0 = time.perf_counter()
        if shared:
            q_arr, lb = letterbox(query, size)
            mem = eng.memory(prompts[0], size, keys[0])
            lite0: Any = eng  # shares_global: a MetaUAS engine on Lite0 (map_and_global / global_from)
            m, q_glob = lite0.map_and_global(q_arr, [mem], with_global=True)
            amap = unletterbox(m, lb)
            p_vec = engines.PROMPT_CACHE.get_or_compute(("global-shared", id(eng), keys[0], size),
                                                        functools.partial(lite0.global_from, mem))
            sims, chosen = np.array([float(np.dot(p_vec, q_glob))]), np.array([0])
        else:
            sims = p_glob @ global_features(query)
            order = np.argsort(-sims, kind="stable")
            chosen = order[: retrieval_k] if retrieval_k else order
            pool = [(prompts[i], keys[i]) for i in chosen]
            if tiled:
                def tile_done(k: int, n: int, qi: int = qi) -> None:
                    if progress:
                        progress((qi + k / n) / len(queries), f"image {qi + 1}/{len(queries)}: tile {k}/{n}")

                amap = _tiled_map(eng, query, pool, size, tile_done)
            else:
                q_arr, lb = letterbox(query, size)
                amap = unletterbox(_square_map(eng, q_arr, pool, size), lb)
        amap = np.clip(amap, 0.0, 1.0).astype(np.float32)
        results.append(InspectionResult(
            score=image_score(amap, getattr(eng, "score_mode", "max")), anomaly_map=amap,
            prompt_index=int(chosen[0]) if len(chosen) == 1 else -1,
            prompt_similarity=float(sims[chosen[0]]), engine=engine,
            ms=(time.perf_counter() - t0) * 1000.0, prompt_aug=dict(views)))
    if progress:
        progress(1.0, "Done")
    return results

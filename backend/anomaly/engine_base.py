"""What every anomaly engine shares: the `AnomalyEngine` protocol and the one prompt-feature LRU.

Kept apart from `engines.py` (lookup by role, the ensemble), which imports the engine classes, so the
engines can use this module without an import cycle.
"""
from __future__ import annotations

import copy
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, Protocol, runtime_checkable

import numpy as np
from PIL import Image

from backend.anomaly import normal_variation as nvar
from backend.anomaly.nuisance import PROMPT_AUG_RECIPE, PROMPT_AUG_SEED, check_prompt_aug, prompt_views
from backend.anomaly.preprocess import letterbox


@runtime_checkable
class AnomalyEngine(Protocol):
    """What the inspector needs from an engine. Maps are in absolute units (never min-max normalised)."""

    name: str
    score_mode: str  # "max" or "top{q}p" (mean of the top q% of pixels): how the image score is read off the map

    def memory(self, prompt: Image.Image, size: int, key: str) -> Any:
        """Prompt features at input `size` (cached by `key`, the prompt's content hash)."""

    def map_square(self, query_arr: np.ndarray, memories: list) -> np.ndarray:
        """(size, size) float map in [0, 1] for a letterboxed uint8 query against the prompts' memories."""


class LRU:
    """The one thread-safe least-recently-used cache of prompt (and global) features."""

    def __init__(self, capacity: int = 64):
        self.capacity = capacity
        self._data: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def get_or_compute(self, key, compute: Callable[[], Any]) -> Any:
        with self._lock:
            if key in self._data:
                self._data.move_to_end(key)
                return self._data[key]
        value = compute()  # outside the lock: two threads may compute once each, never block each other
        with self._lock:
            self._data[key] = value
            while len(self._data) > self.capacity:
                self._data.popitem(last=False)
        return value

    def __len__(self) -> int:
        return len(self._data)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()


# Prompt features of every engine and global features, keyed by content hash. 160 entries: a tiled query runs up to 64
# tiles (service.MAX_TILES), each with its own prompt crop, and the default ensemble keeps two member memories per tile;
# at 128 the LRU evicted each tile just before the next query of that size needed it (all 128 recomputed per query).
# An entry is ≈ 4 MB (MetaUAS) to 6 MB (kNN with 8 views and its normal-variation map), so ≈ 1 GB at most.
PROMPT_CACHE = LRU(160)


class PromptViews(list):
    """The features of ONE prompt and of its K nuisance views (the prompt itself first): an engine's
    `map_square` treats them as that many prompts (its own multi-prompt path)."""


def expand_views(memories: list) -> list:
    """Memories of several prompts, each prompt's nuisance views expanded into prompts of their own."""
    return [v for m in memories for v in (m if isinstance(m, PromptViews) else [m])]


class NVMemory:
    """A prompt's memory plus its normal-variation map (protocol v5, `normal_variation`): `mem` is what the
    engine's raw map needs, `nv` the (size, size) map its query maps are discounted by."""

    __slots__ = ("mem", "nv")

    def __init__(self, mem, nv: np.ndarray):
        self.mem, self.nv = mem, nv


def split_nv(memories: list) -> tuple[list, np.ndarray | None]:
    """(raw memories, the pixelwise max of their NV maps or None when none carries one)."""
    raw = [m.mem if isinstance(m, NVMemory) else m for m in memories]
    nvs = [m.nv for m in memories if isinstance(m, NVMemory)]
    return raw, (np.max(np.stack(nvs), axis=0) if nvs else None)


class PromptMemory:
    """Mixin: `memory()` = letterbox the prompt, `prompt_features(arr)`, cached in the shared LRU.

    With `prompt_aug = K > 0` the memory holds the prompt and K seeded nuisance views of it
    (`nuisance.prompt_views`), computed once and cached under a key naming K, the recipe and the seed;
    `pool_views` decides how an engine keeps them (default: `PromptViews`, i.e. K+1 prompts).
    With `nv_norm` ("sub"/"rel", protocol v5) the memory also carries the prompt's normal-variation map
    (`NVMemory`): NV_VIEWS seeded nuisance views of the prompt mapped against it (`raw_map`), their max,
    max-filtered by `nv_radius`; `map_square` = `raw_map` discounted by it (`finish`)."""

    cache = PROMPT_CACHE
    prompt_aug = 0  # K nuisance views per prompt (protocol v4; 0 = the prompt alone)
    nv_norm = "none"  # protocol v5: "none", "sub" or "rel" (normal_variation.normalise)
    nv_radius = 0     # px of shift tolerance of the NV map (max filter)

    def raw_map(self, query_arr: np.ndarray, memories: list) -> np.ndarray:  # pragma: no cover - engines
        raise NotImplementedError

    def finish(self, amap: np.ndarray, nv: np.ndarray | None) -> np.ndarray:
        return nvar.normalise(amap, nv, self.nv_norm) if nv is not None else amap

    def map_square(self, query_arr: np.ndarray, memories: list) -> np.ndarray:
        raw, nv = split_nv(memories)
        return self.finish(self.raw_map(query_arr, raw), nv)

    def set_map_options(self, opts: dict) -> None:
        """Protocol v5's map settings from a models.toml entry (score aggregation, NV normalisation)."""
        if "score" in opts:
            self.score_mode = str(opts["score"])
        mode = str(opts.get("nv_norm", "none"))
        if mode not in nvar.MODES:
            raise ValueError(f"nv_norm must be one of {nvar.MODES}, got {mode!r}")
        self.nv_norm, self.nv_radius = mode, int(opts.get("nv_radius", 0))

    def map_options(self) -> dict:
        return {"score": getattr(self, "score_mode", "max"), "nv_norm": self.nv_norm, "nv_radius": self.nv_radius}

    def prompt_features(self, arr: np.ndarray) -> Any:  # pragma: no cover - implemented by engines
        raise NotImplementedError

    def pool_views(self, feats: list) -> Any:
        return PromptViews(feats)

    def memory_key(self, key: str, size: int) -> tuple:
        nv = () if self.nv_norm == "none" else ("nv", self.nv_norm, self.nv_radius, nvar.NV_VIEWS, nvar.NV_SEED)
        if not self.prompt_aug:
            return (id(self), key, size, *nv)
        return (id(self), key, size, "aug", self.prompt_aug, PROMPT_AUG_RECIPE, PROMPT_AUG_SEED, *nv)

    def memory(self, prompt: Image.Image, size: int, key: str) -> Any:
        def compute():
            arr, _ = letterbox(prompt, size)
            if not self.prompt_aug:
                mem = self.prompt_features(arr)
            else:
                mem = self.pool_views([self.prompt_features(v) for v in prompt_views(arr, self.prompt_aug)])
            if self.nv_norm == "none":
                return mem
            views = [self.raw_map(v, [mem]) for v in nvar.nv_views(arr)]
            return NVMemory(mem, nvar.nv_map(views, self.nv_radius))

        return self.cache.get_or_compute(self.memory_key(key, size), compute)

    def with_prompt_aug(self, k: int):
        """This engine with K nuisance views per prompt (a copy sharing the weights; kept alive and reused,
        since cache keys contain the engine's id)."""
        k = check_prompt_aug(k)
        if k == self.prompt_aug:
            return self
        return _variant(self, k)


_VARIANTS: dict[tuple[int, int], tuple[Any, Any]] = {}
_VARIANTS_LOCK = threading.Lock()


def _variant(engine, k: int):
    with _VARIANTS_LOCK:
        key = (id(engine), k)
        if key not in _VARIANTS:
            v = copy.copy(engine)
            v.prompt_aug = k
            _VARIANTS[key] = (engine, v)  # the base is kept too, so its id is never reused
        return _VARIANTS[key][1]

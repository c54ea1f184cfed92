"""What every anomaly engine shares: the `AnomalyEngine` protocol and the one prompt-feature LRU.

Kept apart from `engines.py` (lookup by role, the ensemble), which imports the engine classes, so the
engines can use this module without an import cycle.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, Protocol, runtime_checkable

import numpy as np
from PIL import Image

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


PROMPT_CACHE = LRU(128)  # prompt features of every engine and global features, keyed by content hash


class PromptMemory:
    """Mixin: `memory()` = letterbox the prompt, `prompt_features(arr)`, cached in the shared LRU."""

    cache = PROMPT_CACHE

    def prompt_features(self, arr: np.ndarray) -> Any:  # pragma: no cover - implemented by engines
        raise NotImplementedError

    def memory(self, prompt: Image.Image, size: int, key: str) -> Any:
        def compute():
            arr, _ = letterbox(prompt, size)
            return self.prompt_features(arr)

        return self.cache.get_or_compute((id(self), key, size), compute)

"""anomaly2: the shared prompt-feature cache holds every tile of a tiled query, so the next query of that size reuses
them. With 128 entries, the default ensemble (two member memories per tile) on a large query (64 tiles) plus the two
global features needed 130: the least-recently-used cache evicted each tile just before it was needed again, and every
query of a tiled batch recomputed all 128 tile memories (minutes each on a CPU, found running the tab end to end)."""
from __future__ import annotations

import numpy as np
from PIL import Image

from backend.anomaly import engines, service


class TwoMemberStub:
    """Caches two memories per prompt (as the ensemble's MetaUAS and kNN members do) and counts their computations."""
    score_mode = "max"

    def __init__(self):
        self.computed = 0

    def memory(self, prompt, size, key):
        def compute():
            self.computed += 1
            return np.zeros(1)
        return {r: engines.PROMPT_CACHE.get_or_compute((id(self), r, key, size), compute) for r in ("a", "b")}

    def map_square(self, query_arr, memories):
        return np.zeros(query_arr.shape[:2], np.float32)


def test_a_second_tiled_query_of_the_same_size_reuses_every_tile(monkeypatch):
    stub = TwoMemberStub()
    monkeypatch.setattr(service.engines, "get", lambda *a, **k: stub)
    rng = np.random.default_rng(0)
    prompt = Image.fromarray(rng.integers(0, 255, (64, 64, 3), dtype=np.uint8))
    queries = [Image.fromarray(rng.integers(0, 255, (2000, 2000, 3), dtype=np.uint8)) for _ in range(2)]
    engines.PROMPT_CACHE.clear()
    service.inspect([prompt], queries[:1], engine="ensemble", tiled=True)
    first = stub.computed
    assert first == 2 * service.MAX_TILES  # this query size runs the most tiles there are
    service.inspect([prompt], queries[1:], engine="ensemble", tiled=True)
    assert stub.computed == first  # nothing recomputed
    engines.PROMPT_CACHE.clear()

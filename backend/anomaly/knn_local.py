"""Position-aware patch kNN (protocol v10, static/anomaly/protocol_v10.json): the shipped kNN's features, but each
query patch is matched only against prompt patches near its own place in the letterboxed square.

Why: the global kNN is position-free, so a region filled from the photo's own background (a removal) or copied
from elsewhere in it (a duplicate) finds a match somewhere in the prompt and looks normal. A window of ±`window`
stride-8 cells around the query cell (in every prompt view) keeps "what should be HERE" in the comparison;
`window = 0` is the global search. Optional chroma term (`colour` = λ): per cell the mean CIELAB (a*, b*) of its
pixels, and distance ½(1 − cos) + λ·‖Δ(a*, b*)‖/100 (Lite0 features are largely colour-invariant; L* is left out
because brightness is a nuisance that must not be flagged).

Everything else is the shipped kNN's: features, prompt views pooled into one bank, σ, NV normalisation, score.
"""
from __future__ import annotations

import cv2
import numpy as np
import torch

from backend.anomaly.knn import KnnEngine, gaussian_smooth

CHROMA_SCALE = 100.0  # ‖Δ(a*, b*)‖ in CIELAB units / 100


class LocalBank:
    """Patch features (V, h, w, C) of V prompt views on the cell grid and each cell's chroma (V, h, w, 2)."""

    __slots__ = ("feats", "chroma")

    def __init__(self, feats: torch.Tensor, chroma: torch.Tensor):
        if feats.shape[:3] != chroma.shape[:3]:
            raise ValueError("features and chroma must share the (views, h, w) grid")
        self.feats, self.chroma = feats, chroma

    @staticmethod
    def cat(banks: list[LocalBank]) -> LocalBank:
        return LocalBank(torch.cat([b.feats for b in banks]), torch.cat([b.chroma for b in banks]))


def cell_chroma(arr_uint8: np.ndarray, h: int, w: int) -> torch.Tensor:
    """(h, w, 2) mean CIELAB (a*, b*) over each cell of an (S, S, 3) uint8 image divided into h × w cells."""
    lab = cv2.cvtColor(np.asarray(arr_uint8, np.float32) / 255.0, cv2.COLOR_RGB2LAB)[..., 1:]
    cells = cv2.resize(lab, (w, h), interpolation=cv2.INTER_AREA)  # the mean of each cell when S is a multiple
    return torch.from_numpy(np.ascontiguousarray(cells.reshape(h, w, 2), dtype=np.float32))


def _global(q: torch.Tensor, q_chroma: torch.Tensor, bank: LocalBank, colour: float) -> torch.Tensor:
    h, w, c = q.shape
    qf, bf = q.reshape(-1, c), bank.feats.reshape(-1, c)
    best = torch.full((qf.shape[0],), float("inf"))
    for s in range(0, bf.shape[0], 8192):  # chunked so huge pools stay in memory
        d = (1.0 - (qf @ bf[s:s + 8192].T).clamp(-1, 1)) / 2.0
        if colour > 0:
            d = d + colour * torch.cdist(q_chroma.reshape(-1, 2), bank.chroma.reshape(-1, 2)[s:s + 8192]) / CHROMA_SCALE
        best = torch.minimum(best, d.min(dim=1).values)
    return best.reshape(h, w)


def local_distance(q: torch.Tensor, q_chroma: torch.Tensor, bank: LocalBank, window: int = 0,
                   colour: float = 0.0) -> torch.Tensor:
    """(h, w) distance of each query cell's patch (q: (h, w, C) unit features, q_chroma: (h, w, 2)) to its nearest
    allowed bank patch: ½(1 − cos) + colour·‖Δ(a*, b*)‖/100, over the bank cells of every view within `window` cells
    (Chebyshev) of the query cell; `window` 0 = every bank patch (the shipped global search)."""
    h, w, _ = q.shape
    if bank.feats.shape[1:3] != (h, w):
        raise ValueError(f"bank grid {tuple(bank.feats.shape[1:3])} differs from the query's {(h, w)}")
    if window <= 0:
        return _global(q, q_chroma, bank, colour)
    r = int(window)
    best = torch.full((h, w), float("inf"))
    for dy in range(-r, r + 1):
        ys, yb = slice(max(0, -dy), min(h, h - dy)), slice(max(0, dy), min(h, h + dy))
        for dx in range(-r, r + 1):
            xs, xb = slice(max(0, -dx), min(w, w - dx)), slice(max(0, dx), min(w, w + dx))
            if ys.start >= ys.stop or xs.start >= xs.stop:
                continue
            cos = torch.einsum("hwc,vhwc->vhw", q[ys, xs], bank.feats[:, yb, xb])
            d = (1.0 - cos.clamp(-1, 1)) / 2.0
            if colour > 0:
                d = d + colour * (q_chroma[ys, xs][None] - bank.chroma[:, yb, xb]).norm(dim=-1) / CHROMA_SCALE
            best[ys, xs] = torch.minimum(best[ys, xs], d.min(dim=0).values)
    return best


class LocalKnnEngine(KnnEngine):
    """KnnEngine with a position window (`window` cells, 0 = global) and a chroma term (`colour` = λ)."""

    name = "knn-lite0-local"

    def __init__(self, entry=None, device: str = "cpu", encoder=None):
        super().__init__(entry, device, encoder)
        opts = getattr(entry, "options", {}) or {}
        self.window = int(opts.get("window", 0))
        self.colour = float(opts.get("colour", 0.0))
        if self.window < 0 or self.colour < 0:
            raise ValueError("window and colour must be >= 0")

    def map_options(self) -> dict:
        return {**super().map_options(), "window": self.window, "colour": self.colour}

    def memory_key(self, key: str, size: int) -> tuple:
        return (*super().memory_key(key, size), "local", self.window, self.colour)

    def prompt_features(self, arr: np.ndarray) -> LocalBank:
        f, (h, w) = self.patch_features(arr)
        return LocalBank(f.reshape(1, h, w, -1), cell_chroma(arr, h, w)[None])

    def pool_views(self, feats: list) -> LocalBank:
        return LocalBank.cat(feats)

    def raw_map(self, query_arr: np.ndarray, memories: list) -> np.ndarray:
        """Anomaly map (size, size) in [0, 1] of a letterboxed query against the pooled prompt banks (before the
        NV normalisation of `map_square`)."""
        F = torch.nn.functional
        size = query_arr.shape[0]
        q, (h, w) = self.patch_features(query_arr)
        bank = LocalBank.cat(list(memories))
        with torch.no_grad():
            dist = local_distance(q.reshape(h, w, -1), cell_chroma(query_arr, h, w), bank, self.window, self.colour)
            up = F.interpolate(dist.reshape(1, 1, h, w), size=(size, size), mode="bilinear",
                               align_corners=False)[0, 0]
        return gaussian_smooth(up.cpu().numpy(), self.sigma)

"""Training-free patch-kNN engine (PatchCore / AnomalyDINO style) on the shipped Lite0 encoder (or the encoder a row's
`encoder` option names: protocol v12's Lite2, same stages).

Why it exists: it needs no training and no alignment, so it is the honest baseline for the learned
MetaUAS engine and the fallback when no MetaUAS checkpoint is present.

- Patch features: Lite0 blocks at stride 8 (40 ch) and stride 16 (112 ch), each averaged over a 3×3
  neighbourhood (PatchCore's local aggregation), L2-normalised, the stride-16 level upsampled to
  stride 8, concatenated and renormalised.
- Score of a query patch: ½·(1 − max cosine) to every patch of every prompt (prompts, and with
  `prompt_aug` each prompt's nuisance views, pool their patches), so the map is in absolute units in [0, 1]
  (0 = an identical patch exists).
- Map: bilinear to the input size, then Gaussian σ=4 px; image score = max (or mean of the top 1%).
"""
from __future__ import annotations

import numpy as np
import torch
from scipy.ndimage import gaussian_filter

from backend.anomaly.engine_base import PromptMemory
from backend.anomaly.nuisance import check_prompt_aug
from backend.anomaly.preprocess import normalise
from backend.embedded import Lite0Encoder
from backend.registry import get_registry

KNN_BLOCKS = (4, 10)  # Lite0 block indices: stride 8 (40 ch), stride 16 (112 ch); other encoders: their knn_blocks
DEFAULT_ENCODER = "lite0-imagenet"  # registry entry; a row's `encoder` option names another (protocol v12: Lite2)
SIGMA = 4.0


def gaussian_smooth(amap: np.ndarray, sigma: float = SIGMA) -> np.ndarray:
    if sigma <= 0:
        return amap.astype(np.float32)

    return gaussian_filter(amap.astype(np.float32), sigma=sigma, mode="nearest", truncate=4.0)


def image_score(amap: np.ndarray, how: str = "max") -> float:
    """Image score from a map: the max, or "top{q}p", the mean of the top q% of pixels ("top1p" is
    AnomalyDINO's `mean_top1p`)."""
    flat = np.asarray(amap, dtype=np.float32).ravel()
    if how.startswith("top") and how.endswith("p"):
        try:
            q = float(how[3:-1])
        except ValueError:
            raise ValueError(f"unknown score mode {how!r}") from None
        k = max(1, int(round(q / 100.0 * flat.size)))
        return float(np.partition(flat, -k)[-k:].mean())
    if how != "max":
        raise ValueError(f"unknown score mode {how!r}")
    return float(flat.max())


class KnnEngine(PromptMemory):
    """Patch-kNN anomaly maps; prompt memory banks are cached (shared LRU) by image content hash."""

    name = "knn-lite0"
    kind = "embedded"

    def __init__(self, entry=None, device: str = "cpu", encoder=None):
        opts = getattr(entry, "options", {}) or {}
        if encoder is None:
            encoder = get_registry().get(str(opts.get("encoder", DEFAULT_ENCODER)))
        self.encoder = encoder
        self.blocks = tuple(getattr(encoder, "knn_blocks", KNN_BLOCKS))  # the encoder's stride-8 / stride-16 blocks
        # the ensemble divides this member's map by `calibration` (protocol v12; None: engines.KNN_CALIBRATION)
        self.calibration = float(opts["calibration"]) if "calibration" in opts else None
        self.device = getattr(encoder, "device", device)
        self.score_mode = "max"
        self.set_map_options(opts)  # score aggregation and NV normalisation (protocol v5)
        self.sigma = float(opts.get("sigma", SIGMA))
        self.prompt_aug = check_prompt_aug(opts.get("prompt_aug", 0))  # nuisance views per prompt (protocol v4)
        self._torch = torch

    @classmethod
    def check_available(cls, entry=None) -> tuple[bool, str]:
        name = str((getattr(entry, "options", {}) or {}).get("encoder", DEFAULT_ENCODER))
        if name == DEFAULT_ENCODER:
            return Lite0Encoder.check_available(entry)
        try:
            return get_registry().availability(name)
        except Exception as exc:  # an encoder name that is not configured
            return False, f"encoder {name!r}: {exc}"

    # -- features ------------------------------------------------------------------------
    def patch_features(self, arr_uint8: np.ndarray):
        """(H, W, 3) uint8 square input → (h*w, C) unit-norm patch features and (h, w)."""
        torch = self._torch
        F = torch.nn.functional
        x = torch.from_numpy(normalise(arr_uint8))[None].to(self.device)
        with torch.no_grad():
            feats = self.encoder.features(x, blocks=self.blocks)
            f8, f16 = feats[self.blocks[0]], feats[self.blocks[1]]
            f8 = F.normalize(F.avg_pool2d(f8, 3, 1, 1, count_include_pad=False), dim=1)
            f16 = F.normalize(F.avg_pool2d(f16, 3, 1, 1, count_include_pad=False), dim=1)
            f16 = F.interpolate(f16, size=f8.shape[-2:], mode="bilinear", align_corners=False)
            f = F.normalize(torch.cat([f8, F.normalize(f16, dim=1)], dim=1), dim=1)
        h, w = f.shape[-2:]
        return f[0].flatten(1).T.contiguous(), (int(h), int(w))

    def prompt_features(self, arr: np.ndarray):
        return self.patch_features(arr)[0]

    def pool_views(self, feats: list):
        """A prompt's nuisance views (prompt_aug) pool their patches into its bank, as several prompts do."""
        return self._torch.cat(feats, dim=0)

    # -- inference -----------------------------------------------------------------------
    def raw_map(self, query_arr: np.ndarray, memories: list) -> np.ndarray:
        """Anomaly map (size, size) in [0, 1] for a letterboxed query against pooled prompt patches
        (before the NV normalisation of `map_square`)."""
        torch = self._torch
        F = torch.nn.functional
        size = query_arr.shape[0]
        q, (h, w) = self.patch_features(query_arr)
        bank = torch.cat(memories, dim=0)
        with torch.no_grad():
            best = torch.full((q.shape[0],), -1.0, device=q.device)
            for start in range(0, bank.shape[0], 8192):  # chunked so huge pools stay in memory
                best = torch.maximum(best, (q @ bank[start:start + 8192].T).max(dim=1).values)
            dist = ((1.0 - best.clamp(-1, 1)) / 2.0).reshape(1, 1, h, w)
            up = F.interpolate(dist, size=(size, size), mode="bilinear", align_corners=False)[0, 0]
        return gaussian_smooth(up.cpu().numpy(), self.sigma)

"""Registry adapter around a MetaUAS checkpoint: prompt features cached, one map per query.

The embedded default (`metauas-lite0`) reads our trained checkpoint from the repository and reuses
the process-wide Lite0 encoder from the registry; the official b4 checkpoints are "checkpoint"
entries under MODELS_DIR and stay disabled until a user places them there.
"""
from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import numpy as np
import torch

from backend.anomaly.checkpoint import load_metauas
from backend.anomaly.engine_base import NVMemory, PromptMemory, PromptViews, expand_views, split_nv
from backend.anomaly.nuisance import check_prompt_aug
from backend.anomaly.preprocess import normalise
from backend.errors import UserError
from backend.registry import get_registry

REPO_ROOT = Path(__file__).resolve().parents[2]


def entry_path(entry) -> Path | None:
    if entry is None or not getattr(entry, "path", None):
        return None
    if getattr(entry, "kind", "") == "embedded":
        p = Path(entry.path)
        return p if p.is_absolute() else REPO_ROOT / p
    return entry.resolved_path


class MetaUASEngine(PromptMemory):
    score_mode = "max"  # the map maximum: chosen on the validation photos (static/anomaly/score_validation.json)

    def __init__(self, entry=None, device: str = "cpu", path: str | Path | None = None,
                 map_options: dict | None = None):
        self.path = Path(path) if path else entry_path(entry)
        if self.path is None:
            raise UserError("No MetaUAS checkpoint path is configured.")
        opts = getattr(entry, "options", {}) or {}
        encoder = opts.get("encoder")
        lite0_net = None
        if encoder in (None, "efficientnet-lite0") and entry is not None:
            try:  # share the process-wide Lite0 (one copy of the weights in memory)
                lite0_net = get_registry().get("lite0-imagenet").model
            except Exception:
                lite0_net = None
        self.model, self.meta = load_metauas(self.path, encoder=encoder, lite0_net=lite0_net)
        self.device = device
        self.model.to(device).eval()
        self.name = getattr(entry, "name", None) or self.path.name
        self.prompt_aug = check_prompt_aug(opts.get("prompt_aug", 0))  # nuisance views per prompt (protocol v4)
        self.score_mode = type(self).score_mode
        self.set_map_options({**opts, **(map_options or {})})  # score aggregation, NV normalisation (protocol v5)

    @classmethod
    def check_available(cls, entry=None) -> tuple[bool, str]:
        p = entry_path(entry)
        if p is None:
            return False, "no checkpoint path configured"
        if not p.is_file():
            return False, f"checkpoint not found at {p}"
        return True, f"checkpoint {p.name} ({p.stat().st_size / 2**20:.1f} MB)"

    def _feats(self, arr: np.ndarray):
        x = torch.from_numpy(normalise(arr))[None].to(self.device)
        return self.model.encode(x)

    def prompt_features(self, arr: np.ndarray):
        return self._feats(arr)

    @torch.no_grad()
    def raw_map(self, query_arr: np.ndarray, memories: list) -> np.ndarray:
        """One decode: the aligned features of all prompts are averaged (the official intent; its list
        branch is broken). A prompt's nuisance views (prompt_aug) count as prompts of their own."""
        q = self._feats(query_arr)
        return torch.sigmoid(self.model.decode(q, expand_views(list(memories))))[0, 0].float().cpu().numpy()

    @torch.no_grad()
    def map_square(self, query_arr: np.ndarray, memories: list) -> np.ndarray:
        return self.map_and_global(query_arr, memories)[0]

    # -- global features read off the encoder pass the map needs anyway -------------------------
    @property
    def shares_global(self) -> bool:
        """True when the encoder is Lite0, so its ImageNet head (one 1×1 conv on the stride-32 features) gives
        the global feature without a second full encoder pass (an encoder that stops at stride 16 only runs
        Lite0's remaining blocks on the map's own stride-16 features)."""
        net = getattr(self.model.encoder, "net", None)
        return net is not None and hasattr(net, "_conv_head") and hasattr(self.model.encoder, "taps")

    @torch.no_grad()
    def global_from(self, feats) -> np.ndarray:
        """Unit-norm 1280-d Lite0 head feature (average-pooled) from this engine's 6 feature levels (of a
        prompt with nuisance views: of the prompt itself)."""
        if isinstance(feats, NVMemory):
            feats = feats.mem
        if isinstance(feats, PromptViews):
            feats = feats[0]
        enc: Any = self.model.encoder  # Lite0Features around efficientnet_lite_pytorch's EfficientNet (untyped)
        net = enc.net
        h = feats[-1] if enc.taps[-1] == len(net._blocks) - 1 else enc.tail(feats[-1])  # encoder stopped early
        f = net._swish(net._bn1(net._conv_head(h))).mean(dim=(2, 3))[0]
        return torch.nn.functional.normalize(f, dim=0).float().cpu().numpy()

    @torch.no_grad()
    def map_and_global(self, query_arr: np.ndarray, memories: list, with_global: bool = False):
        """(map, query global feature or None) from ONE encoder pass of the query."""
        raw, nv = split_nv(list(memories))
        q = self._feats(query_arr)
        amap = torch.sigmoid(self.model.decode(q, expand_views(raw)))[0, 0].float().cpu().numpy()
        return self.finish(amap, nv), (self.global_from(q) if with_global else None)


_BY_PATH: dict[tuple, MetaUASEngine] = {}
_BY_PATH_LOCK = threading.Lock()


def engine_from_checkpoint(path: str | Path, device: str = "cpu", map_options: dict | None = None) -> MetaUASEngine:
    """An engine for an explicit checkpoint file (evaluate --checkpoint), loaded once per path and map options
    (None: the raw map, score max)."""
    key = (str(Path(path).resolve()), tuple(sorted((map_options or {}).items())))
    with _BY_PATH_LOCK:
        if key not in _BY_PATH:
            _BY_PATH[key] = MetaUASEngine(None, device, path=path, map_options=map_options)
        return _BY_PATH[key]

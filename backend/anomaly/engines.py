"""Anomaly engines as registry plug-ins: the protocol, the one prompt-feature cache, lookup by role.

Every `capability = "anomaly"` row of models.toml is an engine; its `role` option ("metauas", "knn",
"ensemble") is what the UI and the CLIs ask for, so adding an engine is one models.toml row plus one
class implementing `AnomalyEngine` — no engine names are written in the services. Within a role the
best available entry wins: an entry whose `size` option equals the requested input size, then the
entry marked `default = true`, then any available one (official b4 checkpoints, when a user places
them under MODELS_DIR, take over from the embedded Lite0 at their own resolution).

The ensemble is an engine composed of others (as Edit3DPipeline composes stages): its members are
looked up by role, its map is their calibrated mean, and `fuse` is public so an evaluation that has
already computed the member maps need not recompute them.
"""
from __future__ import annotations

import json
import threading
from pathlib import Path

import numpy as np
from PIL import Image

from backend.anomaly.engine_base import LRU, PROMPT_CACHE, AnomalyEngine, PromptMemory
from backend.anomaly.metauas_engine import engine_from_checkpoint, entry_path
from backend.errors import UserError
from backend.registry import get_registry

__all__ = ["AnomalyEngine", "LRU", "PROMPT_CACHE", "PromptMemory", "EnsembleEngine", "ROLES", "default_role",
           "describe", "entry_name", "get", "map_options_of", "map_settings_of", "prompt_aug_of"]

CAPABILITY = "anomaly"
ROLES = ("metauas", "knn", "ensemble")
HELDOUT_REPORT = Path(__file__).resolve().parents[2] / "static" / "anomaly" / "heldout_report.json"


def default_role(available: list[str] | None = None, report: Path = HELDOUT_REPORT) -> str:
    """The inspector's default engine: the winner (pixel AP, correct prompt) of the committed held-out
    real-photo report among the available roles; kNN when there is no report."""
    available = list(available or ROLES)
    try:
        res = json.loads(report.read_text())["results"]
        ranked = sorted((r for r in ROLES if r in res and r in available),
                        key=lambda r: -res[r]["correct"]["mean"]["p_ap"])
        if ranked:
            return ranked[0]
    except (OSError, KeyError, ValueError):
        pass
    return "knn" if "knn" in available else available[0]


# -- lookup ----------------------------------------------------------------------------------------
def _registry():
    return get_registry()


def role_of(entry) -> str | None:
    return (getattr(entry, "options", {}) or {}).get("role")


def entry_name(role: str, size: int = 256, registry=None) -> str:
    """Name of the best available `anomaly` entry playing `role` (or the default one when none is)."""
    if role not in ROLES:
        raise UserError(f"Unknown engine {role!r}; choose one of {', '.join(ROLES)}.")
    reg = registry or _registry()
    rows = [e for e in reg.entries(CAPABILITY) if role_of(e) == role]
    if not rows:
        raise UserError(f"No anomaly engine with role {role!r} is configured in models.toml.")
    ranked = sorted(rows, key=lambda e: (e.options.get("size") != size, not e.options.get("default", False)))
    for e in ranked:
        try:
            if reg.availability(e.name)[0]:
                return e.name
        except Exception:
            continue
    return next((e.name for e in rows if e.options.get("default")), rows[0].name)


def get(role: str, size: int = 256, checkpoint: str | None = None, prompt_aug: int | None = None,
        map_options: dict | None = None) -> AnomalyEngine:
    """The engine instance for a role (an explicit MetaUAS checkpoint file overrides the registry's, with
    `map_options` {score, nv_norm, nv_radius}, None: raw map and score max); `prompt_aug` overrides the number of
    nuisance views per prompt (None: the entry's setting)."""
    if checkpoint and role in ("metauas", "ensemble"):
        m = engine_from_checkpoint(checkpoint, map_options=map_options)
        eng: AnomalyEngine = m if role == "metauas" else EnsembleEngine.of({"metauas": m, "knn": get("knn", size)})
    else:
        eng = _registry().get(entry_name(role, size))
    if prompt_aug is not None:
        eng = eng.with_prompt_aug(prompt_aug)  # type: ignore[attr-defined]
    return eng


def map_options_of(role: str, size: int = 256) -> dict:
    """The registry entry's protocol-v5 map settings for a role (score, nv_norm, nv_radius), without loading it."""
    opts = getattr(_registry().entry(entry_name(role, size)), "options", {}) or {}
    return {k: opts[k] for k in ("score", "nv_norm", "nv_radius") if k in opts}


def map_settings_of(engine) -> dict:
    """The map settings an engine runs with (protocol v5; the ensemble: its score and its members')."""
    members = getattr(engine, "members", None)
    if members:
        return {"score": getattr(engine, "score_mode", "max"), **{r: map_settings_of(e) for r, e in members.items()}}
    opts = getattr(engine, "map_options", None)
    return opts() if callable(opts) else {"score": getattr(engine, "score_mode", "max")}


def prompt_aug_of(engine) -> dict:
    """The prompt augmentation an engine runs with (per member for the ensemble), for the UI and result JSON."""
    members = getattr(engine, "members", None)
    if members:
        return {role: int(getattr(e, "prompt_aug", 0)) for role, e in members.items()}
    return {"views": int(getattr(engine, "prompt_aug", 0))}


def describe(size: int = 256) -> list[dict]:
    """What the UI can offer: one row per role, with the active entry's label, availability and reason."""
    reg = _registry()
    out = []
    for role in ROLES:
        name = entry_name(role, size, reg)
        e = reg.entry(name)
        try:
            ok, why = reg.availability(name)
        except Exception as exc:
            ok, why = False, str(exc)
        views = _prompt_aug_option(e, reg)
        label = (e.label or name) + _views_text(views) + _map_text(getattr(e, "options", {}) or {})
        out.append({"name": role, "entry": name, "label": label, "available": ok, "why": why,
                    "checkpoint": _checkpoint_of(e), "prompt_aug": views})
    return out


def _prompt_aug_option(entry, reg) -> dict[str, int]:
    """Nuisance views per prompt configured for an entry, by role (the ensemble: per member), without loading it."""
    if role_of(entry) == "ensemble":
        out: dict[str, int] = {}
        for role in (getattr(entry, "options", {}) or {}).get("weights", {"metauas": 1, "knn": 1}):
            try:
                out.update(_prompt_aug_option(reg.entry(entry_name(role, registry=reg)), reg))
            except Exception:
                out[role] = 0
        return out
    return {str(role_of(entry)): int((getattr(entry, "options", {}) or {}).get("prompt_aug", 0))}


def _views_text(views: dict[str, int]) -> str:
    names = {"metauas": "MetaUAS", "knn": "kNN"}
    parts = [(f"{names.get(r, r)}: " if len(views) > 1 else "") + f"prompt + {k} nuisance views"
             for r, k in views.items() if k]
    return (" · " + "; ".join(parts)) if parts else ""


def _map_text(opts: dict) -> str:
    """Protocol v5's map settings of an entry, for its UI label."""
    parts = []
    if opts.get("nv_norm", "none") != "none":
        parts.append(f"minus the prompt's normal variation (r {int(opts.get('nv_radius', 0))} px)")
    if str(opts.get("score", "max")) != "max":
        parts.append(f"image score {opts['score']}")
    return (" · " + ", ".join(parts)) if parts else ""


def _checkpoint_of(entry) -> str | None:
    if role_of(entry) == "knn":
        return None
    if role_of(entry) == "ensemble":
        try:
            return _checkpoint_of(_registry().entry(entry_name("metauas")))
        except Exception:
            return None
    p = entry_path(entry)
    return str(p) if p else None


# -- the ensemble ----------------------------------------------------------------------------------
# kNN distances live in [0, ~0.4]; dividing by this scale (≈ the 99th-99.9th percentile of normal-pixel
# kNN distances on validation change pairs, 0.24-0.30) puts them on the MetaUAS probability scale.
KNN_CALIBRATION = 0.30


_ENSEMBLE_VARIANTS: dict[tuple[int, int], tuple] = {}
_ENSEMBLE_LOCK = threading.Lock()


def calibrated(member: str) -> bool:
    """Whether an ensemble member's map is a kNN distance (divided by KNN_CALIBRATION): "knn" and "knn_*"."""
    return member == "knn" or member.startswith("knn_")


class EnsembleEngine:
    """Weighted mean of member maps (MetaUAS and calibrated kNN maps); members found by role in the registry (or
    passed in, as the offline protocols do with extra "knn_*" members)."""

    score_mode = "max"

    def __init__(self, entry=None, device: str = "cpu", members: dict | None = None):
        self.name = getattr(entry, "name", None) or "ensemble"
        opts = getattr(entry, "options", {}) or {}
        self.weights = dict(opts.get("weights", {"metauas": 0.5, "knn": 0.5}))
        self.score_mode = str(opts.get("score", "max"))  # image score of the fused map (protocol v5)
        self.size = int(opts.get("size", 256))
        self.members = members or {role: get(role, self.size) for role in self.weights}
        self.device = device

    @classmethod
    def of(cls, members: dict) -> EnsembleEngine:
        return cls(None, "cpu", members=members)

    def with_prompt_aug(self, k: int) -> EnsembleEngine:
        """The ensemble whose members all use K nuisance views per prompt (member variants, shared weights)."""
        key = (id(self), int(k))
        with _ENSEMBLE_LOCK:
            if key not in _ENSEMBLE_VARIANTS:
                v = EnsembleEngine.of({r: e.with_prompt_aug(k) for r, e in self.members.items()})
                v.name, v.weights, v.size, v.score_mode = self.name, dict(self.weights), self.size, self.score_mode
                _ENSEMBLE_VARIANTS[key] = (self, v)
            return _ENSEMBLE_VARIANTS[key][1]

    @classmethod
    def check_available(cls, entry=None) -> tuple[bool, str]:
        reg = _registry()
        for role in (getattr(entry, "options", {}) or {}).get("weights", {"metauas": 1, "knn": 1}):
            ok, why = reg.availability(entry_name(role))
            if not ok:
                return False, f"{role}: {why}"
        return True, "members ready"

    def memory(self, prompt: Image.Image, size: int, key: str) -> dict:
        return {role: eng.memory(prompt, size, key) for role, eng in self.members.items()}

    def calibration(self, member: str) -> float:
        """The scale a kNN member's map is divided by: the member engine's own `calibration` (a models.toml row
        option, protocol v12: re-derived for another encoder) or KNN_CALIBRATION."""
        own = getattr(self.members.get(member), "calibration", None)
        return float(own) if isinstance(own, int | float) and own > 0 else KNN_CALIBRATION

    def fuse(self, maps: dict[str, np.ndarray]) -> np.ndarray:
        """Weighted mean of member maps on one scale (kNN maps divided by their calibration, clipped to [0, 1])."""
        total = sum(self.weights.values())
        out: np.ndarray | None = None
        for role, w in self.weights.items():
            m = np.asarray(maps[role], np.float32)
            if calibrated(role):
                m = np.clip(m / self.calibration(role), 0.0, 1.0)
            out = m * (w / total) if out is None else out + m * (w / total)
        assert out is not None, "an ensemble has members"
        return out.astype(np.float32)

    def map_square(self, query_arr: np.ndarray, memories: list) -> np.ndarray:
        return self.fuse({role: eng.map_square(query_arr, [m[role] for m in memories])
                          for role, eng in self.members.items()})

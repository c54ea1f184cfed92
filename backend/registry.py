"""Model registry: which adapters exist, which can load, and the loaded instances.

Adapters are declared in `models.toml` (override with MODELS_CONFIG). Each `[[models]]` entry
names a capability ("pointing", "anomaly", "segmentation", "depth", "svg", ...), a kind
("embedded" default shipped in packages, "checkpoint" = big local weights, "remote" = HTTP
endpoint), and a `factory` "module:callable". Construction is lazy (first `get`), happens once
per process under a per-entry lock, and is timed; the Status tab shows what happened.

A factory is called as `factory(entry, device)` and returns the adapter. It may expose
`check_available(entry) -> (bool, str)` (a classmethod or attribute) so the registry can say
"weights not found in …" without loading anything.
"""
from __future__ import annotations

import importlib
import logging
import os
import threading
import time
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from backend.config import ConfigError, get_settings
from backend.errors import UserError

log = logging.getLogger(__name__)
KINDS = ("embedded", "checkpoint", "remote")
REPO_ROOT = Path(__file__).resolve().parent.parent  # embedded defaults ship inside the repository


class ModelUnavailable(UserError):
    """The adapter cannot be used here (weights missing, endpoint down, load failed)."""


@dataclass
class ModelEntry:
    name: str
    capability: str
    kind: str
    factory: str
    label: str = ""
    enabled: bool = True
    path: str | None = None  # for checkpoints: relative to MODELS_DIR or absolute
    options: dict[str, Any] = field(default_factory=dict)
    line: int | None = None

    @property
    def resolved_path(self) -> Path | None:
        """Where the weights are: relative paths of embedded defaults are inside the repository
        (e.g. static/anomaly/…), those of big checkpoints under MODELS_DIR."""
        if not self.path:
            return None
        p = Path(os.path.expandvars(self.path)).expanduser()
        if p.is_absolute():
            return p
        return (REPO_ROOT if self.kind == "embedded" else get_settings().models_dir) / p


@dataclass
class LoadRecord:
    loaded: bool = False
    load_time_s: float | None = None
    memory_mb: float | None = None
    error: str | None = None
    device: str | None = None


def resolve_device(pref: str | None = None) -> str:
    pref = (pref or get_settings().device or "auto").lower()
    if pref != "auto":
        return pref
    try:
        import torch  # noqa: PLC0415 - only "auto" needs torch; the registry itself stays light for CLIs

        return "cuda" if torch.cuda.is_available() else "cpu"
    except Exception:
        return "cpu"


def footprint_mb(obj, depth: int = 3, seen: set | None = None) -> float:
    """MB held by torch modules/tensors and numpy arrays reachable from `obj`'s attributes
    (a few levels deep; shared objects counted once)."""
    seen = set() if seen is None else seen
    if id(obj) in seen or depth < 0:
        return 0.0
    seen.add(id(obj))
    total = 0.0
    if isinstance(obj, np.ndarray):
        return obj.nbytes / 2**20
    mod = type(obj).__module__ or ""
    if mod.startswith("torch"):
        params = getattr(obj, "parameters", None)
        if callable(params) and hasattr(obj, "buffers"):
            ts = {id(t): t for t in (*obj.parameters(), *obj.buffers())}
            return sum(t.numel() * t.element_size() for t in ts.values()) / 2**20
        if hasattr(obj, "element_size") and hasattr(obj, "numel"):
            return obj.numel() * obj.element_size() / 2**20
        return 0.0
    if isinstance(obj, dict):
        children = list(obj.values())
    elif isinstance(obj, (list, tuple)):
        children = list(obj)
    elif hasattr(obj, "__dict__") and not isinstance(obj, type):
        children = list(vars(obj).values())
    else:
        return 0.0
    for c in children[:200]:
        total += footprint_mb(c, depth - 1, seen)
    return total


def _rss_mb() -> float | None:
    try:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except Exception:
        return None


def _find_line(text: str, name: str) -> int | None:
    for i, line in enumerate(text.splitlines(), 1):
        if line.strip().startswith("name") and f'"{name}"' in line:
            return i
    return None


def parse_models_toml(path: Path) -> list[ModelEntry]:
    """Parse the config; errors name the file and line."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise ConfigError(f"Model config {path} does not exist (set MODELS_CONFIG).") from exc
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path.name}: {exc}") from exc  # message carries "(at line N, column M)"
    entries: list[ModelEntry] = []
    seen: set[str] = set()
    for i, raw in enumerate(data.get("models", [])):
        name = raw.get("name")
        line = _find_line(text, name) if name else None
        where = f"{path.name} line {line}" if line else f"{path.name} [[models]] #{i + 1}"
        missing = [k for k in ("name", "capability", "kind", "factory") if not raw.get(k)]
        if missing:
            raise ConfigError(f"{where}: missing {', '.join(missing)}")
        if raw["kind"] not in KINDS:
            raise ConfigError(f"{where}: kind must be one of {KINDS}, got {raw['kind']!r}")
        if ":" not in raw["factory"]:
            raise ConfigError(f"{where}: factory must look like 'package.module:Callable'")
        if name in seen:
            raise ConfigError(f"{where}: duplicate model name {name!r}")
        seen.add(name)
        known = {"name", "capability", "kind", "factory", "label", "enabled", "path", "options"}
        extra = {k: v for k, v in raw.items() if k not in known}
        entries.append(ModelEntry(name=name, capability=raw["capability"], kind=raw["kind"], factory=raw["factory"],
                                  label=raw.get("label", ""), enabled=bool(raw.get("enabled", True)),
                                  path=raw.get("path"), options={**extra, **raw.get("options", {})}, line=line))
    return entries


def _import_factory(spec: str) -> Callable:
    mod_name, _, attr = spec.partition(":")
    obj: Any = importlib.import_module(mod_name)
    for part in attr.split("."):
        obj = getattr(obj, part)
    return obj


class Registry:
    def __init__(self, entries: list[ModelEntry], device: str | None = None):
        self._entries = {e.name: e for e in entries}
        self._device = device
        self._instances: dict[str, Any] = {}
        self._records: dict[str, LoadRecord] = {e.name: LoadRecord() for e in entries}
        self._locks: dict[str, threading.Lock] = {e.name: threading.Lock() for e in entries}
        self._overrides: dict[str, Any] = {}

    # -- configuration -----------------------------------------------------------------
    @property
    def device(self) -> str:
        return self._device or resolve_device()

    def entries(self, capability: str | None = None) -> list[ModelEntry]:
        return [e for e in self._entries.values() if capability is None or e.capability == capability]

    def entry(self, name: str) -> ModelEntry:
        try:
            return self._entries[name]
        except KeyError as exc:
            raise ModelUnavailable(f"No model named {name!r} is configured.") from exc

    def add(self, entry: ModelEntry, instance: Any | None = None) -> None:
        """Register an entry at run time (tests, few-shot styles); `instance` skips the factory."""
        self._entries[entry.name] = entry
        self._records[entry.name] = LoadRecord(loaded=instance is not None, load_time_s=0.0 if instance else None,
                                               device=self.device if instance else None)
        self._locks[entry.name] = threading.Lock()
        if instance is not None:
            self._instances[entry.name] = instance

    def availability(self, name: str) -> tuple[bool, str]:
        """Whether `name` can be used without loading it, and why not."""
        e = self.entry(name)
        if not e.enabled:
            return False, "disabled in config"
        rec = self._records[name]
        if rec.error:
            return False, rec.error
        if e.kind == "checkpoint":
            p = e.resolved_path
            if p is None or not p.exists():
                return False, f"weights not found at {p}" if p else "no path configured"
        try:
            factory = _import_factory(e.factory)
        except Exception as exc:  # missing optional dependency, typo in config
            return False, f"cannot import {e.factory}: {exc}"
        check = getattr(factory, "check_available", None)
        if callable(check):
            try:
                ok, why = check(e)
                if not ok:
                    return False, why
            except Exception as exc:
                return False, f"availability check failed: {exc}"
        return True, "ready" if rec.loaded else "not loaded yet"

    def factory(self, name: str) -> Callable:
        """The class (or callable) that builds `name`, imported but not called: plug-in metadata such as a
        `check_available` or `label_note` classmethod is read from it without loading any weights."""
        return _import_factory(self.entry(name).factory)

    def available(self, capability: str) -> list[str]:
        return [e.name for e in self.entries(capability) if self.availability(e.name)[0]]

    def pick(self, capability: str, prefer: Sequence[str] = (), default: str | None = None,
             any_checkpoint: bool = True) -> str:
        """The best available entry of `capability`, for "auto" choices: the first available name in `prefer`,
        else (with `any_checkpoint`) the first available checkpoint entry, since user-supplied weights beat
        embedded defaults, else `default`, else the first available entry. ModelUnavailable if nothing can run."""
        avail = self.available(capability)
        for name in prefer:
            if name in avail:
                return name
        ckpt = [n for n in avail if any_checkpoint and self._entries[n].kind == "checkpoint"]
        if ckpt:
            return ckpt[0]
        if default is not None:
            return default
        if avail:
            return avail[0]
        raise ModelUnavailable(f"No {capability} model is available here; see the Status tab.")

    # -- loading -------------------------------------------------------------------------
    def get(self, name: str) -> Any:
        """The adapter instance, built on first use (thread-safe, once)."""
        if name in self._instances:
            return self._instances[name]
        e = self.entry(name)
        with self._locks[name]:
            if name in self._instances:
                return self._instances[name]
            ok, why = self.availability(name)
            if not ok:
                raise ModelUnavailable(f"{e.label or name} is unavailable: {why}")
            rec = self._records[name]
            t0, m0 = time.perf_counter(), _rss_mb()
            try:
                inst = _import_factory(e.factory)(e, self.device)
            except Exception as exc:
                rec.error = f"load failed: {type(exc).__name__}: {exc}"
                log.exception("loading %s failed", name)
                raise ModelUnavailable(f"{e.label or name} failed to load: {exc}") from exc
            rec.loaded, rec.device = True, getattr(inst, "device", None) or self.device
            rec.load_time_s = time.perf_counter() - t0
            m1 = _rss_mb()
            rss = (m1 - m0) if (m0 is not None and m1 is not None) else None
            # the process's RSS barely moves when libraries are already loaded, so also count the
            # adapter's own tensors and arrays and show the larger figure
            own = footprint_mb(inst)
            rec.memory_mb = max(x for x in (rss, own) if x is not None) if (rss is not None or own) else None
            self._instances[name] = inst
            return inst

    def mark_error(self, name: str, error: str | None) -> None:
        """Record (or clear) a runtime failure, e.g. an endpoint found unhealthy."""
        if name in self._records:
            self._records[name].error = error

    def status(self) -> list[dict]:
        rows = []
        for e in self._entries.values():
            ok, why = self.availability(e.name)
            rec = self._records[e.name]
            rows.append({
                "name": e.name, "capability": e.capability, "kind": e.kind,
                "label": e.label or e.name, "enabled": e.enabled,
                "weights_found": ok if e.kind != "remote" else None, "available": ok, "detail": why,
                "path": str(e.resolved_path) if e.resolved_path else (e.options.get("base_url") or ""),
                "loaded": rec.loaded, "device": rec.device or "",
                "load_time_s": None if rec.load_time_s is None else round(rec.load_time_s, 3),
                "memory_mb": None if rec.memory_mb is None else round(rec.memory_mb, 1),
            })
        return rows


_lock = threading.Lock()
_registry: Registry | None = None


def get_registry() -> Registry:
    global _registry
    with _lock:
        if _registry is None:
            _registry = Registry(parse_models_toml(get_settings().models_config))
        return _registry


def reset_registry() -> None:
    global _registry
    with _lock:
        _registry = None

"""Settings read from the environment, in one place.

Every other module asks `get_settings()` instead of reading `os.environ`, so tests can
point the whole app at a temporary directory by setting variables before import and
calling `reset_settings()`.
"""
from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent

# Offline by construction: nothing in this process may reach a model hub.
for _var in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE", "DIFFUSERS_OFFLINE"):
    os.environ.setdefault(_var, "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")


class ConfigError(RuntimeError):
    """A setting is missing or wrong; the message names the variable."""


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    database_url: str
    models_dir: Path
    models_config: Path
    device: str  # "auto", "cpu", "cuda", "cuda:1", ...
    admin_token: str | None
    max_upload_bytes: int
    max_image_pixels: int
    ip_salt_env: str | None
    extra: dict = field(default_factory=dict)

    @property
    def images_dir(self) -> Path:
        return self.data_dir / "images"

    @property
    def database_kind(self) -> str:
        return "postgresql" if self.database_url.startswith("postgresql") else "sqlite"


def _int_env(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be an integer, got {raw!r}") from exc


def _load() -> Settings:
    data_dir = Path(os.environ.get("DATA_DIR") or (REPO_ROOT / "data")).expanduser().resolve()
    db_url = os.environ.get("DATABASE_URL", "").strip()
    if not db_url:
        db_url = f"sqlite:///{data_dir / 'app.db'}"
    elif db_url.startswith("postgres://"):
        db_url = "postgresql+psycopg://" + db_url[len("postgres://"):]
    elif db_url.startswith("postgresql://"):
        db_url = "postgresql+psycopg://" + db_url[len("postgresql://"):]
    if not (db_url.startswith("sqlite") or db_url.startswith("postgresql")):
        raise ConfigError(f"DATABASE_URL must be sqlite:/// or postgresql+psycopg://, got scheme {db_url.split(':')[0]!r}")
    return Settings(
        data_dir=data_dir,
        database_url=db_url,
        models_dir=Path(os.environ.get("MODELS_DIR") or (REPO_ROOT / "models")).expanduser().resolve(),
        models_config=Path(os.environ.get("MODELS_CONFIG") or (REPO_ROOT / "models.toml")).expanduser().resolve(),
        device=os.environ.get("DEVICE", "auto").strip() or "auto",
        admin_token=os.environ.get("ADMIN_TOKEN") or None,
        max_upload_bytes=_int_env("MAX_UPLOAD_BYTES", 25 * 1024 * 1024),
        max_image_pixels=_int_env("MAX_IMAGE_PIXELS", 40_000_000),
        ip_salt_env=os.environ.get("IP_SALT") or None,
    )


_lock = threading.Lock()
_settings: Settings | None = None


def get_settings() -> Settings:
    global _settings
    with _lock:
        if _settings is None:
            _settings = _load()
        return _settings


def reset_settings() -> None:
    """Forget cached settings (tests change the environment and call this)."""
    global _settings
    with _lock:
        _settings = None


# Job classes of model-running events: concurrency_id -> (concurrency limit, requests per minute per session;
# an IP hash gets 4x). Override one with JOB_<KIND>=limit,per_minute (e.g. JOB_SVG_LEARN=1,2). Rates of 0 disable.
JOB_POOL_DEFAULTS: dict[str, tuple[int, int]] = {
    "battle": (2, 30),       # /new_battle: the arena must never wait behind slow jobs
    "edit3d": (1, 120),      # renders (sliders re-render, debounced), selections, exports
    "anomaly": (1, 20),      # inspections
    "anomaly_slow": (1, 4),  # calibration and evaluation on a dataset zip
    "svg": (1, 30),          # generation, style cards, edits
    "svg_learn": (1, 3),     # few-shot style learning (seconds to minutes each)
    "bench": (1, 6),         # Point-Bench evaluation / annotation
}


def job_pools() -> dict[str, tuple[int, int]]:
    out = {}
    for kind, (limit, rate) in JOB_POOL_DEFAULTS.items():
        raw = os.environ.get(f"JOB_{kind.upper()}", "").strip()
        if raw:
            try:
                a, b = (int(v) for v in raw.split(","))
            except ValueError as exc:
                raise ConfigError(f"JOB_{kind.upper()} must be 'limit,per_minute' (two integers), got {raw!r}") from exc
            limit, rate = max(1, a), max(0, b)
        out[kind] = (limit, rate)
    return out


def gradio_cache_sweep() -> tuple[int, int]:
    """GRADIO_DELETE_CACHE="every_s,older_than_s" for Gradio's own upload/output cache (default 600,1800)."""
    raw = os.environ.get("GRADIO_DELETE_CACHE", "600,1800")
    try:
        a, b = (int(v) for v in raw.split(","))
    except ValueError as exc:
        raise ConfigError(f"GRADIO_DELETE_CACHE must be 'every_s,older_than_s', got {raw!r}") from exc
    return a, b


def max_queue_body() -> int:
    """Cap on one queue/join or call request body (files go through the upload route, not the body)."""
    return _int_env("MAX_QUEUE_BODY", 40 * 1024 * 1024)


# Sizes of client-sent JSON/text that the server stores or parses (bytes).
MAX_SELECTION_JSON = 64 * 1024
MAX_CLIENT_JSON = 256 * 1024


def redact_url(url: str) -> str:
    """Database URL without its password, for display."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # malformed URL: show only the scheme
        return url.split(":", 1)[0] + ":…"

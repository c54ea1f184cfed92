"""Settings read from the environment, in one place.

Every other module asks `get_settings()` (process-wide paths and URLs, cached) or `setting(NAME)` (tunables
such as arena limits, read live so tests can monkeypatch them) instead of reading `os.environ`; the
architecture test enforces it. Every variable is declared once in VARIABLES with its type and default, and
`check_environment()` parses them all at start-up, so a bad value stops the app with a message naming the
variable instead of failing on the first request that reads it.
"""
from __future__ import annotations

import ipaddress
import os
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from backend.errors import UserError

REPO_ROOT = Path(__file__).resolve().parent.parent

# Offline by construction: nothing in this process may reach a model hub.
for _var in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE", "DIFFUSERS_OFFLINE"):
    os.environ.setdefault(_var, "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
# uvicorn rewrites the client address from X-Forwarded-For for peers in FORWARDED_ALLOW_IPS (default: loopback),
# which lets any local client choose its IP. The app trusts exactly TRUSTED_PROXIES (backend.identity) instead.
os.environ["FORWARDED_ALLOW_IPS"] = os.environ.get("TRUSTED_PROXIES", "")


class ConfigError(UserError):
    """A setting is missing or wrong; the message names the variable."""


# -- every environment variable the app reads --------------------------------------------------------------
def _number(kind: type, lo: float | None = None, hi: float | None = None) -> Callable[[str, str], Any]:
    def parse(name: str, raw: str) -> Any:
        try:
            value = kind(raw)
        except ValueError as exc:
            raise ConfigError(f"{name} must be {'an integer' if kind is int else 'a number'}, got {raw!r}") from exc
        if (lo is not None and value < lo) or (hi is not None and value > hi):
            rng = f"between {lo:g} and {hi:g}" if lo is not None and hi is not None else \
                f"at least {lo:g}" if lo is not None else f"at most {hi:g}"
            raise ConfigError(f"{name} must be {rng}, got {raw!r}")
        return value

    return parse


def _names(_name: str, raw: str) -> frozenset[str]:
    """Comma-separated list → set of stripped, non-empty items."""
    return frozenset(x.strip() for x in raw.split(",") if x.strip())


def _pairs(name: str, raw: str) -> frozenset[frozenset[str]]:
    """"a:b,c:d" → {{a, b}, {c, d}} (unordered model pairs)."""
    items = _names(name, raw)
    bad = [p for p in items if ":" not in p]
    if bad:
        raise ConfigError(f"{name} entries must look like model_a:model_b, got {bad[0]!r}")
    return frozenset(frozenset(x.strip() for x in p.split(":", 1)) for p in items)


def _weights(name: str, raw: str) -> dict[str, float]:
    """"name=2,other=0.5" → {"name": 2.0, "other": 0.5}."""
    out = {}
    for item in _names(name, raw):
        key, _, val = item.partition("=")
        try:
            out[key.strip()] = float(val)
        except ValueError as exc:
            raise ConfigError(f"{name} entry {item!r} must look like name=1.5") from exc
    return out


def _anchor(name: str, raw: str) -> tuple[str, float] | None:
    """"model=1000" → ("model", 1000.0): pin one model's rating."""
    model, _, val = raw.strip().rpartition("=")
    try:
        return (model.strip(), float(val)) if model.strip() else None
    except ValueError as exc:
        raise ConfigError(f"{name} must look like model_name=1000, got {raw!r}") from exc


def _flag(name: str, raw: str) -> bool:
    value = raw.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name} must be 1/0 (or true/false), got {raw!r}")


def _text(_name: str, raw: str) -> str:
    return raw.strip()


def _int_pair(name: str, raw: str) -> tuple[int, int]:
    try:
        a, b = (int(v) for v in raw.split(","))
    except ValueError as exc:
        raise ConfigError(f"{name} must be two integers 'a,b', got {raw!r}") from exc
    return a, b


def _networks(name: str, raw: str) -> str:
    """Comma-separated IP addresses / CIDR networks (validated; parsed again by backend.identity)."""
    for part in (p.strip() for p in raw.split(",")):
        if not part:
            continue
        try:
            ipaddress.ip_network(part, strict=False)
        except ValueError as exc:
            raise ConfigError(f"{name} has an entry that is not an IP address or network: {part!r}") from exc
    return raw.strip()


def _path(_name: str, raw: str) -> Path:
    return Path(raw).expanduser().resolve()


@dataclass(frozen=True)
class Variable:
    name: str
    parse: Callable[[str, str], Any]
    default: Any
    doc: str


VARIABLES: dict[str, Variable] = {v.name: v for v in (
    # process-wide (read once into Settings by get_settings)
    Variable("DATA_DIR", _path, REPO_ROOT / "data", "database (SQLite) and stored images"),
    Variable("DATABASE_URL", _text, "", "sqlite:///… or postgresql+psycopg://…; default DATA_DIR/app.db"),
    Variable("MODELS_DIR", _path, REPO_ROOT / "models", "big local checkpoints"),
    Variable("MODELS_CONFIG", _path, REPO_ROOT / "models.toml", "model adapters (registry)"),
    Variable("DEVICE", _text, "auto", "auto | cpu | cuda | cuda:N"),
    Variable("ADMIN_TOKEN", _text, "", "enables admin views and raw exports"),
    Variable("ADMIN_USERS", _names, frozenset(), "Hugging Face usernames with admin rights (OAuth)"),
    Variable("ADMIN_TOKEN_TRIES", _number(int, 0), 10,
             "wrong admin tokens one client IP may send per 10 minutes before its admin checks are refused; 0 = off"),
    Variable("ADMIN_TOKEN_TRIES_ALL", _number(int, 0), 100,
             "wrong admin tokens all client IPs together may send per 10 minutes before token checks are refused "
             "for everyone; 0 = off"),
    Variable("MAX_UPLOAD_BYTES", _number(int, 1), 25 * 1024 * 1024, "largest accepted upload"),
    Variable("UPLOAD_MB_PER_IP", _number(int, 0), 2048,
             "MB one client IP may upload in 30 minutes (Gradio keeps uploads that long); 0 = no cap"),
    Variable("MAX_IMAGE_PIXELS", _number(int, 1), 40_000_000, "largest accepted image (width × height)"),
    Variable("IP_SALT", _text, "", "salt for hashed client addresses (default: a file in DATA_DIR)"),
    Variable("RATE_LIMIT_PER_MIN", _number(int, 0), 60, "model calls per session per action per minute; 0 = off"),
    Variable("GRADIO_SERVER_NAME", _text, "127.0.0.1", "address `python app.py` listens on"),
    Variable("GRADIO_SERVER_PORT", _number(int, 1, 65535), 7860, "port `python app.py` listens on"),
    Variable("DB_WRITE_DEADLINE_S", _number(float, 0.1), 10.0,
             "longest one write waits for a locked or unreachable database before \"nothing was saved\""),
    Variable("DB_STATEMENT_TIMEOUT_S", _number(float, 0.5), 30.0,
             "PostgreSQL: longest one statement runs (statement_timeout); a server silent for min(5, this) s "
             "longer loses the connection"),
    Variable("BACKUP_DIR", _text, "", "periodic database backups go here (with BACKUP_EVERY_S)"),
    Variable("BACKUP_EVERY_S", _number(float, 1), 0.0, "seconds between periodic backups; unset = off"),
    Variable("BACKUP_KEEP", _number(int, 1), 7, "periodic backups kept"),
    # pointing
    Variable("POINTER_COOLDOWN_S", _number(float, 0), 60.0, "a failing contestant sits out this long"),
    # arena
    Variable("ARENA_BENCH_DIR", _path, REPO_ROOT / "static" / "bench", "Point-Bench sample used for battles"),
    Variable("ARENA_MIN_DWELL_S", _number(float, 0), 3.0, "faster votes are stored, not counted"),
    Variable("ARENA_RATE_LIMIT", _number(int, 0), 30, "battles per session/IP per window"),
    Variable("ARENA_RATE_WINDOW_S", _number(int, 1), 600, "rate-limit window"),
    Variable("ARENA_TIMEOUT_S", _number(float, 0.1), 60.0, "per-model timeout in a battle"),
    Variable("ARENA_DAILY_VOTE_CAP", _number(int, 0), 0, "votes per judge per day counted; 0 = no cap"),
    Variable("ARENA_DEDUP_QUANTILE", _number(float, 0, 1), 0.0, "e.g. 0.9999; 0 = off"),
    Variable("ARENA_MIN_VOTES", _number(int, 0), 20, "below this a model is preliminary"),
    Variable("ARENA_LEADERBOARD_TTL_S", _number(float, 0), 30.0, "leaderboard cache lifetime"),
    Variable("ARENA_BANNED_IPS", _names, frozenset(), "comma list of refused client addresses"),
    Variable("ARENA_BT_PRIOR", _number(float, 0), 1.0, "L2 prior on Bradley-Terry strengths; 0 = MLE"),
    Variable("ARENA_ANCHOR", _anchor, None, "pin one rating, e.g. center=1000"),
    Variable("ARENA_MODELS", _names, frozenset(), "allow-list of contestants (comma list)"),
    Variable("ARENA_BOOST_MODELS", _names, frozenset(), "contestants sampled more often"),
    Variable("ARENA_OUTAGE_MODELS", _names, frozenset(), "contestants taken out of matchmaking"),
    Variable("ARENA_EXCLUDE_PAIRS", _pairs, frozenset(), "pairs never matched, a:b,c:d"),
    Variable("ARENA_ACTIVE_SAMPLING", _flag, False, "sample pairs by rating uncertainty"),
    Variable("ARENA_ACTIVE_MIX", _number(float, 0, 1), 0.5, "share of actively sampled pairs"),
    Variable("ARENA_WEIGHTS", _weights, {}, "matchmaking weights, name=2,other=0.5"),
    # limits (issue 16): temp folders, image headers, request bodies, job pools
    Variable("TEMP_MAX_AGE_S", _number(float, 1), 900.0, "output temp folders are swept once older than this"),
    Variable("GRADIO_DELETE_CACHE", _int_pair, (600, 1800), "Gradio cache sweep: every_s,older_than_s"),
    Variable("MAX_FRAME_PIXELS", _number(int, 1), 100_000_000, "width × height × frames from an image header"),
    Variable("MAX_QUEUE_BODY", _number(int, 1024), 40 * 1024 * 1024, "bytes of one queue/call request body"),
    *(Variable(f"JOB_{k.upper()}", _int_pair, None, f"'{k}' job pool: concurrency_limit,per_minute")
      for k in ("battle", "edit3d", "anomaly", "anomaly_slow", "anomaly_view", "svg", "svg_learn", "bench",
                "image_open")),
    # identity and vote trust (backend.identity, backend.arena.scripted)
    Variable("TRUSTED_PROXIES", _networks, "", "proxies whose X-Forwarded-For is read (e.g. 10.0.0.0/8 on a Space)"),
    Variable("SESSION_SECRET", _text, "", "HMAC key of the session cookie (default: derived from the salt)"),
    Variable("SESSION_MINTS_PER_IP_HOUR", _number(int, 0), 120, "new session cookies per client IP per hour"),
    Variable("REPLICAS", _number(int, 1), 1,
             "app processes serving one site: the caps each counts in its own memory (UPLOAD_MB_PER_IP, "
             "SESSION_MINTS_PER_IP_HOUR) are divided by it"),
    Variable("ARENA_SIGNED_IN_ONLY", _flag, False, "count only votes of signed-in (HF OAuth) visitors"),
    Variable("ARENA_GOLD_SHARE", _number(float, 0, 1), None, "share of random rounds on masked (gold) items"),
    Variable("ARENA_READ_S", _number(float, 0), 4.0, "median seconds-to-vote below which a judge is not reading"),
    Variable("ARENA_BURST_SESSIONS", _number(int, 1), 8, "new sessions from one network per window = a burst"),
    Variable("ARENA_BURST_WINDOW_S", _number(float, 1), 3600.0, "window of the network-burst signal"),
    Variable("SVG_VOTES_PER_MIN", _number(int, 0), 20, "SVG engine votes per session per minute"),
    Variable("SYSTEM", _text, "", "set to 'spaces' by Hugging Face Spaces"),
    Variable("SPACE_ID", _text, "", "set by Hugging Face Spaces"),
    Variable("OAUTH_CLIENT_ID", _text, "", "set on a Space with hf_oauth: true (enables sign-in)"),
)}


def setting(name: str, environ: Mapping[str, str] | None = None) -> Any:
    """The parsed value of a declared variable (read now, so a changed environment is seen)."""
    var = VARIABLES[name]  # KeyError: declare the variable above first
    raw = (os.environ if environ is None else environ).get(name)
    if raw is None or raw.strip() == "":
        return var.default
    return var.parse(name, raw)


def per_replica(total: int) -> int:
    """A cap counted in each process's own memory, as this process's share of REPLICAS: N replicas behind a load
    balancer each allowing the whole cap let one client have N times it. 0 (no cap) stays 0."""
    return total if total <= 0 else max(1, -(-total // setting("REPLICAS")))


def secret(env_name: str | None) -> str | None:
    """A credential whose variable *name* comes from models.toml or a CLI flag (api_key_env); never logged."""
    return (os.environ.get(env_name) or None) if env_name else None


def child_env(**extra: str) -> dict[str, str]:
    """The environment for a subprocess (pg_dump, a pointer server): ours plus `extra`."""
    return {**os.environ, **extra}


def check_environment(environ: Mapping[str, str] | None = None) -> None:
    """Parse every declared variable; one ConfigError listing every bad value (called at start-up)."""
    problems = []
    for name in VARIABLES:
        try:
            setting(name, environ)
        except ConfigError as exc:
            problems.append(str(exc))
    if problems:
        raise ConfigError("; ".join(problems))


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


def _load() -> Settings:
    data_dir = setting("DATA_DIR")
    db_url = setting("DATABASE_URL")
    if not db_url:
        db_url = f"sqlite:///{data_dir / 'app.db'}"
    elif db_url.startswith("postgres://"):
        db_url = "postgresql+psycopg://" + db_url[len("postgres://"):]
    elif db_url.startswith("postgresql://"):
        db_url = "postgresql+psycopg://" + db_url[len("postgresql://"):]
    if not (db_url.startswith("sqlite") or db_url.startswith("postgresql")):
        raise ConfigError("DATABASE_URL must be sqlite:/// or postgresql+psycopg://, "
                          f"got scheme {db_url.split(':')[0]!r}")
    return Settings(
        data_dir=data_dir,
        database_url=db_url,
        models_dir=setting("MODELS_DIR"),
        models_config=setting("MODELS_CONFIG"),
        device=setting("DEVICE"),
        admin_token=os.environ.get("ADMIN_TOKEN") or None,  # verbatim: a token may carry spaces
        max_upload_bytes=setting("MAX_UPLOAD_BYTES"),
        max_image_pixels=setting("MAX_IMAGE_PIXELS"),
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
    "anomaly_view": (2, 60),  # re-threshold / detail / export of a kept run: no model, but a 100-query run
    # re-renders every overlay (~40 s on the 2-core box); in the default pool 4 of them stalled every other event
    "image_open": (2, 180),  # events that only open a user image (image check, new 3D photo, annotator editor);
    # private in the UI but callable by fn_index through /queue/join, so they are gated like any job (review17)
}


def job_pools() -> dict[str, tuple[int, int]]:
    out = {}
    for kind, (limit, rate) in JOB_POOL_DEFAULTS.items():
        val = setting(f"JOB_{kind.upper()}")
        out[kind] = (max(1, val[0]), max(0, val[1])) if val else (limit, rate)
    return out


def gradio_cache_sweep() -> tuple[int, int]:
    """Gradio's own upload/output cache: (sweep every s, delete files older than s)."""
    return setting("GRADIO_DELETE_CACHE")


def max_queue_body() -> int:
    """Cap on one queue/join or call request body (files go through the upload route, not the body)."""
    return setting("MAX_QUEUE_BODY")


# Sizes of client-sent JSON/text that the server stores or parses (bytes).
MAX_SELECTION_JSON = 64 * 1024
MAX_DEPTH_HINTS = 64  # Photo 3D Edit depth hints per render (stored with every history step)
MAX_CLIENT_JSON = 256 * 1024
MAX_CLIENT_LIST = 1000  # items of any one list in a request body (files per input: every handler's cap is lower)


def limit_threads(n: int) -> None:
    """CLIs: cap OpenMP/BLAS threads before torch or onnxruntime load (they read OMP_NUM_THREADS once)."""
    os.environ.setdefault("OMP_NUM_THREADS", str(max(1, n)))

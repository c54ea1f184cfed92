"""Salted hashing of client identifiers, so raw IPs and session hashes never reach exports.

The salt comes from IP_SALT, or is generated once and kept in DATA_DIR/.ip_salt (mode 600). It is cached with the
settings it was read from: after `reset_settings()` (a changed IP_SALT or DATA_DIR) it is read again, so a process
cannot go on hashing addresses with a salt its settings no longer name (replicas sharing IP_SALT would disagree on
every per-address count).
"""
from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import threading

from backend.config import Settings, get_settings

_lock = threading.Lock()
_salt: bytes | None = None
_salt_of: Settings | None = None  # the Settings object `_salt` was read from


def _load_salt(settings: Settings) -> bytes:
    if settings.ip_salt_env:
        return settings.ip_salt_env.encode()
    path = settings.data_dir / ".ip_salt"
    if path.exists():
        return path.read_bytes().strip()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    value = secrets.token_hex(32).encode()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(value)
    return value


def salt() -> bytes:
    global _salt, _salt_of
    settings = get_settings()
    with _lock:
        if _salt is None or _salt_of is not settings:
            _salt, _salt_of = _load_salt(settings), settings
        return _salt


def reset_salt() -> None:
    global _salt, _salt_of
    with _lock:
        _salt, _salt_of = None, None


def salted_hash(value: str | None, purpose: str = "ip") -> str | None:
    """HMAC-SHA256 of `value` under the instance salt, hex, 32 chars; None stays None."""
    if not value:
        return None
    return hmac.new(salt(), f"{purpose}:{value}".encode(), hashlib.sha256).hexdigest()[:32]

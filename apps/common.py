"""Pieces every tab uses: session identity, error translation, downloads, image inputs."""
from __future__ import annotations

import functools
import json
import logging
import os
import re
import tempfile
from pathlib import Path
from typing import Any, Callable

import gradio as gr

from backend.errors import UserError
from backend.imageio import ImageInputError, open_image
from backend.security import check_rate
from backend.sessions import record_session

log = logging.getLogger(__name__)

# Only UserError's message is written for users (backend/errors.py); anything else is logged and summarised.
USER_ERRORS: tuple[type[BaseException], ...] = (UserError,)


def session_id(request: gr.Request | None) -> str:
    sid = getattr(request, "session_hash", None) if request is not None else None
    return sid or "anonymous"


def client_ip(request: gr.Request | None) -> str | None:
    if request is None:
        return None
    headers = {k.lower(): v for k, v in dict(getattr(request, "headers", {}) or {}).items()}
    fwd = headers.get("x-forwarded-for")
    if fwd:
        return fwd.split(",")[0].strip()
    client = getattr(request, "client", None)
    return getattr(client, "host", None)


def user_agent(request: gr.Request | None) -> str | None:
    if request is None:
        return None
    headers = {k.lower(): v for k, v in dict(getattr(request, "headers", {}) or {}).items()}
    return headers.get("user-agent")


def on_load(request: gr.Request) -> None:
    """demo.load hook: create/touch the session row."""
    try:
        record_session(session_id(request), client_ip=client_ip(request), user_agent=user_agent(request),
                       username=getattr(request, "username", None))
    except UserError as exc:  # storage is down: the page must still open; the message explains
        gr.Warning(str(exc))


def user_errors(fn: Callable) -> Callable:
    """Turn backend exceptions into gr.Error with a clear sentence (the UI and API clients see it)."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except gr.Error:
            raise
        except USER_ERRORS as exc:
            raise gr.Error(str(exc), title="Could not do that") from exc
        except Exception as exc:  # unexpected: keep the details in the log, say something useful
            log.exception("unexpected error in %s", fn.__name__)
            raise gr.Error(f"Something went wrong ({type(exc).__name__}). Nothing was saved from this step; "
                           "please try again.") from exc

    return wrapper


def file_path(value: Any) -> str | None:
    """The local path of a Gradio file value: a path string, a FileData dict from the API ({"path": …}), or a
    tempfile-like object with `.name` (gr.File in "file" mode). None when nothing was given."""
    if value is None or value == "":
        return None
    if isinstance(value, dict):
        value = value.get("path")
    elif not isinstance(value, (str, os.PathLike)):
        value = getattr(value, "path", None) or getattr(value, "name", None)
    return str(value) if value else None


def file_paths(values: Any) -> list[str]:
    """file_path for a gr.File(file_count="multiple") value (a list, or one value)."""
    if values is None:
        return []
    if not isinstance(values, (list, tuple)):
        values = [values]
    return [p for p in (file_path(v) for v in values) if p]


def load_user_image(value: Any, what: str = "image"):
    """Open a Gradio image value (filepath, numpy array or PIL) through backend.imageio."""
    if value is None or (isinstance(value, str) and not value):
        raise ImageInputError(f"Please provide an {what} first.")
    value = file_path(value) if isinstance(value, dict) else value
    name = Path(value).name if isinstance(value, (str, os.PathLike)) else None
    return open_image(value, name=name)


_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


def download_file(data: bytes | str, filename: str) -> str:
    """Write `data` to a fresh temp dir under a meaningful name; return the path for gr.File/DownloadButton."""
    safe = _SAFE.sub("_", filename).strip("._") or "download"
    d = tempfile.mkdtemp(prefix="dl-")
    path = Path(d) / safe
    if isinstance(data, str):
        path.write_text(data, encoding="utf-8")
    else:
        path.write_bytes(data)
    return str(path)


def download_json(obj: Any, filename: str) -> str:
    return download_file(json.dumps(obj, indent=2, default=str), filename)


def throttle(request: gr.Request | None, action: str, per_minute: int | None = None) -> None:
    """Per-session and per-IP-hash rate limit for a model call or write (raises RateLimited → gr.Error).

    Limits come from RATE_LIMIT_PER_MIN (default 60 per session per action; an IP hash gets 4× that, since
    several people may share one address). 0 disables.
    """
    check_rate(action, session_id(request), client_ip(request), per_minute)

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

from apps.session_cookie import cookie_value
from backend.errors import NotAllowed, UserError
from backend.identity import resolve_client_ip, verify_token
from backend.imageio import ImageInputError, open_image
from backend.security import check_rate
from backend.sessions import record_session

log = logging.getLogger(__name__)

# Only UserError's message is written for users (backend/errors.py); anything else is logged and summarised.
USER_ERRORS: tuple[type[BaseException], ...] = (UserError,)


_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]#|~!<>&\"':@])|(?i:(?<=www)\.)")


def md_text(value: Any, limit: int = 500) -> str:
    """User-written text made inert for gr.Markdown: HTML escaped and every Markdown, link and autolink character
    (``[ ] ! < > : @``, ``www.``) backslash-escaped, so no image, link, form or markup can come from it; it
    reads as typed. Line breaks become spaces; long text is cut at `limit` characters."""
    text = " ".join(str(value if value is not None else "").split())
    if len(text) > limit:
        text = text[:limit] + "…"
    ents = {"<": "&lt;", ">": "&gt;", "&": "&amp;", '"': "&quot;", "'": "&#39;"}
    return _MD_SPECIAL.sub(lambda m: ents.get(m.group(0), "\\" + m.group(0)), text)


def _headers(request) -> dict[str, str]:
    return {k.lower(): v for k, v in dict(getattr(request, "headers", {}) or {}).items()}


def session_id(request: gr.Request | None) -> str:
    """The server-issued session id from the signed cookie (never the client's `session_hash`).

    In-process calls without a request (tests, CLIs) are "anonymous"; a web request without a valid cookie is
    refused, because anything else would let a client choose its identity."""
    if request is None:
        return "anonymous"
    sid = verify_token(cookie_value(_headers(request).get("cookie")))
    if not sid:
        raise NotAllowed("Your browser session is missing or not valid. Reload the page (this site needs "
                              "its session cookie), or, from a script, open the app's page first.")
    return sid


def signed_in_user(request: gr.Request | None) -> str | None:
    """The Hugging Face username when the visitor signed in (OAuth on a Space), from the server-signed session;
    a username sent in the request body is never trusted."""
    if request is None:
        return None
    req = getattr(request, "request", None)
    scope = getattr(req, "scope", None)
    sess = scope.get("session") if isinstance(scope, dict) else None
    info = (sess or {}).get("oauth_info") if isinstance(sess, dict) else None
    user = ((info or {}).get("userinfo") or {}).get("preferred_username") if isinstance(info, dict) else None
    return str(user)[:128] if user else (getattr(request, "username", None) or None)


def client_ip(request: gr.Request | None) -> str | None:
    """The socket peer, or the right-most untrusted X-Forwarded-For hop behind TRUSTED_PROXIES."""
    if request is None:
        return None
    client = getattr(request, "client", None)
    return resolve_client_ip(getattr(client, "host", None), _headers(request).get("x-forwarded-for"))


def user_agent(request: gr.Request | None) -> str | None:
    if request is None:
        return None
    return _headers(request).get("user-agent")


def on_load(request: gr.Request) -> None:
    """demo.load hook: create/touch the session row."""
    try:
        record_session(session_id(request), client_ip=client_ip(request), user_agent=user_agent(request),
                       username=signed_in_user(request))
    except NotAllowed:  # no session cookie yet (e.g. the mint cap): the first action explains
        return
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

"""Pieces every tab uses: session identity, error translation, downloads, image inputs."""
from __future__ import annotations

import functools
import hashlib
import html
import json
import logging
import os
import re
import secrets
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gradio as gr
from gradio.context import LocalContext
from gradio_client.utils import is_valid_file

from apps.session_cookie import cookie_value
from backend.config import job_pools
from backend.errors import NotAllowed, UserError
from backend.identity import mint_limiter, resolve_client_ip, verify_token
from backend.imageio import ImageInputError, data_url_bytes, open_image, probe_image
from backend.security import RateLimited, check_rate, set_client_key
from backend.sessions import record_session
from backend.tempfiles import scratch_dir, shared_dir

log = logging.getLogger(__name__)

# Only UserError's message is written for users (backend/errors.py); anything else is logged and summarised.
USER_ERRORS: tuple[type[BaseException], ...] = (UserError,)


# Control characters and bidirectional overrides/isolates: U+202E in a name shown to others reverses the rest of
# the line it sits in (the sentence around it reads backwards); NUL and other C0/C1 controls are never text.
_INVISIBLE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]#|~!<>&\"':@])|(?i:(?<=www)\.)")


def md_text(value: Any, limit: int = 500) -> str:
    """User-written text made inert for gr.Markdown: HTML escaped and every Markdown, link and autolink character
    (``[ ] ! < > : @``, ``www.``) backslash-escaped, so no image, link, form or markup can come from it; it
    reads as typed. Line breaks become spaces, control characters and bidi overrides go; long text is cut at
    `limit` characters."""
    text = " ".join(_INVISIBLE.sub("", str(value if value is not None else "")).split())
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
    wait = 0.0 if sid else mint_limiter.wait_s(client_ip(request))
    if wait:  # reloading cannot help: the page was served without a cookie because of the cap
        raise NotAllowed("Too many new browser sessions came from your network in the last hour, so this page "
                         f"got none; please try again in about {max(1, round(wait / 60))} minute(s).")
    if not sid:
        raise NotAllowed("Your browser session is missing or not valid. Reload the page (this site needs "
                              "its session cookie), or, from a script, open the app's page first.")
    return sid


def tab_key(request: gr.Request | None) -> str | None:
    """A key for one browser tab of one visitor (for de-duplicating repeated events): the server-issued session
    plus the tab's `session_hash`. The hash alone is the client's word: a script that copied another visitor's
    `session_hash` could make that visitor's event be skipped as a repeat. None without a tab."""
    tab = getattr(request, "session_hash", None)
    if not tab:
        return None
    try:
        owner = session_id(request)
    except NotAllowed:
        owner = ""  # refused by the handler's own session check anyway; keyed apart from every real session
    return f"{owner}|{tab}"


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


def _forwarded_for(request) -> str | None:
    """Every X-Forwarded-For line, in order, joined (RFC 9110: repeated lines are one comma-separated list). A proxy
    that adds its own line (HAProxy's `option forwardfor`) puts the real client last; the first line is whatever
    the client wrote, and the headers mapping returns only that one."""
    headers = getattr(request, "headers", None)
    getlist = getattr(headers, "getlist", None)
    values = list(getlist("x-forwarded-for")) if callable(getlist) else [_headers(request).get("x-forwarded-for")]
    return ", ".join(v for v in values if v) or None


def client_ip(request: gr.Request | None) -> str | None:
    """The socket peer, or the right-most untrusted X-Forwarded-For hop behind TRUSTED_PROXIES."""
    if request is None:
        return None
    client = getattr(request, "client", None)
    return resolve_client_ip(getattr(client, "host", None), _forwarded_for(request))


def _current_client_ip() -> str | None:
    """The client IP of the event being handled (Gradio keeps its request in a context variable)."""
    return client_ip(LocalContext.request.get(None))


set_client_key(_current_client_ip)  # backend.security counts wrong admin tokens per client


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


def error_ref() -> str:
    """A short id that the log line and the user's message share, so a report can be matched to the log."""
    return secrets.token_hex(4)


def _where(exc: BaseException) -> str:
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    if tb is None:
        return "?"
    return f"{Path(tb.tb_frame.f_code.co_filename).name}:{tb.tb_lineno}"


def user_error(message: str, *, action: str = "", cause: BaseException | None = None) -> gr.Error:
    """gr.Error with a reference id; logs ONE line (no traceback; Gradio's own print is switched off)."""
    ref = error_ref()
    msg = " ".join(str(message).split())
    if cause is not None and not isinstance(cause, USER_ERRORS):
        log.error("error ref=%s in %s: %s at %s: %s", ref, action or "?", type(cause).__name__, _where(cause),
                  " ".join(str(cause).split())[:300])
        log.debug("traceback for ref=%s", ref, exc_info=cause)
    else:
        log.info("user error ref=%s in %s: %s", ref, action or "?", msg[:300])
    err = gr.Error(f"{msg} (ref {ref})", title="Could not do that", print_exception=False)
    err.ref = ref  # type: ignore[attr-defined]  # marks it as ours (apps.suite_blocks keeps it as it is)
    return err


def user_errors(fn: Callable) -> Callable:
    """Turn backend exceptions into gr.Error with a clear sentence (the UI and API clients see it).

    Every error logs exactly one line carrying an id that the user's message also shows.
    """

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except gr.Error as exc:
            exc.print_exception = False
            raise
        except USER_ERRORS as exc:
            raise user_error(str(exc), action=fn.__name__, cause=exc) from None
        except Exception as exc:  # unexpected: one log line with where it happened, a useful sentence
            raise user_error(f"Something went wrong ({type(exc).__name__}). Nothing was saved from this step; "
                             "please try again.", action=fn.__name__, cause=exc) from None

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
    """Write `data` under a meaningful name; return the path for gr.File/DownloadButton. The same bytes under the
    same name share one file (a script repeating a download does not add a copy per call); swept once unused
    for TEMP_MAX_AGE_S (Gradio copies it to its cache)."""
    safe = _SAFE.sub("_", filename).strip("._") or "download"
    raw = data.encode("utf-8") if isinstance(data, str) else bytes(data)
    key = hashlib.sha256(safe.encode() + b"\0" + raw).hexdigest()[:32]
    return str(shared_dir(f"dl-{key}", lambda d: (d / safe).write_bytes(raw)) / safe)


def served_copy(src: str | os.PathLike) -> str:
    """A copy of an installed file (a bench image) in the shared temp dir, to hand to an output or an example.
    Gradio serves a file by its path and sends that path to the client: the install path would name the server's
    directories. One copy per file version; swept once unused for TEMP_MAX_AGE_S (Gradio keeps its own copy)."""
    path = Path(src)
    st = path.stat()
    key = hashlib.sha256(f"{path.resolve()}\0{st.st_size}\0{st.st_mtime_ns}".encode()).hexdigest()[:32]

    def fill(d: Path) -> None:
        shutil.copyfile(path, d / path.name)

    return str(shared_dir(f"copy-{key}", fill) / path.name)


def download_json(obj: Any, filename: str) -> str:
    return download_file(json.dumps(obj, indent=2, default=str), filename)


def throttle(request: gr.Request | None, action: str, per_minute: int | None = None) -> None:
    """Per-session and per-IP-hash rate limit for a model call or write (raises RateLimited → gr.Error).

    Limits come from RATE_LIMIT_PER_MIN (default 60 per session per action; an IP hash gets 4× that, since
    several people may share one address). 0 disables.
    """
    check_rate(action, session_id(request), client_ip(request), per_minute)


# ---------------------------------------------------------------------------------------------------------------
# Image inputs: Gradio never decodes an upload; we check the header (bytes, format, width × height × frames)
# first and decode with backend.imageio, so every tab refuses bad files with the same sentence.
# ---------------------------------------------------------------------------------------------------------------

def _image_error(exc: ImageInputError) -> gr.Error:
    return user_error(str(exc), action="image input")


def _payload_path(payload) -> str | None:
    """A FileData/ImageData payload → a local path, never decoding. data: URLs are sized, then written out."""
    if payload is None:
        return None
    url = getattr(payload, "url", None)
    if isinstance(url, str) and url.startswith("data:"):
        try:
            data = data_url_bytes(url)
        except ImageInputError as exc:
            raise _image_error(exc) from None
        path = scratch_dir("dataurl-") / "pasted-image"
        path.write_bytes(data)
        return str(path)
    path = getattr(payload, "path", None)
    if not path:
        raise _image_error(ImageInputError("No image was received; please upload it again."))
    return str(path)


class FileImage(gr.Image):
    """gr.Image whose preprocessing hands over the uploaded file's path without opening it.

    Gradio's own preprocessing opens, converts and re-encodes every upload (all frames of a GIF) before app
    code runs, and reports unreadable files with its raw ComponentProcessingError and /tmp paths. Handlers
    read the value with `load_user_image`, which checks the header before decoding.
    """

    is_template = True  # the browser renders it as a plain gr.Image
    # (no __init__ override: Gradio builds the component's browser config from the constructor's signature)

    def preprocess(self, payload):  # noqa: D401
        return _payload_path(payload)


def _classes(kwargs: dict, *names: str) -> list[str]:
    have = kwargs.get("elem_classes") or []
    return [*([have] if isinstance(have, str) else have), *names]


def image_input(**kwargs) -> FileImage:
    """The image input every tab uses (same validation and error sentence everywhere). Class "checked-image": a
    file the browser refuses is sent to the server's image check (apps/image_check.py) for our sentence."""
    kwargs["type"] = "filepath"
    kwargs.setdefault("image_mode", None)
    kwargs["elem_classes"] = _classes(kwargs, "checked-image")
    return FileImage(**kwargs)


class CheckedImageEditor(gr.ImageEditor):
    """gr.ImageEditor that checks each layer's header (bytes, pixels, frames) before Gradio decodes it."""

    is_template = True

    def convert_and_format_image(self, file, flatten_on_white: bool = False):
        if file is None:
            return super().convert_and_format_image(file, flatten_on_white=flatten_on_white)
        label = "The edited image"
        try:
            if isinstance(file, (bytes, bytearray, memoryview)):
                probe_image(bytes(file), name=label)
            else:
                if isinstance(getattr(file, "url", None), str) and file.url.startswith("data:"):
                    file.path = _payload_path(file)
                label = Path(file.orig_name or file.path).name
                probe_image(file.path, name=label)
        except ImageInputError as exc:
            raise _image_error(exc) from None
        try:  # a sound header over broken pixel data (a truncated JPEG) fails only here, in Gradio's decode
            return super().convert_and_format_image(file, flatten_on_white=flatten_on_white)
        except (OSError, SyntaxError, ValueError, EOFError) as exc:
            raise _image_error(ImageInputError(f"“{label}” looks like an image but is corrupt or truncated.")
                               ) from exc


def editor_input(**kwargs) -> CheckedImageEditor:
    """The image editor every tab uses; a file it cannot draw is also sent to the server's image check
    (apps/image_check.py), which says what is wrong with it (the editor itself drops it without a word)."""
    kwargs["elem_classes"] = _classes(kwargs, "checked-image", "checked-editor")
    return CheckedImageEditor(**kwargs)


# ---------------------------------------------------------------------------------------------------------------
# File inputs: the type check runs on the server and speaks like every other error (a sentence and a ref id that
# the log line shares). Gradio's own check refused in the browser with "Invalid file type: … Only image, .zip
# allowed." (no ref, no log line) and, for API clients, in preprocessing with a Python list in the sentence.
# ---------------------------------------------------------------------------------------------------------------

def _upload_name(value: Any) -> str:
    path = value.get("path") if isinstance(value, dict) else getattr(value, "path", None)
    return Path(str(path or "")).name


def _accepts(types: tuple[str, ...]) -> str:
    words = ["images" if t == "image" else t for t in types]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]


def _refused(names: list[str], types: tuple[str, ...]) -> str:
    def plain(name: str) -> str:  # a toast renders HTML: a file name is escaped and cut, never markup
        text = " ".join(_INVISIBLE.sub("", name).split())
        return html.escape(text[:80] + ("…" if len(text) > 80 else ""))

    shown = ", ".join(f"“{plain(n)}”" for n in names[:5]) + (" …" if len(names) > 5 else "")
    verb = "is" if len(names) == 1 else "are"
    return f"{shown} {verb} not accepted here: this input takes {_accepts(types)} only."


class CheckedFile(gr.File):
    """gr.File whose accepted types are checked on the server (see `file_input`); the browser sends any file."""

    is_template = True  # rendered as a plain gr.File
    accepted: tuple[str, ...] = ()

    def preprocess(self, payload):  # noqa: D401
        items = getattr(payload, "root", payload)
        bad = [n for n in map(_upload_name, items if isinstance(items, list) else [items] if items else [])
               if self.accepted and not is_valid_file(n, list(self.accepted))]
        if bad:
            raise user_error(_refused(bad, self.accepted), action="file input")
        return super().preprocess(payload)


def _keep_accepted(types: tuple[str, ...], value: Any):
    """Upload event: drop the files of other types with one warning (ref id); keep every accepted one."""
    files = value if isinstance(value, list) else [value] if value else []
    bad = [f for f in files if not is_valid_file(_upload_name(f), list(types))]
    if not bad:
        return gr.skip()
    ref = error_ref()
    msg = _refused([_upload_name(f) for f in bad], types)
    log.info("user error ref=%s in file input: %s", ref, msg[:300])
    gr.Warning(f"{msg} (ref {ref})", title="File not added")
    keep = [f for f in files if f not in bad]
    return keep if isinstance(value, list) else None


def file_input(file_types: list[str], **kwargs) -> CheckedFile:
    """The file input every tab uses: accepts `file_types` ("image" or ".ext"), refused files get our sentence."""
    comp = CheckedFile(**kwargs)  # no file_types for the browser: its check would answer first, in Gradio's words
    comp.accepted = tuple(file_types)
    comp.upload(functools.partial(_keep_accepted, comp.accepted), comp, comp, preprocess=False, postprocess=False,
                api_visibility="private", show_progress="hidden")
    return comp


# ---------------------------------------------------------------------------------------------------------------
# Job classes: each model-running event joins ONE pool (its own concurrency_id) and is rate-limited per session
# and per IP hash by apps.job_gate when the client joins the queue, i.e. before a job is queued.
# ---------------------------------------------------------------------------------------------------------------

def _job_rates() -> dict[str, tuple[int, int]]:
    return job_pools()


def rate_check(request: gr.Request | None, kind: str) -> None:
    """Raise gr.Error (one log line, with ref) when `kind` jobs come too fast from this session or IP."""
    _limit, per_min = _job_rates()[kind]
    try:
        sid = session_id(request)
    except PermissionError:  # no valid session cookie: one shared bucket for all of those, plus the IP limit
        sid = "no-session"
    try:
        check_rate(f"job:{kind}", sid, client_ip(request), per_min)
    except RateLimited as exc:
        raise user_error(str(exc).replace(f"job:{kind}", kind.replace("_", " ")), action=f"rate:{kind}") from None


def job(kind: str, fn: Callable | None = None) -> dict:
    """Listener kwargs for a model-running event of class `kind` (see backend.config.job_pools()).

    `concurrency_id=kind` gives every class its own pool, so a slow class cannot starve battles. The per-class
    rate limit and the size caps are enforced by `apps.job_gate` when the client joins the queue, i.e. before a
    job is queued (`fn` is accepted for readability at the call site).
    """
    limit, _rate = _job_rates()[kind]
    return dict(concurrency_id=kind, concurrency_limit=limit)

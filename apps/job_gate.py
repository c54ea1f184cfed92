"""ASGI middleware that refuses model jobs at the door, before Gradio queues them.

Every request that would start an event (`POST …/queue/join` with an `fn_index`, `POST …/call/<api_name>` and
Gradio's keyword-argument twin `POST …/call/v2/<api_name>`) is
read once (the body is buffered and replayed to Gradio unchanged). When the event belongs to a job class
(`apps.common.job(kind)`, registered by `register(demo)`), two checks run before anything is queued:
- sizes (every event, job or not): any text in the payload over MAX_CLIENT_JSON (256 KB) and any `data:` URL over
  the upload limit are refused (a client can put anything into the JSON body; the browser never sends either), the
  bytes of `data:` URLs count against the client IP's UPLOAD_MB_PER_IP like an upload (Gradio caches them as files),
  and any list over MAX_CLIENT_LIST (1,000) items is refused;
- rate: per job class, per session (the signed cookie / session hash) and per IP hash (`apps.common.throttle`).
A refusal is HTTP 429/413 with `{"detail": sentence}`; Gradio's browser client shows `detail` as the error toast.
The whole body is capped at MAX_QUEUE_BODY bytes for every queue/call request.
"""
from __future__ import annotations

import json
import logging
from typing import Any

import gradio as gr
from starlette.requests import Request

from apps.common import rate_check
from apps.session_cookie import _headers, scope_client_ip
from apps.upload_gate import refusal
from backend.config import (
    MAX_CLIENT_JSON,
    MAX_CLIENT_LIST,
    get_settings,
    job_pools,
    max_queue_body,
    per_replica,
    setting,
)
from backend.security import ip_key, upload_budget

log = logging.getLogger(__name__)

_ROUTES: dict[str, dict] = {"index": {}, "api": {}}


def register(demo) -> None:
    """Map each event of a job class (its concurrency_id) by fn index and api_name; called once by app.py."""
    kinds = set(job_pools())
    for fn_id, fn in demo.fns.items():
        if fn.concurrency_id in kinds:
            _ROUTES["index"][int(fn_id)] = fn.concurrency_id
            if isinstance(fn.api_name, str):
                _ROUTES["api"][fn.api_name] = fn.concurrency_id


def _kind(path: str, body: Any) -> str | None:
    if path.endswith("/queue/join") and isinstance(body, dict):
        try:
            return _ROUTES["index"].get(int(body.get("fn_index")))
        except (TypeError, ValueError):
            return None
    if "/call/" in path:
        rest = path.split("/call/", 1)[1]
        if rest.startswith("v2/"):  # Gradio's keyword-argument route, /call/v2/<api_name>: the same events
            rest = rest[3:]
        return _ROUTES["api"].get(rest.split("/", 1)[0])
    return None


def _sizes(value: Any, max_text: int, max_data_url: int) -> str | None:
    stack = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, str):
            if v.startswith("data:"):
                if len(v) > max_data_url:
                    mb = max_data_url * 3 / 4 / 2**20
                    return f"The image is larger than the upload limit of {mb:.1f} MB; please upload a smaller one."
            elif len(v) > max_text:
                return (f"One of the text fields is {len(v) // 1024} KB; the limit is {max_text // 1024} KB.")
        elif isinstance(v, dict):
            stack.extend(v.values())
        elif isinstance(v, list):
            stack.extend(v)
    return None


def _data_url_bytes(value: Any) -> int:
    """Bytes the data: URLs in a payload decode to (about 3/4 of their base64 text)."""
    total, stack = 0, [value]
    while stack:
        v = stack.pop()
        if isinstance(v, str):
            if v.startswith("data:"):
                total += (len(v) - v.find(",") - 1) * 3 // 4
        elif isinstance(v, dict):
            stack.extend(v.values())
        elif isinstance(v, list):
            stack.extend(v)
    return total


def _data_url_budget(scope, body: Any) -> str | None:
    """The sentence when the payload's data: URLs do not fit the client IP's UPLOAD_MB_PER_IP, else None (counted)."""
    n = _data_url_bytes(body)
    budget = per_replica(setting("UPLOAD_MB_PER_IP")) * 2**20
    if not n or budget <= 0:
        return None
    headers = _headers(scope)
    ip = scope_client_ip(scope, headers)
    wait = upload_budget.take(ip_key(ip), n, budget)
    return refusal(wait) if wait else None


def _longest_list(value: Any) -> int:
    longest, stack = 0, [value]
    while stack:
        v = stack.pop()
        if isinstance(v, list):
            longest = max(longest, len(v))
            stack.extend(v)
        elif isinstance(v, dict):
            stack.extend(v.values())
    return longest


def check(scope, path: str, raw: bytes) -> tuple[int, str] | None:
    """(status, sentence) when the request must be refused, else None."""
    try:
        body = json.loads(raw or b"null")
    except (ValueError, UnicodeDecodeError, RecursionError):  # RecursionError: JSON nested ~1000 deep
        return None  # not ours to judge; Gradio answers malformed bodies itself (HTTP 400), with no traceback
    # every event, job or not: Gradio checks each file entry of a list before any handler's own count cap, so
    # 50,000 copies of one uploaded file (5 MB of JSON) cost ~25 s of server time before "at most 100" (review19)
    n = _longest_list(body)
    if n > MAX_CLIENT_LIST:
        return 413, (f"One list in the request has {n} items; the limit is {MAX_CLIENT_LIST} (send fewer files at "
                     "once, or a zip where the input takes one).")
    # every event too (review21): the text cap, and a data: URL costs the sender's upload budget, since Gradio writes
    # it into its cache like an upload. Events outside the job classes (clear_selection, input_changed, ...) took
    # 30 MB data: URLs at any rate and kept each on disk for 30 minutes, past UPLOAD_MB_PER_IP and every rate limit.
    # The whole body: /call/v2 sends the arguments as its top-level keys, not under "data".
    too_big = _sizes(body, MAX_CLIENT_JSON, (get_settings().max_upload_bytes * 4) // 3 + 64)
    if too_big:
        return 413, too_big
    over = _data_url_budget(scope, body)
    if over:
        return 413, over
    kind = _kind(path, body)
    if kind is None:
        return None


    req = gr.Request(request=Request(scope), session_hash=body.get("session_hash") if isinstance(body, dict) else None)
    try:
        rate_check(req, kind)
    except gr.Error as exc:
        return 429, exc.message
    except PermissionError:  # no valid session cookie: the handler refuses it with its own sentence
        return None
    return None


async def _reply(send, status: int, detail: str) -> None:
    payload = json.dumps({"detail": detail, "error": detail}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]})
    await send({"type": "http.response.body", "body": payload})


class JobGateMiddleware:
    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        path = scope.get("path", "") if scope.get("type") == "http" else ""
        if scope.get("method") != "POST" or not (path.endswith("/queue/join") or "/call/" in path):
            return await self.app(scope, receive, send)

        cap = max_queue_body()
        chunks, size, more = [], 0, True
        while more:
            msg = await receive()
            if msg["type"] != "http.request":
                return await self.app(scope, receive, send)
            chunks.append(msg)
            size += len(msg.get("body", b""))
            more = msg.get("more_body", False)
            if size > cap:
                return await _reply(send, 413, f"The request is larger than {cap // 2**20} MB; upload files instead "
                                               "of embedding them.")
        raw = b"".join(m.get("body", b"") for m in chunks)
        try:
            refusal = check(scope, path, raw)
        except Exception:  # noqa: BLE001 - the gate must never take the app down; Gradio still validates
            log.exception("job gate check failed")
            refusal = None
        if refusal:
            return await _reply(send, *refusal)
        replay = iter(chunks)

        async def receive_again():
            try:
                return next(replay)
            except StopIteration:
                return await receive()

        return await self.app(scope, receive_again, send)

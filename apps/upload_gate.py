"""ASGI middleware that caps how many bytes one client IP may upload (`POST …/gradio_api/upload`).

Gradio's upload route takes any number of files per request (each up to MAX_UPLOAD_BYTES), without a session, and
keeps them on disk for half an hour: a script could write to disk as fast as its connection allowed.
Each client IP (hashed; `TRUSTED_PROXIES` as everywhere) gets UPLOAD_MB_PER_IP per 30 minutes (counted in this
process's memory: with REPLICAS > 1 each process allows its share, UPLOAD_MB_PER_IP / REPLICAS). The request's
Content-Length is counted before anything is read and refused with HTTP 413 and a sentence when it does not fit;
an upload without a Content-Length (browsers and gradio_client always send one) is refused with HTTP 411.
Gradio's `POST …/process_recording` (screen recordings, processed with ffmpeg) is refused outright: nothing here
records the screen, and it was a second, uncounted upload route.
"""
from __future__ import annotations

from apps.session_cookie import _headers, scope_client_ip
from backend.config import per_replica, setting
from backend.security import ip_key, upload_budget


def refusal(wait_s: float) -> str:
    mb = per_replica(setting("UPLOAD_MB_PER_IP"))
    return (f"Uploads from your network reached {mb} MB in the last 30 minutes; please try again in about "
            f"{max(1, round(wait_s / 60))} minute(s).")


async def _reply(send, detail: str, status: int = 413) -> None:
    body = detail.encode("utf-8")
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"text/plain; charset=utf-8"),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


class UploadGateMiddleware:
    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        path = scope.get("path", "").rstrip("/") if scope.get("type") == "http" else ""
        if scope.get("method") == "POST" and path.endswith("/process_recording"):
            # Gradio's screen-recording route took a 25 MB file from anyone, outside the upload budget, and ran ffmpeg
            # on it where ffmpeg is installed (as on Spaces); this app records nothing (review21)
            return await _reply(send, "This app does not take screen recordings.", 404)
        if scope.get("method") != "POST" or not path.endswith("/upload"):
            return await self.app(scope, receive, send)
        budget = per_replica(setting("UPLOAD_MB_PER_IP")) * 2**20
        if budget <= 0:
            return await self.app(scope, receive, send)
        headers = _headers(scope)
        ip = scope_client_ip(scope, headers)
        who = ip_key(ip)
        try:
            declared = int(headers.get("content-length", ""))
        except ValueError:  # browsers and gradio_client always send the length of an upload
            return await _reply(send, "An upload must say its size (a Content-Length header).", 411)
        wait = upload_budget.take(who, max(0, declared), budget)
        if wait:
            return await _reply(send, refusal(wait))
        return await self.app(scope, receive, send)

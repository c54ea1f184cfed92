"""Serve any local pointer as an OpenAI-compatible endpoint (/v1/models, /v1/chat/completions).

    python -m backend.pointing.cli serve --pointer lite0-cam --port 8009 [--family pixel-json]

The answer is written in the dialect of `--family` (default pixel-json), so the same server can stand in
for a Molmo, Gemini or Qwen endpoint when testing clients. `--delay-s` and `--fail-first N` (answer HTTP
500 to the first N chat requests) exist to exercise client timeouts and retries against a real server.
"""

import asyncio
import base64
import threading
import time
import uuid

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from backend.imageio import ImageInputError, open_image
from backend.pointing.formats import format_points
from backend.pointing.parsers import canonical_family
from backend.pointing.prompts import extract_query
from backend.registry import ModelUnavailable, get_registry

MAX_BODY_BYTES = 30 * 1024 * 1024


def _split_messages(messages) -> tuple[str, bytes | None]:
    """The last user message's text and image bytes (data URLs only: this server never fetches URLs)."""
    for msg in reversed(messages or []):
        if not isinstance(msg, dict) or msg.get("role") != "user":
            continue
        content = msg.get("content")
        if isinstance(content, str):
            return content, None
        text, img = [], None
        for part in content or []:
            if not isinstance(part, dict):
                continue
            if part.get("type") == "text":
                text.append(str(part.get("text", "")))
            elif part.get("type") == "image_url":
                url = (part.get("image_url") or {}).get("url", "")
                if not url.startswith("data:") or "," not in url:
                    raise ValueError("only data: URLs are accepted for images")
                img = base64.b64decode(url.split(",", 1)[1], validate=False)
        return "\n".join(text), img
    return "", None


def create_app(pointer_name: str, family: str = "pixel-json", model_id: str | None = None, delay_s: float = 0.0,
               fail_first: int = 0, api_key: str | None = None):
    fam = canonical_family(family)
    model_id = model_id or pointer_name
    app = FastAPI(title=f"pointing server: {pointer_name}")
    state = {"failures_left": int(fail_first)}
    lock = threading.Lock()

    def err(status: int, message: str):
        kind = "invalid_request_error" if status < 500 else "server_error"
        return JSONResponse({"error": {"message": message, "type": kind}}, status_code=status)

    def authorised(request: Request) -> bool:
        return not api_key or request.headers.get("authorization", "") == f"Bearer {api_key}"

    @app.get("/v1/models")
    def models(request: Request):
        if not authorised(request):
            return err(401, "invalid API key")
        return {"object": "list", "data": [{"id": model_id, "object": "model", "owned_by": "local",
                                            "created": 0}]}

    @app.post("/v1/chat/completions")
    async def chat(request: Request):
        if not authorised(request):
            return err(401, "invalid API key")
        with lock:
            if state["failures_left"] > 0:
                state["failures_left"] -= 1
                return err(500, "injected failure (--fail-first)")
        if delay_s:
            time.sleep(delay_s)  # deliberately blocking: simulates a hung model
        body = await request.body()
        if len(body) > MAX_BODY_BYTES:
            return err(413, "request too large")
        try:
            req = await request.json()
            text, img_bytes = _split_messages(req.get("messages"))
        except Exception as exc:  # noqa: BLE001 - malformed client input
            return err(400, f"bad request: {exc}")
        if img_bytes is None:
            return err(400, "the last user message has no image_url part")
        try:
            img = open_image(img_bytes)
        except ImageInputError as exc:
            return err(400, f"bad image: {exc}")
        query = extract_query(text)
        try:
            res = await asyncio.to_thread(get_registry().get(pointer_name).point, img, query)
        except ModelUnavailable as exc:
            return err(503, f"pointer unavailable: {exc}")
        except ValueError as exc:
            return err(400, str(exc))
        except Exception as exc:  # noqa: BLE001 - model failed to load
            return err(503, f"pointer unavailable: {exc}")
        content = (format_points(fam, res.points, img.width, img.height, label=query[:40])
                   if res.parse_ok else f"I could not point to that ({res.error}).")
        return {"id": f"chatcmpl-{uuid.uuid4().hex[:12]}", "object": "chat.completion", "created": int(time.time()),
                "model": model_id,
                "choices": [{"index": 0, "finish_reason": "stop",
                             "message": {"role": "assistant", "content": content}}],
                "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}}

    return app


"""OpenAI-compatible HTTP pointer: vLLM, TGI, OpenAI, Gemini's compatible endpoint, Grok, or our `serve`.

Config (models.toml, kind="remote"): base_url (…/v1), model, api_key_env (the *name* of the env var holding
the key; the key never sits in the file), family (output dialect → parser and prompt), timeout_s,
max_retries (for 429/5xx/connection errors, exponential backoff), concurrency (per endpoint+model),
image_max_side (downscale before sending; points are mapped back to the original image).
A hung endpoint is not retried: one timeout already costs `timeout_s`.
"""
from __future__ import annotations

import base64
import io
import threading
import time

import httpx
from PIL import Image

from backend.config import secret
from backend.pointing.base import BasePointer, PointingError, is_counting
from backend.pointing.parsers import canonical_family, parse
from backend.pointing.prompts import TEMPLATE_VERSION, build_prompt
from backend.pointing.service import remote_health

RETRY_STATUS = {408, 409, 425, 429, 500, 502, 503, 504}
_sems: dict[tuple[str, str], threading.BoundedSemaphore] = {}
_sems_lock = threading.Lock()


def _semaphore(key: tuple[str, str], n: int) -> threading.BoundedSemaphore:
    with _sems_lock:
        if key not in _sems:
            _sems[key] = threading.BoundedSemaphore(max(1, n))
        return _sems[key]


def image_data_url(img: Image.Image, fmt: str = "JPEG") -> str:
    buf = io.BytesIO()
    img.convert("RGB").save(buf, format=fmt, quality=92) if fmt == "JPEG" else img.save(buf, format=fmt)
    return f"data:image/{fmt.lower()};base64," + base64.b64encode(buf.getvalue()).decode()


def message_text(data: dict) -> str:
    """choices[0].message.content as text (string or a list of text parts)."""
    try:
        content = data["choices"][0]["message"]["content"]
    except (KeyError, IndexError, TypeError) as exc:
        raise PointingError(f"the endpoint's answer has no choices[0].message.content ({exc!r})",
                            kind="endpoint") from exc
    if isinstance(content, list):
        content = "".join(p.get("text", "") for p in content if isinstance(p, dict))
    return content if isinstance(content, str) else ""


class OpenAIPointer(BasePointer):
    kind = "remote"
    prompt_template_version = TEMPLATE_VERSION

    def __init__(self, entry=None, device: str = "cpu"):
        super().__init__(entry, device)
        o = self.options
        if not o.get("base_url") or not o.get("model"):
            raise ValueError(f"remote pointer {self.name!r} needs base_url and model in models.toml")
        self.base_url = str(o["base_url"]).rstrip("/")
        self.model = str(o["model"])
        self.family = canonical_family(o.get("family", "pixel-json"))
        self.timeout_s = float(o.get("timeout_s", 60))
        self.max_retries = int(o.get("max_retries", 2))
        self.backoff_s = float(o.get("backoff_s", 0.5))
        self.image_max_side = int(o.get("image_max_side", 0) or 0)
        self.max_tokens = int(o.get("max_tokens", 512))
        self.api_key_env = o.get("api_key_env") or ""
        self.version = f"{self.model}@{self.base_url}"
        self.label = self.label or f"{self.model} (remote, {self.family})"
        self.device = "remote"
        self._sem = _semaphore((self.base_url, self.model), int(o.get("concurrency", 4)))

    @classmethod
    def check_available(cls, entry) -> tuple[bool, str]:
        o = entry.options
        if not o.get("base_url") or not o.get("model"):
            return False, "base_url and model must be set in models.toml"
        key_env = o.get("api_key_env")
        if key_env and not secret(key_env) and not o.get("api_key_optional", False):
            return False, f"API key environment variable {key_env} is not set"
        return remote_health(str(o["base_url"]), secret(key_env),
                             cache_key=f"{entry.name}|{o['base_url']}")

    def _headers(self) -> dict:
        # the key comes from the env var named in models.toml, or programmatically (CLI flag); never the file
        key = secret(self.api_key_env) or self.options.get("api_key")
        return {"Authorization": f"Bearer {key}"} if key else {}

    def _post(self, payload: dict) -> dict:
        url = f"{self.base_url}/chat/completions"
        last = ""
        for attempt in range(self.max_retries + 1):
            if attempt:
                time.sleep(self.backoff_s * 2 ** (attempt - 1))
            try:
                r = httpx.post(url, json=payload, headers=self._headers(), timeout=self.timeout_s)
            except httpx.TimeoutException as exc:
                raise PointingError(f"the endpoint did not answer within {self.timeout_s:g} s",
                                    kind="timeout") from exc
            except httpx.HTTPError as exc:
                last = f"endpoint {url} unreachable ({type(exc).__name__}: {exc})"
                continue
            if r.status_code == 200:
                try:
                    return r.json()
                except ValueError as exc:
                    raise PointingError("the endpoint answered 200 with a body that is not JSON", r.text[:2000],
                                        kind="endpoint") from exc
            last = f"endpoint answered HTTP {r.status_code}: {r.text[:300]}"
            if r.status_code not in RETRY_STATUS:
                break
        raise PointingError(f"{last} (after {attempt + 1} attempt{'s' if attempt else ''})", kind="endpoint")

    def _predict(self, img: Image.Image, instruction: str):
        sent = img
        if self.image_max_side and max(img.size) > self.image_max_side:
            s = self.image_max_side / max(img.size)
            sent = img.resize((max(1, round(img.width * s)), max(1, round(img.height * s))), Image.Resampling.BICUBIC)
        prompt = build_prompt(self.family, instruction, sent.width, sent.height, counting=is_counting(instruction))
        payload = {"model": self.model, "temperature": 0, "max_tokens": self.max_tokens,
                   "messages": [{"role": "user", "content": [
                       {"type": "text", "text": prompt},
                       {"type": "image_url", "image_url": {"url": image_data_url(sent)}}]}]}
        with self._sem:
            data = self._post(payload)
        raw = message_text(data)
        opts = {k: self.options.get(k) for k in ("min_pixels", "max_pixels")}
        parsed = parse(self.family, raw, sent.width, sent.height, **opts)
        if not parsed.ok:
            raise PointingError(parsed.error or "no coordinates found", raw, kind="parse")
        sx, sy = img.width / sent.width, img.height / sent.height
        pts = [(x * sx, y * sy) for x, y in parsed.points]
        if not is_counting(instruction):
            pts = pts[:1]  # PointArena rule: one point unless the instruction counts
        return raw, pts

"""What the arena calls: run a pointer with a timeout, check its health, list the contestants.

A pointer runs in its own daemon thread so a hung model or endpoint cannot block a battle: after
`timeout_s` the caller gets `parse_ok=False, error="timed out after N s"` and moves on (the thread
finishes or dies with the process). Health of remote contestants is a cached GET /v1/models.
"""
from __future__ import annotations

import threading
import time

import httpx

from backend.config import setting
from backend.pointing.base import check_instruction
from backend.pointing.types import PointResult, is_system_failure
from backend.registry import ModelUnavailable, get_registry

CAPABILITY = "pointing"
HEALTH_TTL_S = 30.0
HEALTH_TIMEOUT_S = 3.0
_health_cache: dict[str, tuple[float, bool, str]] = {}
_health_lock = threading.Lock()
# Circuit breaker: a contestant that errored or timed out sits out for a cool-down, then its health is
# probed afresh; matchmaking only sees it again once that probe passes.
_tripped: dict[str, tuple[float, str]] = {}


def cooldown_s() -> float:
    return setting("POINTER_COOLDOWN_S")


def report_failure(name: str, reason: str) -> None:
    """Take `name` out of matchmaking for the cool-down (model error, timeout, broken endpoint)."""
    with _health_lock:
        _tripped[name] = (time.monotonic() + cooldown_s(), reason)
        for key in [k for k in _health_cache if k == name or k.startswith(name + "|")]:
            _health_cache.pop(key, None)


def tripped(name: str) -> str | None:
    """The reason `name` is sitting out, or None (expired entries are cleared)."""
    with _health_lock:
        hit = _tripped.get(name)
        if hit is None:
            return None
        until, reason = hit
        if time.monotonic() >= until:
            del _tripped[name]
            _health_cache.clear()  # force a fresh probe now that the cool-down is over
            return None
        return f"{reason} (sitting out for {until - time.monotonic():.0f} s more)"


def _failed(name: str, error: str, t0: float, info: dict | None = None, kind: str = "model") -> PointResult:
    return PointResult(model=name, error=error, error_kind=kind, latency_s=time.perf_counter() - t0,
                       backend_info=info or {})


def run_pointer(name: str, image, instruction: str, timeout_s: float = 60) -> PointResult:
    """Point with the registry entry `name`; never raises except ValueError for a bad instruction."""
    instruction = check_instruction(instruction)
    t0 = time.perf_counter()
    reg = get_registry()
    try:
        entry = reg.entry(name)
    except ModelUnavailable as exc:
        return _failed(name, str(exc), t0)
    info = {"kind": entry.kind, "label": entry.label or name, "family": entry.options.get("family", "")}
    box: dict = {}

    def work():
        try:
            box["result"] = reg.get(name).point(image, instruction)
        except BaseException as exc:  # noqa: BLE001 - reported to the caller, not raised in a thread
            box["error"] = exc

    th = threading.Thread(target=work, name=f"pointer-{name}", daemon=True)
    th.start()
    th.join(timeout_s)
    if th.is_alive():
        report_failure(name, f"timed out after {timeout_s:g} s")
        return _failed(name, f"timed out after {timeout_s:g} s", t0, info, kind="timeout")
    if "error" in box:
        err = box["error"]  # the instruction was validated above, so any error here is the model's
        msg = str(err) if isinstance(err, ModelUnavailable) else f"{type(err).__name__}: {err}"
        report_failure(name, msg)
        return _failed(name, msg, t0, info)
    res: PointResult = box["result"]
    res.model = res.model or name
    if is_system_failure(res):  # endpoint down, malformed reply, crash: not a wrong answer
        report_failure(name, res.error or "failed")
    return res


def remote_health(base_url: str, api_key: str | None = None, timeout_s: float = HEALTH_TIMEOUT_S,
                  cache_key: str | None = None) -> tuple[bool, str]:
    """GET {base_url}/models; cached for HEALTH_TTL_S per cache_key (default: the URL)."""
    key = cache_key or base_url
    now = time.monotonic()
    with _health_lock:
        hit = _health_cache.get(key)
        if hit and now - hit[0] < HEALTH_TTL_S:
            return hit[1], hit[2]
    url = base_url.rstrip("/") + "/models"
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    try:
        r = httpx.get(url, headers=headers, timeout=timeout_s)
        ok, why = ((True, "endpoint answered") if r.status_code == 200
                   else (False, f"endpoint {url} answered HTTP {r.status_code}"))
    except httpx.TimeoutException:
        ok, why = False, f"endpoint {url} did not answer within {timeout_s:g} s"
    except httpx.HTTPError as exc:
        ok, why = False, f"endpoint {url} unreachable ({type(exc).__name__})"
    with _health_lock:
        _health_cache[key] = (time.monotonic(), ok, why)
    return ok, why


def clear_health_cache() -> None:
    with _health_lock:
        _health_cache.clear()


def health(name: str) -> tuple[bool, str]:
    """(usable, reason). Remote entries are probed (cached); local ones ask the registry."""
    reg = get_registry()
    try:
        entry = reg.entry(name)
    except ModelUnavailable as exc:
        return False, str(exc)
    if not entry.enabled:
        return False, "disabled in config"
    why = tripped(name)
    if why:
        return False, why
    # Remote adapters probe their endpoint inside check_available (see http.OpenAIPointer).
    return reg.availability(name)


def contestants() -> list[dict]:
    """Enabled pointing entries with their arena weight and whether they can play now."""
    reg = get_registry()
    out = []
    for e in reg.entries(CAPABILITY):
        if not e.enabled:
            continue
        ok, why = health(e.name)
        out.append({"name": e.name, "label": e.label or e.name, "kind": e.kind,
                    "weight": float(e.options.get("weight", 1.0)), "available": ok, "why": why})
    return out

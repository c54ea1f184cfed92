"""ASGI middleware that issues the signed session cookie (see backend.identity).

A GET without a valid cookie (the page, or gradio_client's config request) gets a fresh signed id in an HttpOnly
cookie, at most SESSION_MINTS_PER_IP_HOUR per client IP. Event handlers read the id through
`apps.common.session_id`, which refuses requests without a valid cookie, so a client-chosen `session_hash` or a
forged cookie never becomes an identity.
"""
from __future__ import annotations

from http.cookies import SimpleCookie

from backend import identity


def _headers(scope) -> dict[str, str]:
    """Header name -> value; repeated X-Forwarded-For lines joined in order (a proxy may add its own line)."""
    out: dict[str, str] = {}
    for k, v in scope.get("headers") or []:
        name, value = k.decode("latin-1").lower(), v.decode("latin-1")
        out[name] = f"{out[name]}, {value}" if name == "x-forwarded-for" and name in out else value
    return out


def scope_client_ip(scope, headers: dict[str, str]) -> str | None:
    """The client address of a raw ASGI request: the peer, or X-Forwarded-For when the peer is a trusted proxy."""
    return identity.resolve_client_ip((scope.get("client") or (None,))[0], headers.get("x-forwarded-for"))


def cookie_value(cookie_header: str | None) -> str | None:
    if not cookie_header:
        return None
    jar = SimpleCookie()
    try:
        jar.load(cookie_header)
    except Exception:  # noqa: BLE001 - a malformed Cookie header is just "no cookie"
        return None
    morsel = jar.get(identity.COOKIE_NAME)
    return morsel.value if morsel else None


class SessionCookieMiddleware:
    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope.get("type") != "http" or scope.get("method") not in ("GET", "HEAD"):
            return await self.app(scope, receive, send)
        headers = _headers(scope)
        if identity.verify_token(cookie_value(headers.get("cookie"))):
            return await self.app(scope, receive, send)
        ip = scope_client_ip(scope, headers)
        if not identity.mint_limiter.allow(ip):
            return await self.app(scope, receive, send)
        _, value = identity.new_session()
        secure = identity.on_spaces() or scope.get("scheme") == "https"
        set_cookie = identity.cookie_header(value, secure=secure).encode("latin-1")

        async def send_with_cookie(message):
            if message["type"] == "http.response.start":
                message = dict(message)
                message["headers"] = list(message.get("headers") or []) + [(b"set-cookie", set_cookie)]
            await send(message)

        return await self.app(scope, receive, send_with_cookie)

"""review17: repeated X-Forwarded-For lines are one list (RFC 9110), read in order; the real client is the right-most
untrusted hop. A proxy that adds its own line (HAProxy's `option forwardfor`) puts it last, and the request's header
mapping returned only the first line: the one the client wrote, so any client chose its IP (rate limits, caps)."""
from __future__ import annotations

from types import SimpleNamespace

from starlette.requests import Request

from apps.common import client_ip
from apps.session_cookie import _headers

SCOPE = {"type": "http", "method": "GET", "path": "/", "client": ("127.0.0.1", 5000),
         "headers": [(b"x-forwarded-for", b"6.6.6.6"), (b"x-forwarded-for", b"7.7.7.7")]}


def test_event_handlers_read_every_forwarded_line(monkeypatch):
    monkeypatch.setenv("TRUSTED_PROXIES", "127.0.0.1")
    req = SimpleNamespace(headers=Request(SCOPE).headers, client=SimpleNamespace(host="127.0.0.1"))
    assert client_ip(req) == "7.7.7.7"


def test_middlewares_read_every_forwarded_line():
    assert _headers(SCOPE)["x-forwarded-for"] == "6.6.6.6, 7.7.7.7"


def test_one_line_and_no_proxy_are_unchanged(monkeypatch):
    one = {**SCOPE, "headers": [(b"x-forwarded-for", b"6.6.6.6, 7.7.7.7")]}
    req = SimpleNamespace(headers=Request(one).headers, client=SimpleNamespace(host="127.0.0.1"))
    monkeypatch.setenv("TRUSTED_PROXIES", "127.0.0.1")
    assert client_ip(req) == "7.7.7.7"
    monkeypatch.setenv("TRUSTED_PROXIES", "")
    assert client_ip(req) == "127.0.0.1"  # no trusted proxy: the socket peer, headers ignored

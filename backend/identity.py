"""Who is asking: a server-issued, signed session id and the client IP as far as it can be trusted.

Gradio's `session_hash` is chosen by the client (a bot mints one per request), so it is never an identity here.
The server issues a random session id in an HttpOnly cookie signed with an HMAC under a server secret
(SESSION_SECRET, else the instance salt from `storage.identity`); caps, vote ownership and judge ids use that id.

The client IP is the socket peer. Only when the peer is one of TRUSTED_PROXIES (comma-separated addresses or
CIDR networks, e.g. Hugging Face Spaces' internal proxy range `10.0.0.0/8`) is X-Forwarded-For read, from the
right, skipping trusted hops; the first untrusted hop is the client (MDN's rule: the left-most entries are
whatever the client wrote). Pure functions: no web framework is imported.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import secrets
import threading
import time
from collections import defaultdict, deque
from functools import lru_cache

from backend.config import ConfigError, per_replica, setting
from storage.identity import salt

COOKIE_NAME = "pb_sid"
COOKIE_MAX_AGE_S = 365 * 24 * 3600


# ------------------------------------------------------------------ signed session ids

def _secret() -> bytes:
    raw = setting("SESSION_SECRET")
    if raw:
        return raw.encode("utf-8", "surrogatepass")
    return hashlib.sha256(b"session-cookie:" + salt()).digest()


def _sig(sid: str) -> str:
    mac = hmac.new(_secret(), f"sid:{sid}".encode(), hashlib.sha256).digest()[:18]
    return base64.urlsafe_b64encode(mac).decode().rstrip("=")


def new_session() -> tuple[str, str]:
    """(session id, cookie value)."""
    sid = secrets.token_urlsafe(16)
    return sid, f"{sid}.{_sig(sid)}"


def verify_token(value: str | None) -> str | None:
    """The session id if `value` is a cookie this server signed, else None (never raises)."""
    if not value or not isinstance(value, str) or len(value) > 128 or value.count(".") != 1:
        return None
    sid, sig = value.split(".")
    if not sid or not sid.isascii() or not sig.isascii():
        return None
    return sid if hmac.compare_digest(sig.encode(), _sig(sid).encode()) else None


def cookie_header(value: str, *, secure: bool) -> str:
    """Set-Cookie value. On a Space the app runs in a cross-site iframe, which only receives
    SameSite=None; Secure (and, for Chrome's third-party cookie rules, Partitioned) cookies."""
    attrs = f"{COOKIE_NAME}={value}; Path=/; Max-Age={COOKIE_MAX_AGE_S}; HttpOnly"
    return attrs + ("; SameSite=None; Secure; Partitioned" if secure else "; SameSite=Lax")


def on_spaces() -> bool:
    return setting("SYSTEM") == "spaces" or bool(setting("SPACE_ID"))


# ------------------------------------------------------------------ client IP

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=16)
def parse_trusted(raw: str) -> tuple[Network, ...]:
    """TRUSTED_PROXIES text -> networks; a bad entry raises ValueError naming it."""
    nets = []
    for part in (p.strip() for p in (raw or "").split(",")):
        if not part:
            continue
        try:
            nets.append(ipaddress.ip_network(part, strict=False))
        except ValueError as exc:
            raise ConfigError(f"TRUSTED_PROXIES has an entry that is not an IP address or network: {part!r}") from exc
    return tuple(nets)


def trusted_proxies() -> tuple[Network, ...]:
    return parse_trusted(setting("TRUSTED_PROXIES"))


def _ip(text: str | None):
    if not text:
        return None
    text = text.strip().strip('"')
    if text.startswith("[") and "]" in text:  # [v6]:port
        text = text[1:text.index("]")]
    elif text.count(":") == 1:  # v4:port
        text = text.split(":")[0]
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _is_trusted(addr, nets: tuple[Network, ...]) -> bool:
    return addr is not None and any(addr.version == n.version and addr in n for n in nets)


def resolve_client_ip(peer: str | None, forwarded_for: str | None = None,
                      trusted: tuple[Network, ...] | None = None) -> str | None:
    """The socket peer unless it is a trusted proxy; then the right-most X-Forwarded-For hop that is not trusted.

    A malformed hop stops the walk at that point (it can only have been written by an untrusted party)."""
    nets = trusted_proxies() if trusted is None else trusted
    peer_ip = _ip(peer)
    if peer_ip is None:
        return peer or None
    if not _is_trusted(peer_ip, nets) or not forwarded_for:
        return str(peer_ip)
    current = peer_ip
    for hop in reversed([h for h in forwarded_for.split(",") if h.strip()]):
        addr = _ip(hop)
        if addr is None:
            return str(current)
        current = addr
        if not _is_trusted(addr, nets):
            return str(addr)
    return str(current)


def limit_key(ip: str | None) -> str | None:
    """What a per-client limit counts for an address: an IPv4 address itself, an IPv6 address's /64. A host or a
    household is handed a whole /64, so counting single IPv6 addresses let one client rotate through 2^64 of them
    past every per-IP limit (wrong admin tokens, rate limits, uploads, session cookies)."""
    addr = _ip(ip)
    if addr is None:
        return ip or None
    if addr.version == 6:
        if addr.ipv4_mapped is not None:
            return str(addr.ipv4_mapped)
        return str(ipaddress.ip_network(f"{addr}/64", strict=False))
    return str(addr)


def network_of(ip: str | None) -> str | None:
    """The /24 (IPv4) or /48 (IPv6) around an address: 'one network' for burst detection."""
    addr = _ip(ip)
    if addr is None:
        return None
    prefix = 24 if addr.version == 4 else 48
    return str(ipaddress.ip_network(f"{addr}/{prefix}", strict=False))


# ------------------------------------------------------------------ how many sessions one address may be issued

class MintLimiter:
    """New session cookies per client IP per hour (SESSION_MINTS_PER_IP_HOUR, default 120, this process's share of
    it with REPLICAS > 1; 0 = no cap).
    A cookie identifies a browser, not a person; without this a script gets a fresh identity per page load."""

    def __init__(self):
        self._hits: dict[str, deque] = defaultdict(deque)
        self._lock = threading.Lock()

    def allow(self, ip: str | None, now: float | None = None) -> bool:
        cap = per_replica(setting("SESSION_MINTS_PER_IP_HOUR"))
        ip = limit_key(ip)
        if cap <= 0 or not ip:
            return True
        now = time.monotonic() if now is None else now
        with self._lock:
            q = self._hits[ip]
            while q and now - q[0] > 3600:
                q.popleft()
            if len(q) >= cap:
                return False
            q.append(now)
            if len(self._hits) > 100_000:  # bound memory: drop addresses with no mint in the last hour
                for k in [k for k, v in self._hits.items() if not v or now - v[-1] > 3600]:
                    del self._hits[k]
            return True

    def wait_s(self, ip: str | None, now: float | None = None) -> float:
        """Seconds until `ip` may be issued a new session (0 when it may now); consumes nothing."""
        cap = per_replica(setting("SESSION_MINTS_PER_IP_HOUR"))
        ip = limit_key(ip)
        if cap <= 0 or not ip:
            return 0.0
        now = time.monotonic() if now is None else now
        with self._lock:
            recent = [t for t in self._hits.get(ip, ()) if now - t <= 3600]
        return 0.0 if len(recent) < cap else max(1.0, 3600 - (now - recent[-cap]))

    def reset(self) -> None:
        with self._lock:
            self._hits.clear()


mint_limiter = MintLimiter()

"""The service's edge: who may send what, how often, and the headers every response carries.

``Guard`` is a plain ASGI middleware in front of the whole app.  Before a request reaches a
route it checks, in this order:

1. ``Host`` is one of the allowed names (the bind address, ``localhost``, ``127.0.0.1``,
   ``[::1]`` and ``--allowed-host``): a page on a rebound DNS name (``evil.example`` → 127.0.0.1)
   cannot talk to the service — 421 (400 without a ``Host``);
2. an unsafe method (POST …) from a browser on another site is refused — ``Sec-Fetch-Site``
   ``cross-site``/``same-site``, or an ``Origin`` whose host is not the request's ``Host`` — 403;
3. the client's token bucket (per client IP) has a token — else 429 with ``Retry-After``.

Every response, refusals included, gets the security headers (CSP without inline script,
``X-Frame-Options: DENY``, ``nosniff``, ``Referrer-Policy``).  Refusals are problem+json.
"""

from __future__ import annotations

import asyncio
import json
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from typing import Any

from ..privacy import mask_ids_in_text

PROBLEM = "application/problem+json"

# The API and the staff page: scripts and styles from this origin only (no inline script, no
# inline style), nothing may frame it.  The docs pages (Swagger UI, ReDoc) style elements from
# script and ReDoc starts a worker from a blob: their CSP allows exactly that, still no inline script.
CSP_PAGE = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
            "font-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
CSP_DOCS = ("default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
            "connect-src 'self'; font-src 'self' data:; worker-src 'self' blob:; base-uri 'none'; "
            "form-action 'none'; frame-ancestors 'none'")
DOCS_PATHS = ("/docs", "/redoc")

SECURITY_HEADERS = [
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
]

LOOPBACK_NAMES = ("localhost", "127.0.0.1", "[::1]", "::1")
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def is_loopback(host: str) -> bool:
    import ipaddress

    h = host.strip("[]")
    if h == "localhost":
        return True
    try:
        return ipaddress.ip_address(h).is_loopback
    except ValueError:
        return False


def host_name(value: str) -> str:
    """The name part of a ``Host`` header or an origin's netloc, lower-case (``[::1]:8080`` → ``[::1]``)."""
    value = value.strip().lower()
    if value.startswith("["):
        end = value.find("]")
        return value[: end + 1] if end > 0 else value
    return value.rsplit(":", 1)[0] if value.count(":") == 1 else value


def allowed_host_set(bind: str, extra: Iterable[str] = ()) -> frozenset[str]:
    names = {*LOOPBACK_NAMES, *(host_name(h) for h in extra)}
    b = bind.strip().lower()
    if b not in ("0.0.0.0", "::", ""):  # a wildcard bind names no host: --allowed-host says which
        names.add(f"[{b}]" if ":" in b and not b.startswith("[") else b)
    return frozenset(names)


# --------------------------------------------------------------------------- rate limit


class RateLimiter:
    """A token bucket per key (client IP): ``rate`` tokens a second up to ``burst``.

    ``clock`` is injectable (tests drive it; nothing sleeps).  At most ``max_keys`` buckets are
    kept (least recently used dropped first): a client with many addresses cannot grow memory.
    A dropped bucket is a full one again, so the bound trades a little leniency for memory."""

    def __init__(self, rate: float, burst: float, *, clock: Callable[[], float] = time.monotonic,
                 max_keys: int = 10_000):
        self.rate = float(rate)
        self.burst = float(max(burst, 1))
        self.clock = clock
        self.max_keys = max_keys
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return self.rate > 0

    def take(self, key: str, cost: float = 1.0) -> float:
        """0.0 if a token was taken; else the seconds until one is available (nothing taken)."""
        if not self.enabled:
            return 0.0
        with self._lock:
            now = self.clock()
            tokens, last = self._buckets.pop(key, (self.burst, now))
            tokens = min(self.burst, tokens + max(now - last, 0.0) * self.rate)
            wait = 0.0
            if tokens >= cost:
                tokens -= cost
            else:
                wait = (cost - tokens) / self.rate
            self._buckets[key] = (tokens, now)
            while len(self._buckets) > self.max_keys:
                self._buckets.popitem(last=False)
            return wait

    def peek(self, key: str) -> float:
        """Seconds until ``key`` has a whole token (0.0 if it has one now); takes nothing."""
        if not self.enabled:
            return 0.0
        with self._lock:
            tokens, last = self._buckets.get(key, (self.burst, self.clock()))
            tokens = min(self.burst, tokens + max(self.clock() - last, 0.0) * self.rate)
            return 0.0 if tokens >= 1 else (1 - tokens) / self.rate


# --------------------------------------------------------------------------- responses


def problem_bytes(status: int, title: str, detail: str, code: str, **extra: Any) -> bytes:
    body = {"type": f"urn:xueji-policy:error:{code}", "title": title, "status": status,
            "detail": mask_ids_in_text(detail), "code": code,
            **{k: mask_ids_in_text(v) if isinstance(v, str) else v for k, v in extra.items()}}
    return json.dumps(body, ensure_ascii=False).encode("utf-8")


def csp_for(path: str) -> bytes:
    return (CSP_DOCS if path in DOCS_PATHS else CSP_PAGE).encode()


def with_security_headers(headers: list, path: str) -> list:
    have = {k.lower() for k, _ in headers}
    out = list(headers)
    if b"content-security-policy" not in have:
        out.append((b"content-security-policy", csp_for(path)))
    out += [(k, v) for k, v in SECURITY_HEADERS if k not in have]
    return out


class SlowReader(Exception):
    """The client did not take a part of the response within the send deadline."""


class Guard:
    """ASGI middleware: Host allow-list, cross-site refusal, rate limit, security headers, and a
    deadline for each part of the response a client must take (a client that stops reading would
    otherwise hold its connection, and a batch's stream, for ever)."""

    def __init__(self, app, *, allowed_hosts: frozenset[str], limiter: RateLimiter,
                 exempt: frozenset[str] = frozenset({"/healthz"}), send_timeout: float = 30.0):
        self.app = app
        self.allowed_hosts = allowed_hosts
        self.limiter = limiter
        self.exempt = exempt
        self.send_timeout = send_timeout

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        path = scope.get("path", "")
        refusal = self.check(scope)
        if refusal is not None:
            status, body, headers = refusal
            await send({"type": "http.response.start", "status": status,
                        "headers": with_security_headers([(b"content-type", PROBLEM.encode()),
                                                          (b"content-length", str(len(body)).encode()),
                                                          (b"connection", b"close"), *headers], path)})
            await send({"type": "http.response.body", "body": body})
            return

        async def secured_send(message):
            if message["type"] == "http.response.start":
                message = {**message, "headers": with_security_headers(list(message.get("headers", [])), path)}
            try:
                await asyncio.wait_for(send(message), timeout=self.send_timeout)
            except TimeoutError:
                raise SlowReader() from None

        try:
            await self.app(scope, receive, secured_send)
        except SlowReader:
            return  # the response is left incomplete: uvicorn closes the connection

    def check(self, scope) -> tuple[int, bytes, list] | None:
        headers: dict[bytes, bytes] = {}
        for k, v in scope.get("headers", []):
            headers.setdefault(k.lower(), v)
        host = headers.get(b"host", b"").decode("latin-1")
        if not host:
            return 400, problem_bytes(400, "缺少 Host 请求头", "请求必须带有 Host 请求头", "bad_host",
                                      message_en="the request has no Host header"), []
        if host_name(host) not in self.allowed_hosts:
            shown = host[:100]
            return 421, problem_bytes(421, "不接受的主机名",
                                      f"本服务不接受主机名 {shown!r}（可用 --allowed-host 添加）", "bad_host",
                                      message_en=f"host {shown!r} is not served here (add it with --allowed-host)"), []
        if scope.get("method", "GET").upper() in UNSAFE_METHODS:
            site = headers.get(b"sec-fetch-site", b"").decode("latin-1").lower()
            origin = headers.get(b"origin")
            cross = site in ("cross-site", "same-site")
            if origin is not None:
                o = origin.decode("latin-1").strip().lower()
                netloc = o.split("://", 1)[1] if "://" in o else ""
                cross = cross or netloc != host.strip().lower()  # "null" (sandboxed, file:) is cross too
            if cross:
                return 403, problem_bytes(403, "拒绝跨站请求", "不接受来自其他网站页面的修改类请求", "cross_site",
                                          message_en="cross-site requests that change state are refused"), []
        path = scope.get("path", "")
        if path not in self.exempt:
            client = (scope.get("client") or ("?", 0))[0]
            wait = self.limiter.take(str(client))
            if wait > 0:
                retry = max(1, math.ceil(wait))
                return 429, problem_bytes(429, "请求过于频繁", f"请求过于频繁，请 {retry} 秒后再试", "rate_limited",
                                          message_en=f"too many requests: retry in {retry} s"), \
                    [(b"retry-after", str(retry).encode())]
        return None

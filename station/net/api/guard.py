"""ASGI middleware in front of /api/: body size, authentication and rate limiting.

Pure ASGI (not BaseHTTPMiddleware) so it costs little per request, and it runs before the
request body is parsed: a wrong key gets 401 whatever it sent.
"""

from __future__ import annotations

import math
import time
from collections.abc import Awaitable, Callable
from typing import Any

from limits import RateLimitItem, RateLimitItemPerMinute
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from station.domain import apikeys
from station.net.api.errors import TooLarge, error_response
from station.net.integrations import ApiKeys
from station.store.apikeys import ApiKey

Run = Callable[..., Awaitable[Any]]

MAX_BODY = 64 * 1024
FAILED_AUTH_PER_MINUTE = 10  # per client address: slows key guessing to a crawl


class BodyLimit:
    """Refuses bodies over `limit` bytes, by Content-Length or while streaming (chunked)."""

    def __init__(self, app: ASGIApp, limit: int = MAX_BODY) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    too_big = int(value) > self.limit
                except ValueError:
                    too_big = False
                if too_big:
                    await error_response(413, TooLarge(self.limit).detail)(scope, receive, send)
                    return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise TooLarge(self.limit)  # FastAPI re-raises HTTPExceptions from body reads
            return message

        await self.app(scope, counted, send)


class ApiGuard:
    """Bearer key check and per-key rate limit (moving window: the quota is exact even under
    concurrent requests, since `hit` is atomic), plus a separate limit on failed attempts per
    client address that only failed attempts pay and meet: a valid key never waits on it."""

    def __init__(self, app: ASGIApp, keys: ApiKeys, run: Run, prefix: str = "/api/") -> None:
        self.app = app
        self.keys = keys
        self.run = run
        self.prefix = prefix
        self.limiter = MovingWindowRateLimiter(MemoryStorage())
        self.failed_item = RateLimitItemPerMinute(FAILED_AUTH_PER_MINUTE)
        self._items: dict[int, RateLimitItem] = {}

    def _item(self, per_minute: int) -> RateLimitItem:
        item = self._items.get(per_minute)
        if item is None:
            item = self._items[per_minute] = RateLimitItemPerMinute(per_minute)
        return item

    def _retry_after(self, item: RateLimitItem, *ids: str) -> tuple[int, int]:
        reset, remaining = self.limiter.get_window_stats(item, *ids)
        return max(1, math.ceil(reset - time.time())), remaining

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(self.prefix):
            await self.app(scope, receive, send)
            return
        # The key is checked first: a valid key is served whatever else came from its address
        # (a Zap with a revoked key, another local process), limited only by its own budget.
        key, problem = await self._authenticate(scope)
        if key is None:
            await self._refuse(scope, receive, send, problem)
            return
        item = self._item(key.rate_limit)
        allowed = self.limiter.hit(item, "key", key.id)
        wait, remaining = self._retry_after(item, "key", key.id)
        limit_headers = [
            (b"ratelimit-limit", str(key.rate_limit).encode()),
            (b"ratelimit-remaining", str(remaining).encode()),
            (b"ratelimit-reset", str(wait).encode()),
            (b"ratelimit-policy", f"{key.rate_limit};w=60".encode()),
        ]
        if not allowed:
            headers = {k.decode(): v.decode() for k, v in limit_headers}
            headers["Retry-After"] = str(wait)
            await error_response(
                429, f"This API key may make {key.rate_limit} requests a minute; wait {wait} s.",
                headers=headers)(scope, receive, send)
            return
        scope.setdefault("state", {})["api_key"] = key

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *limit_headers]}
            await send(message)

        await self.app(scope, receive, with_headers)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, problem: str) -> None:
        """A failed attempt costs its address one of FAILED_AUTH_PER_MINUTE; past that it gets
        429 with Retry-After instead of 401. Every well-formed key was looked up the same way
        before this (by its SHA-256, whatever the address's budget), so the 401/429 answer tells
        how many failures came from the address, never anything about the key."""
        address = (scope.get("client") or ("unknown", 0))[0]
        if self.limiter.hit(self.failed_item, "auth-failed", address):
            await error_response(401, problem, headers={"WWW-Authenticate": 'Bearer realm="station"'})(
                scope, receive, send)
            return
        wait, _ = self._retry_after(self.failed_item, "auth-failed", address)
        await error_response(
            429, f"Too many requests with a missing or wrong API key from this address; "
                 f"wait {wait} s, then use a valid key.",
            headers={"Retry-After": str(wait)})(scope, receive, send)

    async def _authenticate(self, scope: Scope) -> tuple[ApiKey | None, str]:
        header = b""
        for name, value in scope.get("headers", ()):
            if name == b"authorization":
                header = value
                break
        if not header:
            return None, "Send your API key as 'Authorization: Bearer 2pk_…' (create one with " \
                         "`station keys create NAME`)."
        scheme, _, token = header.decode("latin-1").strip().partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            return None, "The Authorization header must be 'Bearer 2pk_…'."
        if not token.startswith("2pk_"):
            return None, "That is not a Station API key (they start with 2pk_)."
        if not apikeys.well_formed(token):
            return None, "That API key is malformed (wrong length or checksum); copy it again."
        key = await self.run(self.keys.authenticate, token)
        if key is None:
            return None, "That API key is unknown or was revoked; create a new one."
        return key, ""

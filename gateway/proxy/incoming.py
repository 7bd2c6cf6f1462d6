"""The client's request as the traffic path reads it: straight from the ASGI scope, once.

The hot path needs a handful of facts (method, path, headers, query, client address) and the
body stream; building them here from the scope costs less than a framework request object,
and each is computed exactly once.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Mapping
from types import MappingProxyType
from urllib.parse import parse_qsl

from starlette.types import Message, Receive, Scope

from gateway.proxy.limits import BodyTooLarge, ClientGone

_NO_QUERY: Mapping[str, str] = MappingProxyType({})


class Incoming:
    __slots__ = (
        "headers",
        "lines",
        "method",
        "path",
        "query",
        "raw_path",
        "receive",
        "scope",
        "started",
    )

    def __init__(self, scope: Scope, receive: Receive) -> None:
        self.started = time.time()
        self.scope = scope
        self.receive = receive
        # A WebSocket handshake's scope has no method: it is a GET (with an Upgrade).
        self.method: str = scope.get("method", "GET")
        self.path: str = scope["path"]  # decoded: context.Request.Url.Path
        # As sent, percent-encoded: routing and the backend URL read this one, so a path is
        # decoded once, by the backend (a client's `%252f` must not reach it as `%2f`).
        raw_path = scope.get("raw_path")
        self.raw_path: str = raw_path.decode("latin-1") if raw_path else self.path
        # (lower-case name, value) as sent, and the first value of each name.
        self.lines = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]]
        self.headers: dict[str, str] = dict(reversed(self.lines))  # the first of each name wins
        raw_query = scope.get("query_string", b"")
        self.query = (
            parse_qsl(raw_query.decode("latin-1"), keep_blank_values=True) if raw_query else []
        )

    @property
    def first_query_values(self) -> Mapping[str, str]:
        """The first value of each query parameter (read only)."""
        if not self.query:  # most requests: every one reads this (a key may come in it)
            return _NO_QUERY
        values: dict[str, str] = {}
        for name, value in self.query:
            values.setdefault(name, value)
        return values

    @property
    def has_body(self) -> bool:
        return "content-length" in self.headers or "transfer-encoding" in self.headers

    @property
    def client_ip(self) -> str:
        client = self.scope.get("client")
        return client[0] if client else ""

    @property
    def scheme(self) -> str:
        return str(self.scope.get("scheme", "http"))

    @property
    def netloc(self) -> str:
        host = self.headers.get("host")
        if host:
            return host
        server = self.scope.get("server") or ("localhost", 80)
        return f"{server[0]}:{server[1]}"

    def host_and_port(self) -> tuple[str, int]:
        netloc = self.netloc
        if netloc.startswith("["):  # an IPv6 literal: [::1]:8080
            host, _, rest = netloc[1:].partition("]")
            port = rest.lstrip(":")
        else:
            host, _, port = netloc.partition(":")
        return host, int(port) if port.isdigit() else (443 if self.scheme == "https" else 80)

    async def stream(self, limit: int) -> AsyncIterator[bytes]:
        """The body as it arrives; BodyTooLarge once it exceeds `limit` bytes."""
        size = 0
        more = True
        while more:
            chunk, more = self._chunk(await self.receive(), size, limit)
            size += len(chunk)
            if chunk:
                yield chunk

    async def body(self, limit: int) -> bytes:
        """The whole body (BodyTooLarge past `limit` bytes). Its own loop, not `stream`'s: an
        async generator cost a request more than the usual one message it reads."""
        chunk, more = self._chunk(await self.receive(), 0, limit)
        if not more:
            return chunk
        chunks = [chunk]
        size = len(chunk)
        while more:
            chunk, more = self._chunk(await self.receive(), size, limit)
            size += len(chunk)
            chunks.append(chunk)
        return b"".join(chunks)

    @staticmethod
    def _chunk(message: Message, size: int, limit: int) -> tuple[bytes, bool]:
        """The body's chunk in `message` (received after `size` bytes of it), and whether
        more follow. (Not a coroutine that receives it: that cost each read a coroutine.)"""
        if message["type"] == "http.disconnect":
            raise ClientGone("the client went away")
        chunk = message.get("body", b"")
        if size + len(chunk) > limit:
            raise BodyTooLarge
        return chunk, message.get("more_body", False)

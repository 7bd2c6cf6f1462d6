"""A whole response's ASGI headers and the response itself, made for the traffic path.

Every request's response goes through here: its headers as bytes (less those the server
writes itself) and, for a body already whole, a Starlette `Response` made without its
`render` and header scan (a body in bytes needs neither).
"""

from __future__ import annotations

from starlette.responses import Response

# Headers the server writes itself: the backend's copies would repeat them.
_SERVER_OWNED = frozenset({"content-length", "transfer-encoding", "date"})
# A header's name as written -> its lower-case bytes, None for a server-owned one: a handful
# of names recur in every response, and each cost a `lower` and an encode per response.
_NAMES: dict[str, bytes | None] = {}
_MOST_NAMES = 2048  # names come from backends and policies too: keep the cache bounded
# A body that is sent as it is (a tuple: `bytes | memoryview` would make a union each call).
_BODIES = (bytes, memoryview)


def raw_headers(headers: list[tuple[str, str]]) -> list[tuple[bytes, bytes]]:
    """An ASGI message's headers, less those the server writes itself."""
    names = _NAMES
    try:
        return [
            (key, value.encode("latin-1"))
            for name, value in headers
            if (key := names[name] if name in names else _learn(name)) is not None
        ]
    except UnicodeEncodeError:  # a value beyond Latin-1: each header as `_octets` has it
        return [
            (_octets(key), _octets(value))
            for name, value in headers
            if (key := name.lower()) not in _SERVER_OWNED
        ]


def _learn(name: str) -> bytes | None:
    key = name.lower()
    raw = None if key in _SERVER_OWNED else _octets(key)
    if len(_NAMES) >= _MOST_NAMES:
        _NAMES.clear()
    _NAMES[name] = raw
    return raw


def _octets(text: str) -> bytes:
    """A header's bytes: Latin-1, as HTTP has them; text beyond it (a policy's expression can
    write any) goes as UTF-8, as most servers send it, rather than failing the response."""
    try:
        return text.encode("latin-1")
    except UnicodeEncodeError:
        return text.encode("utf-8")


class WholeResponse(Response):
    """A response whose body is whole: what Starlette's `Response(body, status)` with these
    headers added sends (its content-length first, unless the status has no body), made
    without the work a body of another type needs."""

    def __init__(self, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
        self.status_code = status
        self.background = None
        self.raw_headers, self.body = whole(status, headers, body)


def whole(
    status: int, headers: list[tuple[str, str]], body: bytes
) -> tuple[list[tuple[bytes, bytes]], bytes]:
    """A whole response's ASGI headers and body (what `WholeResponse` sends)."""
    if not isinstance(body, _BODIES):  # as Response.render has it
        body = b"" if body is None else str(body).encode("utf-8")
    raw = raw_headers(headers)  # a new list: its own to change
    if status < 200 or status == 204 or status == 304:
        return raw, body
    raw.insert(0, (b"content-length", b"%d" % len(body)))
    return raw, body

"""Session affinity (APIM's pool `sessionAffinity`): one client session, one pool member.

A pool with `session-affinity: {cookie: NAME}` pins each session to a member with a cookie
the gateway sets. Its value is `<session>.<tag>`:

- `session`: a random id (16 URL-safe characters) made when a client first comes without a
  well-formed value; kept when the session moves to another member.
- `tag`: 12 hex digits of a keyed BLAKE2b of the pool's id, the member's id and the member's
  address as written in gateway.yaml (scheme, host and path of its URL's text: no resolved
  `${env:}`, no user info, no query, where a key could be). It is worked out from the
  configuration alone, at load time, so every replica with the same gateway.yaml reads every
  other's cookies with no shared state, across restarts and reloads; a member whose id or
  URL changes gets another tag, and its sessions are chosen afresh. The value names no
  backend and no URL.

A value whose tag is not one of this pool's members (another pool's, a removed member's,
garbage) pins nothing: the strategy chooses, and the response sets the cookie again.

The `Cookie` header is read with a small parser of its own rather than `http.cookies`,
which drops the whole header when one pair does not parse (`a=b c; SessionId=x` gives
nothing): here a malformed pair is skipped and the others still count, and nothing in the
header can fail the request. When the header holds the name more than once, the first value
valid for this pool wins.
"""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from gateway.config.backends import COOKIE_NAME, Backend

log = logging.getLogger("aigw.affinity")

TAG_BYTES = 6  # 12 hex digits: pools have at most a few dozen members
_KEY = b"aigw-session-affinity-v1"
_VALUE = re.compile(r"([A-Za-z0-9_-]{16})\.([0-9a-f]{12})")


def tag(pool: str, member: str, url: str = "") -> str:
    """The opaque tag of a pool's member: the same wherever the configuration is the same."""
    data = "\0".join((pool, member, url)).encode()
    return hashlib.blake2b(data, key=_KEY, digest_size=TAG_BYTES).hexdigest()


def _address(url: str) -> str:
    """A URL's text without what may hold a secret (user info, query, fragment)."""
    try:
        parts = urlsplit(url)
    except ValueError:  # not a URL we can read: its id and pool still tag it
        return ""
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2].lower()}{parts.path}"


def new_session() -> str:
    return secrets.token_urlsafe(12)  # 16 characters


def cookie_values(headers: Iterable[str] | None, name: str) -> list[str]:
    """Every value the `Cookie` header lines give `name`, in order (surrounding double quotes
    taken off); pairs that do not parse are skipped."""
    found = []
    for header in headers or ():
        for pair in header.split(";"):
            key, equals, value = pair.partition("=")
            if not equals or key.strip() != name:
                continue
            value = value.strip()
            if len(value) >= 2 and value[0] == value[-1] == '"':
                value = value[1:-1]
            found.append(value)
    return found


@dataclass(frozen=True, slots=True)
class Pin:
    """What the client's cookie says for one pool."""

    session: str  # the session id: the client's, or a new one
    member: str | None  # the member it is pinned to; None: no value valid for this pool


class Affinity:
    """The pools with session affinity: each one's cookie name and member tags."""

    def __init__(self, backends: Mapping[str, Backend]) -> None:
        self.cookies: dict[str, str] = {}  # pool -> cookie name
        self._tags: dict[str, dict[str, str]] = {}  # pool -> member -> tag
        self._members: dict[str, dict[str, str]] = {}  # pool -> tag -> member
        for pool in backends.values():
            if pool.pool is None or pool.pool.session_affinity is None:
                continue
            name = pool.pool.session_affinity.cookie
            if not COOKIE_NAME.fullmatch(name):
                log.warning(
                    "pool %s: session-affinity cookie %r is not a valid cookie name; "
                    "its calls are balanced without affinity",
                    pool.id,
                    name,
                )
                continue
            self.cookies[pool.id] = name
            tags: dict[str, str] = {}
            for member in pool.pool.services:
                backend = backends.get(member.backend)
                url = backend.url.raw if backend is not None and backend.url is not None else ""
                tags[member.backend] = tag(pool.id, member.backend, _address(url))
            self._tags[pool.id] = tags
            self._members[pool.id] = {t: m for m, t in reversed(tags.items())}

    def cookie(self, pool: str) -> str | None:
        """The pool's cookie name; None when the pool has no session affinity."""
        return self.cookies.get(pool)

    def pin(self, pool: str, cookie_headers: Iterable[str] | None) -> Pin:
        """The member the request's cookie pins it to in `pool`, and its session id."""
        members = self._members.get(pool, {})
        session = None
        for value in cookie_values(cookie_headers, self.cookies.get(pool, "")):
            match = _VALUE.fullmatch(value)
            if match is None:
                continue
            member = members.get(match.group(2))
            if member is not None:
                return Pin(match.group(1), member)
            session = session or match.group(1)
        return Pin(session or new_session(), None)

    def value(self, pool: str, member: str, session: str) -> str:
        """The cookie value that pins `session` to `member` of `pool`."""
        return f"{session}.{self._tags[pool][member]}"

    def set_cookie(self, pool: str, member: str, session: str) -> str:
        """The `Set-Cookie` header value that pins `session` to `member` of `pool`."""
        return f"{self.cookies[pool]}={self.value(pool, member, session)}; Path=/; HttpOnly"

    def pin_response(
        self,
        headers: list[tuple[str, str]],
        pool: str,
        session: str,
        held: str | None,
        member: str,
    ) -> None:
        """Make the response's extra `headers` leave the client pinned to `member`: a Set-Cookie
        unless the cookie it holds already names `member` (`held`), replacing any that an
        earlier attempt of the same request added, so the last attempt's member wins."""
        ours = f"{self.cookies[pool]}="
        headers[:] = [
            (name, value)
            for name, value in headers
            if name != "Set-Cookie" or not value.startswith(ours)
        ]
        if member != held:
            headers.append(("Set-Cookie", self.set_cookie(pool, member, session)))

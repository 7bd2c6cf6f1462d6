"""HTTP client sessions to backends, one pooled session per backend, and backend URLs.

URLs are assembled already percent-encoded (a backend's base once, when first used), so the
HTTP client is told not to parse and re-quote them on every request.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from functools import lru_cache
from urllib.parse import quote

import aiohttp
from yarl import URL


class Sessions:
    def __init__(self) -> None:
        self._sessions: dict[str, aiohttp.ClientSession] = {}

    def get(self, key: str, verify: bool = True) -> aiohttp.ClientSession:
        """The session for `key` (a backend id, or `url:<host>` for a policy-set URL)."""
        session = self._sessions.get(key)
        if session is None or session.closed:
            connector = aiohttp.TCPConnector(
                limit=0, ttl_dns_cache=300, ssl=None if verify else False
            )
            # Responses pass through as sent, so the backend is asked for exactly the encodings
            # the client asked for: no Accept-Encoding of aiohttp's own.
            session = aiohttp.ClientSession(
                connector=connector,
                auto_decompress=False,
                skip_auto_headers=("Accept-Encoding",),
            )
            self._sessions[key] = session
        return session

    def adopt(self, previous: Sessions, applies: Callable[[str], bool]) -> None:
        """Take over `previous`'s open sessions whose key still `applies` (after a reload)."""
        for key, session in previous._sessions.items():
            if applies(key) and not session.closed:
                self._sessions[key] = session

    async def close(self, keep: Sessions | None = None) -> None:
        """Close every session, but those `keep` has adopted."""
        kept = set(map(id, keep._sessions.values())) if keep is not None else set()
        await asyncio.gather(*(s.close() for s in self._sessions.values() if id(s) not in kept))
        self._sessions.clear()


def encoded(base: str) -> str:
    """A base URL in its percent-encoded form, without a trailing slash."""
    return str(URL(base.rstrip("/")))


@lru_cache(maxsize=64)
def timeout(seconds: float) -> aiohttp.ClientTimeout:
    """One timeout object per distinct value: policies use a handful."""
    return aiohttp.ClientTimeout(total=None, sock_connect=seconds, sock_read=seconds)


# Requests to one operation share their path and URL: quoting and parsing them again on every
# request showed in profiles. Bounded, as paths come from clients.
@lru_cache(maxsize=4096)
def quoted_path(path: str) -> str:
    return quote(path, safe="/%:@!$&'()*+,;=-._~")


@lru_cache(maxsize=4096)
def parsed(encoded_url: str) -> URL:
    return URL(encoded_url, encoded=True)


def with_query(url: str, query: list[tuple[str, str]]) -> str:
    """`url` with `query` appended (after any query it has), each part percent-encoded."""
    if not query:
        return url
    joined = "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in query)
    return url + ("&" if "?" in url else "?") + joined

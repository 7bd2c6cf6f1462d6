"""The gateway's clients of each backend, and backend URLs.

Per backend (or `url:<host>` for a URL a policy set): a connection pool of our own
(gateway.proxy.pool) for the calls forwarded to it and the gateway's own calls to it
(embeddings, content safety), and an aiohttp session, opened on first use, for what the pool
does not do: WebSocket handshakes and relays (gateway.proxy.sockets).

URLs are assembled already percent-encoded (a backend's base once, when first used), so no
client parses and re-quotes them on every request.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from functools import lru_cache
from urllib.parse import quote

import aiohttp
from yarl import URL

from gateway.proxy.pool import Pool


class Sessions:
    def __init__(self) -> None:
        self._sessions: dict[str, aiohttp.ClientSession] = {}
        self._pools: dict[str, Pool] = {}

    def pool(self, key: str, verify: bool = True) -> Pool:
        """The connection pool for `key` (a backend id, or `url:<host>`)."""
        pool = self._pools.get(key)
        if pool is None or pool.closed:
            pool = self._pools[key] = Pool(verify)
        return pool

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
        """Take over `previous`'s open sessions and pools whose key still `applies` (after a
        reload)."""
        for key, session in previous._sessions.items():
            if applies(key) and not session.closed:
                self._sessions[key] = session
        for key, pool in previous._pools.items():
            if applies(key) and not pool.closed:
                self._pools[key] = pool

    async def close(self, keep: Sessions | None = None) -> None:
        """Close every session and pool, but those `keep` has adopted."""
        kept = set()
        if keep is not None:
            kept = set(map(id, [*keep._sessions.values(), *keep._pools.values()]))
        for pool in self._pools.values():
            if id(pool) not in kept:
                pool.close()
        await asyncio.gather(*(s.close() for s in self._sessions.values() if id(s) not in kept))
        self._sessions.clear()
        self._pools.clear()


def encoded(base: str) -> str:
    """A base URL in its percent-encoded form, without a trailing slash."""
    return str(URL(base.rstrip("/")))


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

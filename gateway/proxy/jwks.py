"""Signing keys published by identity providers, for validate-jwt and validate-azure-ad-token.

A URL is an OpenID configuration (its `jwks_uri` is followed) or a JWKS document itself.
Keys are cached for an hour, as APIM does, and refetched early at most every five minutes
when a token names a key the cache does not have (the provider rolled its keys over).
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import aiohttp

from gateway.config.settings import GatewayConfig

KEEP_FOR = 3600.0
REFRESH_AT_MOST_EVERY = 300.0
TIMEOUT = aiohttp.ClientTimeout(total=10)


class JwksKeys:
    def __init__(self, config: GatewayConfig) -> None:
        self.authority = config.identity.authority_host.rstrip("/")
        self._cache: dict[str, tuple[float, list[dict[str, Any]]]] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._session: aiohttp.ClientSession | None = None

    async def signing_keys(self, url: str, *, refresh: bool = False) -> list[dict[str, Any]]:
        now = time.monotonic()
        cached = self._cache.get(url)
        if cached is not None:
            age = now - cached[0]
            if age < KEEP_FOR and not (refresh and age >= REFRESH_AT_MOST_EVERY):
                return cached[1]
        async with self._locks.setdefault(url, asyncio.Lock()):
            if self._cache.get(url) is not cached:  # another request fetched meanwhile
                return self._cache[url][1]
            try:
                keys = await self._fetch(url)
            except (aiohttp.ClientError, TimeoutError, ValueError, KeyError):
                return cached[1] if cached is not None else []  # keep serving what we had
            self._cache[url] = (time.monotonic(), keys)
            return keys

    async def _fetch(self, url: str) -> list[dict[str, Any]]:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=TIMEOUT)
        document = await self._json(url)
        if "keys" not in document and "jwks_uri" in document:
            document = await self._json(str(document["jwks_uri"]))
        return [k for k in document["keys"] if isinstance(k, dict)]

    async def _json(self, url: str) -> dict[str, Any]:
        assert self._session is not None
        async with self._session.get(url) as response:
            response.raise_for_status()
            document = await response.json(content_type=None)
        if not isinstance(document, dict):
            raise ValueError("not a JSON object")
        return document

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

"""HTTP calls policies make themselves: `send-request` and `send-one-way-request`.

One pooled aiohttp session for all of them. `allows` decides which computed URLs a policy
may call: those under a prefix gateway.yaml names (`send-request.allowed-urls`, or a
backend's plain URL), compared by scheme, host and port exactly (the scheme's default port
when none is written) and by path segment, once the path is normalised
(gateway.common.url_paths: `%2e` is a dot, dot segments resolved) and read again as a lenient
server would (`%2F` and `%5C` as separators): `.../allowed/../admin`, `.../allowed/%2e%2e/admin`
and `.../allowed/..%2fadmin` are not under `.../allowed`.
"""

from __future__ import annotations

from collections.abc import Sequence

import aiohttp
from yarl import URL

from gateway.common.url_paths import UrlError, leniently, normalised_url, origin
from gateway.config.settings import GatewayConfig
from gateway.expressions.model import HeaderDictionary, MessageBody, ResponseModel

Origin = tuple[str, str, int | None]


def _prefix(url: str) -> tuple[Origin, str] | None:
    """A URL's origin and its normalised path without a trailing slash (None: unreadable)."""
    try:
        normal = normalised_url(url)
    except UrlError:
        return None
    if normal is None:
        return None
    scheme, host, port, _ = origin(normal[0])
    return (scheme, host, port), normal[1].rstrip("/")


def _under(path: str, prefix: str) -> bool:
    return path == prefix or path.startswith(prefix + "/")


class AiohttpSideCalls:
    def __init__(self, config: GatewayConfig) -> None:
        prefixes = list(config.send_request.allowed_urls)
        prefixes += [
            b.url.raw for b in config.backends.values() if b.url and not b.url.is_reference
        ]
        self.prefixes = [found for found in map(_prefix, prefixes) if found is not None]
        self._session: aiohttp.ClientSession | None = None

    def allows(self, url: str) -> bool:
        found = _prefix(url)
        if found is None:
            return False
        origin_, path = found
        lenient = (leniently(path) or "").rstrip("/")
        return any(
            origin_ == allowed and _under(path, prefix) and _under(lenient, prefix)
            for allowed, prefix in self.prefixes
        )

    async def send(
        self,
        method: str,
        url: str,
        headers: Sequence[tuple[str, str]],
        body: bytes | None,
        timeout: float,
    ) -> ResponseModel:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(auto_decompress=True)
        try:
            async with self._session.request(
                method,
                URL(url, encoded=True),  # normalised by send-request: sent exactly so
                headers=list(headers),
                data=body,
                timeout=aiohttp.ClientTimeout(total=timeout),
            ) as response:
                content = await response.read()
        except aiohttp.ClientError as error:
            raise ConnectionError(str(error) or type(error).__name__) from None
        response_headers = HeaderDictionary()
        for name, value in response.headers.items():
            response_headers.append(name, [value])
        return ResponseModel(
            StatusCode=response.status,
            StatusReason=response.reason or "",
            Headers=response_headers,
            Body=MessageBody(content),
        )

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

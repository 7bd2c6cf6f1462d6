"""HTTP calls policies make themselves: `send-request` and `send-one-way-request`.

One pooled aiohttp session for all of them. `allows` decides which computed URLs a policy
may call: those under a prefix gateway.yaml names (`send-request.allowed-urls`, or a
backend's plain URL), compared by scheme, host and port exactly and by path segment.
"""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import urlsplit

import aiohttp

from gateway.config.settings import GatewayConfig
from gateway.expressions.model import HeaderDictionary, MessageBody, ResponseModel
from gateway.proxy.unreachable import logged


def _prefix(url: str) -> tuple[str, str, str]:
    parts = urlsplit(url.strip())
    return parts.scheme.lower(), parts.netloc.lower(), parts.path.rstrip("/")


class AiohttpSideCalls:
    def __init__(self, config: GatewayConfig) -> None:
        prefixes = list(config.send_request.allowed_urls)
        prefixes += [
            b.url.raw for b in config.backends.values() if b.url and not b.url.is_reference
        ]
        self.prefixes = [_prefix(p) for p in prefixes]
        self._session: aiohttp.ClientSession | None = None

    def allows(self, url: str) -> bool:
        scheme, host, path = _prefix(url)
        return any(
            scheme == s and host == h and (path == p or path.startswith(p + "/"))
            for s, h, p in self.prefixes
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
                url,
                headers=list(headers),
                data=body,
                timeout=aiohttp.ClientTimeout(total=timeout),
            ) as response:
                content = await response.read()
        except aiohttp.ClientError as error:  # send-request's message may reach the client
            host = urlsplit(url).netloc.rpartition("@")[2]  # never its credentials or query
            raise ConnectionError(logged("send-request", host, error)) from None
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

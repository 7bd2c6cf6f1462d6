"""HTTP calls policies make themselves: `send-request` and `send-one-way-request`.

One pooled aiohttp session for all of them. `allows` decides which computed URLs a policy
may call: those under a prefix gateway.yaml names (`send-request.allowed-urls`, or a
backend's plain URL), compared by scheme, host and port and by path segment once normalised
(gateway.common.url_paths.AllowedUrls): `.../allowed/../admin`, `.../allowed/%2e%2e/admin`
and `.../allowed/..%2fadmin` are not under `.../allowed`.
"""

from __future__ import annotations

from collections.abc import Sequence

import aiohttp
from yarl import URL

from gateway.common.url_paths import AllowedUrls
from gateway.config.settings import GatewayConfig
from gateway.expressions.model import HeaderDictionary, MessageBody, ResponseModel
from gateway.proxy.unreachable import logged


def plain_backend_urls(config: GatewayConfig) -> list[str]:
    """The backends' URLs written in gateway.yaml (not `${env:...}` references)."""
    return [b.url.raw for b in config.backends.values() if b.url and not b.url.is_reference]


class AiohttpSideCalls:
    def __init__(self, config: GatewayConfig) -> None:
        self.allowed = AllowedUrls([*config.send_request.allowed_urls, *plain_backend_urls(config)])
        self.prefixes = self.allowed.prefixes  # what a reload compares
        self._session: aiohttp.ClientSession | None = None

    def allows(self, url: str) -> bool:
        return self.allowed.allows(url)

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
        except aiohttp.ClientError as error:  # send-request's message may reach the client
            target = URL(url, encoded=True)  # logged: its host and port, never its credentials
            host = f"{target.raw_host}:{target.port}"
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

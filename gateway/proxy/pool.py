"""A backend's connections, kept for reuse, and the calls made on them.

One `Pool` per backend (gateway.proxy.sessions), holding each origin's idle connections
(gateway.proxy.http1): a call takes the newest idle one, or opens one, and gives it back
once its answer is read whole. Connections idle for longer than `KEEP_IDLE` are closed
rather than reused, as a backend may have dropped them. A call whose reused connection
fails before any byte of an answer (the backend closed it while it sat idle) is sent again,
once, on a new connection, when its body can be sent again (bytes, not a client's stream).

Redirects are followed only when forward-request says so, as aiohttp did: 303 (and 301 or
302 after a POST) continue as a GET without a body, credentials (Authorization) are not
carried to another origin, ten at most.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
from collections.abc import AsyncIterator, Coroutine
from functools import lru_cache
from urllib.parse import urljoin, urlsplit

from gateway.proxy.http1 import Connection, Response, request_head
from gateway.proxy.upstream_errors import (
    ConnectFailed,
    ConnectRefused,
    Disconnected,
    InvalidRequest,
    NameNotResolved,
    Reset,
    Timeout,
    TlsFailed,
    TooManyRedirects,
)

KEEP_IDLE = 15.0  # seconds an idle connection may wait to be reused (aiohttp's default too)
MAX_IDLE = 256  # idle connections kept per origin; more are closed as they become idle
MAX_REDIRECTS = 10
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_NO_BODY = frozenset({"GET", "HEAD", "DELETE", "OPTIONS", "TRACE", "CONNECT"})
_DEFAULT_PORTS = {"http": 80, "https": 443}

Body = bytes | AsyncIterator[bytes] | None
Lines = list[tuple[str, str]]  # header lines: (name, value)
Origin = tuple[str, str, int]  # scheme, host, port


@lru_cache(maxsize=4096)
def split(url: str) -> tuple[Origin, str, str]:
    """An absolute, percent-encoded URL's origin, its Host header and its request target."""
    parts = urlsplit(url)
    if parts.scheme not in _DEFAULT_PORTS or not parts.hostname:
        raise InvalidRequest(f"not an http(s) URL: {url.partition('?')[0]}")
    try:
        port = parts.port or _DEFAULT_PORTS[parts.scheme]
    except ValueError:
        raise InvalidRequest(f"its port is not a number: {parts.netloc}") from None
    host = parts.netloc.rpartition("@")[2]
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return (parts.scheme, parts.hostname, port), host, target


@lru_cache(maxsize=2)
def tls_context(verify: bool) -> ssl.SSLContext:
    context = ssl.create_default_context()
    if not verify:  # the backend's tls.validate-certificate-chain: false
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    context.set_alpn_protocols(["http/1.1"])
    return context


class Pool:
    def __init__(self, verify: bool = True) -> None:
        self.verify = verify
        self.closed = False
        self._idle: dict[Origin, list[Connection]] = {}

    def request(
        self,
        method: str,
        url: str,
        headers: list[tuple[str, str]],
        body: Body,
        timeout: float,
        follow_redirects: bool = False,
        fixed: str = "",
    ) -> Coroutine[None, None, Response]:
        """Send a request; its response once its head has come (read its body, or close it).
        `timeout`: for a connection to open, and for each wait on the backend. `fixed`: header
        lines already formatted, sent after `headers` (a backend's credentials, the same for
        every call: gateway.proxy.credentials); not with redirects, which edit the headers.

        Not itself a coroutine: a call that follows no redirects (nearly all) is the one
        exchange, awaited without a coroutine of this method's around it."""
        if follow_redirects:
            if fixed:
                raise ValueError("redirects read and edit every header: pass them as headers")
            return self._followed(method, url, headers, body, timeout)
        return self._send(method, url, headers, body, timeout, fixed)

    async def _followed(
        self, method: str, url: str, headers: list[tuple[str, str]], body: Body, timeout: float
    ) -> Response:
        """The exchange, and those its redirects lead to."""
        for _ in range(MAX_REDIRECTS + 1):
            response = await self._send(method, url, headers, body, timeout)
            location = response.header("location") if response.status in _REDIRECTS else None
            if location is None:
                return response
            status, target = response.status, urljoin(url, location)
            if (status == 303 and method != "HEAD") or (status in (301, 302) and method == "POST"):
                method, body = "GET", None
                headers = [(k, v) for k, v in headers if k.lower() != "content-type"]
            elif body is not None and not isinstance(body, bytes):
                return response  # a client's stream is gone: it cannot be sent again
            await response.read()
            if split(target)[0] != split(url)[0]:
                headers = [(k, v) for k, v in headers if k.lower() != "authorization"]
            url = target
        response.close()
        raise TooManyRedirects(f"more than {MAX_REDIRECTS} redirects, the last to {url}")

    async def _send(
        self, method: str, url: str, headers: Lines, body: Body, timeout: float, fixed: str = ""
    ) -> Response:
        origin, host, target = split(url)
        streamed = body is not None and not isinstance(body, bytes)
        chunked = streamed and not any(k.lower() == "content-length" for k, _ in headers)
        if streamed:
            framing = "Transfer-Encoding: chunked\r\n" if chunked else ""
        elif body or method not in _NO_BODY:
            framing = f"Content-Length: {len(body or b'')}\r\n"
        else:
            framing = ""
        head = request_head(method, target, host, headers, framing, fixed)
        idle = self._idle.get(origin)
        if idle is None:
            idle = self._idle[origin] = []
        connection = self._take(idle)
        while True:
            if connection is None:
                connection = await self._connect(origin, idle, timeout)
            if streamed:
                response = connection.start_streamed(method, head, body, chunked, timeout)  # type: ignore[arg-type]
            else:
                response = connection.start(method, head, body, timeout)  # type: ignore[arg-type]
            try:
                # Response.head's loop, here: two coroutines fewer per call (head, _wait).
                while not response.got_head:
                    if response.error is not None:
                        raise response.error
                    try:
                        await response.waiting()
                    except BaseException:  # cancelled (a race's loser, a client gone)
                        response.close()
                        raise
            except (Disconnected, Reset):
                if not connection.reused or response.received or streamed:
                    raise
                connection = None  # it was closed while idle: once more, on a new one
                continue
            return response

    def _take(self, idle: list[Connection]) -> Connection | None:
        """The newest idle connection still fit for use; those too long idle are closed."""
        if not idle:
            return None
        stale_before = idle[-1].loop.time() - KEEP_IDLE
        while idle and idle[0].idle_since < stale_before:
            idle.pop(0).close()
        while idle:
            connection = idle.pop()
            if not connection.lost:
                connection.reused = True
                return connection
        return None

    async def _connect(self, origin: Origin, idle: list[Connection], timeout: float) -> Connection:
        scheme, host, port = origin
        loop = asyncio.get_running_loop()
        tls = tls_context(self.verify) if scheme == "https" else None

        def release(connection: Connection) -> None:
            if self.closed or len(idle) >= MAX_IDLE:
                connection.close()
            else:
                connection.idle_since = loop.time()
                idle.append(connection)

        try:
            async with asyncio.timeout(timeout):
                _, connection = await loop.create_connection(
                    lambda: Connection(loop, release),
                    host,
                    port,
                    ssl=tls,
                    server_hostname=host if tls is not None else None,
                )
        except TimeoutError:
            raise Timeout(f"no connection to {host}:{port} within {timeout:g} seconds") from None
        except socket.gaierror as error:
            raise NameNotResolved(f"{host}: {error}") from None
        except (ssl.SSLError, ssl.CertificateError) as error:
            raise TlsFailed(f"{host}:{port}: {error}") from None
        except ConnectionRefusedError as error:
            raise ConnectRefused(f"{host}:{port}: {error}") from None
        except OSError as error:
            raise ConnectFailed(f"{host}:{port}: {error}") from None
        return connection

    def close(self) -> None:
        """Close the idle connections; those in use close when their answers end."""
        self.closed = True
        for idle in self._idle.values():
            for connection in idle:
                connection.close()
            idle.clear()

"""A lean Redis connection for one server: commands pipelined on one socket, replies parsed
as they arrive.

A limit's check is one Redis round trip on every request, and through redis-py's asyncio
connection (a StreamReader, redis-py's Python RESP parser, a pool's bookkeeping) the client's
own work around that round trip cost about a third of the gateway's instructions for the
request. Here an `asyncio.Protocol` writes a packed command and appends a future to a FIFO;
`data_received` parses each complete reply (RESP2: simple strings, errors, integers, bulk
strings, arrays, nested) and hands it to the oldest future. Concurrent calls therefore share
one connection, each reply going to its caller in order. A caller that went away (cancelled)
leaves its future in the FIFO: its reply is read and dropped, so the next reply still goes to
the right caller.

The address, credentials, database, TLS settings and timeouts are redis-py's own reading of
the store URL (`redis://`, `rediss://`, `unix://`: `for_client`), and the errors are
redis-py's exception types, so the callers catch and judge them as before: an error reply is
what redis-py's parser makes of it (`ResponseError`, `NoScriptError`, `AuthenticationError`,
...); a refused or failed connect, or a server gone, `ConnectionError`; no reply within the
socket timeout, `TimeoutError` (the connection is then dropped, as redis-py drops it). A
dropped connection fails every call waiting on it; the next call connects again.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from redis._parsers import BaseParser
from redis.asyncio.connection import Connection, SSLConnection, UnixDomainSocketConnection
from redis.exceptions import AuthenticationWrongNumberOfArgsError, ConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

CLOSED = "Connection closed by server."  # redis-py's words for it
_MORE = object()  # a reply not all received yet


@dataclass(frozen=True, slots=True)
class Server:
    host: str
    port: int
    path: str | None  # a Unix socket instead of host:port
    tls: ssl.SSLContext | None
    username: str | None
    password: str | None
    database: int
    timeout: float | None  # for each reply, from its command's write
    connect_timeout: float | None

    @property
    def name(self) -> str:
        return self.path or f"{self.host}:{self.port}"


def for_client(client: Any) -> RespClient | None:
    """A lean client for a redis-py client of one server; None for a Cluster or a Sentinel's
    master (they find their nodes themselves), or credentials from a provider."""
    pool = getattr(client, "connection_pool", None)
    kinds = (Connection, SSLConnection, UnixDomainSocketConnection)
    if pool is None or pool.connection_class not in kinds:
        return None
    # A connection made, never connected, only to read its settings as redis-py reads them.
    settings = pool.connection_class(**pool.connection_kwargs)
    if settings.credential_provider is not None:
        return None
    tls = settings.ssl_context.get() if isinstance(settings, SSLConnection) else None
    return RespClient(
        Server(
            host=getattr(settings, "host", ""),
            port=int(getattr(settings, "port", 0)),
            path=getattr(settings, "path", None),
            tls=tls,
            username=settings.username,
            password=settings.password,
            database=int(settings.db),
            timeout=settings.socket_timeout,
            connect_timeout=settings.socket_connect_timeout,
        )
    )


def pack(parts: Sequence[object]) -> bytes:
    """A command in the Redis protocol (RESP): an array of bulk strings."""
    encoded = [part if isinstance(part, bytes) else str(part).encode() for part in parts]
    pieces = [b"*%d\r\n" % len(encoded)]
    for part in encoded:
        pieces.append(b"$%d\r\n%s\r\n" % (len(part), part))
    return b"".join(pieces)


class RespClient:
    """Calls to one server on one pipelined connection, opened at the first call and again at
    the first call after it dropped."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self._connection: _Connection | None = None
        self._opening: asyncio.Task[_Connection] | None = None

    async def call(self, command: bytes) -> Any:
        """Send a packed command; its reply (an error reply raised as redis-py raises it)."""
        connection = self._connection
        if connection is None or connection.lost:
            connection = await self._open()
        return await connection.send(command)

    async def execute(self, *parts: object) -> Any:
        return await self.call(pack(parts))

    async def _open(self) -> _Connection:
        """The connection, opened once for every call that finds none (a caller that goes
        away does not cut it for the others)."""
        if self._opening is None:
            self._opening = asyncio.get_running_loop().create_task(self._connect())
            self._opening.add_done_callback(self._opened)
        return await asyncio.shield(self._opening)

    def _opened(self, task: asyncio.Task[_Connection]) -> None:
        self._opening = None
        if not task.cancelled() and task.exception() is None:
            self._connection = task.result()

    async def _connect(self) -> _Connection:
        server, loop = self.server, asyncio.get_running_loop()
        try:
            async with asyncio.timeout(server.connect_timeout):
                if server.path is not None:
                    _, connection = await loop.create_unix_connection(
                        lambda: _Connection(server), server.path
                    )
                else:
                    _, connection = await loop.create_connection(
                        lambda: _Connection(server),
                        server.host,
                        server.port,
                        ssl=server.tls,
                        server_hostname=server.host if server.tls else None,
                    )
        except TimeoutError as error:  # asyncio's (the builtin, an OSError): before OSError
            raise RedisTimeoutError("Timeout connecting to server") from error
        except OSError as error:
            raise ConnectionError(_connect_error(server.name, error)) from error
        try:
            await _hello(connection, server)
        except BaseException:
            connection.close()
            raise
        return connection

    async def close(self) -> None:
        if self._opening is not None:
            self._opening.cancel()
            with contextlib.suppress(BaseException):
                await self._opening
        if self._connection is not None:
            self._connection.close()
            self._connection = None


async def _hello(connection: _Connection, server: Server) -> None:
    """AUTH (as redis-py sends it: `default` when the URL names no user) and SELECT."""
    if server.username or server.password:  # as redis-py: an empty password sends none
        user = server.username or "default"
        try:
            await connection.send(pack([b"AUTH", user, server.password or ""]))
        except AuthenticationWrongNumberOfArgsError:  # Redis before 6: a password alone
            await connection.send(pack([b"AUTH", server.password or ""]))
    if server.database:
        await connection.send(pack([b"SELECT", server.database]))


class _Connection(asyncio.Protocol):
    def __init__(self, server: Server) -> None:
        self._server = server
        self._transport: Any = None  # an asyncio.Transport (uvloop's is none by class)
        self._waiting: deque[tuple[asyncio.Future[Any], float]] = deque()  # (caller, deadline)
        self._buffer = b""
        self._timer: asyncio.TimerHandle | None = None
        self._loop = asyncio.get_running_loop()
        self.lost = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport

    def send(self, command: bytes) -> asyncio.Future[Any]:
        if self.lost or self._transport is None:
            raise ConnectionError(CLOSED)
        future = self._loop.create_future()
        self._transport.write(command)
        timeout = self._server.timeout
        deadline = self._loop.time() + timeout if timeout is not None else 0.0
        self._waiting.append((future, deadline))
        if self._timer is None and timeout is not None:
            self._timer = self._loop.call_at(deadline, self._check_time)
        return future

    def data_received(self, data: bytes) -> None:
        buffer = self._buffer + data if self._buffer else data
        start, waiting = 0, self._waiting
        while start < len(buffer):
            try:
                reply, end = _reply(buffer, start)
            except (ConnectionError, ValueError) as error:  # not Redis speaking RESP2
                self._fail(ConnectionError(f"Protocol error from {self._server.name}: {error}"))
                return
            if reply is _MORE:
                break
            start = end
            if not waiting:  # nobody asked (the server's own words, then a close)
                continue
            future = waiting.popleft()[0]
            if future.done():  # its caller went away: the reply is dropped
                continue
            if isinstance(reply, Exception):
                future.set_exception(reply)
            else:
                future.set_result(reply)
        self._buffer = buffer[start:]

    def connection_lost(self, exc: Exception | None) -> None:
        self._fail(ConnectionError(CLOSED if exc is None else f"{CLOSED} ({exc})"))

    def close(self) -> None:
        self._fail(ConnectionError("Connection closed by the gateway."))

    def _check_time(self) -> None:
        """At the oldest call's deadline: still no reply, and the connection is dropped (as
        redis-py drops it), else the timer is set for the next deadline."""
        self._timer = None
        if not self._waiting:
            return
        deadline = self._waiting[0][1]
        if self._loop.time() >= deadline:
            self._fail(RedisTimeoutError(f"Timeout reading from {self._server.name}"))
        else:
            self._timer = self._loop.call_at(deadline, self._check_time)

    def _fail(self, error: Exception) -> None:
        self.lost = True
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._transport is not None:
            self._transport.abort()  # what was sent and not answered is lost with it
        while self._waiting:
            future = self._waiting.popleft()[0]
            if not future.done():
                future.set_exception(error)


def _reply(buffer: bytes, start: int) -> tuple[Any, int]:
    """The reply at `start` and where the next begins; (_MORE, start) when it is incomplete.
    An error reply is returned as the exception redis-py makes of it (raised at the top,
    an element inside an array, as redis-py does)."""
    end = buffer.find(b"\r\n", start)
    if end < 0:
        return _MORE, start
    kind = buffer[start]
    if kind == 58:  # ':' an integer
        return int(buffer[start + 1 : end]), end + 2
    if kind == 36:  # '$' a bulk string (-1: nil)
        length = int(buffer[start + 1 : end])
        if length < 0:
            return None, end + 2
        stop = end + 2 + length
        if len(buffer) < stop + 2:
            return _MORE, start
        return buffer[end + 2 : stop], stop + 2
    if kind == 42:  # '*' an array (-1: nil)
        count = int(buffer[start + 1 : end])
        if count < 0:
            return None, end + 2
        items, position = [], end + 2
        for _ in range(count):
            item, position = _reply(buffer, position)
            if item is _MORE:
                return _MORE, start
            items.append(item)
        return items, position
    if kind == 43:  # '+' a simple string
        return buffer[start + 1 : end], end + 2
    if kind == 45:  # '-' an error
        return BaseParser.parse_error(buffer[start + 1 : end].decode(errors="replace")), end + 2
    raise ConnectionError(f"unexpected reply {buffer[start:end][:40]!r}")


def _connect_error(name: str, error: OSError) -> str:
    """redis-py's message for a failed connect: `Error 111 connecting to host:port. ...`."""
    if error.errno is None:
        return f"Error connecting to {name}. {error}."
    return f"Error {error.errno} connecting to {name}. {error.strerror or error}."

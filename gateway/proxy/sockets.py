"""WebSocket sessions (OpenAI's realtime API): the handshake through the policies, then a relay.

A WebSocket handshake is a request like any other until the upgrade: it is routed (the
`Realtime_Connect` operation of OpenAI- and Azure-OpenAI-style APIs, or any GET operation),
admitted by its subscription key (`Authorization: Bearer`, `api-key` or the API's header, as
the SDKs send them), and its policy's inbound and backend sections run on it. There,
`forward-request` opens the upstream WebSocket instead of an HTTP call: the same backend or
pool member choice, breakers and credentials (the provider's key replaces the client's).
Outbound runs on the upstream's `101`. A refusal (no key, a policy's `return-response`, a
limit's 429, an upstream that refused its own handshake) is sent as an HTTP response in
place of the upgrade (the ASGI `websocket.http.response` extension; a close code where the
server has none). Then the gateway accepts the client's socket and relays frames both ways,
text and binary, each side closed when the other closes.

The session's usage is summed from the provider's `response.done` events as they pass
(gateway.tokens.realtime) and accounted once the session ends, as a stream's is once it has
ended: token metrics, token and cost limits' counters, the cost and the access log (one line
per session, status 101) all count it then.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import Any

import aiohttp

from gateway.config.backends import Backend
from gateway.expressions.model import HeaderDictionary, MessageBody
from gateway.proxy.forwarder import Forwarder
from gateway.proxy.incoming import Incoming
from gateway.proxy.sessions import parsed
from gateway.proxy.traffic import Traffic, raw_headers
from gateway.proxy.unreachable import unreachable
from gateway.proxy.upstream import HOP_BY_HOP, Upstream
from gateway.runtime.context import Phase, RequestContext
from gateway.runtime.forwarding import ForwardOptions
from gateway.runtime.phases import run_phase
from gateway.runtime.pipeline import run_pipeline
from gateway.runtime.replies import error_body, error_reply, reason_phrase
from gateway.runtime.step import LocalReply, PolicyError
from gateway.tokens.realtime import SessionUsage

log = logging.getLogger("aigw.proxy")

# The handshake's own headers: the upstream handshake has its own key, version, extensions.
_HANDSHAKE = frozenset(
    "sec-websocket-key sec-websocket-version sec-websocket-extensions sec-websocket-protocol "
    "origin".split()
)
# A browser's way of sending an OpenAI key: as a subprotocol. The client's key never travels.
_KEY_PROTOCOL = "openai-insecure-api-key."
_DATA = (aiohttp.WSMsgType.TEXT, aiohttp.WSMsgType.BINARY)
MAX_FRAME = 16 * 1024 * 1024  # as uvicorn's default limit on the client's side


class Opened:
    """The upstream sockets a handshake's attempts opened (a race may open several): the one
    the client is relayed to is the chosen response's; the others are closed."""

    def __init__(self) -> None:
        self.sockets: list[tuple[str | None, aiohttp.ClientWebSocketResponse]] = []

    def chosen(self, context: RequestContext) -> aiohttp.ClientWebSocketResponse | None:
        if context.model.Response.StatusCode != 101 or context.response_stream is None:
            return None
        member = None if context.backend_url is not None else context.backend_member
        found = [socket for name, socket in self.sockets if name == member]
        return found[-1] if found else None

    async def close_all_but(self, kept: aiohttp.ClientWebSocketResponse | None) -> None:
        for _, socket in self.sockets:
            if socket is not kept:
                await socket.close()


class _Held:
    """An open upstream socket as its attempt's response stream, so that a pool dropping the
    attempt's response (a lost race, a fallback moving on) closes it. It yields nothing."""

    def __init__(self, socket: aiohttp.ClientWebSocketResponse) -> None:
        self.socket = socket

    def __aiter__(self) -> _Held:
        return self

    async def __anext__(self) -> bytes:
        raise StopAsyncIteration

    async def aclose(self) -> None:
        await self.socket.close()


class SocketUpstream(Upstream):
    """forward-request for a WebSocket handshake: opens the upstream socket."""

    async def send(
        self, context: RequestContext, options: ForwardOptions, member: str | None
    ) -> None:
        backend = self._backend(member) if member is not None else None
        path, query = _realtime_target(context, backend) if backend is not None else (None, None)
        key, verify, url, credentials = self._target(context, backend, path, query)
        session = self.sessions.get(key, verify)
        if backend is not None and backend.credentials.managed_identity is not None:
            credentials = credentials + await self.credentials.identity(backend)
        request = context.model.Request
        dropped = HOP_BY_HOP | _HANDSHAKE | {name.lower() for name, _ in credentials}
        headers = [(k, v) for k, v in request.Headers.lines() if k.lower() not in dropped]
        offered = request.Headers.joined("sec-websocket-protocol") or ""
        protocols = [
            p
            for p in (each.strip() for each in offered.split(","))
            if p
            if not p.startswith(_KEY_PROTOCOL)
        ]
        response = context.model.Response
        try:
            async with asyncio.timeout(options.timeout):
                socket = await session.ws_connect(
                    parsed(url),
                    headers=headers + credentials,
                    protocols=protocols,
                    max_msg_size=MAX_FRAME,
                )
        except aiohttp.WSServerHandshakeError as refused:  # the upstream's answer, not a 101
            # Its status and headers (Retry-After, the provider's request id); the body is
            # ours, as the WebSocket client reads none of the upstream's.
            status = refused.status
            response.StatusCode, response.StatusReason = status, reason_phrase(status)
            upstream_headers = (refused.headers or {}).items()
            response.Headers = HeaderDictionary.from_lines(upstream_headers, HOP_BY_HOP)
            message = f"The backend refused the WebSocket handshake: {status}"
            response.Body = MessageBody(error_body(status, message, context.error_style))
            response.Headers.set("Content-Type", ["application/json"])
            return
        except TimeoutError:
            raise _unreachable(
                "Timeout", f"The backend did not answer within {options.timeout:g} seconds."
            ) from None
        except aiohttp.ClientError as error:
            request_id = context.model.request_id_text
            message = unreachable(member, parsed(url).raw_authority, error, request_id)
            raise _unreachable("BackendConnectionFailure", message) from None
        response.StatusCode, response.StatusReason = 101, "Switching Protocols"
        response.Headers, response.Body = HeaderDictionary(), None  # outbound may add some
        context.state.setdefault(Opened).sockets.append((member, socket))
        context.response_stream = _Held(socket)


def _unreachable(reason: str, message: str) -> PolicyError:
    """As forward-request fails an HTTP call that got no answer (upstream.py's)."""
    return PolicyError("forward-request", reason, message, status=500)


def _realtime_target(
    context: RequestContext, backend: Backend
) -> tuple[str | None, list[tuple[str, str]] | None]:
    """The path and query of the realtime API at `backend`: OpenAI's `/realtime?model=`, or
    Azure's `/realtime?api-version=&deployment=` (its v1 API, `/v1/realtime?model=`, when the
    client called that), whichever the client sent; the backend's `models` rename the model.
    Anthropic has no realtime API: refused, naming the operation and the backend."""
    if backend.provider == "anthropic":
        operation = context.model.Operation.Id
        message = f"{operation} cannot be served by backend '{backend.id}' (anthropic)."
        raise PolicyError("forward-request", "OperationNotSupported", message, status=400)
    if context.model.Operation.Id != "Realtime_Connect":
        return None, None
    query = context.model.Request.Url.Query.lines()
    asked = dict(query)
    model = asked.get("model") or asked.get("deployment") or ""
    named = backend.models.get(model, model)
    kept = [(k, v) for k, v in query if k not in ("model", "deployment", "api-version")]
    if backend.provider != "azure-openai":
        return "/realtime", [*kept, ("model", named)]
    if context.backend_path.startswith("/v1/"):  # Azure's v1 API: OpenAI's form
        return "/v1/realtime", [*kept, ("model", named)]
    version = asked.get("api-version") or backend.api_version
    return "/realtime", [*kept, ("api-version", version), ("deployment", named)]


def socket_forwarder(forwarder: Forwarder) -> Forwarder:
    """A forwarder like `forwarder` (members, breakers, latencies, accounting) whose calls
    open WebSockets."""
    upstream = forwarder.upstream
    sockets = SocketUpstream(
        upstream.backends, upstream.sessions, upstream.credentials, upstream.base_urls
    )
    return Forwarder(
        forwarder.members,
        sockets,
        forwarder.latencies,
        forwarder.costs,
        forwarder.accounting,
        forwarder.metrics,
        forwarder.builtin,
    )


class Sockets:
    """The traffic listener's WebSocket entry (ASGI `websocket` scopes)."""

    def __init__(self, traffic: Traffic, forwarder: Forwarder) -> None:
        self.traffic = traffic
        self.forwarder = socket_forwarder(forwarder)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if (await receive())["type"] != "websocket.connect":
            return
        request = Incoming(scope, receive)
        try:
            outcome = await self.handshake(request)
        except Exception:  # as for HTTP: a response in APIM's shape, never a traceback
            log.exception("a WebSocket handshake failed")
            outcome = error_reply(500, "Internal server error")
        if isinstance(outcome, LocalReply):
            await _deny(scope, send, outcome)
            return
        context, socket = outcome
        headers = [*context.model.Response.Headers.lines(), *context.response_headers]
        self.traffic.identify(context, headers)
        query = request.first_query_values
        usage = SessionUsage(query.get("model") or query.get("deployment") or "")
        try:
            # The subprotocol the upstream chose of those the client offered (None: none).
            accept = {"type": "websocket.accept", "subprotocol": socket.protocol}
            await send({**accept, "headers": raw_headers(headers)})
            await _relay(receive, send, socket, usage)
        except OSError as error:  # the client went away before it was accepted
            log.debug("a WebSocket client left: %r", error)
        finally:
            await socket.close()
            context.usage, context.usage_read = usage.total(), True
            self.traffic.when_done(context, 101)  # the access log, metrics, the ledger
            await run_phase(context, Phase.DONE)

    async def handshake(
        self, request: Incoming
    ) -> tuple[RequestContext, aiohttp.ClientWebSocketResponse] | LocalReply:
        """The handshake through the policies: the open upstream socket, or the refusal."""
        entered = await self.traffic.enter(request)
        if isinstance(entered, LocalReply):
            return entered
        policy, context = entered
        context.forward = self.forwarder.forward
        opened = context.state.setdefault(Opened)  # before any race forks the context
        socket = None
        try:
            reply = await run_pipeline(policy, context)
            socket = opened.chosen(context) if reply is None else None
        finally:  # whatever happened, only the socket the client gets stays open
            await opened.close_all_but(socket)
        if socket is not None:
            return context, socket
        context.response_stream = None  # closed above
        final = await self.traffic.final_response(context, reply)
        assert isinstance(final, LocalReply)  # no stream: a whole response
        return final


async def _deny(scope: Any, send: Any, reply: LocalReply) -> None:
    """Refuse the handshake with `reply` as an HTTP response, where the server can send one;
    else close the socket before accepting it (the client sees a failed handshake)."""
    if "websocket.http.response" in scope.get("extensions", {}):
        headers = raw_headers(reply.headers)
        await send(
            {"type": "websocket.http.response.start", "status": reply.status, "headers": headers}
        )
        await send({"type": "websocket.http.response.body", "body": reply.body})
    else:
        await send({"type": "websocket.close", "code": 1008})


def _sendable(code: int | None, abnormal: int) -> int:
    """A close code one side may send for the other's: 1005 (none given) and 1006 (no close
    frame) are only ever reported, never sent."""
    if code is None or code == 1005:
        return 1000
    if code == 1006 or code == 1015:
        return abnormal
    return code


async def _relay(
    receive: Any, send: Any, socket: aiohttp.ClientWebSocketResponse, usage: SessionUsage
) -> None:
    """Frames both ways until one side closes; the other is closed with its code."""

    async def from_client() -> None:
        while True:
            message = await receive()
            kind = message["type"]
            if kind == "websocket.receive":
                text = message.get("text")
                if text is not None:
                    await socket.send_str(text)
                else:
                    await socket.send_bytes(message.get("bytes") or b"")
            elif kind == "websocket.disconnect":
                await socket.close(code=_sendable(message.get("code"), 1000))
                return

    async def from_upstream() -> None:
        async for frame in _frames(socket):
            if isinstance(frame, str):
                usage.feed(frame)
                await send({"type": "websocket.send", "text": frame})
            else:
                await send({"type": "websocket.send", "bytes": frame})
        await send({"type": "websocket.close", "code": _sendable(socket.close_code, 1011)})

    tasks = [asyncio.create_task(from_client()), asyncio.create_task(from_upstream())]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        for outcome in await asyncio.gather(*tasks, return_exceptions=True):
            if isinstance(outcome, Exception):  # a side gone mid-frame: the session is over
                log.debug("a WebSocket relay ended: %r", outcome)


async def _frames(socket: aiohttp.ClientWebSocketResponse) -> AsyncIterator[str | bytes]:
    """The upstream's data frames (text as str, binary as bytes) until it closes."""
    while True:
        message = await socket.receive()
        if message.type in _DATA:
            yield message.data
        else:  # close, closing, closed, error
            return

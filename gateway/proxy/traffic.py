"""The traffic listener's request handler: route, admit, build the context, run, respond.

Everything that can be is prepared at load (routes, the admission index, the context models,
the compiled chains per target); a request does lookups, builds its own context and runs its
chains. The response is the policies' local reply, or the backend's response as outbound left
it, whole or streamed chunk by chunk.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import AsyncGenerator
from dataclasses import dataclass

from starlette.types import Receive, Scope, Send

from gateway.common.request_ids import new_request_id
from gateway.config.apis import Api
from gateway.expressions.model import MessageBody
from gateway.load import LoadedGateway, operations_of
from gateway.policy.loader import Target
from gateway.proxy.admission import Admission, Admitted, Denied
from gateway.proxy.contexts import ContextFactory
from gateway.proxy.incoming import Incoming
from gateway.proxy.limits import BodyTooLarge, ClientGone
from gateway.proxy.router import ApiRoutes, RouteMiss, Router, operation_route
from gateway.proxy.sender import StreamedResponse
from gateway.proxy.streaming import pass_through
from gateway.proxy.styles import REQUEST_ID_HEADERS, style_error
from gateway.proxy.whole import WholeResponse, raw_headers, whole
from gateway.proxy.wiring import Wiring
from gateway.runtime.context import Phase, RequestContext
from gateway.runtime.phases import run_phase
from gateway.runtime.pipeline import run_pipeline
from gateway.runtime.replies import error_reply
from gateway.runtime.step import CompiledPolicy, LocalReply
from gateway.telemetry.traceparent import client_trace_id

log = logging.getLogger("aigw.proxy")

# Bodies up to this size are read whole before the backend call: one bytes payload costs
# the HTTP client less than a stream. Larger ones stream (unless a policy reads them).
SMALL_BODY = 64 * 1024
CLIENT_GONE = 499  # nginx's status for a client that closed its connection first


@dataclass(frozen=True, slots=True)
class Streamed:
    """A backend response passed to the client chunk by chunk."""

    status: int
    headers: list[tuple[str, str]]
    chunks: AsyncGenerator[bytes]


# What Starlette's JSONResponse writes: a failed request's body says so in JSON.
_JSON = ("content-type", "application/json")


def _failed(activity: uuid.UUID) -> bytes:
    """The body of a request that failed in the gateway (as JSONResponse renders it)."""
    failed = {"statusCode": 500, "message": "Internal server error", "activityId": str(activity)}
    return json.dumps(failed, ensure_ascii=False, separators=(",", ":")).encode()


# The access log's `refusal` for a request admission turned away (Denied.reason).
DENIALS = {
    "SubscriptionKeyNotFound": "no-subscription-key",
    "SubscriptionKeyInvalid": "invalid-subscription-key",
}


class Traffic:
    def __init__(self, gateway: LoadedGateway, wiring: Wiring) -> None:
        config = gateway.config
        self.config = config
        self.policies = gateway.policies
        # The same chains by plain tuple: a frozen dataclass key cost a request ~0.6 µs to
        # make and hash.
        self.chains = {
            (target.api, target.operation, target.product): policy
            for target, policy in gateway.policies.items()
        }
        self.max_body = config.limits.max_request_body
        self.max_retained = config.limits.max_stream_retained
        self.routing_headers = config.telemetry.routing_headers
        self.access_log = wiring.access_log
        self.ledger = wiring.ledger
        self.llm_messages = wiring.llm_messages  # API id -> its LLM message logging
        self.spans = wiring.spans  # None: tracing is off
        self.builtin = wiring.builtin
        self.admission = Admission(
            config,
            lambda subscription, why: log.warning(
                "subscription %s has an unusable key: %s", subscription.id, why
            ),
            wiring.tenants,
        )
        operations = operations_of(config)
        self.router = Router(
            ApiRoutes(api.id, api.path, tuple(operation_route(*op) for op in operations[api.id]))
            for api in config.apis.values()
        )
        self.contexts = ContextFactory(
            config, operations, wiring.services, wiring.forwarder.forward
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The traffic listener's ASGI entry: every request but `/-/health` comes here."""
        request = Incoming(scope, receive)
        if self.spans is not None:
            await self.spans.serve(request, self.respond, scope, receive, send)
            return
        reply = await self.answer(request)
        if isinstance(reply, Streamed):
            streamed = StreamedResponse(reply.status, raw_headers(reply.headers), reply.chunks)
            await streamed(scope, receive, send)
            return
        # What WholeResponse(...)(scope, receive, send) sends, without the object in between.
        headers, body = whole(reply.status, reply.headers, reply.body)
        await send({"type": "http.response.start", "status": reply.status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    async def respond(self, request: Incoming) -> WholeResponse | StreamedResponse:
        """`request`'s response as an ASGI application (a traced request's)."""
        reply = await self.answer(request)
        if isinstance(reply, Streamed):
            return StreamedResponse(reply.status, raw_headers(reply.headers), reply.chunks)
        return WholeResponse(reply.status, reply.headers, reply.body)

    async def answer(self, request: Incoming) -> LocalReply | Streamed:
        """`request` routed, admitted, run through its chains: what the client gets."""
        try:
            entered = await self.enter(request)
            if isinstance(entered, LocalReply):
                return entered
            policy, context = entered
            try:
                reply = await run_pipeline(policy, context)
            except BodyTooLarge:  # a body without a length, found too large while it streamed
                api = self.config.apis[context.model.Api.Id]
                return self.refused(request, self.too_large(api), api.id, "body-too-large")
            return await self.final_response(context, reply)
        except ClientGone:  # before its body was whole: no one to answer, nothing went wrong
            log.info(
                "%s %s: the client went before its body was whole", request.method, request.path
            )
            self.note_refused(request, CLIENT_GONE)
            return LocalReply(CLIENT_GONE, "", [], b"")
        except Exception:  # the promise: a response in APIM's shape, never a traceback
            activity = uuid.uuid4()
            log.exception("request %s failed", activity)
            self.note_refused(request, 500)
            return LocalReply(500, "Internal Server Error", [_JSON], _failed(activity))

    def note_refused(self, request: Incoming, status: int) -> None:
        """A request that ended before any policy could answer it: the access log and the
        built-in metrics still see it."""
        if self.access_log is not None:
            self.access_log.write_refused(
                request.method, request.path, request.client_ip, status, request.started
            )
        if self.builtin is not None:
            self.builtin.refused(request.method, None, status, request.started)

    async def enter(self, request: Incoming) -> tuple[CompiledPolicy, RequestContext] | LocalReply:
        """Route, admit and read the request: its policy and context, ready to run, or the
        reply that refused it before any policy ran (HTTP requests and WebSocket handshakes)."""
        found = self.router.match(request.method, request.raw_path)
        if isinstance(found, RouteMiss):
            return await self.preflight(request, found) or self.refused(
                request,
                self.route_miss(found),
                found.api,
                _MISSES[found.status],
            )
        api = self.config.apis[found.api]
        key = self.admission.key_from(api, request.headers, request.first_query_values)
        admitted = self.admission.admit(api.id, key)
        if isinstance(admitted, Denied):
            realm = f"https://{request.netloc}/{api.path}"
            challenge = (
                f'AzureApiManagementKey realm="{realm}",name="{api.key_header}",type="header"'
            )
            denied = error_reply(
                401,
                admitted.message,
                [("WWW-Authenticate", challenge)],
                style=api.error_style,
                code=admitted.reason,
            )
            return self.refused(request, denied, api.id, DENIALS.get(admitted.reason))
        policy = self.chains[(api.id, found.operation, admitted.product)]
        length = request.headers.get("content-length", "")
        size = int(length) if length.isdigit() else None
        if size is not None and size > self.max_body:
            return self.refused(request, self.too_large(api), api.id, "body-too-large")
        body = stream = None
        # A policy that may read the body, or a small body, is read whole (and a prompt that
        # LLM message logging keeps); a large one no one reads streams to the backend.
        if (
            policy.reads_request_body
            or (size is not None and size <= SMALL_BODY)
            or api.id in self.llm_messages
        ):
            try:
                body = MessageBody(await request.body(self.max_body) if request.has_body else b"")
            except BodyTooLarge:  # a body without a length, found too large while it was read
                return self.refused(request, self.too_large(api), api.id, "body-too-large")
        elif request.has_body:
            stream = request.stream(self.max_body)
        context = self.contexts.new(request, api, found, admitted, key, body)
        context.request_stream = stream
        if self.spans is not None:
            self.spans.entered(context)
        return policy, context

    async def final_response(
        self, context: RequestContext, reply: LocalReply | None
    ) -> LocalReply | Streamed:
        """What the client gets once the pipeline has run: its local reply, or the backend's
        response as outbound left it; the request's DONE actions run once it is final."""
        model = context.model
        if self.routing_headers and _routed(context):
            context.response_headers += [
                ("x-aigw-backend", context.backend_member or ""),
                ("x-aigw-attempts", ", ".join(context.attempts)),
            ]
        if context.response_stream is not None:
            if reply is None:
                if self.llm_messages:
                    self.log_llm_message(context, None)
                self.when_done(context, model.Response.StatusCode)
                headers = model.Response.Headers.lines() + context.response_headers
                self.identify(context, headers)
                if self.spans is not None and context.span is not None:
                    context.defer(
                        Phase.DONE, self.spans.finisher(model.Response.StatusCode, headers)
                    )
                chunks = pass_through(context.response_stream, context, self.max_retained)
                return Streamed(model.Response.StatusCode, headers, chunks)
            await context.response_stream.aclose()  # a policy replied instead: drop the stream
        if reply is None:
            response = model.Response
            content = response.Body.read(preserve=True) if response.Body is not None else b""
            reply = LocalReply(
                response.StatusCode, response.StatusReason, response.Headers.lines(), content
            )
        if self.llm_messages:
            self.log_llm_message(context, reply)
        self.when_done(context, reply.status, reply.headers)
        if self.spans is not None and context.span is not None:
            context.defer(Phase.DONE, self.spans.finisher(reply.status, reply.headers))
        context.first_byte = time.time()  # handed to the server: it goes out now
        await run_phase(context, Phase.DONE)
        reply.headers.extend(context.response_headers)
        self.identify(context, reply.headers)
        return reply

    def when_done(
        self, context: RequestContext, status: int, headers: list[tuple[str, str]] | None = None
    ) -> None:
        """Log, count and record the request (a WebSocket session too) once its response is
        final (`headers`: a whole reply's, where a cache says it answered)."""
        if self.access_log is not None:
            context.defer(Phase.DONE, self.access_log.action(status))
        if self.builtin is not None:
            context.defer(Phase.DONE, self.builtin.action(status))
        if self.ledger is not None and context.style != "http":  # LLM calls only
            context.defer(Phase.DONE, self.ledger.action(status, headers or []))

    def log_llm_message(self, context: RequestContext, reply: LocalReply | None) -> None:
        """Log the call's prompt and completion once the response is final, when its API asks
        for LLM message logging and this call is sampled (`reply`: None for a stream)."""
        messages = self.llm_messages.get(context.model.Api.Id)
        if messages is not None and messages.sampled():
            context.defer(Phase.DONE, messages.action(reply))

    def identify(self, context: RequestContext, headers: list[tuple[str, str]]) -> None:
        """The request id, under the header the client's SDK reads, unless the response has
        one (a provider's own, passed on): the access log's `request_id` is the same."""
        name = REQUEST_ID_HEADERS.get(context.style)
        if name is None:
            return
        size = len(name)
        # A loop, not all(<generator>): this runs for every request; lengths first, as most
        # names differ in length from the one sought and comparing them makes no copy.
        for key, _ in headers:
            if len(key) == size and key.lower() == name:
                return
        headers.append((name, context.model.request_id_text))

    async def preflight(self, request: Incoming, miss: RouteMiss) -> LocalReply | None:
        """A CORS preflight for an operation with no OPTIONS of its own: only cors runs.

        The operation is the one the browser asks about (`Access-Control-Request-Method`);
        browsers send no subscription key on a preflight, so the API's own scope replies.
        None when this is no preflight, or no cors statement covers that operation.
        """
        asked = request.headers.get("access-control-request-method")
        if request.method != "OPTIONS" or miss.status != 405 or not asked:
            return None
        if "origin" not in request.headers:
            return None
        found = self.router.match(asked, request.raw_path)
        if isinstance(found, RouteMiss):
            return None
        policy = self.policies.get(Target(found.api, found.operation, None))
        if policy is None or not policy.preflight:
            return None
        api = self.config.apis[found.api]
        context = self.contexts.new(request, api, found, Admitted(None, None), None, None)
        context.preflight = True
        reply = await policy.preflight.run(context) or LocalReply(200, "OK")
        if self.access_log is not None:
            self.access_log.write(context, reply.status)
        if self.builtin is not None:
            self.builtin.done(context, reply.status)
        return reply

    def refused(
        self,
        request: Incoming,
        reply: LocalReply,
        api: str | None = None,
        refusal: str | None = None,
    ) -> LocalReply:
        """`reply`, sent before any policy ran; logged as such (with why: `refusal`), under
        its request id."""
        request_id = new_request_id()
        style = self.config.apis[api].style if api is not None else "http"
        name = REQUEST_ID_HEADERS.get(style)
        if name is not None:
            reply.headers.append((name, request_id))
        if self.access_log is not None:
            self.access_log.write_refused(
                request.method,
                request.path,
                request.client_ip,
                reply.status,
                request.started,
                api,
                request_id,
                refusal,
                self.trace_id(request),
            )
        if self.builtin is not None:
            self.builtin.refused(request.method, api, reply.status, request.started)
        return reply

    def trace_id(self, request: Incoming) -> str | None:
        """The access log's `trace_id` of a request refused before it had a context."""
        if self.spans is not None:
            return self.spans.trace_id(request)
        return client_trace_id(request.headers.get("traceparent"))

    def route_miss(self, found: RouteMiss) -> LocalReply:
        headers = [("Allow", ", ".join(found.allowed))] if found.allowed else []
        api = self.config.apis[found.api] if found.api else None
        return style_error(api, found.status, _MISS_MESSAGES[found.status], headers)

    def too_large(self, api: Api | None = None) -> LocalReply:
        message = f"The request body is larger than the gateway's limit of {self.max_body} bytes."
        return style_error(api, 413, message)


# A route miss's refusal (access log) and message, by status.
_MISSES = {400: "bad-path", 404: "no-route", 405: "method-not-allowed"}
_MISS_MESSAGES = {
    400: "The path climbs above the API's base path (a '..' segment, or '%2e%2e', '%2f' or "
    "'%5c' that a server may read as one); send the path without dot segments.",
    404: "Resource not found",
    405: "Method not allowed",
}


def _routed(context: RequestContext) -> bool:
    """Did this request go through a pool, or take more than one attempt? (Then its response
    says how; a lone backend's single attempt needs no headers.)"""
    attempts = context.attempts
    return len(attempts) > 1 or (bool(attempts) and context.backend_member != context.backend)

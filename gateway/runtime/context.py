"""The per-request state that steps read and change, and the actions they defer.

`model` is the read-only object that policy expressions see as `context` (APIM's object
model, defined by the expression layer). The proxy builds it from the live request; tests and
`aigw` tools build it from plain values.

A step that must act later than its own turn defers an action to a `Phase`
(`context.defer(Phase.DONE, count)`); gateway.runtime.phases runs each phase's actions, at the
one place that phase happens.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from enum import StrEnum

from gateway.expressions.model import ContextModel, MessageBody
from gateway.runtime.forwarding import ForwardOptions
from gateway.runtime.services import Services
from gateway.runtime.state import StatementState
from gateway.tokens.usage import Usage

NO_SERVICES = Services()


class Phase(StrEnum):
    """When a deferred action runs, after the section that deferred it.

    - `RESPONSE`: forward-request has the backend's response (its headers; its body when
      buffered), its usage accounted, before outbound runs. An action may refuse the response
      (raise `PolicyError`) or wrap `response_stream` to screen a stream.
    - `STREAM_END`: a streamed response is complete, as its protocol says (`[DONE]`,
      `message_stop`; else its body's end), whether or not the client stayed for what came
      after (`Response.Body` holds it): keep it (caches). Never after a stream cut short.
    - `DONE`: the response is final: sent, streamed to its end, cut short, or abandoned by
      the client. Count it, emit its metrics, log it (APIM's "at the end of outbound").
    """

    RESPONSE = "response"
    STREAM_END = "stream-end"
    DONE = "done"


# An action that waits for nothing may be a plain function (returning None): most of a
# request's DONE actions (its access log line, metrics, ledger record) are, and a coroutine
# each cost a request more than the call.
Action = Callable[["RequestContext"], Awaitable[None] | None]
# The gateway's call to the request's backend (the proxy's): puts the backend's response in
# `context.model.Response` (and a stream in `response_stream`), or raises `PolicyError`.
Forward = Callable[["RequestContext", ForwardOptions], Awaitable[None]]


@dataclass
class RequestContext:
    model: ContextModel
    # The API's style (gateway.yaml): openai, azure-openai, anthropic or http. Decided once,
    # by the proxy: which error shapes, stream formats and translations the client gets.
    style: str = "http"
    # The SDK whose error fields the gateway's own error bodies carry besides APIM's
    # (gateway.runtime.replies): "openai", "anthropic", or None for APIM's exact body.
    error_style: str | None = None
    section: str = "inbound"
    forward: Forward | None = None  # how forward-request reaches backends
    services: Services = NO_SERVICES  # stores, caches, side calls, samples, tokens, keys
    backend: str | None = None  # the backend id requests go to (the API's, or set-backend-service)
    backend_path: str = "/"  # the path after the API suffix, appended to the backend URL
    backend_url: str | None = None  # set-backend-service base-url: replaces the backend's URL
    backend_member: str | None = None  # the backend the last attempt went to (a pool's member)
    # Each attempt to reach a backend, "member:outcome" ("east:429", "west:200",
    # "east:open" for a member skipped while its breaker was open).
    attempts: list[str] = field(default_factory=list)
    # A streamed backend response (server-sent events, buffer-response="false"): its chunks,
    # to pass to the client as they come. Response.Body is None while it streams.
    response_stream: AsyncIterator[bytes] | None = None
    # The client's body, not yet read, when no policy reads it: forward-request streams it.
    request_stream: AsyncIterator[bytes] | None = None
    preflight: bool = False  # a CORS preflight: only the cors chain runs
    # The gateway asked the upstream for stream usage the client did not ask for: hide it.
    hide_stream_usage: bool = False
    # Actions deferred to a later phase, in the order they were deferred.
    deferred: dict[Phase, list[Action]] = field(default_factory=dict)
    # What statements keep for later in this request (a lookup's plan for its store, ...):
    # made when a statement first keeps something (`state`); most requests keep nothing.
    kept: StatementState | None = None
    # The request body parsed as JSON, with the body it came from (runtime.llm_call).
    parsed_body: tuple[object, dict[str, object]] | None = None
    # Why a streamed response broke off after it started (None: it did not).
    stream_error: str | None = None
    # The client went before its streamed response ended (by its protocol, or its body).
    client_left: bool = False
    # The bytes a streamed response passed (its body, which is None when it was too large
    # to keep: limits.max-stream-retained).
    streamed_bytes: int = 0
    # The provider's usage in the response, once read (runtime.llm_call.response_usage).
    usage: Usage | None = None
    usage_read: bool = False
    # Headers every response to this request gets, whoever produced it (cors adds them).
    response_headers: list[tuple[str, str]] = field(default_factory=list)
    # Session affinity (gateway.routing.affinity): each pool with a session cookie that an
    # attempt of this request chose in -> the session id. A later attempt (a retry) finds its
    # pool here and chooses afresh instead of following the client's cookie.
    affinity: dict[str, str] = field(default_factory=dict)
    # The request's tracing span when it is traced (gateway.proxy.traced; an OpenTelemetry
    # span the runtime never touches), else None.
    span: object | None = None
    # Timings (gateway.telemetry.timings): the backend attempts' seconds, summed, and when
    # (time.time()) the response's first byte went to the client.
    upstream_seconds: float = 0.0
    first_byte: float | None = None
    # The response cache's answer, set by the lookup statements: "hit", "miss" (None: no lookup).
    cache_result: str | None = None

    @classmethod
    def of_request(
        cls,
        model: ContextModel,
        style: str,
        error_style: str | None,
        forward: Forward | None,
        services: Services,
        backend: str | None,
        backend_path: str,
    ) -> RequestContext:
        """What `RequestContext(model, style=..., ...)` makes, for a third of its cost (one a
        request): the dataclass's `__init__` sets all 28 fields; here only these and the
        four made afresh are, the rest read from the class's defaults (the same values, and
        immutable: an assignment sets the instance's own)."""
        context = object.__new__(cls)
        context.model = model
        context.style = style
        context.error_style = error_style
        context.forward = forward
        context.services = services
        context.backend = backend
        context.backend_path = backend_path
        context.attempts = []
        context.deferred = {}
        context.response_headers = []
        context.affinity = {}
        return context

    @property
    def variables(self) -> dict[str, object]:
        return self.model.Variables

    @property
    def state(self) -> StatementState:
        """What statements keep for later in this request, by type (gateway.runtime.state)."""
        if self.kept is None:
            self.kept = StatementState()
        return self.kept

    def defer(self, phase: Phase, action: Action) -> None:
        """Run `action` at `phase` (gateway.runtime.phases)."""
        actions = self.deferred.get(phase)
        if actions is None:  # not setdefault(phase, []): a request defers some four actions
            self.deferred[phase] = [action]
        else:
            actions.append(action)

    def has_deferred(self, *phases: Phase) -> bool:
        return any(self.deferred.get(phase) for phase in phases)

    async def hold_request_body(self) -> None:
        """Read a streaming request body whole, so that another attempt (a retry, another
        pool member) or a translation can use it again."""
        stream, self.request_stream = self.request_stream, None
        if stream is not None:
            self.model.Request.Body = MessageBody(b"".join([chunk async for chunk in stream]))

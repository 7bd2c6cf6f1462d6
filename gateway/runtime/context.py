"""The per-request state that steps read and change.

`model` is the read-only object that policy expressions see as `context` (APIM's object
model, defined by the expression layer). The proxy builds it from the live request; tests and
`aigw` tools build it from plain values.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from gateway.expressions.model import ContextModel
from gateway.runtime.services import Services
from gateway.runtime.transport import Transport

if TYPE_CHECKING:
    from gateway.tokens.usage import Usage

NO_SERVICES = Services()


@dataclass
class RequestContext:
    model: ContextModel
    section: str = "inbound"
    transport: Transport | None = None  # how forward-request reaches backends
    services: Services = NO_SERVICES  # side calls, samples, tokens, signing keys
    backend: str | None = None  # the backend id requests go to (the API's, or set-backend-service)
    backend_path: str = "/"  # the path after the API suffix, appended to the backend URL
    backend_url: str | None = None  # set-backend-service base-url: replaces the backend's URL
    backend_member: str | None = None  # the backend the last attempt went to (a pool's member)
    # Each attempt to reach a backend, "member:outcome" ("east:429", "west:200",
    # "east:open" for a member skipped while its breaker was open).
    attempts: list[str] = field(default_factory=list)
    # A streamed backend answer (server-sent events, buffer-response="false"): its chunks, to
    # pass to the client as they come. Response.Body is None while it streams.
    response_stream: AsyncIterator[bytes] | None = None
    # The client's body, not yet read, when no policy reads it: forward-request streams it.
    request_stream: AsyncIterator[bytes] | None = None
    preflight: bool = False  # a CORS preflight: only the cors chain runs
    # The gateway asked the upstream for stream usage the client did not ask for: hide it.
    hide_stream_usage: bool = False
    # What outbound steps that need a streamed answer whole do once its last chunk has gone
    # to the client (gateway.proxy.streaming): they never delay a chunk.
    after_stream: list[Callable[[RequestContext], Awaitable[None]]] = field(default_factory=list)
    # What checks the backend's answer as soon as forward-request has it (its usage already
    # accounted), before outbound: a check raises PolicyError to refuse a whole answer, or
    # wraps `response_stream` to screen a streamed one (llm-content-safety's answers).
    answer_checks: list[Callable[[RequestContext], Awaitable[None]]] = field(default_factory=list)
    # What runs once the answer is final (after outbound, or after a stream's last chunk or
    # its abandonment): counting that needs the response, as APIM does "at the end of outbound".
    on_complete: list[Callable[[RequestContext], Awaitable[None]]] = field(default_factory=list)
    # The request body parsed as JSON, with the body it came from (statements.request_json).
    parsed_body: tuple[object, dict[str, object]] | None = None
    # Why a streamed answer broke off after it started (None: it did not).
    stream_error: str | None = None
    # The provider's usage in the answer, once read (gateway.tokens.usage.answer_usage).
    usage: Usage | None = None
    usage_read: bool = False
    # Counter keys already incremented by this request: APIM counts a key once per request.
    counted: set[str] = field(default_factory=set)
    # What a cache lookup left for its store statement in outbound, by cache kind
    # ("response", "semantic"); each statement pair owns its entry's type.
    cache_plans: dict[str, object] = field(default_factory=dict)
    # Headers every answer to this request gets, whoever produced it (cors adds them).
    response_headers: list[tuple[str, str]] = field(default_factory=list)
    # Session affinity (gateway.routing.affinity): each pool with a session cookie that an
    # attempt of this request chose in -> the session id. A later attempt (a retry) finds its
    # pool here and chooses afresh instead of following the client's cookie.
    affinity: dict[str, str] = field(default_factory=dict)

    @property
    def variables(self) -> dict[str, object]:
        return self.model.Variables

"""What the proxy puts in traces: the request's span, each backend attempt's, each side call's.

Made only when tracing is on (`Wiring.spans`); the request path asks `is not None` once and
does nothing more when it is off. A request the sampler leaves out (its span does not
record) goes the untraced way too: no child spans, its headers passed on as they came.

- The request's span (server) is made current in the request's task, so the side calls the
  services make for it (send-request, embeddings, Content Safety, managed-identity tokens)
  find their parent without being handed the request; it ends with the request's DONE phase,
  once the response is final, carrying the GenAI and APIM attributes.
- A backend attempt's span (client) is the parent the backend sees in `traceparent`.
- Side calls are wrapped services (gateway.proxy.traced_calls).
- `trace` statements (and forward-request's notes) become events of the request's span.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING

from opentelemetry import trace

from gateway.config.settings import GatewayConfig
from gateway.proxy.traced_calls import (
    TracedBackendCalls,
    TracedBearerTokens,
    TracedEmbeddings,
    TracedSideCalls,
)
from gateway.runtime.context import Action, RequestContext
from gateway.runtime.llm_call import request_json, request_model, response_usage
from gateway.runtime.services import BackendCalls, BearerTokens, Embeddings, SideCalls
from gateway.statements.support.response_cache_plan import ResponsePlan
from gateway.statements.support.semantic_cache_plan import SemanticPlan
from gateway.telemetry.genai import OPERATIONS, PROVIDERS, response_facts
from gateway.telemetry.traceparent import client_trace_id, trace_id
from gateway.telemetry.tracing import Span, Tracing, failed

if TYPE_CHECKING:
    from starlette.responses import Response
    from starlette.types import Receive, Scope, Send

    from gateway.proxy.incoming import Incoming
    from gateway.proxy.sender import StreamedResponse

CACHE_HEADER = "x-aigw-cache"
_CACHE_PLANS = (ResponsePlan, SemanticPlan)  # what a cache lookup that missed leaves


class SpanEvents(list[str]):
    """`context.model.traces` of a traced request: each message is also an event of the
    request's span, at the moment it is written (`[severity] source: message`)."""

    def __init__(self, span: Span, earlier: list[str]) -> None:
        super().__init__(earlier)
        self.span = span

    def append(self, message: str) -> None:
        super().append(message)
        severity, _, rest = message.partition("] ")
        source, _, text = rest.partition(": ")
        self.span.add_event(
            "trace",
            {
                "aigw.trace.severity": severity.lstrip("["),
                "aigw.trace.source": source,
                "aigw.trace.message": text,
            },
        )


class Spans:
    """The proxy's spans, for a gateway whose `telemetry.traces.sampling` is above 0."""

    def __init__(self, config: GatewayConfig, tracing: Tracing) -> None:
        self.tracing = tracing
        self.providers = {
            backend.id: PROVIDERS.get(backend.provider) for backend in config.backends.values()
        }

    async def serve(
        self,
        request: Incoming,
        respond: Callable[[Incoming], Awaitable[Response | StreamedResponse]],
        scope: Scope,
        receive: Receive,
        send: Send,
    ) -> None:
        """Answer `request` inside its span (the traffic listener's entry when traced)."""
        span = self.tracing.start_request(request.method, request.headers)
        if span is None or not span.is_recording():  # not sampled: as if tracing were off
            response = await respond(request)
            await response(scope, receive, send)
            return
        token = self.tracing.make_current(span)
        status = 500
        try:
            response = await respond(request)
            status = response.status_code
            await response(scope, receive, send)
        finally:
            self.tracing.restore(token)
            if getattr(span, "end_time", None) is None:  # refused before any policy ran
                http_attributes(span, request.method, request.path, status)
                span.end()

    def trace_id(self, request: Incoming) -> str | None:
        """The trace a request without a context is in: its span's, else its client's."""
        span = trace.get_current_span()
        if span.is_recording():
            return trace_id(span)
        return client_trace_id(request.headers.get("traceparent"))

    def entered(self, context: RequestContext) -> None:
        """A routed, admitted request's context: it carries its span from now on."""
        span = trace.get_current_span()
        if not span.is_recording():  # a WebSocket handshake, or not sampled
            return
        context.span = span
        context.model.Tracing = True  # APIM's context.Tracing
        context.model.traces = SpanEvents(span, context.model.traces)
        model = context.model
        route = "/" + model.Api.Path.strip("/") + model.Operation.UrlTemplate
        span.update_name(f"{model.Request.Method} {route}")
        span.set_attribute("http.route", route)

    def finisher(self, status: int, headers: Sequence[tuple[str, str]]) -> Action:
        """The DONE action that fills in the request's span and ends it."""

        async def end_request_span(context: RequestContext) -> None:
            span = context.span
            # Ended already when the client left before a stream's end and the request's
            # task finished first (Spans.serve ends what is left open).
            if isinstance(span, Span) and getattr(span, "end_time", None) is None:
                self.finish(span, context, status, headers)

        return end_request_span

    def finish(
        self,
        span: Span,
        context: RequestContext,
        status: int,
        headers: Sequence[tuple[str, str]],
    ) -> None:
        model = context.model
        http_attributes(span, model.Request.Method, model.Request.Url.Path, status)
        member = context.backend_member
        attributes = {
            "aigw.api": model.Api.Id,
            "aigw.operation": model.Operation.Id,
            "aigw.product": model.Product.Id if model.Product is not None else None,
            "aigw.subscription": model.Subscription.Id if model.Subscription else None,
            "aigw.backend": context.backend,
            "aigw.member": member,
            "aigw.attempts": len(context.attempts),
            "aigw.cache": cache_result(context, headers),
            "aigw.cost": model.Variables.get("llm-cost"),
            "aigw.request_id": model.request_id_text,
            "client.address": model.Request.IpAddress,
        }
        span.set_attributes({k: v for k, v in attributes.items() if v is not None})
        operation = OPERATIONS.get(model.Operation.Id)
        if operation is not None and context.style != "http":
            span.set_attributes(self.genai_attributes(context, operation, member))
        if context.stream_error is not None:
            failed(span, "stream broke off: " + context.stream_error)
        span.end()

    def genai_attributes(
        self, context: RequestContext, operation: str, member: str | None
    ) -> dict[str, object]:
        attributes: dict[str, object] = {"gen_ai.operation.name": operation}
        provider = self.providers.get(member or context.backend or "")
        if provider is not None:
            attributes["gen_ai.provider.name"] = attributes["gen_ai.system"] = provider
        requested = request_model(context, request_json(context))
        if requested:
            attributes["gen_ai.request.model"] = requested
        usage = response_usage(context)
        if usage is not None:
            attributes["gen_ai.usage.input_tokens"] = usage.prompt
            attributes["gen_ai.usage.output_tokens"] = usage.completion
        response = context.model.Response
        if response.Body is not None and response.StatusCode < 400:
            kind = response.Headers.joined("content-type") or ""
            facts = response_facts(response.Body.read(preserve=True), kind)
            if facts.id is not None:
                attributes["gen_ai.response.id"] = facts.id
            if facts.model or (usage is not None and usage.model):
                attributes["gen_ai.response.model"] = facts.model or usage.model  # type: ignore[union-attr]
            if facts.finish_reasons:
                attributes["gen_ai.response.finish_reasons"] = facts.finish_reasons
        return attributes

    def attempt(
        self, context: RequestContext, member: str | None, reason: str | None
    ) -> tuple[Span, list[tuple[str, str]]]:
        """A backend attempt's span and the trace context headers its call carries."""
        attributes: dict[str, object] = {
            "aigw.member": member or "",
            "aigw.attempt": len(context.attempts) + 1,  # a race's members: each its own 1
        }
        if reason is not None:
            attributes["aigw.attempt.reason"] = reason
        operation = OPERATIONS.get(context.model.Operation.Id)
        name = f"{context.model.Request.Method} {member or context.backend_url or ''}"
        if operation is not None and context.style != "http":
            attributes["gen_ai.operation.name"] = operation
            provider = self.providers.get(member or "")
            if provider is not None:
                attributes["gen_ai.provider.name"] = attributes["gen_ai.system"] = provider
            requested = request_model(context, request_json(context))
            if requested:
                attributes["gen_ai.request.model"] = requested
                name = f"{operation} {requested}"
        parent = context.span
        assert isinstance(parent, Span)
        span = self.tracing.start_child(name, parent, attributes)  # type: ignore[arg-type]
        return span, self.tracing.headers(span)

    def attempted(self, span: Span, context: RequestContext, outcome: str) -> None:
        """The attempt's outcome: a status code, or why no response came."""
        if outcome.isdigit():
            status = int(outcome)
            span.set_attribute("http.response.status_code", status)
            if status >= 400:
                failed(span, outcome)
                span.set_attribute("error.type", outcome)
        else:
            failed(span, outcome)
            span.set_attribute("error.type", outcome)
        span.set_attribute("aigw.attempt.outcome", outcome)
        span.end()

    def side_services(
        self, side_calls: SideCalls, backend_calls: BackendCalls, embeddings: Embeddings
    ) -> tuple[SideCalls, BackendCalls, Embeddings]:
        return (
            TracedSideCalls(side_calls, self.tracing),
            TracedBackendCalls(backend_calls, self.tracing),
            TracedEmbeddings(embeddings, self.tracing),
        )

    def bearer_tokens(self, tokens: BearerTokens) -> BearerTokens:
        """Managed-identity tokens (a backend's credentials and the statement's alike)."""
        return TracedBearerTokens(tokens, self.tracing)


def http_attributes(span: Span, method: str, path: str, status: int) -> None:
    span.set_attributes(
        {"http.request.method": method, "url.path": path, "http.response.status_code": status}
    )
    if status >= 500:
        failed(span, str(status))
        span.set_attribute("error.type", str(status))


def cache_result(context: RequestContext, headers: Sequence[tuple[str, str]]) -> str:
    """hit: a cache answered; miss: a lookup found nothing (its plan awaits the store);
    none: no cache lookup ran."""
    for name, value in headers:
        if name.lower() == CACHE_HEADER and value == "hit":
            return "hit"
    kept = context.kept
    if kept is not None and any(kept.get(plan) is not None for plan in _CACHE_PLANS):
        return "miss"
    return "none"

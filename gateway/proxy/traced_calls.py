"""The services steps call, each call in a span of its own under the request's: `send-request`
(which also carries the span's trace context), Content Safety, embeddings, managed-identity
tokens. Wrapped around the real services by gateway.proxy.wiring only when tracing is on.

The services are not handed the request: a call finds its parent as the span current in the
request's task (gateway.proxy.traced makes it so). Outside a traced request (not sampled, or
an action after the response in another task) a call is made with no span.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from opentelemetry import trace

from gateway.expressions.model import ResponseModel
from gateway.runtime.services import BackendCalls, BearerTokens, Embeddings, SideCalls
from gateway.telemetry.tracing import Span, Tracing, failed

if TYPE_CHECKING:
    import numpy as np


def _side_span(tracing: Tracing, name: str, attributes: Mapping[str, object]) -> Span | None:
    """A side call's span under the current request's, or None outside a traced request."""
    parent = trace.get_current_span()
    if not parent.is_recording():
        return None
    return tracing.start_child(name, parent, attributes)  # type: ignore[arg-type]


class TracedSideCalls:
    """`send-request` / `send-one-way-request` calls, each in a span."""

    def __init__(self, inner: SideCalls, tracing: Tracing) -> None:
        self.inner = inner
        self.tracing = tracing

    def allows(self, url: str) -> bool:
        return self.inner.allows(url)

    async def send(
        self,
        method: str,
        url: str,
        headers: Sequence[tuple[str, str]],
        body: bytes | None,
        timeout: float,
    ) -> ResponseModel:
        where = url.split("?", 1)[0]  # a query may carry a key: never in a span
        span = _side_span(
            self.tracing,
            f"send-request {method}",
            {"aigw.side_call": "send-request", "http.request.method": method, "url.full": where},
        )
        if span is None:
            return await self.inner.send(method, url, headers, body, timeout)
        try:
            response = await self.inner.send(
                method, url, [*headers, *self.tracing.headers(span)], body, timeout
            )
        except Exception as error:
            failed(span, type(error).__name__)
            span.end()
            raise
        span.set_attribute("http.response.status_code", response.StatusCode)
        span.end()
        return response


class TracedBackendCalls:
    """Calls the gateway makes to a backend on its own account (Content Safety)."""

    def __init__(self, inner: BackendCalls, tracing: Tracing) -> None:
        self.inner = inner
        self.tracing = tracing

    async def post_json(
        self, backend_id: str, body: bytes, timeout: float, path: str = ""
    ) -> tuple[int, bytes]:
        span = _side_span(
            self.tracing,
            "content-safety",
            {"aigw.side_call": "content-safety", "aigw.backend": backend_id},
        )
        if span is None:
            return await self.inner.post_json(backend_id, body, timeout, path)
        try:
            status, answer = await self.inner.post_json(backend_id, body, timeout, path)
        except Exception as error:
            failed(span, type(error).__name__)
            span.end()
            raise
        span.set_attribute("http.response.status_code", status)
        span.end()
        return status, answer


class TracedBearerTokens:
    """Managed-identity token fetches (the token itself never goes in a span)."""

    def __init__(self, inner: BearerTokens, tracing: Tracing) -> None:
        self.inner = inner
        self.tracing = tracing

    async def token(self, resource: str, client_id: str | None) -> str:
        span = _side_span(
            self.tracing,
            "managed-identity token",
            {"aigw.side_call": "managed-identity", "aigw.resource": resource},
        )
        if span is None:
            return await self.inner.token(resource, client_id)
        try:
            return await self.inner.token(resource, client_id)
        except Exception as error:
            failed(span, type(error).__name__)
            raise
        finally:
            span.end()


class TracedEmbeddings:
    """The semantic caches' embeddings, each in a span (a backend's or the built-in one)."""

    def __init__(self, inner: Embeddings, tracing: Tracing) -> None:
        self.inner = inner
        self.tracing = tracing

    def identity(self, name: str) -> str | None:
        return self.inner.identity(name)

    async def embed(self, name: str, text: str) -> np.ndarray | None:
        span = _side_span(
            self.tracing,
            f"embeddings {name}",
            {
                "aigw.side_call": "embeddings",
                "gen_ai.operation.name": "embeddings",
                "aigw.embedder": name,
            },
        )
        if span is None:
            return await self.inner.embed(name, text)
        try:
            vector = await self.inner.embed(name, text)
            if vector is None:  # none to be had now: the lookup is a miss
                span.set_attribute("aigw.embeddings.result", "none")
            return vector
        except Exception as error:
            failed(span, type(error).__name__)
            raise
        finally:
            span.end()

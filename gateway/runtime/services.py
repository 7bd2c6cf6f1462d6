"""What steps may ask of the running gateway beyond the request: side calls, samples, tokens.

Like `Transport`, these are protocols: steps never import the HTTP client or the identity
code; the proxy puts a `Services` on each request context (the same object for all of them).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    import numpy as np

    from gateway.caching.caches import Caches
    from gateway.expressions.model import ResponseModel
    from gateway.runtime.context import RequestContext
    from gateway.stores.counters import CounterStore
    from gateway.telemetry.metrics import Metrics


class SideCalls(Protocol):
    """HTTP calls a policy makes itself (`send-request`, `send-one-way-request`)."""

    def allows(self, url: str) -> bool:
        """May a policy call this URL when an expression computed it?"""
        ...

    async def send(
        self,
        method: str,
        url: str,
        headers: Sequence[tuple[str, str]],
        body: bytes | None,
        timeout: float,
    ) -> ResponseModel:
        """Send and read the whole answer; raises `TimeoutError` or `ConnectionError`."""
        ...


class Samples(Protocol):
    """Example answers of operations, for `mock-response`."""

    def example(
        self, api: str, operation: str, status: int, content_type: str | None
    ) -> tuple[str, bytes] | None:
        """(content type, body) of the operation's example for that status, if it has one."""
        ...


class Tokens(Protocol):
    """Bearer tokens for `authentication-managed-identity`."""

    async def token(self, resource: str, client_id: str | None) -> str:
        """A token for `resource`; raises `TokenUnavailable` saying why there is none."""
        ...


class Accounting(Protocol):
    """Usage and cost of each LLM call, once its answer is complete."""

    def account(self, context: RequestContext) -> None: ...

    def cost_of(self, context: RequestContext, model: str, answer: bytes) -> Decimal | None:
        """What a provider's JSON answer cost (None: no usage in it, or no price)."""
        ...

    def ceiling(
        self, context: RequestContext, model: str, prompt: int, output: int
    ) -> Decimal | None:
        """The most a call can cost in dollars (None when the model has no price)."""
        ...

    async def account_stream(self, context: RequestContext) -> None: ...


class Embeddings(Protocol):
    """Vectors of prompts, for the semantic caches (`embeddings-backend-id`)."""

    def identity(self, name: str) -> str | None:
        """What distinguishes this embedder's vectors (None: no such embedder)."""
        ...

    async def embed(self, name: str, text: str) -> np.ndarray | None:
        """The unit vector of `text`, or None when none can be had now (a cache miss)."""
        ...


class TokenUnavailable(Exception):
    """No token could be had for a resource; the message says what to configure."""


class Keys(Protocol):
    """Signing keys published at OpenID configuration / JWKS URLs, for `validate-jwt`."""

    authority: str  # Entra's host, for validate-azure-ad-token

    async def signing_keys(self, url: str, *, refresh: bool = False) -> list[dict[str, object]]:
        """The JWKS `keys` behind an OpenID configuration or JWKS URL (cached)."""
        ...


@dataclass(frozen=True, slots=True)
class Services:
    counters: CounterStore | None = None  # rate limits, quotas, token limits
    # Token limits reserve prompt + output before forwarding (reserve-and-settle) when set:
    # the output tokens reserved for a request that names no maximum.
    reserved_output_tokens: int | None = None
    on_store_failure: str = "open"  # limits whose store is unreachable: "open" or "closed"
    metrics: Metrics | None = None  # emit-metric, llm-emit-token-metric
    caches: Caches | None = None  # cache-lookup/-store, cache-*-value, semantic caches
    embeddings: Embeddings | None = None  # the semantic caches' embedders
    accounting: Accounting | None = None  # usage and cost of every LLM call
    side_calls: SideCalls | None = None
    samples: Samples | None = None
    tokens: Tokens | None = None
    keys: Keys | None = None

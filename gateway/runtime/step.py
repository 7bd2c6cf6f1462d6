"""The step contract: what one compiled statement is, and how a chain runs.

Like a filter in Envoy's chain, a step does exactly one of three things:

- **continue**: return `None`; the next step runs;
- **stop with a local reply**: return a `LocalReply`; the rest of the pipeline is skipped and
  the reply goes to the client (`return-response`, a cache hit, a mock);
- **fail**: raise `PolicyError`; the proxy jumps to the `on-error` section with
  `context.LastError` filled from the error.

Steps never import the web framework; the proxy turns a `LocalReply` into an HTTP response.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from gateway.runtime.context import RequestContext


@dataclass(slots=True)
class LocalReply:
    """A response produced by the gateway itself rather than by a backend."""

    status: int = 200
    reason: str = "OK"
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""


class PolicyError(Exception):
    """A statement failed; `on-error` runs with `context.LastError` built from this.

    `source` and `reason` follow APIM's names (`rate-limit`/`RateLimitExceeded`, ...);
    `status` is the status the caller gets unless `on-error` changes it.
    """

    def __init__(
        self,
        source: str,
        reason: str,
        message: str,
        *,
        status: int = 500,
        policy_id: str | None = None,
        headers: Sequence[tuple[str, str]] = (),
    ) -> None:
        super().__init__(message)
        self.source = source
        self.reason = reason
        self.message = message
        self.status = status
        self.policy_id = policy_id
        self.headers = list(headers)
        # The scope of the policy document the failing statement is written in (LastError.Scope):
        # not the raiser's to know, so `Chain.run` sets it as the error leaves the step.
        self.scope: str | None = None


Step = Callable[["RequestContext"], Awaitable[LocalReply | None]]


@dataclass(frozen=True, slots=True)
class Chain:
    """An ordered list of steps; the first local reply stops it.

    Each step comes with the scope ("global", "product", "api", "operation") of the policy
    document its statement is written in, decided at load. A `PolicyError` leaving a step
    takes that scope unless it has one already: a nested chain (`choose`, `retry`) ran first,
    so the innermost statement's scope wins. A step whose scope is None leaves the error to
    the chain around it. The `try` costs nothing until something raises.
    """

    steps: tuple[tuple[Step, str | None], ...] = ()

    async def run(self, context: RequestContext) -> LocalReply | None:
        try:
            for step, scope in self.steps:  # noqa: B007 - the except below reads `scope`
                reply = await step(context)
                if reply is not None:
                    return reply
        except PolicyError as error:
            if error.scope is None:
                error.scope = scope
            raise
        return None

    def __len__(self) -> int:
        return len(self.steps)


@dataclass(frozen=True, slots=True)
class CompiledPolicy:
    """The four sections of one effective document, ready to run."""

    inbound: Chain = Chain()
    backend: Chain = Chain()
    outbound: Chain = Chain()
    on_error: Chain = Chain()
    # The inbound cors statements alone: what a CORS preflight runs (APIM runs nothing else).
    preflight: Chain = Chain()
    # Decided at load: does any expression read the request body? When not, the proxy streams
    # the body to the backend without ever holding it.
    reads_request_body: bool = True

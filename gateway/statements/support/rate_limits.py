"""What rate-limit and rate-limit-by-key share: the outputs they declare (retry-after,
remaining and total calls) and their 429 with `Retry-After`.
"""

from __future__ import annotations

from dataclasses import dataclass

from gateway.policy.compiling import CompileContext
from gateway.policy.tree import Node
from gateway.runtime.context import RequestContext
from gateway.runtime.step import PolicyError
from gateway.statements.support.counter_store import seconds_left
from gateway.stores.counters import Count


@dataclass(frozen=True, slots=True)
class LimitOutputs:
    """The retry-after / remaining / total header and variable names a statement declares."""

    retry_after_header: str = "Retry-After"
    retry_after_variable: str | None = None
    remaining_header: str | None = None
    remaining_variable: str | None = None
    total_header: str | None = None

    @classmethod
    def of(cls, node: Node, context: CompileContext) -> LimitOutputs:
        name = context.literal
        return cls(
            name(node.attr("retry-after-header-name"), "Retry-After") or "Retry-After",
            name(node.attr("retry-after-variable-name")),
            name(node.attr("remaining-calls-header-name")),
            name(node.attr("remaining-calls-variable-name")),
            name(node.attr("total-calls-header-name")),
        )

    def passed(self, request: RequestContext, limit: int, used: int) -> None:
        remaining = max(limit - used, 0)
        if self.remaining_header:
            request.response_headers.append((self.remaining_header, str(remaining)))
        if self.remaining_variable:
            request.variables[self.remaining_variable] = remaining
        if self.total_header:
            request.response_headers.append((self.total_header, str(limit)))

    def rate_exceeded(self, request: RequestContext, source: str, count: Count) -> PolicyError:
        wait = seconds_left(count)
        if self.retry_after_variable:
            request.variables[self.retry_after_variable] = wait
        return PolicyError(
            source,
            "RateLimitExceeded",
            f"Rate limit is exceeded. Try again in {wait} seconds.",
            status=429,
            headers=[(self.retry_after_header, str(wait))],
        )

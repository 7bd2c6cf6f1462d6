"""The backend call forward-request makes: each attempt's member, the call, what it leaves.

A pool's member is chosen per attempt (gateway.routing.members); `fallback` and `race` pools
use several members for one call (gateway.routing.strategies). Every attempt's outcome feeds
its backend's circuit breaker and moving latency, and is recorded: `x-aigw-attempts`, the
access log, the trace, `aigw_backend_attempts_total`, and (every attempt, timed)
`aigw.upstream.attempts` and `aigw.upstream.duration`; the request's `upstream_seconds`; and,
when traced, an attempt span (gateway.proxy.traced). The response's usage is accounted as it
comes (gateway.proxy.accounting), in place of an earlier call's: a retry calls again.
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING

from gateway.config.backends import Backend, Pool
from gateway.proxy.accounting import Accounting
from gateway.proxy.upstream import Upstream
from gateway.routing.breakers import Breakers, breaking_counted, retry_after_seconds
from gateway.routing.costs import CallCosts
from gateway.routing.members import Members
from gateway.routing.pools import Latencies
from gateway.routing.strategies import fallback, race
from gateway.runtime.context import RequestContext
from gateway.runtime.forwarding import ForwardOptions
from gateway.runtime.llm_call import response_replaced
from gateway.runtime.services import Metrics
from gateway.runtime.step import PolicyError
from gateway.telemetry.builtin import BuiltinMetrics

if TYPE_CHECKING:  # OpenTelemetry is imported only when tracing is on
    from gateway.proxy.traced import Spans


class Forwarder:
    def __init__(
        self,
        members: Members,
        upstream: Upstream,
        latencies: Latencies,
        costs: CallCosts,
        accounting: Accounting | None = None,
        metrics: Metrics | None = None,
        spans: Spans | None = None,
        builtin: BuiltinMetrics | None = None,
    ) -> None:
        self.members = members
        self.breakers: Breakers = members.breakers
        self.upstream = upstream
        self.latencies = latencies
        self.costs = costs
        self.accounting = accounting
        self.metrics = metrics
        self.spans = spans  # None: tracing is off
        self.builtin = builtin

    async def forward(self, context: RequestContext, options: ForwardOptions) -> None:
        """The request's `forward` function: the call, its usage accounted as it comes. Its
        response replaces any an earlier call got (a retry), and so does what is read of it."""
        response_replaced(context)
        # A call after an earlier one in this request is a retry (the retry statement).
        again = "retry" if context.attempts else None
        if context.backend_url is not None:  # set-backend-service base-url: no backend entity
            started = time.monotonic()
            try:
                if context.span is None:
                    await self.upstream.send(context, options, None)
                else:
                    await self._traced(context, options, None, again)
            finally:
                context.upstream_seconds += time.monotonic() - started
        else:
            backend = self.members.backend(context.backend)
            pool = backend.pool
            if pool is not None and pool.strategy in ("fallback", "race"):
                await self._several(backend, pool, context, options, again)
            else:
                member = self.members.chosen_now(backend)  # most calls: nothing to await
                if member is None:
                    member = await self.members.choose(context, backend)
                if member is not None:
                    await self._attempt(context, options, member, again)
        if self.accounting is not None:
            self.accounting.forwarded(context)

    async def _several(
        self,
        backend: Backend,
        pool: Pool,
        context: RequestContext,
        options: ForwardOptions,
        again: str | None,
    ) -> None:
        """fallback and race: one call, several members (gateway.routing.strategies)."""
        members = await self.members.in_order(context, backend)
        if not members:
            return
        await context.hold_request_body()  # every member may need the body
        later = "failover" if pool.strategy == "fallback" else "race"
        started = 0

        async def attempt(each: RequestContext, member: str) -> None:
            nonlocal started
            reason = later if started else again  # why this member is asked (traces)
            started += 1
            await self._attempt(each, options, member, reason)

        if pool.strategy == "fallback":
            await fallback(members, context, attempt)
            return
        hedged = await race(members, pool.race_count, pool.hedge_delay, context, attempt)
        cost_of = await self.costs.estimator(context, prompt_only=True)
        spent = sum(cost_of(member) or 0.0 for member in hedged)
        earlier = context.variables.get("llm-hedging-cost")  # an earlier race's (a retry)
        context.variables["llm-hedging-cost"] = spent + (
            earlier if isinstance(earlier, float) else 0.0
        )
        if self.metrics is not None and spent:
            self.metrics.add("aigw", "hedging_cost", spent, {"Backend ID": backend.id})

    async def _traced(
        self,
        context: RequestContext,
        options: ForwardOptions,
        member: str | None,
        reason: str | None,
    ) -> None:
        """The call, in an attempt span when the request is traced: the backend gets the
        span's trace context; the span gets the outcome."""
        assert self.spans is not None
        span, trace_headers = self.spans.attempt(context, member, reason)
        try:
            await self.upstream.send(context, options, member, trace_headers)
        except PolicyError as error:
            self.spans.attempted(span, context, error.reason)
            raise
        except BaseException as error:  # a race's slower member, cancelled; or a fault
            cancelled = isinstance(error, asyncio.CancelledError)
            self.spans.attempted(span, context, "cancelled" if cancelled else type(error).__name__)
            raise
        self.spans.attempted(span, context, str(context.model.Response.StatusCode))

    async def _attempt(
        self, context: RequestContext, options: ForwardOptions, member: str, reason: str | None
    ) -> None:
        """One call to one backend; its outcome feeds the breaker, the latency, the log."""
        context.backend_member = member
        started = time.monotonic()
        try:
            if context.span is None:  # untraced (tracing off, or not sampled): the call alone
                await self.upstream.send(context, options, member)
            else:
                await self._traced(context, options, member, reason)
        except PolicyError as error:
            self._attempted(context, member, error.reason, time.monotonic() - started)
            if member in self.breakers.rules:
                await self.breakers.record(member, None, error.reason, None)
            raise
        response = context.model.Response
        self._attempted(context, member, str(response.StatusCode), time.monotonic() - started)
        if member in self.breakers.rules:  # most backends have no breaker: no call at all
            retry_after = retry_after_seconds(response.Headers.joined("retry-after"))
            await self.breakers.record(member, response.StatusCode, None, retry_after)
            if context.response_stream is not None:  # it may still break: that counts too
                context.response_stream = breaking_counted(
                    context.response_stream, self.breakers, member
                )

    def _attempted(
        self, context: RequestContext, member: str, outcome: str, seconds: float
    ) -> None:
        """Note an attempt for the response's headers, the access log and the metrics."""
        self.latencies.observe(member, seconds)
        context.upstream_seconds += seconds
        context.attempts.append(f"{member}:{outcome}")
        if self.builtin is not None:
            self.builtin.attempt(context.backend or member, member, outcome, seconds)
        if member == context.backend and outcome[:1] == "2" and len(context.attempts) == 1:
            return  # a lone backend's plain success: the access log says it; keep the path lean
        context.model.Trace(f"[information] forward-request: {member} answered {outcome}")
        if self.metrics is not None:
            dimensions = {"Backend ID": member, "outcome": outcome}
            self.metrics.add("aigw", "backend_attempts", 1, dimensions)

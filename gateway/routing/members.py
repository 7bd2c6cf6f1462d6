"""Which backend an attempt goes to: a lone backend unless its breaker is open, or a pool's
member by the pool's strategy and session affinity.

A request's first attempt goes where the client's session cookie pins it while that member is
usable; a later attempt (a retry) chooses afresh, away from the member the attempt before it
went to. The response's cookie follows the last attempt's member, so the session's next call
goes where this one ended (gateway.routing.affinity). When no member can be used, the
response becomes APIM's 503 (`unavailable`), which a retry condition can read.
"""

from __future__ import annotations

from collections.abc import Mapping

from gateway.config.backends import Backend
from gateway.expressions.model import HeaderDictionary, MessageBody
from gateway.routing.breakers import Breakers
from gateway.routing.costs import CallCosts
from gateway.routing.pools import Latencies, Pools
from gateway.runtime.context import RequestContext
from gateway.runtime.replies import error_body
from gateway.runtime.step import PolicyError


def no_backend(message: str) -> PolicyError:
    """forward-request's error for a backend that cannot be called at all."""
    return PolicyError("forward-request", "BackendConnectionFailure", message, status=500)


def unavailable(context: RequestContext, message: str) -> None:
    """APIM's response when a backend's breaker is open or no pool member can be used."""
    response = context.model.Response
    response.StatusCode, response.StatusReason = 503, message
    response.Headers = HeaderDictionary({"Content-Type": "application/json"})
    response.Body = MessageBody(error_body(503, message, context.error_style))


class Members:
    def __init__(
        self,
        backends: Mapping[str, Backend],
        breakers: Breakers,
        latencies: Latencies,
        costs: CallCosts,
    ) -> None:
        self.backends = backends
        self.breakers = breakers
        self.pools = Pools(dict(backends), breakers, latencies)
        self.costs = costs
        # The pools `chosen_now` chooses in: by strategy alone (not cheapest, whose prices
        # are awaited; not fallback or race, which choose several), without session affinity,
        # and whose members are all backends that are no pools.
        self._plain_pools = frozenset(
            backend.id
            for backend in backends.values()
            if backend.pool is not None
            and backend.pool.strategy not in ("cheapest", "fallback", "race")
            and self.pools.affinity.cookie(backend.id) is None
            and all(
                member.backend in backends and backends[member.backend].pool is None
                for member in backend.pool.services
            )
        )

    def chosen_now(self, backend: Backend) -> str | None:
        """What `choose` chooses for `backend` (the request's), when nothing is to be awaited
        for it: no backend has a breaker, and it is a lone backend or a plain pool (above).
        None: ask `choose` (nothing was chosen, no round-robin turn taken). Most calls: no
        coroutine for the choice."""
        if self.breakers.rules:
            return None
        if backend.pool is None:
            return backend.id
        if backend.id in self._plain_pools:
            return self.pools.choose_unguarded(backend.id)  # None: an empty pool, unchanged
        return None

    def backend(self, backend_id: str | None) -> Backend:
        """The backend declared as `backend_id`; forward-request's error when there is none."""
        backend = self.backends.get(backend_id or "")
        if backend is None:
            raise no_backend(f"there is no backend '{backend_id}'")
        return backend

    async def choose(self, context: RequestContext, backend: Backend | None = None) -> str | None:
        """The backend this attempt goes to (a pool's member), or None when it is unavailable:
        then the response is APIM's 503. `backend`: the request's, when the caller has it."""
        if backend is None:
            backend = self.backend(context.backend)
        chosen = backend.id
        while backend.pool is not None:
            skipped: list[str] = []
            if (
                backend.pool.strategy == "cheapest"
                or self.pools.affinity.cookie(chosen) is not None
            ):
                member = await self._member(context, backend, skipped)
            elif self.breakers.rules:
                member = await self.pools.choose(chosen, skipped)
            else:  # most pools: the strategy alone, no breaker to read (no await)
                member = self.pools.choose_unguarded(chosen)
            if skipped:
                context.attempts += [f"{name}:open" for name in skipped]
            if member is None:
                unavailable(context, f"Backend pool {backend.id} is temporarily unavailable")
                return None
            chosen = member
            backend = self.backend(chosen)
        if chosen != context.backend or not backend.circuit_breaker.rules:
            return chosen  # a pool skipped open members already
        if await self.breakers.open_for(chosen) > 0:
            unavailable(context, f"Backend {chosen} is temporarily unavailable")
            return None
        return chosen

    async def in_order(self, context: RequestContext, pool: Backend) -> list[str]:
        """A fallback or race pool's usable members, in their declared order (empty: the
        response is APIM's 503)."""
        skipped: list[str] = []
        members = await self.pools.in_order(pool.id, skipped)
        context.attempts += [f"{name}:open" for name in skipped]
        if not members:
            unavailable(context, f"Backend pool {pool.id} is temporarily unavailable")
        return members

    async def _member(
        self, context: RequestContext, backend: Backend, skipped: list[str]
    ) -> str | None:
        """A pool's member for this attempt, with the pool's session affinity if it has one."""
        pool, affinity = backend.id, self.pools.affinity
        cheapest = backend.pool is not None and backend.pool.strategy == "cheapest"
        cost_of = await self.costs.estimator(context) if cheapest else None
        if affinity.cookie(pool) is None:
            return await self.pools.choose(pool, skipped, cost_of)
        pin = affinity.pin(pool, context.model.Request.Headers.get("cookie"))
        if pool not in context.affinity:
            member = await self.pools.choose(pool, skipped, cost_of, pinned=pin.member)
        else:
            member = await self.pools.choose(pool, skipped, cost_of, avoid=context.backend_member)
        if member is not None:
            session = context.affinity.setdefault(pool, pin.session)
            affinity.pin_response(context.response_headers, pool, session, pin.member, member)
        return member

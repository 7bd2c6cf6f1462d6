"""Choosing a pool member for each attempt.

APIM's strategies: members are grouped by priority (lower first); a group is used only while
every member of the groups before it has its circuit breaker open. Within a group, traffic is
shared by weight (smooth weighted round-robin, so the shares hold over short runs too; equal
or no weights are plain round-robin). A member whose breaker is open is skipped. Every attempt
chooses again, so a retry goes to the next member. When no member can be used the pool is
unavailable (503).

Session affinity (gateway.routing.affinity): a call whose session is pinned to a member goes
there while that member is usable and in the best usable priority group; otherwise the
strategy chooses. A pinned call takes no round-robin turn, so calls without a session still
share by weight. A session's retry is chosen afresh, but not on the member the attempt before
it went to when its group has another usable one.

Ours, for pools of several providers (within the best usable priority group):
- `cheapest`: the member whose price for this call (its prompt, counted offline, and its
  output cap, at the member provider's rates for the requested model) is lowest; members
  with no price for the model come last.
- `fastest`: the member with the lowest moving average of its time to respond, except for one
  call in `EXPLORE` that goes to another member, so a member that got faster is noticed.
- `fallback` and `race` use the members in order (gateway.routing.strategies).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import groupby

from gateway.config.backends import Backend, PoolMember
from gateway.routing.affinity import Affinity
from gateway.routing.breakers import Breakers

EXPLORE = 10  # fastest: one call in this many tries another member
SMOOTHING = 0.2  # weight of the newest latency in the moving average


class Latencies:
    """A moving average of each backend's time to respond, in this process."""

    def __init__(self) -> None:
        self.average: dict[str, float] = {}

    def observe(self, backend: str, seconds: float) -> None:
        old = self.average.get(backend)
        self.average[backend] = seconds if old is None else old + SMOOTHING * (seconds - old)

    def fastest(self, members: list[PoolMember]) -> PoolMember:
        unmeasured = [m for m in members if m.backend not in self.average]
        if unmeasured:  # measure everyone once before comparing
            return unmeasured[0]
        if len(members) > 1 and random.randrange(EXPLORE) == 0:
            return random.choice(members)
        return min(members, key=lambda m: self.average[m.backend])


@dataclass
class _Group:
    members: list[PoolMember]
    current: dict[str, int] = field(default_factory=dict)  # smooth weighted round-robin state

    def pick(self, usable: list[PoolMember]) -> PoolMember:
        """nginx's smooth weighted round-robin over the usable members."""
        total = 0
        best: PoolMember | None = None
        for member in usable:
            weight = member.weight or 1
            total += weight
            self.current[member.backend] = self.current.get(member.backend, 0) + weight
            if best is None or self.current[member.backend] > self.current[best.backend]:
                best = member
        assert best is not None
        self.current[best.backend] -= total
        return best


# What a call would cost on a member (None: no price), for `cheapest`.
CostOf = Callable[[str], float | None]


class Pools:
    def __init__(
        self, backends: dict[str, Backend], breakers: Breakers, latencies: Latencies
    ) -> None:
        self.breakers = breakers
        self.latencies = latencies
        self.affinity = Affinity(backends)
        pools = {b.id: b.pool for b in backends.values() if b.pool is not None}
        self.strategies = {name: pool.strategy for name, pool in pools.items()}
        self.members = {name: pool.services for name, pool in pools.items()}
        self.groups: dict[str, list[_Group]] = {}
        for pool, members in self.members.items():
            ordered = sorted(members, key=lambda m: m.priority)
            self.groups[pool] = [
                _Group(list(group)) for _, group in groupby(ordered, lambda m: m.priority)
            ]

    async def choose(
        self,
        pool: str,
        skipped: list[str] | None = None,
        cost_of: CostOf | None = None,
        pinned: str | None = None,
        avoid: str | None = None,
    ) -> str | None:
        """The member backend for this attempt, or None when every member's breaker is open.

        Members passed over because their breaker is open are added to `skipped`. `pinned`: the
        member a session is pinned to, chosen when it is usable in the best usable group.
        `avoid`: a member passed over when its group has another usable member."""
        rules = self.breakers.rules
        for group in self.groups.get(pool, ()):
            if rules:
                usable = await self.usable(group.members, skipped)
            else:  # no breakers at all (most gateways): every member is usable, no await
                usable = group.members
            if usable:
                return self._within(pool, group, usable, cost_of, pinned, avoid)
        return None

    def choose_unguarded(self, pool: str) -> str | None:
        """`choose` for a call with no session and no costs, when no backend has a breaker:
        nothing to await, so no coroutine per call (most pools: round-robin, no breakers)."""
        assert not self.breakers.rules
        for group in self.groups.get(pool, ()):
            return self._within(pool, group, group.members, None, None, None)
        return None

    def _within(
        self,
        pool: str,
        group: _Group,
        usable: list[PoolMember],
        cost_of: CostOf | None,
        pinned: str | None,
        avoid: str | None,
    ) -> str:
        """The member of `group`'s usable members, by the session's pin or the strategy."""
        if pinned is not None and any(m.backend == pinned for m in usable):
            return pinned
        if avoid is not None:
            usable = [m for m in usable if m.backend != avoid] or usable
        strategy = self.strategies.get(pool)
        if strategy == "fastest":
            return self.latencies.fastest(usable).backend
        if strategy == "cheapest" and cost_of is not None:
            return _cheapest(usable, cost_of).backend
        return group.pick(usable).backend

    async def in_order(self, pool: str, skipped: list[str] | None = None) -> list[str]:
        """The usable members in their declared order (fallback, race)."""
        usable = await self.usable(list(self.members.get(pool, ())), skipped)
        return [m.backend for m in usable]

    async def usable(
        self, members: list[PoolMember], skipped: list[str] | None
    ) -> list[PoolMember]:
        found = []
        rules = self.breakers.rules  # a member without a breaker is usable: no await for it
        for member in members:
            if member.backend not in rules or await self.breakers.open_for(member.backend) == 0:
                found.append(member)
            elif skipped is not None:
                skipped.append(member.backend)
        return found


def _cheapest(members: list[PoolMember], cost_of: CostOf) -> PoolMember:
    costs = [(cost_of(m.backend), index, m) for index, m in enumerate(members)]
    priced = [(cost, index, m) for cost, index, m in costs if cost is not None]
    return min(priced)[2] if priced else members[0]

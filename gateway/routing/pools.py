"""Choosing a pool member for each attempt, as APIM balances a pool.

Members are grouped by priority (lower first); a group is used only while every member of the
groups before it has its circuit breaker open. Within a group, traffic is shared by weight
(smooth weighted round-robin, so the shares hold over short runs too; equal or no weights are
plain round-robin). A member whose breaker is open is skipped. Every attempt chooses again, so
a retry goes to the next member. When no member can be used the pool is unavailable (503).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import groupby

from gateway.config.model import Backend, PoolMember
from gateway.routing.breakers import Breakers


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


class Pools:
    def __init__(self, backends: dict[str, Backend], breakers: Breakers) -> None:
        self.breakers = breakers
        self.groups: dict[str, list[_Group]] = {}
        for backend in backends.values():
            if backend.is_pool:
                ordered = sorted(backend.pool_members, key=lambda m: m.priority)
                self.groups[backend.id] = [
                    _Group(list(members)) for _, members in groupby(ordered, lambda m: m.priority)
                ]

    async def choose(self, pool: str, skipped: list[str] | None = None) -> str | None:
        """The member backend for this attempt, or None when every member's breaker is open.

        Members passed over because their breaker is open are added to `skipped`."""
        for group in self.groups.get(pool, ()):
            usable = []
            for member in group.members:
                if await self.breakers.open_for(member.backend) == 0:
                    usable.append(member)
                elif skipped is not None:
                    skipped.append(member.backend)
            if usable:
                return group.pick(usable).backend
        return None

"""An attempt's backend (gateway.routing.members): `chosen_now`, the choice made without a
coroutine, is `choose`'s own, and where it cannot be made so it leaves the choice untouched."""

from __future__ import annotations

import asyncio

import pytest

from gateway.config.backends import Backend, CircuitBreaker, Pool, PoolMember, SessionAffinity
from gateway.config.secrets import ConfigValue
from gateway.config.settings import GatewayConfig
from gateway.expressions.model import ContextModel
from gateway.routing.breakers import Breakers
from gateway.routing.costs import CallCosts
from gateway.routing.members import Members
from gateway.routing.pools import Latencies
from gateway.runtime.context import RequestContext
from gateway.stores.memory import MemoryCounters
from gateway.tokens.prices import PriceTable
from tests.routing.breaker import OPENS_ON_A_5XX

WEIGHTED = (
    PoolMember(backend="a", weight=3),
    PoolMember(backend="b", weight=1),
    PoolMember(backend="spare", priority=2),
)


def members_of(pool: Pool | None, broken: str | None = None, nested: bool = False) -> Members:
    """Backends a, b, spare (`broken` with a circuit breaker), `pool` over them when given,
    and `outer`, a pool whose one member is `pool` when `nested`."""
    found = {
        name: Backend(
            id=name,
            url=ConfigValue(f"http://{name}.example"),
            circuit_breaker=OPENS_ON_A_5XX if name == broken else CircuitBreaker(),
        )
        for name in ("a", "b", "spare")
    }
    if pool is not None:
        found["pool"] = Backend(id="pool", pool=pool)
    if nested:
        found["outer"] = Backend(id="outer", pool=Pool(services=(PoolMember(backend="pool"),)))
    costs = CallCosts(GatewayConfig(backends=found), PriceTable())
    return Members(found, Breakers(found, MemoryCounters()), Latencies(), costs)


def chosen(members: Members, backend: str, count: int) -> list[str | None]:
    async def scenario() -> list[str | None]:
        context = RequestContext(ContextModel(), backend=backend)
        return [await members.choose(context) for _ in range(count)]

    return asyncio.run(scenario())


@pytest.mark.parametrize("strategy", ["round-robin", "fastest"])
def test_a_plain_pool_is_chosen_now_as_choose_chooses(strategy: str) -> None:
    pool = Pool(strategy=strategy, services=WEIGHTED)  # type: ignore[arg-type]
    now, awaited = members_of(pool), members_of(pool)
    backend = now.backend("pool")
    assert [now.chosen_now(backend) for _ in range(40)] == chosen(awaited, "pool", 40)


def test_a_lone_backend_is_itself() -> None:
    members = members_of(None)
    assert members.chosen_now(members.backend("a")) == "a"


@pytest.mark.parametrize(
    "case",
    [
        "breaker",  # a breaker anywhere: open members are skipped, which is awaited
        "cheapest",  # prices are awaited
        "affinity",  # the session's pin is read
        "nested",  # a pool of pools
        "fallback",  # several members a call (the forwarder's own way)
    ],
)
def test_what_cannot_be_chosen_now_is_left_to_choose_untouched(case: str) -> None:
    strategy = case if case in ("cheapest", "fallback") else "round-robin"
    affinity = SessionAffinity(cookie="Pin") if case == "affinity" else None
    pool = Pool(strategy=strategy, services=WEIGHTED, session_affinity=affinity)  # type: ignore[arg-type]
    broken = "spare" if case == "breaker" else None
    asked = "outer" if case == "nested" else "pool"
    members = members_of(pool, broken, nested=case == "nested")
    fresh = members_of(pool, broken, nested=case == "nested")
    assert members.chosen_now(members.backend(asked)) is None
    if case != "fallback":  # no round-robin turn was taken: choose goes on as if never asked
        assert chosen(members, asked, 8) == chosen(fresh, asked, 8)
    if case == "breaker":  # a lone backend too, while any backend has a breaker
        assert members.chosen_now(members.backend("a")) is None


def test_an_empty_pool_is_left_to_choose_which_says_it_is_unavailable() -> None:
    members = members_of(Pool(services=()))
    assert members.chosen_now(members.backend("pool")) is None
    assert chosen(members, "pool", 1) == [None]

"""Session affinity: opaque, stateless cookie values; pins that hold, move and never cross pools."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest

from gateway.config.backends import Backend, Pool, PoolMember, SessionAffinity
from gateway.config.secrets import ConfigValue
from gateway.config.settings import GatewayConfig
from gateway.expressions.model import ContextModel, HeaderDictionary, RequestModel
from gateway.routing.affinity import Affinity, cookie_values
from gateway.routing.breakers import Breakers
from gateway.routing.costs import CallCosts
from gateway.routing.members import Members
from gateway.routing.pools import Latencies, Pools
from gateway.runtime.context import RequestContext
from gateway.stores.memory import MemoryCounters
from gateway.tokens.prices import PriceTable
from tests.routing.breaker import OPENS_ON_A_5XX

MEMBERS = ("east", "west", "north")


def backends(cookie: str | None = "SessionId", **urls: str) -> dict[str, Backend]:
    """Three members; `pool` (round-robin, affinity by `cookie`) and `other` over the same."""
    found = {
        name: Backend(
            id=name,
            url=ConfigValue(urls.get(name, f"https://{name}.example.com/openai")),
            circuit_breaker=OPENS_ON_A_5XX,
        )
        for name in MEMBERS
    }
    members = tuple(PoolMember(backend=name) for name in MEMBERS)
    affinity = SessionAffinity(cookie=cookie) if cookie is not None else None
    for pool in ("pool", "other"):
        found[pool] = Backend(
            id=pool,
            pool=Pool(strategy="round-robin", services=members, session_affinity=affinity),
        )
    return found


def header(affinity: Affinity, pool: str, member: str, session: str = "s" * 16) -> list[str]:
    return [f"SessionId={affinity.value(pool, member, session)}"]


def test_a_value_names_its_member_and_keeps_its_session() -> None:
    affinity = Affinity(backends())
    for member in MEMBERS:
        value = affinity.value("pool", member, "abcdefghijklmnop")
        pin = affinity.pin("pool", [f"SessionId={value}"])
        assert (pin.session, pin.member) == ("abcdefghijklmnop", member)
        assert member not in value and "example" not in value  # opaque
    cookie = affinity.set_cookie("pool", "east", "abcdefghijklmnop")
    assert (
        cookie
        == f"SessionId={affinity.value('pool', 'east', 'abcdefghijklmnop')}; Path=/; HttpOnly"
    )


def test_replicas_sharing_nothing_agree_and_a_changed_member_is_a_new_one() -> None:
    one, two = Affinity(backends()), Affinity(backends())
    assert [one.value("pool", m, "x" * 16) for m in MEMBERS] == [
        two.value("pool", m, "x" * 16) for m in MEMBERS
    ]
    assert len({one.value("pool", m, "x" * 16) for m in MEMBERS}) == 3
    moved = Affinity(backends(east="https://east-2.example.com/openai"))
    assert moved.pin("pool", header(one, "pool", "east")).member is None
    assert moved.pin("pool", header(one, "pool", "west")).member == "west"
    # What may hold a key (user info, query) is not part of the tag.
    keyed = Affinity(backends(east="https://u:secret@east.example.com/openai?code=1"))
    assert keyed.value("pool", "east", "x" * 16) == one.value("pool", "east", "x" * 16)


def test_values_of_another_pool_do_not_cross() -> None:
    affinity = Affinity(backends())
    for member in MEMBERS:
        value = header(affinity, "other", member)
        pin = affinity.pin("pool", value)
        assert pin.member is None
        assert pin.session == "s" * 16  # a well-formed value's session is kept when re-pinned
        assert affinity.pin("other", value).member == member


@pytest.mark.parametrize(
    "cookies",
    [
        None,
        [],
        [""],
        ["SessionId="],
        ["SessionId=garbage"],
        ["SessionId=ssssssssssssssss.zzzzzzzzzzzz"],
        ["SessionId=ssssssssssssssss.000000000000"],  # well-formed, no member's tag
        ["sessionid={value}"],  # names are case-sensitive
        ["SessionId={value}x"],
        ["SessionId=\u00e9\u00e9; ;;=;==; SessionId"],
        ['SessionId="unterminated; \x00\x01; a=b=c'],
    ],
)
def test_garbage_and_foreign_values_pin_nothing(cookies: list[str] | None) -> None:
    affinity = Affinity(backends())
    value = affinity.value("pool", "east", "s" * 16)
    given = [c.format(value=value) for c in cookies] if cookies is not None else None
    pin = affinity.pin("pool", given)
    assert pin.member is None and len(pin.session) == 16


def test_the_cookie_header_is_read_carefully() -> None:
    affinity = Affinity(backends())
    value = affinity.value("pool", "west", "q" * 16)
    for given in (
        [f"a=1; SessionId={value}; b=2"],
        [f'SessionId="{value}"'],
        [f"  SessionId = {value} "],
        [f"a=b c; SessionId={value}"],  # http.cookies would drop the whole header
        ["a=1", f"SessionId={value}"],  # several Cookie lines (HTTP/2)
        [f'broken pair; x="; SessionId=garbage; SessionId={value}'],  # first valid wins
    ):
        assert affinity.pin("pool", given).member == "west", given
    assert cookie_values(["a=1; b; c=3=4; a=5"], "a") == ["1", "5"]
    assert cookie_values(["c=3=4"], "c") == ["3=4"]


def test_a_pool_without_affinity_or_with_an_unusable_cookie_name_has_none() -> None:
    assert Affinity(backends(None)).cookie("pool") is None
    assert Affinity(backends("bad name;")).cookie("pool") is None
    assert Affinity(backends()).cookie("east") is None  # a plain backend


def test_the_answer_cookie_follows_the_last_member_and_is_left_out_when_unchanged() -> None:
    affinity = Affinity(backends())
    headers = [("Access-Control-Allow-Origin", "*"), ("Set-Cookie", "other=1")]
    affinity.pin_response(headers, "pool", "s" * 16, None, "east")
    assert headers[-1] == ("Set-Cookie", affinity.set_cookie("pool", "east", "s" * 16))
    affinity.pin_response(headers, "pool", "s" * 16, None, "west")  # a retry moved on
    assert headers[2:] == [("Set-Cookie", affinity.set_cookie("pool", "west", "s" * 16))]
    affinity.pin_response(headers, "pool", "s" * 16, "north", "north")  # back where the client was
    assert headers == [("Access-Control-Allow-Origin", "*"), ("Set-Cookie", "other=1")]


def pools() -> tuple[Pools, Breakers]:
    found = backends()
    breakers = Breakers(found, MemoryCounters())
    return Pools(found, breakers, Latencies()), breakers


def test_a_pin_holds_while_usable_and_takes_no_round_robin_turn() -> None:
    chosen, breakers = pools()

    async def scenario() -> None:
        assert [await chosen.choose("pool", pinned="west") for _ in range(5)] == ["west"] * 5
        free = Counter([await chosen.choose("pool") for _ in range(30)])
        assert free == {"east": 10, "west": 10, "north": 10}
        await breakers.record("west", 500, None, None)  # trips its breaker
        skipped: list[str] = []
        assert await chosen.choose("pool", skipped, pinned="west") in ("east", "north")
        assert skipped == ["west"]
        avoided = {await chosen.choose("pool", avoid="east") for _ in range(10)}
        assert avoided == {"north"}  # the only other usable member

    asyncio.run(scenario())


def test_a_pin_in_a_lower_priority_group_gives_way_when_a_better_group_is_usable() -> None:
    found = backends()
    found["pool"] = Backend(
        id="pool",
        pool=Pool(
            strategy="round-robin",
            services=(
                PoolMember(backend="east", priority=1),
                PoolMember(backend="west", priority=1),
                PoolMember(backend="north", priority=2),
            ),
            session_affinity=SessionAffinity(cookie="SessionId"),
        ),
    )
    chosen = Pools(found, Breakers(found, MemoryCounters()), Latencies())
    assert asyncio.run(chosen.choose("pool", pinned="north")) in ("east", "west")


def request(cookie: str | None = None) -> RequestContext:
    headers = HeaderDictionary({"Cookie": cookie} if cookie is not None else {})
    return RequestContext(ContextModel(Request=RequestModel(Headers=headers)), backend="pool")


def set_cookies(context: RequestContext) -> list[str]:
    return [value for name, value in context.response_headers if name == "Set-Cookie"]


def test_the_member_choice_pins_the_first_attempt_and_lets_a_retry_move() -> None:
    found = backends()
    costs = CallCosts(GatewayConfig(backends=found), PriceTable())
    members = Members(found, Breakers(found, MemoryCounters()), Latencies(), costs)
    affinity = members.pools.affinity

    async def scenario() -> None:
        fresh = request("unrelated=1; SessionId=garbage")
        first = await members.choose(fresh)
        assert first is not None
        [cookie] = set_cookies(fresh)
        value = cookie.split(";")[0].split("=", 1)[1]
        assert affinity.pin("pool", [f"SessionId={value}"]).member == first

        pinned = request(f"SessionId={value}")
        for _ in range(6):
            assert await members.choose(pinned) == first
            assert set_cookies(pinned) == []
            pinned.affinity.clear()  # each is a new request of the same session

        # A retry: the first attempt is pinned, the next goes elsewhere and the cookie follows.
        retried = request(f"SessionId={value}")
        assert await members.choose(retried) == first
        retried.backend_member = first  # what the attempt records
        second = await members.choose(retried)
        assert second not in (None, first)
        session = value.split(".")[0]
        assert set_cookies(retried) == [affinity.set_cookie("pool", second, session)]
        retried.backend_member = second
        third = await members.choose(retried)
        assert third != second
        expected = [] if third == first else [affinity.set_cookie("pool", third, session)]
        assert set_cookies(retried) == expected

        # The pinned member's breaker opens: the session moves and is told so.
        await members.breakers.record(first, 500, None, None)
        moved = request(f"SessionId={value}")
        elsewhere = await members.choose(moved)
        assert elsewhere not in (None, first)
        assert moved.attempts == [f"{first}:open"]
        assert set_cookies(moved) == [affinity.set_cookie("pool", elsewhere, session)]

    asyncio.run(scenario())

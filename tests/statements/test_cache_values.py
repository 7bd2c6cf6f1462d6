"""cache-lookup-value, cache-store-value and cache-remove-value, on every cache store."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable

import pytest

from gateway.caching.caches import Caches
from gateway.caching.memory import MemoryCache
from gateway.caching.store import CacheStore
from gateway.expressions.model import ContextModel, HeaderDictionary, RequestModel
from gateway.expressions.values import JObject
from gateway.runtime.context import RequestContext
from gateway.runtime.pipeline import run_pipeline
from gateway.runtime.services import Services
from gateway.runtime.step import CompiledPolicy, PolicyError
from tests.policies import compile_policy


def run(statements: str, caches: Caches, variables: dict[str, object] | None = None) -> dict:
    policy = compile_policy(f"<policies><inbound>{statements}</inbound></policies>")
    request = RequestContext(
        ContextModel(Request=RequestModel(Headers=HeaderDictionary())),
        services=Services(caches=caches),
    )
    request.variables.update(variables or {})
    asyncio.run(run_pipeline(CompiledPolicy(inbound=policy.inbound), request))
    return request.variables


def test_a_value_stored_by_one_request_is_read_by_the_next(
    make_cache: Callable[[], CacheStore],
) -> None:
    key = uuid.uuid4().hex

    def replica() -> Caches:  # each request on another replica's client
        return Caches(MemoryCache(), make_cache())

    run(
        f"""<cache-store-value key="{key}" value="@((string)context.Variables["profile"])"
            duration="60" />""",
        replica(),
        {"profile": "gold"},
    )
    found = run(f'<cache-lookup-value key="{key}" variable-name="tier" />', replica())
    assert found["tier"] == "gold"
    run(f'<cache-remove-value key="{key}" />', replica())
    gone = run(f'<cache-lookup-value key="{key}" variable-name="tier" />', replica())
    assert "tier" not in gone  # a miss without default-value leaves the variable unset


def test_a_miss_takes_the_default_value_and_types_survive() -> None:
    caches = Caches(MemoryCache())
    found = run(
        '<cache-lookup-value key="absent" variable-name="v" default-value="@(42)" />', caches
    )
    assert found["v"] == 42
    run(
        """<cache-store-value duration="60"><key>doc</key>
            <value>@(new JObject(new JProperty("a", 1)))</value></cache-store-value>
           <cache-store-value key="n" value="@(7)" duration="60" />""",
        caches,
    )
    found = run(
        '<cache-lookup-value key="doc" variable-name="d" />'
        '<cache-lookup-value key="n" variable-name="n" />',
        caches,
    )
    assert isinstance(found["d"], JObject) and found["d"].to_python() == {"a": 1}
    assert found["n"] == 7


def test_caching_type_internal_keeps_values_in_the_process() -> None:
    internal, external = MemoryCache(), MemoryCache()
    caches = Caches(internal, external)
    run('<cache-store-value key="k" value="x" duration="60" caching-type="internal" />', caches)
    run('<cache-store-value key="k" value="y" duration="60" />', caches)  # prefer-external
    assert len(internal) == 1 and len(external) == 1
    assert run('<cache-lookup-value key="k" variable-name="v" />', caches)["v"] == "y"
    found = run('<cache-lookup-value key="k" variable-name="v" caching-type="internal" />', caches)
    assert found["v"] == "x"


def test_a_non_numeric_duration_fails_the_request() -> None:
    with pytest.raises(PolicyError, match="duration"):
        policy = compile_policy(
            '<policies><inbound><cache-store-value key="k" value="v" '
            'duration="@(context.Request.Method)" /></inbound></policies>'
        )
        request = RequestContext(ContextModel(Request=RequestModel(Method="GET")))
        asyncio.run(policy.inbound.run(request))

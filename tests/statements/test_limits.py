"""rate-limit, rate-limit-by-key, quota and quota-by-key as APIM documents them, on both stores."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable

import pytest

from gateway.expressions.model import (
    ApiModel,
    ContextModel,
    HeaderDictionary,
    MessageBody,
    OperationModel,
    RequestModel,
    ResponseModel,
    SubscriptionModel,
)
from gateway.runtime.context import Phase, RequestContext
from gateway.runtime.phases import run_phase
from gateway.runtime.pipeline import run_pipeline
from gateway.runtime.services import Services
from gateway.runtime.step import CompiledPolicy, LocalReply, PolicyError
from gateway.stores.counters import CounterStore
from gateway.telemetry.metrics import Metrics
from tests.policies import compile_policy


def request_for(
    store: CounterStore,
    subscription: str | None = "team-a",
    ip: str = "10.0.0.1",
    operation: str = "ChatCompletions_Create",
) -> RequestContext:
    model = ContextModel(
        Api=ApiModel(Id="llm", Name="LLM"),
        Operation=OperationModel(Id=operation),
        Subscription=SubscriptionModel(Id=subscription) if subscription else None,
        Request=RequestModel(IpAddress=ip, Headers=HeaderDictionary()),
        Response=ResponseModel(Headers=HeaderDictionary()),
    )
    return RequestContext(model, services=Services(counters=store))


async def call(
    policy: CompiledPolicy, request: RequestContext, status: int = 200
) -> LocalReply | None:
    """Inbound, then a backend answer with `status`, outbound and the completion actions."""
    reply = await run_pipeline_inbound(policy, request)
    if reply is None:
        request.model.Response.StatusCode = status
        request.model.Response.Body = MessageBody(b"x" * 3000)
        await run_phase(request, Phase.DONE)
    return reply


async def run_pipeline_inbound(
    policy: CompiledPolicy, request: RequestContext
) -> LocalReply | None:
    inbound_only = CompiledPolicy(inbound=policy.inbound, on_error=policy.on_error)
    return await run_pipeline(inbound_only, request)


def statuses(policy: CompiledPolicy, requests: list[RequestContext]) -> list[int]:
    async def scenario() -> list[int]:
        found = []
        for request in requests:
            reply = await call(policy, request)
            found.append(reply.status if reply is not None else 200)
        return found

    return asyncio.run(scenario())


def by_key(text: str, key: str) -> CompiledPolicy:
    return compile_policy(f"<policies><inbound>{text.replace('KEY', key)}</inbound></policies>")


def test_rate_limit_by_key_429_with_retry_after_and_apims_body(
    make_store: Callable[[], CounterStore], key: str
) -> None:
    store = make_store()
    policy = by_key(
        '<rate-limit-by-key calls="2" renewal-period="60" counter-key="@(&quot;KEY&quot; + context.Request.IpAddress)" '
        'remaining-calls-header-name="x-remaining" total-calls-header-name="x-total" '
        'retry-after-variable-name="wait" />',
        key,
    )
    requests = [request_for(store) for _ in range(3)]
    other_ip = request_for(store, ip="10.0.0.2")

    async def scenario() -> list[LocalReply | None]:
        replies = [await call(policy, r) for r in [*requests, other_ip]]
        await store.close()
        return replies

    replies = asyncio.run(scenario())
    assert [r is None for r in replies] == [True, True, False, True]
    refused = replies[2]
    assert refused is not None and refused.status == 429
    wait = requests[2].variables["wait"]
    assert ("Retry-After", str(wait)) in refused.headers and 1 <= wait <= 60
    assert json.loads(refused.body) == {
        "statusCode": 429,
        "message": f"Rate limit is exceeded. Try again in {wait} seconds.",
    }
    assert requests[0].response_headers == [("x-remaining", "1"), ("x-total", "2")]
    assert requests[1].response_headers == [("x-remaining", "0"), ("x-total", "2")]
    assert requests[2].model.LastError.Reason == "RateLimitExceeded"


def test_increment_condition_expression_counts_at_the_end_and_429_comes_one_call_late(
    make_store: Callable[[], CounterStore], key: str
) -> None:
    store = make_store()
    policy = by_key(
        '<rate-limit-by-key calls="1" renewal-period="60" counter-key="KEY" '
        'increment-condition="@(context.Response.StatusCode == 200)" />',
        key,
    )

    async def scenario() -> list[int]:
        found = []
        for status in (500, 200, 200, 200):  # a 500 is not counted
            reply = await call(policy, request_for(store), status)
            found.append(reply.status if reply is not None else status)
        await store.close()
        return found

    assert asyncio.run(scenario()) == [500, 200, 429, 429]


def test_quota_by_key_403_for_calls_with_the_replenish_time(
    make_store: Callable[[], CounterStore], key: str
) -> None:
    store = make_store()
    policy = by_key(
        '<quota-by-key calls="2" renewal-period="3600" counter-key="KEY" '
        'first-period-start="2024-01-01T00:00:00Z" />'
        '<quota-by-key calls="2" renewal-period="3600" counter-key="KEY" />',  # same key: once
        key,
    )
    requests = [request_for(store) for _ in range(3)]

    async def scenario() -> list[LocalReply | None]:
        replies = [await call(policy, r) for r in requests]
        await store.close()
        return replies

    replies = asyncio.run(scenario())
    assert [r is None for r in replies] == [True, True, False]
    refused = replies[2]
    assert refused is not None and refused.status == 403
    message = json.loads(refused.body)["message"]
    assert message.startswith("Out of call volume quota. Quota will be replenished in ")
    assert any(name == "Retry-After" for name, _ in refused.headers)
    assert requests[2].model.LastError.Reason == "QuotaExceeded"


def test_bandwidth_quota_counts_both_bodies_in_kilobytes(
    make_store: Callable[[], CounterStore], key: str
) -> None:
    store = make_store()
    policy = by_key('<quota-by-key bandwidth="5" renewal-period="0" counter-key="KEY" />', key)
    # Each call: a 3,000-byte answer = 3 KB. 0 -> 3 -> 6 KB: the third call is refused.
    assert statuses(policy, [request_for(store) for _ in range(3)]) == [200, 200, 403]


def test_rate_limit_counts_per_subscription_and_per_nested_operation(
    make_store: Callable[[], CounterStore], key: str
) -> None:
    store = make_store()
    policy = compile_policy(
        """<policies><inbound><rate-limit calls="3" renewal-period="60">
            <api name="LLM" calls="100" renewal-period="60">
                <operation id="embeddings_create" calls="1" renewal-period="60" />
            </api>
        </rate-limit></inbound></policies>"""
    )
    team = key  # a fresh subscription id per test run keeps Redis counters apart
    calls = [request_for(store, team) for _ in range(4)]
    others = [request_for(store, team + "-b")]
    embeds = [request_for(store, team + "-c", operation="embeddings_create") for _ in range(2)]
    anonymous = [request_for(store, None) for _ in range(5)]  # no key: not limited
    assert statuses(policy, calls + others + embeds + anonymous) == [
        200,
        200,
        200,
        429,
        200,
        200,
        429,
        200,
        200,
        200,
        200,
        200,
    ]


def test_quota_per_subscription(make_store: Callable[[], CounterStore], key: str) -> None:
    store = make_store()
    policy = compile_policy(
        '<policies><inbound><quota calls="1" renewal-period="0" /></inbound></policies>'
    )
    assert statuses(policy, [request_for(store, key), request_for(store, key)]) == [200, 403]


def unreachable_request(on_store_failure: str, metrics: Metrics | None = None) -> RequestContext:
    from gateway.stores.redis import RedisCounters

    request = request_for(RedisCounters("redis://127.0.0.1:1/0"))
    request.services = Services(
        counters=request.services.counters, metrics=metrics, on_store_failure=on_store_failure
    )
    return request


def test_an_unreachable_store_lets_requests_through_and_counts_them_in_a_metric() -> None:
    metrics = Metrics()
    policy = by_key('<rate-limit-by-key calls="1" renewal-period="60" counter-key="k" />', "")
    requests = [unreachable_request("open", metrics) for _ in range(3)]
    assert statuses(policy, requests) == [200, 200, 200]
    text = metrics.prometheus_text().decode()
    series = re.search(r"aigw_store_failures_total\{([^}]*)\} (\S+)", text)
    assert series is not None and series.group(2) == "3.0"
    assert 'outcome="allowed"' in series.group(1)
    assert 'statement="rate-limit-by-key"' in series.group(1)


@pytest.mark.parametrize(
    ("statement", "gateway_setting", "expected"),
    [
        ('<rate-limit-by-key calls="1" renewal-period="60" counter-key="k" />', "closed", 503),
        (
            '<rate-limit-by-key calls="1" renewal-period="60" counter-key="k" '
            'on-store-failure="open" />',
            "closed",
            200,
        ),
        (
            '<quota-by-key calls="1" renewal-period="0" counter-key="k" '
            'on-store-failure="closed" />',
            "open",
            503,
        ),
        (
            '<llm-token-limit counter-key="k" tokens-per-minute="10" '
            'estimate-prompt-tokens="false" on-store-failure="closed" />',
            "open",
            503,
        ),
        (
            '<llm-token-limit counter-key="k" tokens-per-minute="10" '
            'estimate-prompt-tokens="false" />',
            "open",
            200,
        ),
        (
            '<llm-cost-limit counter-key="k" dollar-quota="1" dollar-quota-period="Daily" />',
            "closed",
            503,
        ),
    ],
)
def test_a_limit_that_fails_closed_answers_503_while_the_store_is_away(
    statement: str, gateway_setting: str, expected: int
) -> None:
    policy = by_key(statement, "")
    request = unreachable_request(gateway_setting)
    reply = asyncio.run(call(policy, request))
    assert (reply.status if reply is not None else 200) == expected
    if reply is not None:
        assert ("Retry-After", "1") in reply.headers
        assert b"counter store is unreachable" in reply.body


def test_a_non_numeric_calls_expression_fails_the_request() -> None:
    policy = by_key(
        '<rate-limit-by-key calls="@(context.Request.IpAddress)" renewal-period="60" counter-key="k" />',
        "",
    )
    from gateway.stores.memory import MemoryCounters

    with pytest.raises(PolicyError):
        asyncio.run(policy.inbound.run(request_for(MemoryCounters())))

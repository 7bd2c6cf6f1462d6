"""llm-token-limit / azure-openai-token-limit, on both stores."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable

import pytest

from gateway.expressions.model import (
    ContextModel,
    HeaderDictionary,
    MessageBody,
    RequestModel,
    ResponseModel,
)
from gateway.runtime.context import Phase, RequestContext
from gateway.runtime.phases import run_phase
from gateway.runtime.pipeline import run_pipeline
from gateway.runtime.services import Services
from gateway.runtime.step import CompiledPolicy, LocalReply
from gateway.statements import llm_token_limit
from gateway.statements.llm_token_limit import TokenLimit
from gateway.stores.counters import Change, CounterStore
from tests.policies import compile_policy, new_context

PROMPT = {"model": "gpt-4o", "messages": [{"role": "user", "content": "Say hello."}]}  # 10 tokens


def token_policy(key: str, attributes: str, tag: str = "llm-token-limit") -> CompiledPolicy:
    return compile_policy(
        f'<policies><inbound><{tag} counter-key="{key}" {attributes} /></inbound></policies>'
    )


def response_usage(total_prompt: int, completion: int) -> bytes:
    usage = {"prompt_tokens": total_prompt, "completion_tokens": completion}
    return json.dumps({"choices": [], "usage": usage}).encode()


async def call(
    policy: CompiledPolicy,
    store: CounterStore,
    body: dict[str, object],
    answer: bytes,
    content_type: str = "application/json",
    deployment: str = "",
) -> tuple[LocalReply | None, RequestContext]:
    request = RequestContext(
        ContextModel(
            Request=RequestModel(
                Headers=HeaderDictionary(),
                Body=MessageBody(json.dumps(body).encode()),
                MatchedParameters={"deployment-id": deployment} if deployment else {},
            ),
            Response=ResponseModel(Headers=HeaderDictionary()),
        ),
        services=Services(counters=store),
    )
    reply = await run_pipeline(CompiledPolicy(inbound=policy.inbound), request)
    if reply is None:
        request.model.Response.Headers.set("Content-Type", [content_type])
        request.model.Response.Body = MessageBody(answer)
        await run_phase(request, Phase.DONE)
    return reply, request


def test_without_estimation_the_overrun_blocks_the_next_call(
    make_store: Callable[[], CounterStore], key: str
) -> None:
    async def scenario() -> None:
        store = make_store()
        policy = token_policy(
            key,
            'tokens-per-minute="100" estimate-prompt-tokens="false" '
            'remaining-tokens-header-name="x-left" tokens-consumed-header-name="x-used" '
            'remaining-tokens-variable-name="left"',
        )
        first, request = await call(policy, store, PROMPT, response_usage(120, 30))
        assert first is None  # forwarded although it turned out to cost 150
        assert ("x-used", "150") in request.response_headers
        assert ("x-left", "0") in request.response_headers and request.variables["left"] == 0
        second, refused = await call(policy, store, PROMPT, response_usage(1, 1))
        assert second is not None and second.status == 429
        assert refused.model.LastError.Reason == "TokenLimitExceeded"
        assert json.loads(second.body)["message"].startswith(
            "Token limit is exceeded. Try again in"
        )
        assert any(name == "Retry-After" for name, _ in second.headers)
        await store.close()

    asyncio.run(scenario())


def test_with_estimation_a_prompt_that_does_not_fit_is_refused_before_forwarding(
    make_store: Callable[[], CounterStore], key: str
) -> None:
    async def scenario() -> None:
        store = make_store()
        policy = token_policy(
            key,
            'tokens-per-minute="25" estimate-prompt-tokens="true" '
            'tokens-consumed-variable-name="used"',
        )
        first, request = await call(policy, store, PROMPT, response_usage(10, 5))
        assert first is None and request.variables["used"] == 15  # settled to the real usage
        second, _ = await call(policy, store, PROMPT, response_usage(10, 5))
        assert second is None  # 15 + 10 estimated = 25: fits
        third, _ = await call(policy, store, PROMPT, response_usage(10, 5))
        assert third is not None and third.status == 429  # 30 + 10 > 25
        await store.close()

    asyncio.run(scenario())


def test_a_spent_token_quota_is_403(make_store: Callable[[], CounterStore], key: str) -> None:
    async def scenario() -> None:
        store = make_store()
        policy = token_policy(
            key,
            'token-quota="100" token-quota-period="Monthly" estimate-prompt-tokens="false" '
            'remaining-quota-tokens-variable-name="quota-left"',
        )
        _, request = await call(policy, store, PROMPT, response_usage(60, 40))
        assert request.variables["quota-left"] == 0
        refused, context = await call(policy, store, PROMPT, response_usage(1, 1))
        assert refused is not None and refused.status == 403
        assert context.model.LastError.Reason == "TokenQuotaExceeded"
        await store.close()

    asyncio.run(scenario())


def test_streams_are_estimated_and_settled_from_the_final_usage_chunk(
    make_store: Callable[[], CounterStore], key: str
) -> None:
    stream = (
        b'data: {"choices":[{"delta":{"content":"hi"}}]}\n\n'
        b'data: {"choices":[],"usage":{"prompt_tokens":10,"completion_tokens":90}}\n\n'
        b"data: [DONE]\n\n"
    )

    async def scenario() -> None:
        store = make_store()
        policy = token_policy(
            key,
            'tokens-per-minute="105" estimate-prompt-tokens="false" '
            'tokens-consumed-variable-name="used"',
            tag="azure-openai-token-limit",
        )
        body = {"messages": PROMPT["messages"], "stream": True}  # the model: the deployment's
        _, request = await call(policy, store, body, stream, "text/event-stream", "gpt-4o")
        assert request.variables["used"] == 100
        refused, _ = await call(policy, store, body, stream, "text/event-stream", "gpt-4o")
        assert refused is not None and refused.status == 429  # 100 + 10 estimated > 105
        await store.close()

    asyncio.run(scenario())


def test_a_literal_limit_and_the_same_limit_computed_count_alike(
    make_store: Callable[[], CounterStore], key: str
) -> None:
    async def scenario() -> None:
        store = make_store()
        for number, limit in enumerate(('"100"', '"@(100)"', '"@(&quot;100&quot;)"')):
            policy = token_policy(
                f"{key}-{number}",
                f'tokens-per-minute={limit} estimate-prompt-tokens="false" '
                'remaining-tokens-header-name="x-left"',
            )
            _, request = await call(policy, store, PROMPT, response_usage(20, 10))
            assert ("x-left", "70") in request.response_headers, limit

    asyncio.run(scenario())


def test_a_computed_limit_that_is_not_a_number_fails_its_request(
    make_store: Callable[[], CounterStore], key: str
) -> None:
    async def scenario() -> None:
        policy = token_policy(
            key, 'tokens-per-minute="@(&quot;many&quot;)" estimate-prompt-tokens="false"'
        )
        reply, _ = await call(policy, make_store(), PROMPT, response_usage(20, 10))
        assert reply is not None and reply.status == 500

    asyncio.run(scenario())


def statement(attributes: str) -> TokenLimit:
    """The compiled statement behind a one-statement policy's step (its bound `check`)."""
    policy = token_policy('@(context.Request.Headers.GetValueOrDefault("k", ""))', attributes)
    [(step, _)] = policy.inbound.steps
    return step.__self__  # type: ignore[attr-defined,no-any-return]


def keyed(key: str, per_minute: str = "") -> RequestContext:
    return new_context({"k": key, "x-limit": per_minute})


QUOTA = 'token-quota="500" token-quota-period="Monthly" estimate-prompt-tokens="false"'


def test_a_keys_counters_are_made_once_and_equal_those_made_anew() -> None:
    limit = statement(f'tokens-per-minute="100" {QUOTA}')
    first = limit.counters(keyed("a"))
    assert limit.counters(keyed("a")) is first  # the second request reuses them
    assert first == limit.made("a", 100)
    counters, reads = first
    assert [c.name for c in counters] == ["tokens:a:minute", "tokens:a:quota"]
    assert [(c.limit, c.is_quota) for c in counters] == [(100, False), (500, True)]
    assert reads == tuple(Change(c.name, 0, c.window) for c in counters)
    # Shared between requests, so nothing in them can be changed.
    assert isinstance(counters, tuple) and isinstance(reads, tuple)
    assert limit.counters(keyed("b"))[0][0].name == "tokens:b:minute"


def test_the_keys_kept_are_bounded_the_oldest_forgotten(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(llm_token_limit, "KEYS_KEPT", 2)
    limit = statement(f'tokens-per-minute="100" {QUOTA}')
    for key in ("a", "b", "c"):
        limit.counters(keyed(key))
    assert limit.known is not None and list(limit.known) == ["b", "c"]
    assert limit.counters(keyed("a")) == limit.made("a", 100)  # made again


def test_an_expression_limit_is_read_per_request_and_nothing_kept() -> None:
    limit = statement(
        'tokens-per-minute="@(int.Parse(context.Request.Headers.GetValueOrDefault(&quot;x-limit&quot;, &quot;0&quot;)))" '
        'estimate-prompt-tokens="false"'
    )
    assert limit.known is None
    assert limit.counters(keyed("a", "7"))[0][0].limit == 7
    assert limit.counters(keyed("a", "9"))[0][0].limit == 9

"""llm-token-limit / azure-openai-token-limit, on both stores."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable

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
from gateway.stores.counters import CounterStore
from tests.policies import compile_policy

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

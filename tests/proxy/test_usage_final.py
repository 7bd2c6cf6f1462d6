"""Usage is read from the response the client gets, whatever attempts came before it.

Every call here goes to a pool whose first member answers 429 and is retried (`<retry>`
around forward-request) on the second, which answers 200: the token limit's counter, the
llm-emit-token-metric series, the consumed-tokens header, the cost limit and the access log
must all hold the second response's usage, as the client got it, with each client library
users run, streamed or not; so must `fallback` and `race` pools retried after a round in
which every member failed.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import openai
import pytest

from gateway.tokens.tokenizer import prompt_tokens
from tests.proxy.observed import Gateway, observed
from tests.proxy.processes import (
    fake_providers,
    inject_faults,
)
from tests.proxy.prometheus import sample
from tests.proxy.retry_policy import RETRY_BACKEND
from tests.proxy.usage_clients import CLIENTS, MODEL, PROMPT, plain_call

# Each API: its path, and its pool's members (their names' letter; the first answers 429),
# whose provider is the API's style.
POOLS = {
    "chat": ("chat", "o", "openai"),
    "azure": ("azure/openai", "z", "azure-openai"),
    "claude": ("claude", "a", "anthropic"),
}
# The fake provider's usage (prompt, completion): by API style, whole or streamed.
FIGURES = {
    ("chat", False): (5, 7),
    ("chat", True): (5, 3),
    ("azure", False): (5, 7),
    ("azure", True): (5, 3),
    ("claude", False): (4, 6),
    ("claude", True): (4, 3),
}
PRICES = {"m": (1.0, 2.0), "c": (3.0, 4.0)}  # dollars a million (input, output)
TENANT = "@(context.Request.Headers.GetValueOrDefault(&quot;x-tenant&quot;, &quot;&quot;))"
LIMIT = "@(int.Parse(context.Request.Headers.GetValueOrDefault(&quot;x-limit&quot;, &quot;1000000&quot;)))"

POLICY = f"""<policies>
    <inbound>
        <llm-token-limit counter-key="{TENANT}" tokens-per-minute="{LIMIT}"
            estimate-prompt-tokens="false" tokens-consumed-header-name="x-tokens-consumed"
            remaining-tokens-header-name="x-tokens-left" />
        <llm-emit-token-metric namespace="usage">
            <dimension name="API ID" />
            <dimension name="tenant" value="{TENANT}" />
        </llm-emit-token-metric>
    </inbound>
    {RETRY_BACKEND.format(timeout=10)}
    <outbound />
    <on-error />
</policies>"""

# Spending: one streamed call's cost ($5 + $6 a million: 5 prompt, 3 completion tokens).
SPEND_LIMIT = 0.000011
SPEND = f"""<policies>
    <inbound><base />
        <llm-cost-limit counter-key="{TENANT}" dollars-per-minute="{SPEND_LIMIT}"
            remaining-dollars-header-name="x-dollars-left" />
    </inbound>
    <backend><base /></backend>
    <outbound><base /></outbound>
</policies>"""


def write_directory(root: Path, ports: list[int], mode: str) -> None:
    urls = {"openai": "/v1", "azure-openai": "/openai", "anthropic": ""}
    backends = [
        f'  {letter}{i}: {{url: "http://127.0.0.1:{port}{urls[provider]}", provider: {provider}}}'
        for _, letter, provider in POOLS.values()
        for i, port in enumerate(ports)
    ]
    pools = [
        f"  {api}-pool: {{pool: {{services: [{m}0, {m}1]}}}}" for api, (_, m, _) in POOLS.items()
    ]
    pools += [
        "  fallback-pool: {pool: {services: [o0, o1], strategy: fallback}}",
        "  race-pool: {pool: {services: [o0, o1], strategy: race, race-count: 2}}",
    ]
    # API -> (path, style, pool): one per pool above, and `spend` (its cost limit) on chat's.
    routes = {api: (path, provider, api) for api, (path, _, provider) in POOLS.items()}
    routes["fallback"] = ("fallback", "openai", "fallback")
    routes["race"] = ("race", "openai", "race")
    routes["spend"] = ("spend", "openai", "chat")
    apis = [
        f"  {api}: {{path: {path}, style: {style}, backend: {pool}-pool, subscription-required: false}}"
        for api, (path, style, pool) in routes.items()
    ]
    pricing = [
        f"  - {{provider: {provider}, model: {model}, input: {cost[0]}, output: {cost[1]}}}"
        for _, _, provider in POOLS.values()
        for model, cost in PRICES.items()
    ]
    (root / "gateway.yaml").write_text(
        "\n".join(
            [
                f"limits: {{token-limit-mode: {mode}}}",
                "backends:",
                *backends,
                *pools,
                "apis:",
                *apis,
                "pricing:",
                *pricing,
                "",
            ]
        )
    )
    (root / "global.xml").write_text(POLICY)
    (root / "apis").mkdir(exist_ok=True)
    (root / "apis" / "spend.xml").write_text(SPEND)


@pytest.fixture(scope="module")
def members() -> Iterator[list[int]]:
    """Two fake providers; the first answers 429 to every call."""
    with fake_providers(2) as ports:
        inject_faults(ports[0], mode="429")
        yield ports


def running(root: Path, ports: list[int], mode: str) -> Iterator[Gateway]:
    write_directory(root, ports, mode)
    with observed(root) as gateway:
        yield gateway


@pytest.fixture(scope="module")
def gateway(members: list[int], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    """Token limits as APIM counts them."""
    yield from running(tmp_path_factory.mktemp("apim"), members, "apim")


@pytest.fixture(scope="module")
def reserving(members: list[int], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    """Token limits that reserve each call's most and settle to its usage."""
    yield from running(tmp_path_factory.mktemp("reserve"), members, "reserve-and-settle")


def cost_of(model: str, prompt: int, completion: int) -> float:
    rates = PRICES[model]
    return (prompt * rates[0] + completion * rates[1]) / 1_000_000


LIMIT_TOKENS = 1000


def tenant_headers(limit: int = LIMIT_TOKENS) -> dict[str, str]:
    """A counter key (and metric dimension) of the test's own, and the token limit's size.

    The token limit counts in fixed minutes (gateway.stores.counters.Window): a test that
    starts late in one would see its counter emptied half-way, so it waits for the next."""
    into_minute = time.time() % 60
    if into_minute > 45:
        time.sleep(60.2 - into_minute)
    return {"x-tenant": uuid.uuid4().hex, "x-limit": str(limit)}


def second_call(gateway: Gateway, api: str, headers: dict[str, str]) -> httpx.Response:
    path, body = plain_call(api)
    return httpx.post(gateway.base + path, json=body, headers=headers, timeout=30)


def assert_counted(gateway: Gateway, api: str, headers: dict[str, str], total: int) -> None:
    """The token limit's counter holds `total`: a call that would exceed a limit of `total`
    is refused (429), one at a limit a token higher goes through."""
    assert second_call(gateway, api, {**headers, "x-limit": str(total)}).status_code == 429
    assert second_call(gateway, api, {**headers, "x-limit": str(total + 1)}).status_code == 200


@pytest.mark.parametrize("streamed", [False, True], ids=["whole", "streamed"])
@pytest.mark.parametrize("client", list(CLIENTS))
def test_a_call_retried_after_a_429_counts_the_usage_the_client_got(
    gateway: Gateway, client: str, streamed: bool
) -> None:
    driver, api, model = CLIENTS[client]
    prompt, completion = FIGURES[api, streamed]
    total = prompt + completion
    headers = tenant_headers()
    before = gateway.logged()

    seen = driver(gateway.base, headers, streamed)

    assert (seen.prompt, seen.completion) == (prompt, completion)
    if seen.headers is not None:  # a whole response's headers carry the settled count
        assert seen.headers["x-tokens-consumed"] == str(total)
        assert seen.headers["x-tokens-left"] == str(LIMIT_TOKENS - total)
    labels = {"API_ID": api, "tenant": headers["x-tenant"]}
    counted = [
        gateway.metric(f"usage_{name}_tokens_total", **labels)
        for name in ("prompt", "completion", "total")
    ]
    assert counted == [prompt, completion, total]
    call = gateway.log(before + 1)[before]
    member = POOLS[api][1]
    assert call["attempts"] == [f"{member}0:429", f"{member}1:200"]
    assert (call["prompt_tokens"], call["completion_tokens"]) == (prompt, completion)
    assert call["cost"] == pytest.approx(cost_of(model, prompt, completion), rel=1e-9)
    assert_counted(gateway, api, headers, total)


def chat(gateway: Gateway, api: str, headers: dict[str, str], streamed: bool) -> tuple[int, int]:
    """One call with the openai SDK; the usage it got."""
    client = openai.OpenAI(
        base_url=f"{gateway.base}/{api}", api_key="-", max_retries=0, default_headers=headers
    )
    if not streamed:
        usage = client.chat.completions.create(model=MODEL, messages=PROMPT).usage
    else:
        chunks = client.chat.completions.create(
            model=MODEL, messages=PROMPT, stream=True, stream_options={"include_usage": True}
        )
        usage = list(chunks)[-1].usage
    assert usage is not None
    return usage.prompt_tokens, usage.completion_tokens


@pytest.mark.parametrize("streamed", [False, True], ids=["whole", "streamed"])
@pytest.mark.parametrize("strategy", ["fallback", "race"])
def test_a_fallback_or_race_pool_retried_counts_the_response_the_client_got(
    gateway: Gateway, members: list[int], strategy: str, streamed: bool
) -> None:
    """Both members fail the first round (429, 503), the retry's round succeeds on the
    second: its usage is counted; a race also accounts each lost call's prompt as hedging."""
    prompt, completion = FIGURES["chat", streamed]
    headers = tenant_headers()
    before = gateway.logged()
    hedged_before = hedging_cost(gateway)
    inject_faults(members[1], mode="503", times=1)

    assert chat(gateway, strategy, headers, streamed) == (prompt, completion)

    labels = {"API_ID": strategy, "tenant": headers["x-tenant"]}
    assert gateway.metric("usage_total_tokens_total", **labels) == prompt + completion
    call = gateway.log(before + 1)[before]
    attempts = call["attempts"]
    assert isinstance(attempts, list) and attempts[-1] == "o1:200"
    if strategy == "race":  # the second round's loser may be cut off by the winner's answer
        assert attempts[2] in ("o0:429", "o0:cancelled")
        attempts = [*attempts[:2], "o0:429", *attempts[3:]]
    assert sorted(attempts) == ["o0:429", "o0:429", "o1:200", "o1:503"]
    assert (call["prompt_tokens"], call["completion_tokens"]) == (prompt, completion)
    assert call["cost"] == pytest.approx(cost_of(MODEL, prompt, completion), rel=1e-9)
    if strategy == "race":  # one call lost in each round: its prompt, at the input price
        body = {"model": MODEL, "messages": PROMPT}
        lost = 2 * prompt_tokens(body, MODEL) * PRICES[MODEL][0] / 1_000_000
        assert hedging_cost(gateway) - hedged_before == pytest.approx(lost, rel=1e-9)
    assert_counted(gateway, strategy, headers, prompt + completion)


def hedging_cost(gateway: Gateway) -> float:
    text = httpx.get(f"{gateway.admin}/metrics").text
    try:
        return sample(text, "aigw_hedging_cost_total", Backend_ID="race-pool")
    except AssertionError:
        return 0.0  # none yet


@pytest.mark.parametrize("streamed", [False, True], ids=["whole", "streamed"])
def test_the_cost_limit_spends_what_the_retried_call_cost(gateway: Gateway, streamed: bool) -> None:
    headers = tenant_headers()  # the token limit is far off: only the spending limit counts
    before = gateway.logged()

    chat(gateway, "spend", headers, streamed)

    refused = second_call(gateway, "spend", headers)
    assert refused.status_code == 429 and "Spending limit" in refused.text
    call = gateway.log(before + 1)[before]
    assert call["attempts"] == ["o0:429", "o1:200"]


@pytest.mark.parametrize("streamed", [False, True], ids=["whole", "streamed"])
def test_reserve_and_settle_settles_to_the_retried_calls_usage(
    reserving: Gateway, streamed: bool
) -> None:
    prompt, completion = FIGURES["chat", streamed]
    limit = 100_000  # each call reserves its prompt and 1,024 output tokens first
    headers = tenant_headers(limit=limit)

    assert chat(reserving, "chat", headers, streamed) == (prompt, completion)

    after = second_call(reserving, "chat", headers)  # a whole call: its headers say the count
    assert after.status_code == 200
    assert after.headers["x-tokens-consumed"] == "12"
    assert after.headers["x-tokens-left"] == str(limit - (prompt + completion) - 12)

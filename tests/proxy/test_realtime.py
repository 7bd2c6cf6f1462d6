"""Realtime over WebSocket, through the gateway, with the openai SDK's realtime client.

The handshake is admitted by its subscription key and runs the API's policies (a refusal is
an HTTP response in place of the upgrade); the upstream socket goes to the API's backend
with the provider's key, never the client's; frames pass both ways; the usage the
provider's `response.done` events report is counted once the session ends: token metrics,
the token limit's counter, the cost and the access log.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
import websockets
from websockets.exceptions import InvalidStatus

from tests.conftest import clear_of_window_edge
from tests.fakes.realtime import ANSWER, USAGE
from tests.proxy import observed
from tests.proxy.processes import fake_provider, free_port, start_gateway, stop

MODEL = "gpt-realtime"
KEY = "team-key"
AZURE_VERSION = "2025-04-01-preview"
PRICE = (4.0, 16.0)  # dollars a million tokens: input, output
TENANT = "@(context.Request.Headers.GetValueOrDefault(&quot;x-tenant&quot;, &quot;&quot;))"

METERED = f"""<policies>
    <inbound><base />
        <llm-token-limit counter-key="{TENANT}" tokens-per-minute="30"
            estimate-prompt-tokens="false" />
        <llm-emit-token-metric namespace="realtime">
            <dimension name="API ID" />
            <dimension name="tenant" value="{TENANT}" />
        </llm-emit-token-metric>
    </inbound>
    <backend><base /></backend>
    <outbound><base /><set-header name="x-outbound" exists-action="override"><value>ran</value></set-header></outbound>
</policies>"""
GUARDED = """<policies>
    <inbound><base />
        <check-header name="x-team" failed-check-httpcode="403"
            failed-check-error-message="Only the team may talk" ignore-case="true">
            <value>blue</value>
        </check-header>
    </inbound>
    <backend><base /></backend>
    <outbound><base /></outbound>
</policies>"""


@dataclass
class Gateway(observed.Gateway):
    provider: int = 0  # the fake provider's port

    def upstream_handshake(self) -> dict[str, Any]:
        return httpx.get(f"http://127.0.0.1:{self.provider}/-/realtime").json()


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    root: Path = tmp_path_factory.mktemp("realtime")
    provider = free_port()
    (root / "gateway.yaml").write_text(
        f"""
backends:
  gpt: {{url: "http://127.0.0.1:{provider}/v1", provider: openai, api-key: provider-key}}
  az: {{url: "http://127.0.0.1:{provider}/openai", provider: azure-openai, api-key: azure-key,
       models: {{{MODEL}: prod-realtime}}}}
  claude: {{url: "http://127.0.0.1:{provider}", provider: anthropic}}
  gone: {{url: "http://127.0.0.1:{free_port()}/v1", provider: openai}}
  fallback: {{pool: {{services: [gone, gpt], strategy: fallback}}}}
apis:
  rt: {{path: rt, style: openai, backend: gpt}}
  guarded: {{path: guarded, style: openai, backend: gpt}}
  azure: {{path: azure/openai, style: azure-openai, backend: az}}
  crossed: {{path: crossed, style: openai, backend: claude}}
  pooled: {{path: pooled, style: openai, backend: fallback}}
  to-azure: {{path: to-azure, style: openai, backend: az}}
subscriptions:
  team: {{scope: all-apis, primary-key: {KEY}}}
pricing:
  - {{provider: openai, model: {MODEL}, input: {PRICE[0]}, output: {PRICE[1]}}}
"""
    )
    (root / "apis").mkdir()
    (root / "apis" / "rt.xml").write_text(METERED)
    (root / "apis" / "guarded.xml").write_text(GUARDED)
    port, admin = free_port(), free_port()
    with fake_provider(provider):
        process = start_gateway(root, port, os.environ, admin)
        try:
            yield Gateway(
                f"http://127.0.0.1:{port}", f"http://127.0.0.1:{admin}", process, provider
            )
        finally:
            stop(process)


async def converse(client: Any, responses: int = 1, **headers: str) -> list[str]:
    """A session that asks for `responses` text answers, with `headers` on its handshake
    (the SDK sends its client's default headers only on HTTP calls); the texts it got."""
    answers: list[str] = []
    async with client.realtime.connect(model=MODEL, extra_headers=headers) as connection:
        created = await connection.recv()
        assert created.type == "session.created"
        for _ in range(responses):
            await connection.response.create()
            text = ""
            async for event in connection:
                if event.type == "response.output_text.delta":
                    text += event.delta
                elif event.type == "response.done":
                    assert event.response.usage is not None
                    assert event.response.usage.input_tokens == USAGE[0]
                    break
            answers.append(text)
    return answers


def openai_client(gateway: Gateway, api: str = "rt", key: str = KEY) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(base_url=f"{gateway.base}/{api}", api_key=key, max_retries=0)


def test_a_session_through_the_gateway_gets_its_answers(gateway: Gateway) -> None:
    tenant = {"x-tenant": uuid.uuid4().hex}

    assert asyncio.run(converse(openai_client(gateway), **tenant)) == [ANSWER]

    seen = gateway.upstream_handshake()
    assert seen["path"] == "/v1/realtime" and seen["query"] == {"model": MODEL}
    assert seen["headers"]["Authorization"] == "Bearer provider-key"  # never the client's key
    assert KEY not in json.dumps(seen)


def test_the_usage_of_a_session_is_counted_when_it_ends(gateway: Gateway) -> None:
    tenant = uuid.uuid4().hex
    before = gateway.logged()
    prompt, _, completion = USAGE

    clear_of_window_edge()  # the session and the next handshake in one minute's window
    asyncio.run(converse(openai_client(gateway), responses=2, **{"x-tenant": tenant}))

    labels = {"API_ID": "rt", "tenant": tenant}
    counted = [
        gateway.metric(f"realtime_{name}_tokens_total", **labels)
        for name in ("prompt", "completion", "total")
    ]
    assert counted == [2 * prompt, 2 * completion, 2 * (prompt + completion)]
    session = gateway.log(before + 1)[before]
    assert session["status"] == 101 and session["operation"] == "Realtime_Connect"
    assert (session["prompt_tokens"], session["completion_tokens"]) == (2 * prompt, 2 * completion)
    assert session["model"] == MODEL
    cost = 2 * (prompt * PRICE[0] + completion * PRICE[1]) / 1_000_000
    assert session["cost"] == pytest.approx(cost, rel=1e-9)
    # The token limit (30 a minute) counted the session's 34 tokens: the next handshake is
    # refused before any upgrade, with the limit's 429.
    with pytest.raises(InvalidStatus) as refused:
        asyncio.run(converse(openai_client(gateway), **{"x-tenant": tenant}))
    assert refused.value.response.status_code == 429


def test_a_wrong_subscription_key_is_refused_at_the_handshake(gateway: Gateway) -> None:
    with pytest.raises(InvalidStatus) as refused:
        asyncio.run(converse(openai_client(gateway, key="wrong-key")))

    response = refused.value.response
    assert response.status_code == 401
    body = json.loads(response.body)
    assert body["statusCode"] == 401 and body["error"]["type"] == "invalid_request_error"


def test_an_inbound_policy_refuses_the_handshake(gateway: Gateway) -> None:
    with pytest.raises(InvalidStatus) as refused:
        asyncio.run(converse(openai_client(gateway, "guarded"), **{"x-team": "red"}))
    assert refused.value.response.status_code == 403
    assert b"Only the team may talk" in refused.value.response.body

    assert asyncio.run(converse(openai_client(gateway, "guarded"), **{"x-team": "blue"})) == [
        ANSWER
    ]


def test_azure_clients_reach_an_azure_backend_by_deployment(gateway: Gateway) -> None:
    client = openai.AsyncAzureOpenAI(
        azure_endpoint=f"{gateway.base}/azure",
        websocket_base_url=f"ws://{gateway.base.removeprefix('http://')}/azure/openai",
        api_key=KEY,
        api_version=AZURE_VERSION,
        max_retries=0,
    )

    assert asyncio.run(converse(client)) == [ANSWER]

    seen = gateway.upstream_handshake()
    assert seen["path"] == "/openai/realtime"
    assert seen["query"] == {"api-version": AZURE_VERSION, "deployment": "prod-realtime"}
    assert seen["headers"]["api-key"] == "azure-key"


def test_azure_v1_clients_reach_an_azure_backend_by_model(gateway: Gateway) -> None:
    """Azure's v1 API, as the plain OpenAI client calls it (`/openai/v1`, no api-version)."""
    client = openai.AsyncOpenAI(
        base_url=f"{gateway.base}/azure/openai/v1", api_key="unused", max_retries=0
    )

    assert asyncio.run(converse(client, **{"api-key": KEY})) == [ANSWER]

    seen = gateway.upstream_handshake()
    assert seen["path"] == "/openai/v1/realtime" and seen["query"] == {"model": "prod-realtime"}
    assert seen["headers"]["api-key"] == "azure-key"


def test_openai_clients_reach_an_azure_backend_by_deployment(gateway: Gateway) -> None:
    assert asyncio.run(converse(openai_client(gateway, "to-azure"))) == [ANSWER]

    seen = gateway.upstream_handshake()
    assert seen["path"] == "/openai/realtime"
    assert seen["query"] == {"api-version": "2024-10-21", "deployment": "prod-realtime"}
    assert seen["headers"]["api-key"] == "azure-key" and "Authorization" not in seen["headers"]


def test_frames_pass_both_ways_and_closes_follow(gateway: Gateway) -> None:
    """Binary frames, the outbound policy's headers on the upgrade, the upstream's close code
    passed to the client; the subscription key may also come as APIM's header; a key offered
    as a subprotocol is not passed on."""

    async def session() -> tuple[bytes, int | None, str | None]:
        url = f"ws://{gateway.base.removeprefix('http://')}/rt/realtime?model={MODEL}"
        headers = {"Ocp-Apim-Subscription-Key": KEY, "x-tenant": uuid.uuid4().hex}
        offered = ["realtime", f"openai-insecure-api-key.{KEY}"]  # a browser's way
        async with websockets.connect(
            url, additional_headers=headers, subprotocols=offered
        ) as socket:
            assert socket.subprotocol == "realtime"
            assert json.loads(await socket.recv())["type"] == "session.created"
            await socket.send(b"\x00\x01binary")
            echoed = await socket.recv()
            await socket.send(json.dumps({"type": "fake.close", "code": 4001}))
            with pytest.raises(websockets.ConnectionClosed):
                await socket.recv()
            assert socket.response is not None
            return echoed, socket.close_code, socket.response.headers.get("x-outbound")

    assert asyncio.run(session()) == (b"\x00\x01binary", 4001, "ran")
    assert gateway.upstream_handshake()["headers"]["Sec-WebSocket-Protocol"] == "realtime"


def test_the_clients_close_code_reaches_the_upstream(gateway: Gateway) -> None:
    async def session() -> None:
        client = openai_client(gateway)
        async with client.realtime.connect(model=MODEL) as connection:
            await connection.recv()
            await connection.close(code=4002, reason="done here")

    asyncio.run(session())

    deadline = time.monotonic() + 3
    while gateway.upstream_handshake()["close_code"] is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert gateway.upstream_handshake()["close_code"] == 4002


def test_a_backend_without_a_realtime_api_is_refused(gateway: Gateway) -> None:
    with pytest.raises(InvalidStatus) as refused:
        asyncio.run(converse(openai_client(gateway, "crossed")))
    assert refused.value.response.status_code == 400
    assert b"Realtime_Connect" in refused.value.response.body


@pytest.mark.filterwarnings("ignore:connect\\(\\) must be used:DeprecationWarning")  # the SDK's
def test_the_sync_client_and_a_pool_that_falls_back(gateway: Gateway) -> None:
    """The first member cannot be reached: the pool's next one opens the session."""
    before = gateway.logged()
    client = openai.OpenAI(base_url=f"{gateway.base}/pooled", api_key=KEY, max_retries=0)
    with client.realtime.connect(model=MODEL) as connection:
        assert connection.recv().type == "session.created"
        connection.response.create()
        text = ""
        for event in connection:
            if event.type == "response.output_text.delta":
                text += event.delta
            elif event.type == "response.done":
                break
    assert text == ANSWER
    session = gateway.log(before + 1)[-1]
    assert session["api"] == "pooled" and session["attempts"][-1] == "gpt:101"
    assert session["attempts"][0].startswith("gone:")


def test_an_upstream_refusal_is_the_clients(gateway: Gateway) -> None:
    async def refused() -> None:
        client = openai_client(gateway)
        async with client.realtime.connect(model=MODEL, extra_query={"fake-refuse": "503"}):
            pass

    with pytest.raises(InvalidStatus) as refusal:
        asyncio.run(refused())
    response = refusal.value.response
    assert response.status_code == 503
    assert json.loads(response.body)["error"]["type"] == "api_error"  # the SDK's shape

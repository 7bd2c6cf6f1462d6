"""`aigw run` as a real process in front of a fake provider process, driven by the openai SDK."""

from __future__ import annotations

import json
import os
import textwrap
import time
from collections.abc import Iterator

import anthropic
import httpx
import openai
import pytest

from tests.proxy.processes import fake_provider, free_port, start_gateway, stop


@pytest.fixture(scope="module")
def ports() -> dict[str, int]:
    return {"provider": free_port(), "gateway": free_port(), "admin": free_port()}


@pytest.fixture(scope="module")
def gateway(ports: dict[str, int], tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    provider_port, gateway_port, admin_port = ports["provider"], ports["gateway"], ports["admin"]
    root = tmp_path_factory.mktemp("policies")
    (root / "gateway.yaml").write_text(
        textwrap.dedent(
            f"""
            backends:
              fake:
                url: http://127.0.0.1:{provider_port}/v1
                provider: openai
                credentials: {{header: {{Authorization: "Bearer ${{env:FAKE_PROVIDER_KEY}}"}}}}
              fake-alt:
                url: http://127.0.0.1:{provider_port}/v1
                credentials: {{header: {{Authorization: "Bearer alt-secret"}}}}
              fake-azure:
                url: http://127.0.0.1:{provider_port}/openai
                provider: azure-openai
                credentials: {{header: {{api-key: "${{env:FAKE_PROVIDER_KEY}}"}}}}
              fake-azure-scheme:
                url: http://127.0.0.1:{provider_port}/openai
                provider: azure-openai
                credentials:
                  authorization: {{scheme: Basic, parameter: "${{env:FAKE_PROVIDER_KEY}}"}}
              fake-anthropic:
                url: http://127.0.0.1:{provider_port}
                provider: anthropic
                credentials: {{header: {{x-api-key: "${{env:FAKE_PROVIDER_KEY}}"}}}}
            apis:
              chat: {{path: llm, style: openai, backend: fake}}
              aoai: {{path: openai, style: azure-openai, backend: fake-azure}}
              claude: {{path: claude, style: anthropic, backend: fake-anthropic}}
            products:
              gold: {{apis: [chat]}}
            subscriptions:
              team: {{scope: all-apis, primary-key: sub-key-1}}
              gold-team: {{scope: product/gold, primary-key: gold-key}}
              claude-only:
                scope: api/claude
                primary-key: claude-key
                secondary-key: "sha256:538dbd1e7d70ed90be0270829c7457bd50b15f87d9cdebe7dbf6756489dca2ac"
              paused: {{scope: all-apis, primary-key: paused-key, state: suspended}}
            """
        )
    )
    (root / "global.xml").write_text(
        f"""<policies>
            <inbound>
                <set-header name="x-gateway-in" exists-action="override">
                    <value>@(context.Subscription.Id + "/" + context.Operation.Id)</value>
                </set-header>
                <choose>
                    <when condition='@(context.Request.Headers.GetValueOrDefault("x-route", "") == "alt")'>
                        <set-backend-service backend-id="fake-alt" />
                    </when>
                    <when condition='@(context.Request.Headers.GetValueOrDefault("x-route", "") == "url")'>
                        <set-backend-service base-url="http://127.0.0.1:{provider_port}/v1" />
                    </when>
                    <when condition='@(context.Request.Headers.GetValueOrDefault("x-route", "") == "scheme")'>
                        <set-backend-service backend-id="fake-azure-scheme" />
                    </when>
                </choose>
            </inbound>
            <backend><forward-request timeout="10" /></backend>
            <outbound>
                <set-header name="x-gateway" exists-action="override"><value>aigw</value></set-header>
            </outbound>
        </policies>"""
    )
    (root / "products").mkdir()
    (root / "products" / "gold.xml").write_text(
        """<policies><inbound><base />
            <set-header name="x-product" exists-action="override"><value>gold</value></set-header>
        </inbound></policies>"""
    )
    (root / "apis").mkdir()
    (root / "apis" / "claude.xml").write_text(
        """<policies><inbound><base />
            <set-header name="x-model" exists-action="override">
                <value>@((string)context.Request.Body.As&lt;JObject&gt;(preserveContent: true)["model"])</value>
            </set-header>
        </inbound></policies>"""
    )
    env = {**os.environ, "FAKE_PROVIDER_KEY": "provider-secret"}
    with fake_provider(provider_port, env):
        server = start_gateway(root, gateway_port, env, admin_port)
        try:
            yield f"http://127.0.0.1:{gateway_port}"
        finally:
            stop(server)


def test_admin_listener_is_separate_from_traffic(gateway: str, ports: dict[str, int]) -> None:
    admin = f"http://127.0.0.1:{ports['admin']}"
    ready = httpx.get(f"{admin}/-/ready")
    assert ready.status_code == 200
    body = ready.json()
    assert body == {
        "status": "ready",
        "version": body["version"],
        "apis": ["aoai", "chat", "claude"],
    }
    assert len(body["version"]) == 12  # the directory's hash (tests/proxy/test_reload.py)
    assert httpx.get(f"{gateway}/-/ready").status_code == 404  # not on the traffic listener
    assert httpx.get(f"{admin}/llm/chat/completions").status_code == 404


def test_openai_sdk_through_the_gateway(gateway: str) -> None:
    client = openai.OpenAI(base_url=f"{gateway}/llm", api_key="sub-key-1", max_retries=0)
    raw = client.chat.completions.with_raw_response.create(
        model="gpt-4o", messages=[{"role": "user", "content": "hi"}]
    )
    completion = raw.parse()
    seen = json.loads(completion.choices[0].message.content or "{}")
    assert seen["path"] == "/v1/chat/completions"
    assert seen["model"] == "gpt-4o"  # the body went through untouched, no policy read it
    assert seen["headers"]["content-length"] is not None  # sent as the client sent it
    assert seen["headers"]["authorization"] == "Bearer provider-secret"  # BYOK credential
    assert seen["headers"]["x-gateway-in"] == "team/ChatCompletions_Create"
    assert completion.usage is not None and completion.usage.total_tokens == 12
    assert raw.headers["x-gateway"] == "aigw"
    assert raw.headers["x-upstream"] == "fake"
    # One Date (the gateway's) and one Server (the backend's): never both sides' copies.
    assert len(raw.headers.get_list("date")) == 1
    assert raw.headers.get_list("server") == [raw.headers["server"]]


def test_bad_key_gets_apims_401(gateway: str) -> None:
    client = openai.OpenAI(base_url=f"{gateway}/llm", api_key="wrong", max_retries=0)
    with pytest.raises(openai.AuthenticationError) as caught:
        client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "hi"}])
    response = caught.value.response
    message = "Access denied due to invalid subscription key. Make sure to provide a valid key for an active subscription."
    # APIM's envelope as APIM sends it, with the fields the OpenAI SDK reads beside it.
    assert response.json() == {
        "statusCode": 401,
        "message": message,
        "error": {
            "message": message,
            "type": "invalid_request_error",
            "param": None,
            "code": "invalid_api_key",
        },
    }
    assert (caught.value.code, caught.value.type) == ("invalid_api_key", "invalid_request_error")
    assert caught.value.request_id  # the gateway's request id, under x-request-id
    assert response.headers["www-authenticate"].startswith("AzureApiManagementKey realm=")


def test_missing_key_and_unknown_paths(gateway: str) -> None:
    missing = httpx.post(f"{gateway}/llm/chat/completions", json={"model": "x"})
    assert missing.status_code == 401
    assert missing.json()["message"].startswith("Access denied due to missing subscription key")
    assert httpx.get(f"{gateway}/nothing").status_code == 404
    wrong_method = httpx.get(
        f"{gateway}/llm/chat/completions", headers={"Authorization": "Bearer sub-key-1"}
    )
    assert wrong_method.status_code == 405


@pytest.fixture(scope="module")
def bundled() -> Iterator[str]:
    """`aigw run policies/` exactly as the README's quickstart runs it, with no provider keys."""
    port = free_port()
    env = {
        k: v for k, v in os.environ.items() if k not in ("OPENAI_API_KEY", "AZURE_OPENAI_API_KEY")
    }
    env["AIGW_STARTER_KEY"] = "starter-key"
    server = start_gateway("policies/", port, env)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(server)


def test_quickstart_demo_answers_offline(bundled: str) -> None:
    answer = httpx.get(f"{bundled}/demo/hello")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/json"
    assert answer.json() == {
        "message": "hello from aigw",
        "api": "demo",
        "operation": "hello",
        "caller": "anonymous",
    }


def test_quickstart_mock_api_serves_an_sdk_offline(bundled: str) -> None:
    client = openai.OpenAI(base_url=f"{bundled}/mock", api_key="anything", max_retries=0)
    raw = client.chat.completions.with_raw_response.create(
        model="gpt-4o", messages=[{"role": "user", "content": "hi"}]
    )
    assert raw.parse().choices[0].message.content == "This is a mock response from aigw."
    assert "x-gateway" not in raw.headers  # a mock ends the pipeline: outbound never runs
    assert raw.request_id  # the gateway's request id, where the SDK reads it
    assert [m.id for m in client.models.list()] == ["mock"]


def test_quickstart_provider_apis_say_which_key_is_missing(bundled: str) -> None:
    client = openai.OpenAI(base_url=f"{bundled}/llm", api_key="starter-key", max_retries=0)
    with pytest.raises(openai.InternalServerError) as caught:
        client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "hi"}])
    message = caught.value.response.json()["message"]
    assert (
        message
        == "backend 'openai' cannot be called: the environment variable OPENAI_API_KEY is not set"
    )
    assert "starter-key" not in caught.value.response.text


@pytest.mark.parametrize(("route", "authorization"), [("alt", "Bearer alt-secret"), ("url", None)])
def test_set_backend_service_by_id_and_by_url(
    gateway: str, route: str, authorization: str | None
) -> None:
    client = openai.OpenAI(
        base_url=f"{gateway}/llm",
        api_key="sub-key-1",
        max_retries=0,
        default_headers={"x-route": route},
    )
    completion = client.chat.completions.create(
        model="m", messages=[{"role": "user", "content": "hi"}]
    )
    seen = json.loads(completion.choices[0].message.content or "{}")
    assert seen["headers"]["authorization"] == authorization
    assert seen["path"] == "/v1/chat/completions"


def test_streams_pass_through_chunk_by_chunk(gateway: str) -> None:
    client = openai.OpenAI(base_url=f"{gateway}/llm", api_key="sub-key-1", max_retries=0)
    started = time.monotonic()
    arrivals: list[float] = []
    words: list[str] = []
    usage = None
    stream = client.chat.completions.create(
        model="m",
        messages=[{"role": "user", "content": "hi"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    for chunk in stream:
        if chunk.choices and chunk.choices[0].delta.content:
            words.append(chunk.choices[0].delta.content)
            arrivals.append(time.monotonic() - started)
        if chunk.usage is not None:
            usage = chunk.usage
    assert "".join(words) == "one two three "
    assert usage is not None and usage.total_tokens == 8
    # The provider waits 0.3 s between chunks: a buffering gateway would deliver all at once.
    assert arrivals[-1] - arrivals[0] > 0.4


def test_a_client_that_walks_away_cuts_the_upstream_stream(
    gateway: str, ports: dict[str, int]
) -> None:
    provider = f"http://127.0.0.1:{ports['provider']}/-/streams"
    cut_before = httpx.get(provider).json()["cut"]
    client = openai.OpenAI(base_url=f"{gateway}/llm", api_key="sub-key-1", max_retries=0)
    stream = client.chat.completions.create(
        model="long", messages=[{"role": "user", "content": "hi"}], stream=True
    )
    next(iter(stream))  # the stream is flowing
    stream.close()  # the client goes away after one chunk of a 30-second answer
    deadline = time.monotonic() + 5
    while httpx.get(provider).json()["cut"] == cut_before:
        assert time.monotonic() < deadline, "the provider kept streaming to nobody"
        time.sleep(0.1)


def test_azure_openai_sdk_through_the_gateway(gateway: str) -> None:
    client = openai.AzureOpenAI(
        azure_endpoint=gateway, api_key="sub-key-1", api_version="2024-10-21", max_retries=0
    )
    completion = client.chat.completions.create(
        model="gpt-4o", messages=[{"role": "user", "content": "hi"}]
    )
    seen = json.loads(completion.choices[0].message.content or "{}")
    assert seen["path"] == "/openai/deployments/gpt-4o/chat/completions"
    assert seen["query"] == {"api-version": "2024-10-21"}
    assert seen["headers"]["api-key"] == "provider-secret"  # the gateway's key, not the client's
    assert seen["headers"]["x-gateway-in"] == "team/ChatCompletions_Create"


def test_backend_authorization_credential_replaces_the_clients(gateway: str) -> None:
    """`credentials.authorization` goes as `Authorization: <scheme> <parameter>`, as APIM sends
    it, in place of the Authorization header the client sent."""
    client = openai.AzureOpenAI(
        azure_endpoint=gateway,
        api_key="sub-key-1",
        api_version="2024-10-21",
        max_retries=0,
        default_headers={"Authorization": "Bearer the-clients-own", "x-route": "scheme"},
    )
    completion = client.chat.completions.create(
        model="gpt-4o", messages=[{"role": "user", "content": "hi"}]
    )
    seen = json.loads(completion.choices[0].message.content or "{}")
    assert seen["path"] == "/openai/deployments/gpt-4o/chat/completions"
    assert seen["headers"]["authorization"] == "Basic provider-secret"


def test_anthropic_sdk_through_the_gateway(gateway: str) -> None:
    client = anthropic.Anthropic(base_url=f"{gateway}/claude", api_key="sub-key-1", max_retries=0)
    message = client.messages.create(
        model="fake-claude", max_tokens=64, messages=[{"role": "user", "content": "hi"}]
    )
    block = message.content[0]
    assert block.type == "text"
    seen = json.loads(block.text)
    assert seen["path"] == "/v1/messages"
    assert seen["headers"]["x-api-key"] == "provider-secret"
    assert seen["headers"]["x-gateway-in"] == "team/Messages_Create"
    assert seen["version"]  # the SDK's anthropic-version header passes through
    assert seen["headers"]["x-model"] == "fake-claude"  # a policy read the body, buffered
    assert message.usage.output_tokens == 6


def test_routing_misses_answer_in_the_api_styles_shape(gateway: str) -> None:
    client = openai.OpenAI(base_url=f"{gateway}/llm", api_key="sub-key-1", max_retries=0)
    with pytest.raises(openai.NotFoundError) as openai_miss:
        client.vector_stores.list()  # not an operation of the style
    assert openai_miss.value.response.json()["error"]["message"] == "Resource not found"
    claude = httpx.post(f"{gateway}/claude/v1/unknown", headers={"x-api-key": "sub-key-1"})
    assert claude.json() == {
        "statusCode": 404,
        "message": "Resource not found",
        "type": "error",
        "error": {"type": "not_found_error", "message": "Resource not found"},
    }
    assert claude.headers["request-id"]  # where the Anthropic SDK reads a request id
    azure = httpx.post(f"{gateway}/openai/unknown")
    assert azure.json() == {"statusCode": 404, "message": "Resource not found"}


def chat_headers(gateway: str, key: str) -> dict[str, str | None]:
    client = openai.OpenAI(base_url=f"{gateway}/llm", api_key=key, max_retries=0)
    completion = client.chat.completions.create(
        model="m", messages=[{"role": "user", "content": "hi"}]
    )
    return json.loads(completion.choices[0].message.content or "{}")["headers"]


def test_product_policy_runs_only_for_a_product_key(gateway: str) -> None:
    assert chat_headers(gateway, "gold-key")["x-product"] == "gold"
    assert chat_headers(gateway, "gold-key")["x-gateway-in"] == "gold-team/ChatCompletions_Create"
    assert chat_headers(gateway, "sub-key-1")["x-product"] is None  # all-APIs key: no product


INVALID = (
    "Access denied due to invalid subscription key. "
    "Make sure to provide a valid key for an active subscription."
)


@pytest.mark.parametrize(
    ("key", "path"),
    [
        ("gold-key", "/openai/deployments/d/chat/completions?api-version=2024-10-21"),
        ("claude-key", "/llm/chat/completions"),
        ("paused-key", "/llm/chat/completions"),  # suspended
    ],
)
def test_keys_out_of_scope_or_inactive_get_apims_401(gateway: str, key: str, path: str) -> None:
    answer = httpx.post(
        f"{gateway}{path}",
        json={"model": "m"},
        headers={"api-key": key, "Authorization": f"Bearer {key}"},
    )
    assert answer.status_code == 401
    body = answer.json()
    if path.startswith("/openai/"):  # an Azure OpenAI-style API: APIM's body, exactly
        assert body == {"statusCode": 401, "message": INVALID}
    else:  # an OpenAI-style API: APIM's envelope and the SDK's `error` beside it
        assert (body["statusCode"], body["message"]) == (401, INVALID)
        assert body["error"]["code"] == "invalid_api_key"
    assert answer.headers["www-authenticate"].startswith("AzureApiManagementKey")


@pytest.mark.parametrize("key", ["claude-key", "claude-key-2"])  # primary, secondary (hashed)
def test_api_scoped_keys_work_on_their_api(gateway: str, key: str) -> None:
    client = anthropic.Anthropic(base_url=f"{gateway}/claude", api_key=key, max_retries=0)
    message = client.messages.create(
        model="m", max_tokens=8, messages=[{"role": "user", "content": "hi"}]
    )
    block = message.content[0]
    assert block.type == "text" and json.loads(block.text)["headers"]["x-gateway-in"] == (
        "claude-only/Messages_Create"
    )


def test_azure_openai_sdk_streams(gateway: str) -> None:
    client = openai.AzureOpenAI(
        azure_endpoint=gateway, api_key="sub-key-1", api_version="2024-10-21", max_retries=0
    )
    stream = client.chat.completions.create(
        model="gpt-4o",
        messages=[{"role": "user", "content": "hi"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    words, usage = [], None
    for chunk in stream:
        if chunk.choices and chunk.choices[0].delta.content:
            words.append(chunk.choices[0].delta.content)
        usage = chunk.usage or usage
    assert "".join(words) == "one two three "
    assert usage is not None and usage.total_tokens == 8


def test_anthropic_sdk_streams(gateway: str) -> None:
    client = anthropic.Anthropic(base_url=f"{gateway}/claude", api_key="sub-key-1", max_retries=0)
    with client.messages.stream(
        model="fake-claude", max_tokens=64, messages=[{"role": "user", "content": "hi"}]
    ) as stream:
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
    assert text == "one two three "
    assert final.usage.output_tokens == 3 and final.usage.input_tokens == 4

"""Operations across providers, through a running gateway and the SDKs: translated, answered
by the gateway, or refused in the client's own error shape, and never sent where they fail.

Anthropic's `count_tokens` on an OpenAI backend is counted by the gateway, offline (it was sent
upstream as a billed chat completion); on an Anthropic backend it passes. An OpenAI client on
an Anthropic backend gets its model list translated, and a 400 naming the operation and the
backend for what Anthropic does not serve (Responses, embeddings), instead of Anthropic's 404.
The fake provider's request log proves what reached it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import anthropic
import httpx
import openai
import pytest
from langchain_anthropic import ChatAnthropic
from langchain_core.messages import HumanMessage, SystemMessage

from gateway.tokens.tokenizer import count_text
from tests.conftest import clear_of_window_edge
from tests.proxy.processes import fake_provider, free_port, serving

SYSTEM = "You answer questions about the weather, briefly and politely."
QUESTION = "What is the weather like in Lisbon today, and should I take an umbrella?"
WEATHER_TOOL = {
    "name": "get_weather",
    "description": "The weather in a city",
    "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}},
}
LIMITED = """<policies><inbound><base />
    <llm-token-limit counter-key="@(context.Api.Id)" tokens-per-minute="150"
        estimate-prompt-tokens="true" remaining-tokens-header-name="x-remaining" />
</inbound></policies>"""

CONSUMED = """<policies><inbound><base />
    <llm-token-limit counter-key="@(context.Api.Id)" tokens-per-minute="100000"
        estimate-prompt-tokens="false" tokens-consumed-header-name="x-consumed" />
</inbound></policies>"""


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int]]:
    root: Path = tmp_path_factory.mktemp("crossings")
    port = free_port()
    (root / "gateway.yaml").write_text(
        f"""
backends:
  gpt: {{url: "http://127.0.0.1:{port}/v1", provider: openai,
        models: {{claude-sonnet-4: gpt-4o}}}}
  claude: {{url: "http://127.0.0.1:{port}", provider: anthropic}}
apis:
  on-gpt: {{path: on-gpt, style: anthropic, backend: gpt}}
  limited: {{path: limited, style: anthropic, backend: gpt, subscription-required: false}}
  on-claude: {{path: on-claude, style: anthropic, backend: claude, subscription-required: false}}
  chat-on-claude: {{path: chat-on-claude, style: openai, backend: claude,
                   subscription-required: false}}
  counted-on-claude: {{path: counted-on-claude, style: openai, backend: claude,
                      subscription-required: false}}
  azure-on-claude: {{path: openai, style: azure-openai, backend: claude,
                    subscription-required: false}}
subscriptions:
  team: {{scope: all-apis, primary-key: team-key}}
"""
    )
    (root / "apis").mkdir()
    (root / "apis" / "limited.xml").write_text(LIMITED)
    (root / "apis" / "counted-on-claude.xml").write_text(CONSUMED)
    with fake_provider(port), serving(root, os.environ) as url:
        yield url, port


def received(port: int) -> list[str]:
    """The paths the fake provider received since the last call, which forgets them."""
    seen = httpx.get(f"http://127.0.0.1:{port}/-/requests").json()
    httpx.delete(f"http://127.0.0.1:{port}/-/requests")
    return [request["path"] for request in seen]


def claude(url: str, api: str, key: str = "team-key") -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=f"{url}/{api}", api_key=key, max_retries=0)


def chat(url: str, api: str = "chat-on-claude") -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{url}/{api}", api_key="-", max_retries=0)


def test_count_tokens_on_an_openai_backend_is_counted_by_the_gateway(
    gateway: tuple[str, int],
) -> None:
    url, port = gateway
    received(port)
    client = claude(url, "on-gpt")
    messages = [{"role": "user", "content": QUESTION}]
    counted = client.messages.with_raw_response.count_tokens(
        model="claude-sonnet-4", system=SYSTEM, messages=messages
    )
    # The backend's model (gpt-4o) counts exactly: the texts plus OpenAI's few tokens a message.
    texts = count_text(SYSTEM, "gpt-4o") + count_text(QUESTION, "gpt-4o")
    assert texts < counted.parse().input_tokens <= texts + 16
    assert counted.request_id  # the gateway's own, where Anthropic's SDK reads it
    with_tools = client.messages.count_tokens(
        model="claude-sonnet-4", system=SYSTEM, messages=messages, tools=[WEATHER_TOOL]
    )
    assert with_tools.input_tokens > counted.parse().input_tokens + 10  # the tool's schema
    assert received(port) == []  # nothing was sent upstream: no completion billed for a count


def test_count_tokens_still_runs_the_apis_policies(gateway: tuple[str, int]) -> None:
    url, port = gateway
    received(port)
    with pytest.raises(anthropic.AuthenticationError):
        claude(url, "on-gpt", key="wrong").messages.count_tokens(
            model="claude-sonnet-4", messages=[{"role": "user", "content": QUESTION}]
        )
    assert received(port) == []


def test_a_token_count_takes_nothing_from_a_token_limit(gateway: tuple[str, int]) -> None:
    url, _ = gateway
    clear_of_window_edge()
    client = claude(url, "limited")
    long_question = [{"role": "user", "content": QUESTION * 4}]  # ~70 tokens each time
    for _ in range(4):  # 280 tokens, were they taken from the 150 a minute
        counted = client.messages.with_raw_response.count_tokens(
            model="claude-sonnet-4", messages=long_question
        )
        assert counted.parse().input_tokens > 60
        assert counted.headers["x-remaining"] == "150"
    answer = client.messages.create(
        model="claude-sonnet-4", max_tokens=20, messages=[{"role": "user", "content": "hi"}]
    )
    assert answer.content


def test_count_tokens_on_an_anthropic_backend_passes_through(gateway: tuple[str, int]) -> None:
    url, port = gateway
    received(port)
    counted = claude(url, "on-claude").messages.count_tokens(
        model="claude-sonnet-4", messages=[{"role": "user", "content": QUESTION}]
    )
    assert counted.input_tokens == 4242  # the provider's own count
    assert received(port) == ["/v1/messages/count_tokens"]


def test_langchain_anthropic_counts_tokens_through_the_gateway(
    gateway: tuple[str, int],
) -> None:
    url, port = gateway
    received(port)
    model = ChatAnthropic(  # type: ignore[call-arg]
        model="claude-sonnet-4", base_url=f"{url}/on-gpt", api_key="team-key", max_retries=0
    )
    counted = model.get_num_tokens_from_messages([SystemMessage(SYSTEM), HumanMessage(QUESTION)])
    texts = count_text(SYSTEM, "gpt-4o") + count_text(QUESTION, "gpt-4o")
    assert texts < counted <= texts + 16
    assert received(port) == []


@pytest.mark.parametrize(
    ("operation", "call"),
    [
        ("Completions_Create", lambda c: c.completions.create(model="claude-3", prompt="hi")),
        (
            "embeddings_create",
            lambda c: c.embeddings.create(model="text-embedding-3-small", input="hi"),
        ),
    ],
)
def test_what_an_anthropic_backend_cannot_serve_is_refused_in_openais_shape(
    gateway: tuple[str, int], operation: str, call: object
) -> None:
    url, port = gateway
    received(port)
    with pytest.raises(openai.BadRequestError) as refused:
        call(chat(url))  # type: ignore[operator]
    error = refused.value
    assert error.status_code == 400 and error.code == "operation_not_supported"
    assert error.type == "invalid_request_error"
    assert operation in error.message and "'claude'" in error.message
    assert error.request_id
    assert received(port) == []  # never forwarded to a provider that would answer 404


def test_an_azure_client_is_refused_alike(gateway: tuple[str, int]) -> None:
    url, port = gateway
    received(port)
    client = openai.AzureOpenAI(
        azure_endpoint=url, api_key="-", api_version="2024-10-21", max_retries=0
    )
    with pytest.raises(openai.BadRequestError) as refused:
        client.embeddings.create(model="text-embedding-3-small", input="hi")
    assert "embeddings_create" in refused.value.message
    assert received(port) == []


def test_the_model_list_of_an_anthropic_backend_reads_as_openais(
    gateway: tuple[str, int],
) -> None:
    url, port = gateway
    received(port)
    listing = chat(url).models.list()
    assert [model.id for model in listing.data] == [
        "claude-sonnet-4-20250514",
        "claude-opus-4-20250514",
    ]
    assert listing.data[0].created == 1747872000  # 2025-05-22T00:00:00Z
    assert listing.data[0].owned_by == "anthropic"
    assert received(port) == ["/v1/models"]


def test_the_responses_api_is_served_by_an_anthropic_backend(gateway: tuple[str, int]) -> None:
    url, port = gateway
    received(port)
    answer = chat(url).responses.create(
        model="claude-sonnet-4",
        instructions="Be brief.",
        input=[{"role": "user", "content": [{"type": "input_text", "text": "Hello"}]}],
        max_output_tokens=50,
    )
    sent = httpx.get(f"http://127.0.0.1:{port}/-/last").json()["messages"]
    assert (sent["system"], sent["max_tokens"]) == ("Be brief.", 50)
    assert sent["messages"] == [{"role": "user", "content": "Hello"}]
    assert answer.status == "completed" and answer.object == "response"
    assert '"version": "2023-06-01"' in answer.output_text  # what the provider saw
    assert answer.usage is not None
    assert (answer.usage.input_tokens, answer.usage.output_tokens) == (4, 6)
    assert received(port) == ["/v1/messages"]
    counted = chat(url, "counted-on-claude").responses.with_raw_response.create(
        model="claude-sonnet-4", input="Hello"
    )
    assert counted.headers["x-consumed"] == "10"  # the provider's usage, read as the client's


def test_a_responses_tool_call_crosses_both_ways(gateway: tuple[str, int]) -> None:
    url, _ = gateway
    tool = {
        "type": "function",
        "name": "get_weather",
        "description": "The weather in a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
    }
    first = chat(url).responses.create(model="claude-sonnet-4", input=QUESTION, tools=[tool])
    call = first.output[0]
    assert call.type == "function_call" and call.name == "get_weather"
    follow_up = chat(url).responses.create(
        model="claude-sonnet-4",
        tools=[tool],
        input=[
            {"role": "user", "content": QUESTION},
            {
                "type": "function_call",
                "call_id": call.call_id,
                "name": call.name,
                "arguments": call.arguments,
            },
            {"type": "function_call_output", "call_id": call.call_id, "output": "Sunny"},
        ],
    )
    assert follow_up.output


def test_a_streamed_response_from_an_anthropic_backend(gateway: tuple[str, int]) -> None:
    url, _ = gateway
    with chat(url).responses.stream(model="claude-sonnet-4", input="Hello") as stream:
        deltas = [event.delta for event in stream if event.type == "response.output_text.delta"]
        final = stream.get_final_response()
    assert len(deltas) > 1 and "".join(deltas) == final.output_text
    assert final.status == "completed"
    assert final.usage is not None and final.usage.output_tokens > 0


def test_what_the_responses_api_cannot_ask_of_anthropic_is_refused(
    gateway: tuple[str, int],
) -> None:
    url, port = gateway
    received(port)
    with pytest.raises(openai.BadRequestError) as refused:
        chat(url).responses.create(
            model="claude-sonnet-4", input="hi", previous_response_id="resp_123"
        )
    assert "previous_response_id" in refused.value.message
    assert received(port) == []


@pytest.mark.parametrize(
    "body",
    [
        b'{"model": "claude-sonnet-4", "messa',
        b"[" * 1000 + b"]" * 1000,
        b'{"x": ' + b"[" * 990 + b"]" * 990 + b"}",
    ],
    ids=["cut_json", "nested_past_the_parser", "nested_past_the_translator"],
)
def test_a_body_the_translation_cannot_read_is_a_400_in_the_clients_shape_not_a_500(
    gateway: tuple[str, int], body: bytes
) -> None:
    url, port = gateway
    received(port)
    answer = httpx.post(
        f"{url}/chat-on-claude/chat/completions",
        content=body,
        headers={"content-type": "application/json"},
    )
    assert answer.status_code == 400, answer.text
    assert "not JSON it can read" in answer.json()["error"]["message"]
    assert received(port) == []

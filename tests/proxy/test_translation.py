"""A client of one API served by a backend of another, through a running gateway and the SDKs.

The `openai` SDK talks to an OpenAI-style API whose backend is Anthropic-shaped, and the
`anthropic` SDK to an Anthropic-style API whose backend is OpenAI-shaped: text and tool calls,
buffered and streamed, usage and stop reasons, and reasoning where the backend maps it.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Iterator
from pathlib import Path

import anthropic
import httpx
import openai
import pytest
from aiohttp import web

from tests.fakes.loopback import serve_app
from tests.proxy.processes import fake_provider, free_port, serving

WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "The weather in a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
    },
}


@pytest.fixture
def gateway(tmp_path: Path) -> Iterator[tuple[str, int]]:
    port = free_port()
    (tmp_path / "gateway.yaml").write_text(
        f"""
backends:
  claude: {{url: "http://127.0.0.1:{port}", provider: anthropic, models: {{gpt-4o: claude-sonnet-4}}}}
  gpt: {{url: "http://127.0.0.1:{port}/v1", provider: openai, models: {{claude-x: gpt-4o}}}}
  thinking-claude: {{url: "http://127.0.0.1:{port}", provider: anthropic,
                    translation: {{reasoning: map}}}}
  reasoning-gpt: {{url: "http://127.0.0.1:{port}/v1", provider: openai,
                  translation: {{reasoning: map, sampling: drop}}}}
apis:
  chat: {{path: chat, style: openai, backend: claude, subscription-required: false}}
  messages: {{path: messages, style: anthropic, backend: gpt, subscription-required: false}}
  thinking-chat: {{path: thinking-chat, style: openai, backend: thinking-claude,
                  subscription-required: false}}
  reasoning-messages: {{path: reasoning-messages, style: anthropic, backend: reasoning-gpt,
                       subscription-required: false}}
"""
    )
    with fake_provider(port), serving(tmp_path, os.environ) as url:
        yield url, port


def last(port: int, kind: str) -> dict:
    return httpx.get(f"http://127.0.0.1:{port}/-/last").json()[kind]


def test_an_openai_client_is_served_by_an_anthropic_backend(gateway: tuple[str, int]) -> None:
    url, port = gateway
    client = openai.OpenAI(base_url=f"{url}/chat", api_key="-", max_retries=0)
    messages = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Hello"},
    ]
    answer = client.chat.completions.create(model="gpt-4o", messages=messages, max_tokens=50)
    sent = last(port, "messages")
    assert (sent["model"], sent["system"], sent["max_tokens"]) == (
        "claude-sonnet-4",
        "Be brief.",
        50,
    )
    assert json.loads(answer.choices[0].message.content or "{}")["version"] == "2023-06-01"
    assert answer.choices[0].finish_reason == "stop"
    assert answer.usage is not None and (
        answer.usage.prompt_tokens,
        answer.usage.completion_tokens,
    ) == (4, 6)
    stream = client.chat.completions.create(
        model="gpt-4o", messages=messages, stream=True, stream_options={"include_usage": True}
    )
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "one two three "
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens == 3
    finish = [
        c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason
    ]
    assert finish == ["stop"]


def test_tool_calls_cross_from_anthropic_to_an_openai_client(gateway: tuple[str, int]) -> None:
    url, _ = gateway
    client = openai.OpenAI(base_url=f"{url}/chat", api_key="-", max_retries=0)
    asked = [{"role": "user", "content": "Weather in Paris?"}]
    answer = client.chat.completions.create(model="gpt-4o", messages=asked, tools=[WEATHER])
    [call] = answer.choices[0].message.tool_calls or []
    assert (call.function.name, json.loads(call.function.arguments)) == (
        "get_weather",
        {"city": "Paris"},
    )
    assert answer.choices[0].finish_reason == "tool_calls"
    stream = client.chat.completions.create(
        model="gpt-4o", messages=asked, tools=[WEATHER], stream=True
    )
    arguments, names = "", set()
    for chunk in stream:
        for delta in chunk.choices[0].delta.tool_calls or [] if chunk.choices else []:
            arguments += (delta.function.arguments or "") if delta.function else ""
            if delta.function and delta.function.name:
                names.add(delta.function.name)
    assert (names, json.loads(arguments)) == ({"get_weather"}, {"city": "Paris"})


def test_an_anthropic_client_is_served_by_an_openai_backend(gateway: tuple[str, int]) -> None:
    url, port = gateway
    client = anthropic.Anthropic(base_url=f"{url}/messages", api_key="-", max_retries=0)
    asked = [{"role": "user", "content": "Hello"}]
    answer = client.messages.create(
        model="claude-x", max_tokens=50, system="Be brief.", messages=asked
    )
    sent = last(port, "chat")
    assert sent["model"] == "gpt-4o"
    assert sent["messages"][0] == {"role": "system", "content": "Be brief."}
    assert answer.stop_reason == "end_turn"
    assert (answer.usage.input_tokens, answer.usage.output_tokens) == (5, 7)
    with client.messages.stream(model="claude-x", max_tokens=50, messages=asked) as stream:
        assert stream.get_final_text() == "one two three "
        final = stream.get_final_message()
    assert final.usage.output_tokens == 3  # the gateway asked the OpenAI backend for usage


def test_tool_use_crosses_from_openai_to_an_anthropic_client(gateway: tuple[str, int]) -> None:
    url, _ = gateway
    client = anthropic.Anthropic(base_url=f"{url}/messages", api_key="-", max_retries=0)
    tool = {
        "name": "get_weather",
        "description": "The weather in a city",
        "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}},
    }
    asked = [{"role": "user", "content": "Weather in Paris?"}]
    answer = client.messages.create(model="claude-x", max_tokens=50, messages=asked, tools=[tool])
    [use] = [block for block in answer.content if block.type == "tool_use"]
    assert (use.name, use.input, answer.stop_reason) == (
        "get_weather",
        {"city": "Paris"},
        "tool_use",
    )
    with client.messages.stream(
        model="claude-x", max_tokens=50, messages=asked, tools=[tool]
    ) as stream:
        final = stream.get_final_message()
    [use] = [block for block in final.content if block.type == "tool_use"]
    assert (use.input, final.stop_reason) == ({"city": "Paris"}, "tool_use")


THOUGHT = "Let me think about it."  # what the fake provider thinks when asked to


def test_reasoning_effort_becomes_thinking_and_comes_back_as_reasoning_content(
    gateway: tuple[str, int],
) -> None:
    url, port = gateway
    client = openai.OpenAI(base_url=f"{url}/thinking-chat", api_key="-", max_retries=0)
    asked = [{"role": "user", "content": "Hello"}]
    answer = client.chat.completions.create(
        model="claude-sonnet-4", messages=asked, reasoning_effort="low", temperature=0.5
    )
    sent = last(port, "messages")
    assert sent["thinking"] == {"type": "enabled", "budget_tokens": 1024}
    assert sent["max_tokens"] == 1024 + 4096  # room for the answer after the budget
    assert "temperature" not in sent  # Anthropic refuses it with thinking on
    message = answer.choices[0].message
    assert (message.model_extra or {})["reasoning_content"] == THOUGHT
    assert json.loads(message.content or "{}")["path"] == "/v1/messages"
    # Anthropic's usage does not say how many of the output tokens were thinking: none invented.
    assert answer.usage is not None and answer.usage.completion_tokens_details is None
    stream = client.chat.completions.create(
        model="claude-sonnet-4", messages=asked, reasoning_effort="low", stream=True
    )
    deltas = [c.choices[0].delta for c in stream if c.choices]
    assert "".join(getattr(d, "reasoning_content", None) or "" for d in deltas) == THOUGHT
    assert "".join(d.content or "" for d in deltas) == "one two three "


def test_reasoning_effort_is_dropped_for_a_backend_that_does_not_map_it(
    gateway: tuple[str, int],
) -> None:
    url, port = gateway
    client = openai.OpenAI(base_url=f"{url}/chat", api_key="-", max_retries=0)
    answer = client.chat.completions.create(
        model="gpt-4o",
        messages=[{"role": "user", "content": "Hello"}],
        reasoning_effort="high",
        temperature=0.5,
    )
    sent = last(port, "messages")
    assert "thinking" not in sent and sent["max_tokens"] == 4096 and sent["temperature"] == 0.5
    assert "reasoning_content" not in (answer.choices[0].message.model_extra or {})


def test_thinking_becomes_reasoning_effort_and_comes_back_as_a_thinking_block(
    gateway: tuple[str, int],
) -> None:
    url, port = gateway
    client = anthropic.Anthropic(base_url=f"{url}/reasoning-messages", api_key="-", max_retries=0)
    asked = [{"role": "user", "content": "Hello"}]
    thinking = {"type": "enabled", "budget_tokens": 2048}
    answer = client.messages.create(
        model="gpt-5",
        max_tokens=4096,
        messages=asked,
        thinking=thinking,
        extra_body={"temperature": 1.0},  # sampling: drop keeps it from the backend
    )
    sent = last(port, "chat")
    assert sent["reasoning_effort"] == "medium"  # 2048 tokens: nearer 4096 than 1024
    assert "temperature" not in sent
    first, text = answer.content
    assert (first.type, getattr(first, "thinking", None), getattr(first, "signature", None)) == (
        "thinking",
        THOUGHT,
        "",
    )
    assert text.type == "text" and json.loads(text.text)["path"] == "/v1/chat/completions"
    # The reasoning tokens stay inside output_tokens, as both providers count them.
    assert answer.usage.output_tokens == 7
    assert answer.usage.output_tokens_details is not None
    assert answer.usage.output_tokens_details.thinking_tokens == 2
    with client.messages.stream(
        model="gpt-5", max_tokens=4096, messages=asked, thinking=thinking
    ) as stream:
        thoughts = [e.thinking for e in stream if e.type == "thinking"]
        final = stream.get_final_message()
    assert "".join(thoughts) == THOUGHT
    assert [block.type for block in final.content] == ["thinking", "text"]
    assert final.content[1].type == "text" and final.content[1].text == "one two three "


def test_thinking_is_dropped_for_a_backend_that_does_not_map_it(gateway: tuple[str, int]) -> None:
    url, port = gateway
    client = anthropic.Anthropic(base_url=f"{url}/messages", api_key="-", max_retries=0)
    answer = client.messages.create(
        model="claude-x",
        max_tokens=4096,
        messages=[{"role": "user", "content": "Hello"}],
        thinking={"type": "enabled", "budget_tokens": 2048},
    )
    assert "reasoning_effort" not in last(port, "chat")
    assert [block.type for block in answer.content] == ["text"]


def test_openai_and_azure_openai_clients_cross_over_deployments_and_api_versions(
    tmp_path: Path,
) -> None:
    port = free_port()
    (tmp_path / "gateway.yaml").write_text(
        f"""
backends:
  azure: {{url: "http://127.0.0.1:{port}/openai", provider: azure-openai, api-version: "2025-01-01",
           models: {{gpt-4o: prod-gpt4o}}, api-key: azure-key}}
  plain: {{url: "http://127.0.0.1:{port}/v1", provider: openai, api-key: plain-key}}
apis:
  chat: {{path: chat, style: openai, backend: azure, subscription-required: false}}
  aoai: {{path: openai, style: azure-openai, backend: plain, subscription-required: false}}
"""
    )
    with fake_provider(port), serving(tmp_path, os.environ) as url:
        plain = openai.OpenAI(base_url=f"{url}/chat", api_key="-", max_retries=0)
        answer = plain.chat.completions.create(
            model="gpt-4o", messages=[{"role": "user", "content": "x"}]
        )
        seen = json.loads(answer.choices[0].message.content or "{}")
        assert seen["path"] == "/openai/deployments/prod-gpt4o/chat/completions"
        assert seen["query"] == {"api-version": "2025-01-01"}
        assert seen["headers"]["api-key"] == "azure-key"  # each provider's key, its own way
        azure = openai.AzureOpenAI(
            azure_endpoint=url, api_key="-", api_version="2024-10-21", max_retries=0
        )
        answer = azure.chat.completions.create(
            model="my-deployment", messages=[{"role": "user", "content": "x"}]
        )
        seen = json.loads(answer.choices[0].message.content or "{}")
    assert (seen["path"], seen["query"], seen["model"]) == (
        "/v1/chat/completions",
        {},
        "my-deployment",
    )


@pytest.mark.parametrize("odd", [b"[1, 2]", b'{"content": 1}', b"[" * 100_000 + b"]" * 100_000])
def test_a_success_body_of_another_shape_is_passed_on_as_it_came_not_a_500(
    tmp_path: Path, odd: bytes
) -> None:
    # Found by fuzzing the response translators (tests/fuzz/corpus/translate_response): JSON
    # that is not the provider's document (not an object, a field of another type, nested
    # past Python's recursion limit) raised while it was walked, and the client got a 500.
    async def answer(request: web.Request) -> web.Response:
        return web.Response(body=odd, content_type="application/json")

    app = web.Application()
    app.router.add_post("/v1/messages", answer)

    async def scenario() -> None:
        async with serve_app(app) as backend:
            (tmp_path / "gateway.yaml").write_text(
                f"""
backends:
  claude: {{url: "{backend}", provider: anthropic}}
apis:
  chat: {{path: chat, style: openai, backend: claude, subscription-required: false}}
"""
            )
            with serving(tmp_path, os.environ) as url:
                async with httpx.AsyncClient() as client:
                    body = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}
                    got = await client.post(f"{url}/chat/chat/completions", json=body)
        assert (got.status_code, got.content) == (200, odd)

    asyncio.run(scenario())

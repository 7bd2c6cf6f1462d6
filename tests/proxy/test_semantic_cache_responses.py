"""The Responses API through the semantic cache, called with the openai SDK: kept and replayed
as Responses (whole and streamed), never served to chat calls, and never keyed on what the
gateway cannot see (a previous response)."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import openai
import pytest

from tests.proxy.processes import fake_provider, free_port, serving

CACHED = """<policies>
    <inbound><base />
        <llm-semantic-cache-lookup score-threshold="0.3" embeddings-backend-id="embed"
            embeddings-backend-auth="system-assigned" />
    </inbound>
    <outbound><base /><llm-semantic-cache-store duration="60" /></outbound>
</policies>"""
QUESTION = "What is the capital of France?"
SIMILAR = "The capital of France is what?"  # the same words: distance 0 by the fake's vectors


@pytest.fixture
def provider() -> Iterator[str]:
    port = free_port()
    with fake_provider(port):
        yield f"http://127.0.0.1:{port}"


@pytest.fixture
def client(tmp_path: Path, provider: str) -> Iterator[openai.OpenAI]:
    (tmp_path / "gateway.yaml").write_text(
        f"""
backends:
  llm: {{url: "{provider}/v1"}}
  embed: {{url: "{provider}/v1/embeddings"}}
  claude: {{url: "{provider}", provider: anthropic}}
apis:
  chat: {{path: chat, style: openai, backend: llm, subscription-required: false}}
  on-claude: {{path: on-claude, style: openai, backend: claude, subscription-required: false}}
"""
    )
    (tmp_path / "apis").mkdir()
    (tmp_path / "apis" / "chat.xml").write_text(CACHED)
    (tmp_path / "apis" / "on-claude.xml").write_text(CACHED)
    with serving(tmp_path, os.environ) as url:
        yield openai.OpenAI(base_url=f"{url}/chat", api_key="-", max_retries=0)


def responses_calls(provider: str) -> int:
    """How many Responses calls reached the provider."""
    seen = httpx.get(f"{provider}/-/requests").json()
    return sum(1 for r in seen if r["method"] == "POST" and r["path"] == "/v1/responses")


def test_a_response_is_kept_and_served_to_a_similar_prompt_with_a_fresh_id(
    client: openai.OpenAI, provider: str
) -> None:
    first = client.responses.create(model="gpt-4o", input=QUESTION)
    raw = client.responses.with_raw_response.create(model="gpt-4o", input=SIMILAR)
    again = raw.parse()
    assert raw.headers["x-aigw-cache"] == "hit"
    assert again.output_text == first.output_text and again.output_text
    assert again.object == "response" and again.status == "completed"
    assert again.id != first.id and again.id.startswith("resp_")
    assert again.usage is not None and again.usage.total_tokens == first.usage.total_tokens  # type: ignore[union-attr]
    assert responses_calls(provider) == 1
    # A chat call with the same words is a chat call: a miss, answered by the provider.
    chat = client.chat.completions.with_raw_response.create(
        model="gpt-4o", messages=[{"role": "user", "content": QUESTION}]
    )
    assert chat.headers.get("x-aigw-cache", "") == ""
    assert chat.parse().object == "chat.completion"
    assert httpx.get(f"{provider}/-/calls").json()["chat"] == 1


def test_a_streamed_response_is_kept_and_replayed_as_the_events_the_sdk_assembles(
    client: openai.OpenAI, provider: str
) -> None:
    events = list(client.responses.create(model="gpt-4o", input=QUESTION, stream=True))
    assert events[-1].type == "response.completed"
    text = events[-1].response.output_text
    assert text
    time.sleep(0.3)  # the store runs as the stream ends
    raw = client.responses.with_raw_response.create(model="gpt-4o", input=SIMILAR, stream=True)
    assert raw.headers["x-aigw-cache"] == "hit"
    replayed = list(raw.parse())
    kinds = [event.type for event in replayed]
    assert kinds[:4] == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.content_part.added",
    ]
    assert kinds[-4:] == [
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.completed",
    ]
    deltas = [e.delta for e in replayed if e.type == "response.output_text.delta"]
    assert len(deltas) > 1 and "".join(deltas) == text
    completed = replayed[-1].response  # type: ignore[union-attr]
    assert completed.usage is not None and completed.usage.total_tokens > 0
    with client.responses.stream(model="gpt-4o", input=QUESTION) as stream:
        final = stream.get_final_response()
    assert final.output_text == text and final.id not in (completed.id, events[-1].response.id)
    whole = client.responses.create(model="gpt-4o", input=SIMILAR)
    assert whole.output_text == text
    assert responses_calls(provider) == 1


def test_a_response_that_follows_a_previous_one_is_neither_looked_up_nor_stored(
    client: openai.OpenAI, provider: str
) -> None:
    earlier = client.responses.create(model="gpt-4o", input="Remember the number seven")
    for _ in range(2):
        raw = client.responses.with_raw_response.create(
            model="gpt-4o", input=QUESTION, previous_response_id=earlier.id
        )
        assert raw.headers.get("x-aigw-cache", "") == ""
    # Not stored either: the same question on its own is a miss.
    alone = client.responses.with_raw_response.create(model="gpt-4o", input=QUESTION)
    assert alone.headers.get("x-aigw-cache", "") == ""
    assert responses_calls(provider) == 4


def test_responses_translated_from_an_anthropic_backend_are_kept_as_responses(
    client: openai.OpenAI, provider: str
) -> None:
    on_claude = client.with_options(base_url=str(client.base_url).replace("/chat", "/on-claude"))
    streamed = list(
        on_claude.responses.create(model="claude-sonnet-4", input=QUESTION, stream=True)
    )
    text = streamed[-1].response.output_text  # type: ignore[union-attr]
    assert text
    time.sleep(0.3)
    raw = on_claude.responses.with_raw_response.create(model="claude-sonnet-4", input=SIMILAR)
    assert raw.headers["x-aigw-cache"] == "hit" and raw.parse().output_text == text
    messages = httpx.get(f"{provider}/-/requests").json()
    assert sum(1 for r in messages if r["path"] == "/v1/messages") == 1

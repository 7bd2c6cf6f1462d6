"""Semantic caching through running gateways, called with the official SDKs.

The fake provider embeds a text as a bag of its words (tests.fakes.provider.embeddings), so
these tests control similarity exactly: the same words in another order are a distance of 0,
one word changed among six is about 0.17.
"""

from __future__ import annotations

import os
import re
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import anthropic
import httpx
import openai
import pytest

from tests.conftest import REDIS_URL, require_redis
from tests.proxy.processes import fake_provider, free_port, serving, start_gateway, stop

LOOKUP = """<llm-semantic-cache-lookup score-threshold="{threshold}" embeddings-backend-id="{embedder}"
    embeddings-backend-auth="system-assigned" ignore-system-messages="true" {extra}>
    <vary-by>@(context.Request.Headers.GetValueOrDefault("x-team", ""))</vary-by>
</llm-semantic-cache-lookup>"""


def write_directory(
    root: Path,
    provider_port: int,
    *,
    threshold: str = "0.3",
    embedder: str = "embed",
    extra: str = "",
    store: str = "memory",
    duration: int = 60,
) -> None:
    provider = f"http://127.0.0.1:{provider_port}"
    (root / "gateway.yaml").write_text(
        f"""
stores: {{cache: "{store}"}}
backends:
  llm: {{url: "{provider}/v1"}}
  claude: {{url: "{provider}", provider: anthropic}}
  embed: {{url: "{provider}/v1/embeddings"}}
embedders:
  local: {{builtin: minilm-l6-v2}}
pricing:
  - {{provider: openai-compatible, model: gpt-4o, input: 1000, output: 2000, date: "2026-12-01"}}
apis:
  chat: {{path: chat, style: openai, backend: llm, subscription-required: false}}
  claude: {{path: claude, style: anthropic, backend: claude, subscription-required: false}}
"""
    )
    policy = f"""<policies>
        <inbound><base />{LOOKUP.format(threshold=threshold, embedder=embedder, extra=extra)}</inbound>
        <outbound><base /><llm-semantic-cache-store duration="{duration}" /></outbound>
    </policies>"""
    (root / "apis").mkdir(exist_ok=True)
    (root / "apis" / "chat.xml").write_text(policy)
    (root / "apis" / "claude.xml").write_text(policy)


@pytest.fixture
def provider_port() -> Iterator[int]:
    port = free_port()
    with fake_provider(port):
        yield port


def provider_calls(port: int) -> dict[str, int]:
    return httpx.get(f"http://127.0.0.1:{port}/-/calls").json()


def ask(client: openai.OpenAI, text: str, **options: object) -> tuple[str, str, dict]:
    raw = client.chat.completions.with_raw_response.create(
        model="gpt-4o", messages=[{"role": "user", "content": text}], **options
    )
    answer = raw.parse()
    return answer.choices[0].message.content or "", raw.headers.get("x-aigw-cache", ""), raw.headers


def test_exact_and_similar_prompts_hit_and_near_misses_do_not(
    tmp_path: Path, provider_port: int
) -> None:
    write_directory(tmp_path, provider_port)
    with serving(tmp_path, os.environ) as gateway:
        client = openai.OpenAI(base_url=f"{gateway}/chat", api_key="-", max_retries=0)
        first, state, _ = ask(client, "What is the capital of France?")
        assert state == ""  # a miss says nothing
        again, state, headers = ask(client, "What is the capital of France?")
        assert (again, state, headers["x-aigw-cache-score"]) == (first, "hit", "0.0000")
        reordered, state, _ = ask(client, "The capital of France is what?")
        assert (reordered, state) == (first, "hit")  # same words: distance 0 by the vector
        assert provider_calls(provider_port)["chat"] == 1
        # One word of six differs (distance ~0.17, within 0.3): the guard refuses the hit.
        _, state, headers = ask(client, "What is the capital of Germany?")
        assert state == "" and headers["x-aigw-cache-guard"].startswith("entities differ")
        # Another team's partition, and other sampling settings, never share an answer.
        _, state, _ = ask(client, "What is the capital of France?", extra_headers={"x-team": "b"})
        assert state == ""
        _, state, _ = ask(client, "What is the capital of France?", temperature=0.1)
        assert state == ""
        assert provider_calls(provider_port)["chat"] == 4


def test_a_cached_answer_is_replayed_as_a_stream_and_a_streamed_one_as_json(
    tmp_path: Path, provider_port: int
) -> None:
    write_directory(tmp_path, provider_port)
    with serving(tmp_path, os.environ) as gateway:
        client = openai.OpenAI(base_url=f"{gateway}/chat", api_key="-", max_retries=0)
        stored, _, _ = ask(client, "Tell me a joke about cats")
        stream = client.chat.completions.create(
            model="gpt-4o",
            messages=[{"role": "user", "content": "Tell me a joke about cats"}],
            stream=True,
            stream_options={"include_usage": True},
        )
        chunks = list(stream)
        text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
        assert text == stored
        assert chunks[-1].usage is not None and chunks[-1].usage.total_tokens == 12
        # A streamed answer is kept once complete, and served as JSON to a buffered client.
        streamed = client.chat.completions.create(
            model="gpt-4o", messages=[{"role": "user", "content": "Count to three"}], stream=True
        )
        streamed_text = "".join(c.choices[0].delta.content or "" for c in streamed if c.choices)
        time.sleep(0.3)  # the store runs right after the last chunk
        replayed, state, _ = ask(client, "Count to three")
        assert (replayed, state) == (streamed_text, "hit")
        assert provider_calls(provider_port)["chat"] == 2


def test_anthropic_answers_are_cached_and_replayed_as_anthropic_streams(
    tmp_path: Path, provider_port: int
) -> None:
    write_directory(tmp_path, provider_port)
    with serving(tmp_path, os.environ) as gateway:
        client = anthropic.Anthropic(base_url=f"{gateway}/claude", api_key="-", max_retries=0)
        question = [{"role": "user", "content": "Write a haiku about rain"}]
        first = client.messages.create(model="claude-x", max_tokens=50, messages=question)
        with client.messages.stream(model="claude-x", max_tokens=50, messages=question) as stream:
            replayed = stream.get_final_text()
        assert replayed == first.content[0].text  # type: ignore[union-attr]
        assert provider_calls(provider_port)["messages"] == 1


def test_errors_and_filtered_answers_are_not_stored_and_entries_expire(
    tmp_path: Path, provider_port: int
) -> None:
    write_directory(tmp_path, provider_port, duration=2)
    with serving(tmp_path, os.environ) as gateway:
        client = openai.OpenAI(base_url=f"{gateway}/chat", api_key="-", max_retries=0)
        for _ in range(2):
            client.chat.completions.create(
                model="filtered", messages=[{"role": "user", "content": "something risky"}]
            )
        assert provider_calls(provider_port)["chat"] == 2  # a content-filtered answer: not kept
        ask(client, "Name a colour")
        assert ask(client, "Name a colour")[1] == "hit"
        time.sleep(2.2)
        assert ask(client, "Name a colour")[1] == ""  # expired
        assert provider_calls(provider_port)["chat"] == 4


def test_shadow_mode_reports_what_it_would_serve_and_counts_metrics(
    tmp_path: Path, provider_port: int
) -> None:
    write_directory(tmp_path, provider_port, extra='shadow="true"')
    port, admin = free_port(), free_port()
    gateway = start_gateway(tmp_path, port, None, admin)
    try:
        client = openai.OpenAI(base_url=f"http://127.0.0.1:{port}/chat", api_key="-")
        assert ask(client, "What is two plus two?")[1] == "shadow-miss"
        _, state, headers = ask(client, "What is two plus two?")
        assert state == "shadow-hit" and headers["x-aigw-cache-score"] == "0.0000"
        assert provider_calls(provider_port)["chat"] == 2  # shadow never serves
        metrics = httpx.get(f"http://127.0.0.1:{admin}/metrics").text
    finally:
        stop(gateway)
    results = dict(
        re.findall(r'aigw_cache_lookups_total\{[^}]*result="([^"]+)"[^}]*\} (\S+)', metrics)
    )
    assert results == {"shadow-miss": "1.0", "shadow-hit": "1.0"}


def test_hits_count_saved_tokens_in_metrics(tmp_path: Path, provider_port: int) -> None:
    write_directory(tmp_path, provider_port)
    port, admin = free_port(), free_port()
    gateway = start_gateway(tmp_path, port, None, admin)
    try:
        client = openai.OpenAI(base_url=f"http://127.0.0.1:{port}/chat", api_key="-")
        for _ in range(3):
            ask(client, "Say hello")
        metrics = httpx.get(f"http://127.0.0.1:{admin}/metrics").text
    finally:
        stop(gateway)
    saved = re.search(r"aigw_cache_saved_tokens_total\{[^}]*\} (\S+)", metrics)
    assert saved is not None and float(saved.group(1)) == 24.0  # two hits of 12 tokens
    # Each hit saved 5 prompt tokens at $1,000 and 7 completion tokens at $2,000 a million.
    dollars = re.search(r"aigw_cache_saved_cost_total\{[^}]*\} (\S+)", metrics)
    assert dollars is not None and float(dollars.group(1)) == pytest.approx(2 * 0.019)
    assert 'result="hit"' in metrics and 'result="miss"' in metrics


def test_the_builtin_embedder_matches_paraphrases_offline(
    tmp_path: Path, provider_port: int
) -> None:
    write_directory(tmp_path, provider_port, embedder="local", threshold="0.25")
    with serving(tmp_path, os.environ) as gateway:
        client = openai.OpenAI(base_url=f"{gateway}/chat", api_key="-", max_retries=0)
        first, _, _ = ask(client, "How do I reset my password?")
        again, state, _ = ask(client, "How can I reset my password?")
        assert (again, state) == (first, "hit")
        assert provider_calls(provider_port)["embeddings"] == 0  # all in the gateway


def test_two_gateways_share_one_redis_semantic_cache(tmp_path: Path, provider_port: int) -> None:
    require_redis()
    write_directory(tmp_path, provider_port, store=REDIS_URL)
    # Words of this run's own: the shared Redis may hold other runs' questions for a minute,
    # and one unknown word in a common sentence would still land within their threshold.
    letters = str.maketrans("0123456789", "ghijklmnop")  # digits would be numbers to the guard
    topic = " ".join(uuid.uuid4().hex[:10].translate(letters) for _ in range(12))
    question = f"Explain the {topic} topic in one sentence"
    reordered = f"In one sentence, explain the {topic} topic"
    with serving(tmp_path, os.environ) as first, serving(tmp_path, os.environ) as second:
        one = openai.OpenAI(base_url=f"{first}/chat", api_key="-", max_retries=0)
        two = openai.OpenAI(base_url=f"{second}/chat", api_key="-", max_retries=0)
        stored, _, _ = ask(one, question)
        served, state, _ = ask(two, reordered)  # not the exact text: found by its vector
    assert (served, state) == (stored, "hit")
    assert provider_calls(provider_port)["chat"] == 1


def test_conversations_longer_than_max_message_count_are_not_cached(
    tmp_path: Path, provider_port: int
) -> None:
    write_directory(tmp_path, provider_port, extra='max-message-count="2"')
    dialog = [
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "Hello"},
        {"role": "user", "content": "Name a fruit"},
    ]
    with serving(tmp_path, os.environ) as gateway:
        client = openai.OpenAI(base_url=f"{gateway}/chat", api_key="-", max_retries=0)
        for _ in range(2):
            raw = client.chat.completions.with_raw_response.create(model="m", messages=dialog)
            assert "x-aigw-cache" not in raw.headers
        short = [{"role": "system", "content": "Be brief"}, *dialog[1:]]  # system: not counted
        client.chat.completions.create(model="m", messages=short)
        raw = client.chat.completions.with_raw_response.create(model="m", messages=short)
        assert raw.headers["x-aigw-cache"] == "hit"
    assert provider_calls(provider_port)["chat"] == 3

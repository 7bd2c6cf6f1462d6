"""Streams through running gateways, read by the client libraries users have: complete when
their protocol says so, read as SSE allows them to be framed, and cached in their operation's
own shape (tests/fakes/streams.py frames them: CRLF, CR, comments, a body open after [DONE])."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest

from tests.proxy.processes import fake_provider, fake_service, free_port, serving

LOOKUP = """<llm-semantic-cache-lookup score-threshold="0.3" embeddings-backend-id="embed"
    embeddings-backend-auth="system-assigned" />"""
CACHED = f"""<policies><inbound><base />{LOOKUP}</inbound>
    <outbound><base /><llm-semantic-cache-store duration="60" /></outbound></policies>"""
# llm-token-limit asks the upstream for the stream's usage, hidden from a client that did not.
LIMITED = """<policies><inbound><base />
    <llm-token-limit counter-key="k" tokens-per-minute="100000" estimate-prompt-tokens="false"
        remaining-tokens-header-name="x-tokens-left" />
</inbound></policies>"""
# llm-content-safety screens the answer in windows; its last one once the stream is complete.
SCREENED = """<policies><inbound><base />
    <llm-content-safety backend-id="content-safety" enforce-on-completions="true" window-size="20">
        <categories output-type="FourSeverityLevels"><category name="Hate" threshold="4" /></categories>
    </llm-content-safety>
</inbound></policies>"""
LINGER = {"x-fake-linger": "1.5"}  # the body ends 1.5 s after [DONE]
# For the tests that tell "ended at [DONE]" from "ended with the body": a gap wide enough that
# a slow, shared machine does not blur the two.
LONG_LINGER = {"x-fake-linger": "8"}


@pytest.fixture
def provider_port() -> Iterator[int]:
    port = free_port()
    with fake_provider(port):
        yield port


@pytest.fixture
def gateway(tmp_path: Path, provider_port: int) -> Iterator[str]:
    provider, safety_port = f"http://127.0.0.1:{provider_port}", free_port()
    key = '{header: {Ocp-Apim-Subscription-Key: "k"}}'
    safety = f'{{url: "http://127.0.0.1:{safety_port}", credentials: {key}}}'
    (tmp_path / "gateway.yaml").write_text(
        f"""
backends:
  framed: {{url: "{provider}/framed/v1"}}
  embed: {{url: "{provider}/v1/embeddings"}}
  content-safety: {safety}
apis:
  chat: {{path: chat, style: openai, backend: framed, subscription-required: false}}
  limited: {{path: limited, style: openai, backend: framed, subscription-required: false}}
  screened: {{path: screened, style: openai, backend: framed, subscription-required: false}}
"""
    )
    (tmp_path / "apis").mkdir()
    for name, policy in (("chat", CACHED), ("limited", LIMITED), ("screened", SCREENED)):
        (tmp_path / "apis" / f"{name}.xml").write_text(policy)
    with (
        fake_service("tests.fakes.content_safety", safety_port),
        serving(tmp_path, os.environ) as url,
    ):
        yield url


def calls(port: int) -> dict[str, int]:
    return httpx.get(f"http://127.0.0.1:{port}/framed/-/calls").json()


def client(gateway: str, api: str = "chat", **headers: str) -> openai.OpenAI:
    return openai.OpenAI(
        base_url=f"{gateway}/{api}", api_key="-", max_retries=0, default_headers=headers
    )


def asked(gateway: str, text: str) -> tuple[str, str]:
    """A whole (not streamed) chat call: its answer and whether it was a cache hit."""
    raw = client(gateway).chat.completions.with_raw_response.create(
        model="gpt-4o", messages=[{"role": "user", "content": text}]
    )
    return raw.parse().choices[0].message.content or "", raw.headers.get("x-aigw-cache", "")


def stored_soon(gateway: str, text: str) -> tuple[str, str]:
    """`asked`, once the store after a stream had a moment (it runs as the client goes)."""
    time.sleep(0.5)
    return asked(gateway, text)


def test_a_stream_the_openai_sdk_closes_at_done_is_complete_and_cached(
    gateway: str, provider_port: int
) -> None:
    started = time.monotonic()
    stream = client(gateway, **LONG_LINGER).chat.completions.create(
        model="gpt-4o",
        messages=[{"role": "user", "content": "What is the capital of France?"}],
        stream=True,
    )
    text = "".join(chunk.choices[0].delta.content or "" for chunk in stream)
    assert text == "answer 1"
    assert time.monotonic() - started < 6  # the SDK went at [DONE], not at the body's end (8 s)
    # Complete by its protocol: kept, though the client left before the upstream's body ended.
    assert stored_soon(gateway, "The capital of France is what?") == (text, "hit")
    assert calls(provider_port)["chat"] == 1


def test_langchain_and_litellm_streams_are_cached(gateway: str, provider_port: int) -> None:
    from langchain_openai import ChatOpenAI

    chat = ChatOpenAI(
        model="gpt-4o", base_url=f"{gateway}/chat", api_key="-", default_headers=LINGER
    )
    pieces: Any = [chunk.content for chunk in chat.stream("Name a large green vegetable")]
    assert "".join(pieces) == "answer 1"
    assert stored_soon(gateway, "Name a large green vegetable") == ("answer 1", "hit")

    import litellm

    chunks = litellm.completion(
        model="openai/gpt-4o",
        api_base=f"{gateway}/chat",
        api_key="-",
        messages=[{"role": "user", "content": "Which river runs through Vienna?"}],
        extra_headers=LINGER,
        stream=True,
    )
    assert "".join(c.choices[0].delta.content or "" for c in chunks) == "answer 2"
    assert stored_soon(gateway, "Which river runs through Vienna?") == ("answer 2", "hit")
    assert calls(provider_port)["chat"] == 2


@pytest.mark.parametrize("eol", ["crlf", "cr"])
@pytest.mark.parametrize("fancy", ["0", "1"])
def test_the_usage_the_client_did_not_ask_for_stays_hidden_however_a_stream_is_framed(
    gateway: str, eol: str, fancy: str
) -> None:
    answer = "a long enough answer, in many pieces, streamed"
    headers = {"x-fake-eol": eol, "x-fake-fancy": fancy, "x-fake-answer": answer, **LINGER}
    stream = client(gateway, "limited", **headers).chat.completions.create(
        model="gpt-4o", messages=[{"role": "user", "content": "hi"}], stream=True
    )
    texts, times = [], []
    for chunk in stream:
        times.append(time.monotonic())
        texts.append(chunk.choices[0].delta.content or "")  # the SDK's own loop: no IndexError
    assert "".join(texts) == answer
    # Passed on as they came (the fake streams 12 pieces 0.05 s apart), not held to the end.
    assert times[-1] - times[0] > 0.3
    # Its usage, hidden from the client, was counted though the client left at [DONE]: the
    # stream's 8 tokens, and each whole call's own 8 (asked until the count has come).
    body = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}
    deadline, calls_made, left = time.monotonic() + 5, 0, 0
    while time.monotonic() < deadline and left != 100000 - 8 - 8 * calls_made:
        time.sleep(0.2)
        answer = httpx.post(f"{gateway}/limited/chat/completions", json=body)
        left, calls_made = int(answer.headers["x-tokens-left"]), calls_made + 1
    assert left == 100000 - 8 - 8 * calls_made


def test_the_usage_filter_passes_the_stream_as_framed(gateway: str) -> None:
    headers = {"x-fake-eol": "crlf", "x-fake-answer": "abcdefgh"}
    body = {"model": "m", "messages": [{"role": "user", "content": "hi"}], "stream": True}
    response = httpx.post(f"{gateway}/limited/chat/completions", json=body, headers=headers)
    assert response.content.endswith(b"data: [DONE]\r\n\r\n")
    assert b'"choices":[]' not in response.content and b"\n\n" not in response.content
    with_usage = {**body, "stream_options": {"include_usage": True}}
    response = httpx.post(f"{gateway}/limited/chat/completions", json=with_usage, headers=headers)
    assert b'"choices":[]' in response.content  # asked for: passed on


def test_streamed_legacy_completions_are_kept_and_replayed_as_text_completion(
    gateway: str, provider_port: int
) -> None:
    completions = client(gateway, **LINGER).completions
    prompt = "Say this is a legacy test"
    first = completions.create(model="gpt-3.5-turbo-instruct", prompt=prompt, stream=True)
    text = "".join(chunk.choices[0].text for chunk in first)
    assert text == "answer 1"
    time.sleep(0.3)
    raw = completions.with_raw_response.create(
        model="gpt-3.5-turbo-instruct", prompt=prompt, stream=True
    )
    assert raw.headers["x-aigw-cache"] == "hit"
    chunks = list(raw.parse())
    assert {chunk.object for chunk in chunks} == {"text_completion"}
    assert "".join(c.choices[0].text for c in chunks if c.choices) == text
    whole = completions.with_raw_response.create(model="gpt-3.5-turbo-instruct", prompt=prompt)
    assert whole.headers["x-aigw-cache"] == "hit"
    assert whole.parse().object == "text_completion" and whole.parse().choices[0].text == text
    assert calls(provider_port)["completions"] == 1
    # A chat call with the same words gets a chat answer of its own, never the legacy one.
    assert asked(gateway, prompt) == ("answer 1", "")
    assert calls(provider_port)["chat"] == 1


def test_a_screened_stream_ends_when_its_protocol_does(gateway: str) -> None:
    answer = "A calm and sunny day, with a light breeze from the west."
    headers = {"x-fake-answer": answer, "x-fake-eol": "crlf", **LONG_LINGER}
    started = time.monotonic()
    stream = client(gateway, "screened", **headers).chat.completions.create(
        model="gpt-4o", messages=[{"role": "user", "content": "The weather?"}], stream=True
    )
    assert "".join(c.choices[0].delta.content or "" for c in stream if c.choices) == answer
    # The last window was screened at [DONE], not when the upstream's body ended 8 s later.
    assert time.monotonic() - started < 6

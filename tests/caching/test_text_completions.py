"""Legacy completions (`/completions`) kept and replayed in their own shape, `text_completion`."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from openai.types import Completion

from gateway.caching.completions import (
    cacheable_completion,
    replay_json,
    replay_stream,
    style_of,
)
from gateway.common.sse import parse

USAGE = {"prompt_tokens": 5, "completion_tokens": 7, "total_tokens": 12}
TEXT_DOC: dict[str, Any] = {
    "id": "cmpl-1",
    "object": "text_completion",
    "created": 1741570283,
    "model": "gpt-3.5-turbo-instruct",
    "choices": [
        {
            "text": "\n\nThis is indeed a test of a legacy completion",
            "index": 0,
            "logprobs": None,
            "finish_reason": "length",
        }
    ],
    "usage": USAGE,
}


def chunk(text: str, finish: str | None = None, **extra: Any) -> bytes:
    choice = {"text": text, "index": 0, "logprobs": None, "finish_reason": finish}
    body = {
        "id": "cmpl-1",
        "object": "text_completion",
        "created": 1741570283,
        "model": "gpt-3.5-turbo-instruct",
        "choices": [choice],
        **extra,
    }
    return f"data: {json.dumps(body)}\r\n\r\n".encode()


STREAM = (
    chunk("\n\nThis is indeed")
    + chunk(" a test of a legacy completion")
    + chunk("", "length")
    + b'data: {"id":"cmpl-1","object":"text_completion","created":1741570283,'
    b'"model":"gpt-3.5-turbo-instruct","choices":[],"usage":'
    + json.dumps(USAGE).encode()
    + b"}\r\n\r\ndata: [DONE]\r\n\r\n"
)


def test_a_request_s_shape_is_its_operation_s() -> None:
    assert style_of("openai", {"prompt": "hi", "model": "m"}) == "text_completion"
    assert style_of("azure-openai", {"messages": []}) == "openai"
    assert style_of("anthropic", {"messages": []}) == "anthropic"


def test_a_streamed_legacy_completion_is_assembled_as_text_completion() -> None:
    assert cacheable_completion("text_completion", STREAM, streamed=True) == TEXT_DOC
    assert cacheable_completion("text_completion", json.dumps(TEXT_DOC).encode(), False) == (
        TEXT_DOC
    )


@pytest.mark.parametrize(
    "body",
    [
        STREAM.replace(b"data: [DONE]\r\n\r\n", b""),  # cut short
        chunk("", "stop") + b"data: [DONE]\n\n",  # empty
        chunk("x", "content_filter") + b"data: [DONE]\n\n",  # filtered
        chunk("x", "stop", logprobs=None).replace(b'"logprobs": null', b'"logprobs": {"a": 1}')
        + b"data: [DONE]\n\n",
    ],
)
def test_what_is_not_a_whole_legacy_completion_is_not_kept(body: bytes) -> None:
    assert cacheable_completion("text_completion", body, streamed=True) is None


def test_a_stream_of_one_operation_is_never_kept_as_another_s() -> None:
    chat = (
        b'data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"m",'
        b'"choices":[{"index":0,"delta":{"content":"hi"},"finish_reason":"stop"}]}\n\n'
        b"data: [DONE]\n\n"
    )
    assert cacheable_completion("text_completion", chat, streamed=True) is None
    assert cacheable_completion("openai", STREAM, streamed=True) is None  # was an empty chat answer
    assert cacheable_completion("openai", json.dumps(TEXT_DOC).encode(), streamed=False) is None


def test_replayed_as_the_openai_sdk_reads_legacy_completions() -> None:
    assert Completion.model_validate_json(replay_json("text_completion", TEXT_DOC)).choices[0].text
    before = copy.deepcopy(TEXT_DOC)
    events = parse(replay_stream("text_completion", TEXT_DOC, include_usage=True))
    assert events[-1].data == "[DONE]"
    chunks = [json.loads(event.data) for event in events[:-1]]  # as OpenAI streams: finish null
    assert {c["object"] for c in chunks} == {"text_completion"}
    text = "".join(c["choices"][0]["text"] for c in chunks if c["choices"])
    assert text == TEXT_DOC["choices"][0]["text"]
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"] == USAGE
    assert chunks[-2]["choices"][0]["finish_reason"] == "length"
    plain = parse(replay_stream("text_completion", TEXT_DOC, include_usage=False))
    assert all(json.loads(e.data)["choices"] for e in plain[:-1])
    assert before == TEXT_DOC  # a replay never changes what is stored

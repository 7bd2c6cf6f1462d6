"""Usage read from provider answers; prompt tokens counted offline."""

from __future__ import annotations

import json

import pytest

from gateway.tokens.tokenizer import count_text, encoding, encoding_for, prompt_tokens
from gateway.tokens.usage import MOST_TOKENS, InvalidUsage, Usage, from_response


def test_openai_chat_usage_with_cached_and_reasoning_details() -> None:
    body = {
        "usage": {
            "prompt_tokens": 120,
            "completion_tokens": 30,
            "total_tokens": 150,
            "prompt_tokens_details": {"cached_tokens": 100},
            "completion_tokens_details": {"reasoning_tokens": 12},
        }
    }
    usage = from_response(json.dumps(body).encode(), "application/json")
    assert usage == Usage(prompt=120, completion=30, cached_prompt=100, reasoning=12)
    assert usage.total == 150


def test_anthropic_usage_counts_cache_reads_and_writes_as_prompt() -> None:
    body = {
        "usage": {
            "input_tokens": 10,
            "output_tokens": 5,
            "cache_read_input_tokens": 100,
            "cache_creation_input_tokens": 20,
        }
    }
    usage = from_response(json.dumps(body).encode(), "application/json")
    assert usage == Usage(prompt=130, completion=5, cached_prompt=100, cache_write=20)


def test_openai_stream_usage_is_the_last_chunks() -> None:
    stream = (
        b'data: {"choices":[{"delta":{"content":"hi"}}],"usage":null}\n\n'
        b'data: {"choices":[],"usage":{"prompt_tokens":5,"completion_tokens":3,"total_tokens":8}}\n\n'
        b"data: [DONE]\n\n"
    )
    assert from_response(stream, "text/event-stream; charset=utf-8") == Usage(
        prompt=5, completion=3
    )


def test_anthropic_stream_usage_joins_start_and_delta() -> None:
    stream = (
        b'event: message_start\ndata: {"type":"message_start","message":{"usage":{"input_tokens":4,"output_tokens":1}}}\n\n'
        b'event: content_block_delta\ndata: {"type":"content_block_delta","delta":{"text":"x"}}\n\n'
        b'event: message_delta\ndata: {"type":"message_delta","usage":{"output_tokens":3}}\n\n'
    )
    assert from_response(stream, "text/event-stream") == Usage(prompt=4, completion=3)


def test_responses_api_usage() -> None:
    body = {"usage": {"input_tokens": 9, "output_tokens": 8, "total_tokens": 17}}
    assert from_response(json.dumps(body).encode(), "application/json") == Usage(9, 8)


@pytest.mark.parametrize(
    ("usage", "expected"),
    [
        # embeddings
        ({"prompt_tokens": 5, "total_tokens": 5}, Usage(5, 0)),
        # Responses, cached and reasoning details
        (
            {
                "input_tokens": 12,
                "input_tokens_details": {"cached_tokens": 4},
                "output_tokens": 9,
                "output_tokens_details": {"reasoning_tokens": 3},
                "total_tokens": 21,
            },
            Usage(12, 9, cached_prompt=4, reasoning=3),
        ),
        # gpt-image-1 images
        (
            {"input_tokens": 10, "input_tokens_details": {"text_tokens": 10}, "output_tokens": 20},
            Usage(10, 20),
        ),
        # a token-billed transcription
        (
            {"type": "tokens", "input_tokens": 7, "output_tokens": 5, "total_tokens": 12},
            Usage(7, 5),
        ),
    ],
)
def test_usage_of_every_operation_that_reports_it(usage: dict, expected: Usage) -> None:
    body = json.dumps({"usage": usage}).encode()
    assert from_response(body, "application/json") == expected


def test_a_transcription_billed_by_the_second_has_no_token_usage() -> None:
    body = json.dumps({"text": "hi", "usage": {"type": "duration", "seconds": 3}}).encode()
    assert from_response(body, "application/json") is None


LIES = [-1000000, "12", 1e30, 3.5, True, MOST_TOKENS + 1, [5], {"n": 5}]


@pytest.mark.parametrize("lie", LIES, ids=repr)
@pytest.mark.parametrize(
    "shape",
    [
        lambda n: {"usage": {"prompt_tokens": n, "completion_tokens": 1}},
        lambda n: {"usage": {"prompt_tokens": 1, "prompt_tokens_details": {"cached_tokens": n}}},
        lambda n: {"usage": {"input_tokens": 1, "output_tokens": n}},
        lambda n: {"usage": {"input_tokens": 1, "cache_read_input_tokens": n}},
        lambda n: {"response": {"usage": {"input_tokens": n, "output_tokens": 1}}},
    ],
    ids=["chat", "chat-details", "responses", "anthropic-cache", "responses-event"],
)
def test_a_lying_usage_figure_is_refused_not_counted(shape: object, lie: object) -> None:
    body = json.dumps(shape(lie)).encode()  # type: ignore[operator]
    with pytest.raises(InvalidUsage):
        from_response(body, "application/json")


def test_a_lying_figure_in_a_stream_is_refused_and_a_start_without_usage_is_no_report() -> None:
    start = {"type": "message_start", "message": {"usage": {"input_tokens": -5}}}
    stream = b"event: message_start\ndata: " + json.dumps(start).encode() + b"\n\n"
    with pytest.raises(InvalidUsage):
        from_response(stream, "text/event-stream")
    bare = {"type": "message_start", "message": {"id": "m"}}  # Anthropic always reports: not 0
    stream = b"event: message_start\ndata: " + json.dumps(bare).encode() + b"\n\n"
    assert from_response(stream, "text/event-stream") is None


def test_figures_left_out_or_null_are_zero() -> None:
    body = {"usage": {"prompt_tokens": 3, "completion_tokens": None, "prompt_tokens_details": None}}
    assert from_response(json.dumps(body).encode(), "application/json") == Usage(prompt=3)


def test_no_usage_is_none() -> None:
    assert from_response(b"not json", "application/json") is None
    assert from_response(b"{}", "application/json") is None


@pytest.mark.parametrize(
    ("model", "name"),
    [
        ("gpt-4o-mini", "o200k_base"),
        ("o3-mini", "o200k_base"),
        ("gpt-5", "o200k_base"),
        ("gpt-4-turbo", "cl100k_base"),
        ("gpt-35-turbo", "cl100k_base"),
        ("text-embedding-3-small", "cl100k_base"),
        ("claude-sonnet-4", None),
    ],
)
def test_models_map_to_openais_encodings(model: str, name: str | None) -> None:
    assert encoding_for(model) == name


def test_encodings_are_exact_and_offline() -> None:
    # Known o200k / cl100k ids (from OpenAI's published encodings): "hello world" is
    # [24912, 2375] and [15339, 1917].
    for name, ids in (("o200k_base", (24912, 2375)), ("cl100k_base", (15339, 1917))):
        loaded = encoding(name)
        assert [loaded.rank(b"hello"), loaded.rank(b" world")] == list(ids)
        assert loaded.count("hello world") == 2


def test_chat_prompt_follows_openais_counting() -> None:
    request = {"model": "gpt-4o", "messages": [{"role": "user", "content": "Say hello."}]}
    # 3 per message + "user" (1) + "Say hello." (3) + 3 to prime the reply
    assert prompt_tokens(request) == 10


def test_other_models_are_estimated_at_four_characters_a_token() -> None:
    assert count_text("x" * 400, "claude-sonnet-4") == 100
    request = {
        "model": "claude-x",
        "messages": [{"role": "user", "content": [{"type": "image", "source": {}}]}],
    }
    assert prompt_tokens(request) == 3 + 1 + 1200 + 3


def test_cost_prices_each_kind_of_token_exactly() -> None:
    from decimal import Decimal

    from gateway.config.settings import PriceRow
    from gateway.tokens.prices import PriceTable

    table = PriceTable()
    mini = table.find("openai", "gpt-4o-mini-2024-07-18")  # the longest prefix wins
    assert mini is not None and mini.model == "gpt-4o-mini"
    usage = Usage(prompt=1000, completion=500, cached_prompt=200, reasoning=100)
    # 800 fresh x 0.15 + 200 cached x 0.075 + 500 output x 0.60, per million
    assert mini.cost(usage) == Decimal("0.000435")
    sonnet = table.find("anthropic", "claude-sonnet-4-20250514")
    assert sonnet is not None
    written = Usage(prompt=1100, completion=10, cached_prompt=0, cache_write=1000)
    assert sonnet.cost(written) == Decimal("0.0042")  # 100 x 3 + 1000 x 3.75 + 10 x 15
    assert table.find("openai", "unknown-model") is None
    own = PriceTable(
        (
            PriceRow(
                provider="openai", model="gpt-4o-mini", input=1, output=2, date="2026-12-01"
            ).price(),
        )
    )
    override = own.find("openai", "gpt-4o-mini")
    assert override is not None and override.cost(Usage(prompt=1_000_000)) == Decimal(1)
    # The most a call can cost (reserve-and-settle): each kind at its dearest rate.
    assert sonnet.ceiling(1000, 100) == Decimal("0.00525")  # 1000 x 3.75 + 100 x 15
    assert mini.ceiling(1000, 100) == Decimal("0.00021")  # 1000 x 0.15 + 100 x 0.60

"""OpenAI's Responses API for an Anthropic backend: the request by way of chat, the answer and
its stream back as Responses, each checked against the openai SDK's own types."""

from __future__ import annotations

import json
from typing import Any

import pydantic
import pytest
from openai.types.responses import Response, ResponseStreamEvent

from gateway.providers.common import TranslationError
from gateway.providers.from_anthropic import messages_response_to_chat
from gateway.providers.responses import chat_response_to_response, responses_request_to_chat
from gateway.providers.responses_stream import MessagesStreamToResponses
from tests.providers.samples import (
    ANTHROPIC_CALLS,
    ANTHROPIC_MESSAGE,
    ANTHROPIC_TEXT_PIECES,
    SEEDS,
    anthropic_events,
    anthropic_sse,
    pieces,
    sse_blocks,
)

EVENT = pydantic.TypeAdapter(ResponseStreamEvent)
REQUEST = {"model": "claude-sonnet-4", "input": "Weather in Paris?", "max_output_tokens": 300}


def test_a_responses_request_is_the_chat_request_it_means() -> None:
    chat = responses_request_to_chat(
        {
            "model": "m",
            "instructions": "Be brief.",
            "input": [
                {"role": "developer", "content": "Answer in French."},
                {"role": "user", "content": [{"type": "input_text", "text": "Weather?"}]},
                {"type": "reasoning", "id": "rs_1", "summary": []},
                {"type": "function_call", "call_id": "c1", "name": "w", "arguments": "{}"},
                {"type": "function_call", "call_id": "c2", "name": "t", "arguments": "{}"},
                {"type": "function_call_output", "call_id": "c1", "output": "Sunny"},
            ],
            "tools": [{"type": "function", "name": "w", "parameters": {"type": "object"}}],
            "tool_choice": {"type": "function", "name": "w"},
            "text": {"format": {"type": "json_schema", "name": "n", "schema": {}}},
            "max_output_tokens": 9,
            "store": True,
        }
    )
    assert chat["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "system", "content": "Answer in French."},
        {"role": "user", "content": [{"type": "text", "text": "Weather?"}]},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {"id": "c1", "type": "function", "function": {"name": "w", "arguments": "{}"}},
                {"id": "c2", "type": "function", "function": {"name": "t", "arguments": "{}"}},
            ],
        },
        {"role": "tool", "tool_call_id": "c1", "content": "Sunny"},
    ]
    assert chat["tools"] == [
        {"type": "function", "function": {"name": "w", "parameters": {"type": "object"}}}
    ]
    assert chat["tool_choice"] == {"type": "function", "function": {"name": "w"}}
    assert chat["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": "n", "schema": {}},
    }
    assert chat["max_completion_tokens"] == 9 and "store" not in chat


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("previous_response_id", "resp_1"),
        ("conversation", "conv_1"),
        ("background", True),
        ("tools", [{"type": "web_search"}]),
        ("input", [{"type": "item_reference", "id": "msg_1"}]),
        ("input", [{"role": "user", "content": [{"type": "input_image", "file_id": "f"}]}]),
        ("input", 7),
    ],
)
def test_what_needs_openais_state_or_tools_is_refused(field: str, value: Any) -> None:
    with pytest.raises(TranslationError):
        responses_request_to_chat({"model": "m", "input": "hi", field: value})


def test_an_anthropic_message_reads_as_a_response() -> None:
    chat = messages_response_to_chat(ANTHROPIC_MESSAGE)
    answer = Response.model_validate(chat_response_to_response(chat, REQUEST))
    assert answer.output_text == "".join(ANTHROPIC_TEXT_PIECES)
    calls = [item for item in answer.output if item.type == "function_call"]
    assert [(c.call_id, c.name, json.loads(c.arguments)) for c in calls] == [
        (i, n, a) for i, n, a in ANTHROPIC_CALLS
    ]
    assert answer.status == "completed" and answer.max_output_tokens == 300
    assert answer.usage is not None
    assert (answer.usage.input_tokens, answer.usage.output_tokens) == (472 + 1024 + 2048, 89)
    assert answer.usage.input_tokens_details.cached_tokens == 2048


def test_a_message_cut_at_the_token_limit_is_an_incomplete_response() -> None:
    chat = messages_response_to_chat({**ANTHROPIC_MESSAGE, "stop_reason": "max_tokens"})
    answer = Response.model_validate(chat_response_to_response(chat, REQUEST))
    assert answer.status == "incomplete"
    assert answer.incomplete_details is not None
    assert answer.incomplete_details.reason == "max_output_tokens"


def events_of(out: bytes) -> list[Any]:
    events = []
    for block in sse_blocks(out):
        assert block[0].startswith("event: ") and block[1].startswith("data: ")
        event = json.loads(block[1].removeprefix("data: "))
        assert event["type"] == block[0].removeprefix("event: ")
        events.append(event if event["type"] == "error" else EVENT.validate_python(event))
    return events


@pytest.mark.parametrize("seed", SEEDS)
def test_an_anthropic_stream_reads_as_the_responses_events(seed: int) -> None:
    translator = MessagesStreamToResponses(REQUEST)
    stream = anthropic_sse(anthropic_events(thinking=True))
    out = b"".join(translator.feed(p) for p in pieces(stream, seed)) + translator.close()
    events = events_of(out)
    assert [e.sequence_number for e in events] == list(range(len(events)))
    kinds = [e.type for e in events]
    assert kinds[:3] == ["response.created", "response.in_progress", "response.output_item.added"]
    assert kinds[-1] == "response.completed"
    text = "".join(e.delta for e in events if e.type == "response.output_text.delta")
    assert text == "".join(ANTHROPIC_TEXT_PIECES)
    final = events[-1].response
    assert final.output_text == text and final.status == "completed"
    calls = [item for item in final.output if item.type == "function_call"]
    assert [(c.call_id, json.loads(c.arguments)) for c in calls] == [
        (i, a) for i, _, a in ANTHROPIC_CALLS
    ]
    added = [e.output_index for e in events if e.type == "response.output_item.added"]
    done = [e.output_index for e in events if e.type == "response.output_item.done"]
    assert added == done == [0, 1, 2]
    assert final.usage is not None and final.usage.output_tokens == 89


def test_a_stream_cut_short_ends_with_an_error_event() -> None:
    translator = MessagesStreamToResponses(REQUEST)
    out = translator.feed(anthropic_sse(anthropic_events(stop=False))) + translator.close()
    events = events_of(out)
    assert events[-1]["type"] == "error" and "ended before" in events[-1]["message"]
    assert "response.completed" not in [getattr(e, "type", None) for e in events]

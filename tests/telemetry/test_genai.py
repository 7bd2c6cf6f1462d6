"""What a model's response says of itself in GenAI terms, whole or streamed, in each API."""

from __future__ import annotations

import json

from gateway.telemetry.genai import response_facts


def stream(*events: dict | str) -> bytes:
    return b"".join(
        f"data: {e if isinstance(e, str) else json.dumps(e)}\n\n".encode() for e in events
    )


def test_an_openai_chat_completion() -> None:
    body = {
        "id": "chatcmpl-1",
        "model": "gpt-4o-2024-08-06",
        "choices": [{"finish_reason": "stop"}, {"finish_reason": "length"}],
    }
    facts = response_facts(json.dumps(body).encode(), "application/json")
    assert (facts.id, facts.model, facts.finish_reasons) == (
        "chatcmpl-1",
        "gpt-4o-2024-08-06",
        ["stop", "length"],
    )


def test_an_openai_chat_stream() -> None:
    body = stream(
        {
            "id": "c-2",
            "model": "gpt-4o",
            "choices": [{"delta": {"content": "Hi"}, "finish_reason": None}],
        },
        {"id": "c-2", "model": "gpt-4o", "choices": [{"delta": {}, "finish_reason": "tool_calls"}]},
        {"id": "c-2", "model": "gpt-4o", "choices": [], "usage": {"prompt_tokens": 1}},
        "[DONE]",
    )
    facts = response_facts(body, "text/event-stream; charset=utf-8")
    assert (facts.id, facts.model, facts.finish_reasons) == ("c-2", "gpt-4o", ["tool_calls"])


def test_an_anthropic_message_whole_and_streamed() -> None:
    whole = {"id": "msg_1", "model": "claude-sonnet-4", "stop_reason": "end_turn"}
    facts = response_facts(json.dumps(whole).encode(), "application/json")
    assert (facts.id, facts.model, facts.finish_reasons) == (
        "msg_1",
        "claude-sonnet-4",
        ["end_turn"],
    )
    body = stream(
        {"type": "message_start", "message": {"id": "msg_2", "model": "claude-sonnet-4"}},
        {"type": "content_block_delta", "delta": {"type": "text_delta", "text": "Hi"}},
        {"type": "message_delta", "delta": {"stop_reason": "max_tokens"}},
        {"type": "message_stop"},
    )
    facts = response_facts(body, "text/event-stream")
    assert (facts.id, facts.model, facts.finish_reasons) == (
        "msg_2",
        "claude-sonnet-4",
        ["max_tokens"],
    )


def test_a_responses_api_response_and_stream() -> None:
    whole = {"id": "resp_1", "object": "response", "model": "gpt-4.1", "status": "incomplete"}
    facts = response_facts(json.dumps(whole).encode(), "application/json")
    assert (facts.id, facts.finish_reasons) == ("resp_1", ["incomplete"])
    body = stream(
        {
            "type": "response.created",
            "response": {"id": "resp_2", "object": "response", "status": "in_progress"},
        },
        {
            "type": "response.completed",
            "response": {"id": "resp_2", "object": "response", "status": "completed"},
        },
    )
    facts = response_facts(body, "text/event-stream")
    assert (facts.id, facts.finish_reasons) == ("resp_2", ["completed"])


def test_a_body_that_is_not_json_says_nothing() -> None:
    facts = response_facts(b"<html>", "text/html")
    assert (facts.id, facts.model, facts.finish_reasons) == (None, None, [])

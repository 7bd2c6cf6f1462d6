"""A realtime session's usage: the sum of its `response.done` events' usage."""

from __future__ import annotations

import json

from gateway.tokens.realtime import SessionUsage
from gateway.tokens.usage import Usage


def done(prompt: int, cached: int, completion: int) -> str:
    usage = {
        "total_tokens": prompt + completion,
        "input_tokens": prompt,
        "output_tokens": completion,
        "input_token_details": {"cached_tokens": cached, "audio_tokens": 0},
        "output_token_details": {"text_tokens": completion, "audio_tokens": 0},
    }
    return json.dumps({"type": "response.done", "response": {"id": "r", "usage": usage}})


def test_responses_are_summed_under_the_sessions_model() -> None:
    usage = SessionUsage("asked-model")
    usage.feed(json.dumps({"type": "session.created", "session": {"model": "gpt-realtime"}}))
    usage.feed(done(10, 4, 5))
    usage.feed(b'{"type": "response.output_audio.delta", "delta": "AAAA"}')
    usage.feed(done(20, 8, 7).encode())

    assert usage.total() == Usage(prompt=30, completion=12, cached_prompt=12, model="gpt-realtime")


def test_a_session_without_a_reported_usage_has_none() -> None:
    usage = SessionUsage("m")
    usage.feed('{"type": "response.done", "response": {"status": "cancelled"}}')
    usage.feed('not json "response.done"')
    usage.feed(b"\xff\xfe")

    assert usage.total() is None


def test_the_handshakes_model_stands_when_the_session_names_none() -> None:
    usage = SessionUsage("gpt-4o-realtime-preview")
    usage.feed(done(3, 0, 2))

    assert usage.total() == Usage(prompt=3, completion=2, model="gpt-4o-realtime-preview")

"""A logged completion's text, from each operation's JSON answer and from its stream (the
caches' assembly), and the size cap on a record's prompt and completion."""

from __future__ import annotations

import json

from gateway.caching.completions import replay_stream
from gateway.config.loggers import LlmMessages
from gateway.config.secrets import ConfigValue
from gateway.telemetry.llm_messages import LlmMessageLog, capped, completion_text
from gateway.telemetry.loggers import LoggerQueue
from gateway.telemetry.sinks import FileSink

CHAT = {
    "id": "chatcmpl-1",
    "object": "chat.completion",
    "created": 1700000000,
    "model": "m",
    "choices": [
        {"index": 0, "message": {"role": "assistant", "content": "Paris."}, "finish_reason": "stop"}
    ],
    "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5},
}
TEXT = {
    "id": "cmpl-1",
    "object": "text_completion",
    "created": 1700000000,
    "model": "m",
    "choices": [{"index": 0, "text": "Paris.", "finish_reason": "stop", "logprobs": None}],
}
ANTHROPIC = {
    "id": "msg_1",
    "type": "message",
    "role": "assistant",
    "model": "claude",
    "content": [{"type": "text", "text": "Par"}, {"type": "text", "text": "is."}],
    "stop_reason": "end_turn",
    "stop_sequence": None,
    "usage": {"input_tokens": 3, "output_tokens": 2},
}
RESPONSE = {
    "id": "resp_1",
    "object": "response",
    "created_at": 1700000000,
    "status": "completed",
    "model": "m",
    "output": [
        {
            "type": "message",
            "id": "msg_1",
            "status": "completed",
            "role": "assistant",
            "content": [{"type": "output_text", "text": "Paris.", "annotations": []}],
        }
    ],
    "usage": {"input_tokens": 3, "output_tokens": 2, "total_tokens": 5},
}
DOCS = {"openai": CHAT, "text_completion": TEXT, "anthropic": ANTHROPIC, "responses": RESPONSE}


def test_each_operations_answer_and_stream_give_the_same_text() -> None:
    for style, doc in DOCS.items():
        assert completion_text(style, json.dumps(doc).encode(), streamed=False) == "Paris."
        stream = replay_stream(style, doc, include_usage=True)
        assert completion_text(style, stream, streamed=True) == "Paris.", style


def test_no_text_for_an_error_a_cut_stream_or_garbage() -> None:
    error = json.dumps({"error": {"message": "nope"}}).encode()
    assert completion_text("openai", error, streamed=False) is None
    whole = replay_stream("openai", CHAT, include_usage=False)
    assert completion_text("openai", whole.removesuffix(b"data: [DONE]\n\n"), True) is None
    assert completion_text("anthropic", b"not json", streamed=False) is None
    assert completion_text("responses", b"data: {\n\n", streamed=True) is None


def test_max_bytes_cuts_prompt_and_completion_at_whole_characters() -> None:
    assert capped("ab", 5) == ("ab", False)
    assert capped("aéééé", 5) == ("aéé", True)  # 1 + 2 + 2 bytes; the next é would pass 5
    assert capped([{"a": 1}], 5) == ('[{"a"', True)
    assert capped({"a": 1}, 32768) == ({"a": 1}, False)
    assert capped(None, 1) == (None, False)  # no completion text: null, never cut


def test_sampling_zero_never_and_one_always() -> None:
    queue = LoggerQueue("f", FileSink(ConfigValue("/dev/null")), 1, None)
    never = LlmMessageLog(LlmMessages(logger="f", sampling=0.0), queue)
    always = LlmMessageLog(LlmMessages(logger="f", sampling=1.0), queue)
    assert not any(never.sampled() for _ in range(1000))
    assert all(always.sampled() for _ in range(1000))

"""Responses API answers kept and replayed in their own shape, `response`, whole or streamed."""

from __future__ import annotations

import copy
import json
import random
from typing import Any

import pytest
from openai.types.responses import Response, ResponseStreamEvent
from pydantic import TypeAdapter

from gateway.caching.completions import (
    cacheable_completion,
    replay_json,
    replay_stream,
    style_of,
)
from gateway.caching.responses_api import fresh
from gateway.common.sse import SSEParser, parse

USAGE = {
    "input_tokens": 12,
    "input_tokens_details": {"cached_tokens": 4, "cache_write_tokens": 0},
    "output_tokens": 9,
    "output_tokens_details": {"reasoning_tokens": 3},
    "total_tokens": 21,
}
TEXT = "Paris is the capital of France, and has been for a long time."
REASONING = {"type": "reasoning", "id": "rs_1", "summary": []}
MESSAGE = {
    "type": "message",
    "id": "msg_1",
    "status": "completed",
    "role": "assistant",
    "content": [{"type": "output_text", "text": TEXT, "annotations": [], "logprobs": []}],
}
DOC: dict[str, Any] = {
    "id": "resp_1",
    "object": "response",
    "created_at": 1741570283,
    "status": "completed",
    "error": None,
    "incomplete_details": None,
    "instructions": None,
    "model": "gpt-4o",
    "output": [REASONING, MESSAGE],
    "parallel_tool_calls": True,
    "tool_choice": "auto",
    "tools": [],
    "usage": USAGE,
    "metadata": {},
}
EVENTS = TypeAdapter(ResponseStreamEvent)


def events_of(doc: dict[str, Any], eol: str = "\n") -> bytes:
    """`doc` as OpenAI streams it: the text in pieces of 5 characters."""
    sent: list[dict[str, Any]] = []
    opening = {**doc, "status": "in_progress", "output": [], "usage": None}
    sent += [{"type": "response.created", "response": opening}]
    for index, item in enumerate(doc["output"]):
        sent.append({"type": "response.output_item.added", "output_index": index, "item": item})
        for number, part in enumerate(item.get("content") or []):
            where = {"item_id": item["id"], "output_index": index, "content_index": number}
            text = part.get("text", "")
            sent += [
                {"type": "response.output_text.delta", **where, "delta": text[i : i + 5]}
                for i in range(0, len(text), 5)
            ]
        sent.append({"type": "response.output_item.done", "output_index": index, "item": item})
    sent.append({"type": "response.completed", "response": doc})
    lines = [f"event: {e['type']}{eol}data: {json.dumps(e)}{eol}{eol}" for e in sent]
    return "".join(lines).encode()


def test_a_responses_call_has_its_own_shape() -> None:
    assert style_of("openai", {"input": "hi"}, "Responses_Create") == "responses"
    assert style_of("azure-openai", {"input": "hi"}, "Responses_Create") == "responses"
    assert style_of("openai", {"messages": []}, "ChatCompletions_Create") == "openai"


def test_a_whole_response_is_kept_as_it_came_and_replayed_as_json() -> None:
    kept = cacheable_completion("responses", json.dumps(DOC).encode(), streamed=False)
    assert kept == DOC
    assert Response.model_validate(json.loads(replay_json("responses", DOC))).output_text == TEXT


@pytest.mark.parametrize("eol", ["\n", "\r\n"])
def test_a_streamed_response_is_kept_whole_from_its_completed_event(eol: str) -> None:
    assert cacheable_completion("responses", events_of(DOC, eol), streamed=True) == DOC


def test_a_stream_read_in_any_chunking_gives_the_same_events() -> None:
    body = events_of(DOC, "\r\n")
    rng = random.Random(13)
    for _ in range(20):
        parser, read, at = SSEParser(), [], 0
        while at < len(body):
            step = rng.randint(1, 40)
            read += parser.feed(body[at : at + step])
            at += step
        read += parser.close()
        assert [e.data for e in read] == [e.data for e in parse(body)]
        raw = b"".join(e.raw for e in read)
        assert cacheable_completion("responses", raw, streamed=True) == DOC


def test_a_completed_event_without_output_takes_the_items_the_stream_gave() -> None:
    stream = events_of(DOC)
    completed = json.dumps({"type": "response.completed", "response": {**DOC, "output": []}})
    cut = stream.rindex(b"event: response.completed")
    lean = stream[:cut] + f"event: response.completed\ndata: {completed}\n\n".encode()
    assert cacheable_completion("responses", lean, streamed=True) == DOC


def test_the_replayed_stream_is_what_the_sdk_reads_and_assembles_to_the_same_response() -> None:
    body = replay_stream("responses", DOC, include_usage=False)
    events = [json.loads(e.data) for e in parse(body)]
    kinds = [e["type"] for e in events]
    assert kinds[:2] == ["response.created", "response.in_progress"]
    assert kinds[-1] == "response.completed" and events[-1]["response"]["usage"] == USAGE
    assert [e["sequence_number"] for e in events] == list(range(len(events)))
    for expected in (
        "response.content_part.added",
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
    ):
        assert expected in kinds
    for event in events:
        EVENTS.validate_python(event)
    assert "".join(e["delta"] for e in events if e["type"] == "response.output_text.delta") == TEXT
    assert cacheable_completion("responses", body, streamed=True) == DOC


def test_a_replay_is_the_requests_own_response() -> None:
    served = fresh(DOC, {"metadata": {"trace": "b"}})
    assert served["id"] != DOC["id"] and served["id"].startswith("resp_")
    assert [i["id"] for i in served["output"]] != [i["id"] for i in DOC["output"]]
    assert served["metadata"] == {"trace": "b"} and served["store"] is False
    assert served["output"][1]["content"] == MESSAGE["content"]


def _changed(path: str, value: Any) -> dict[str, Any]:
    doc = copy.deepcopy(DOC)
    *parents, last = path.split(".")
    target: Any = doc
    for key in parents:
        target = target[int(key)] if key.isdigit() else target[key]
    target[int(last) if last.isdigit() else last] = value
    return doc


CALL = {"type": "function_call", "id": "fc_1", "call_id": "c", "name": "f", "arguments": "{}"}


@pytest.mark.parametrize(
    "doc",
    [
        _changed("status", "incomplete"),
        _changed("output.1.status", "incomplete"),
        _changed("output", [MESSAGE, CALL]),
        _changed("output", [REASONING]),  # no text
        _changed("output.0.summary", [{"type": "summary_text", "text": "thought"}]),
        _changed("output.0.encrypted_content", "opaque"),
        _changed("output.1.content.0.annotations", [{"type": "url_citation"}]),
        _changed("output.1.content.0", {"type": "refusal", "refusal": "no"}),
        _changed("output.1.content.0.text", ""),
        _changed("output", [{**MESSAGE, "type": "web_search_call"}]),
        _changed("object", "chat.completion"),
        _changed("error", {"message": "boom"}),
    ],
)
def test_what_a_replay_could_not_reproduce_is_never_kept(doc: dict[str, Any]) -> None:
    assert cacheable_completion("responses", json.dumps(doc).encode(), streamed=False) is None
    assert cacheable_completion("responses", events_of(doc), streamed=True) is None


def test_a_stream_that_failed_or_never_completed_is_never_kept() -> None:
    stream = events_of(DOC)
    cut = stream.rindex(b"event: response.completed")
    assert cacheable_completion("responses", stream[:cut], streamed=True) is None
    failed = stream[:cut].replace(b"response.output_item.done", b"error", 1) + stream[cut:]
    assert cacheable_completion("responses", failed, streamed=True) is None
    lying = stream.replace(b'"delta": "Paris"', b'"delta": "Rome!"')
    assert cacheable_completion("responses", lying, streamed=True) is None
    chat = b'data: {"object":"chat.completion.chunk","choices":[]}\n\ndata: [DONE]\n\n'
    assert cacheable_completion("responses", chat, streamed=True) is None

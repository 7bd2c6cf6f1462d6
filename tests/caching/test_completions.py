"""Cacheable completions: built from provider bodies, refused when unsafe, replayed as JSON / SSE.

Replays are checked against the official SDKs' own types and stream parsers, because a replay is
only as good as what real clients accept.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import anthropic
import httpx2
import openai
import pydantic
import pytest
from anthropic.types import Message, RawMessageStreamEvent
from openai.lib.streaming.chat import ChatCompletionStreamState
from openai.types.chat import ChatCompletion, ChatCompletionChunk

from gateway.caching.completions import cacheable_completion, replay_json, replay_stream

# --- realistic provider bodies ----------------------------------------------------------------

CREATED = 1741570283
OPENAI_TEXT = (
    "Hello! I'm doing well, thank you for asking. How can I help you with your project today?"
)
OPENAI_USAGE = {
    "prompt_tokens": 19,
    "completion_tokens": 22,
    "total_tokens": 41,
    "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
    "completion_tokens_details": {
        "reasoning_tokens": 0,
        "audio_tokens": 0,
        "accepted_prediction_tokens": 0,
        "rejected_prediction_tokens": 0,
    },
}

OPENAI_DOC: dict[str, Any] = {
    "id": "chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG",
    "object": "chat.completion",
    "created": CREATED,
    "model": "gpt-4o-2024-08-06",
    "choices": [
        {
            "index": 0,
            "message": {
                "role": "assistant",
                "content": OPENAI_TEXT,
                "refusal": None,
                "annotations": [],
            },
            "logprobs": None,
            "finish_reason": "stop",
        }
    ],
    "usage": OPENAI_USAGE,
    "service_tier": "default",
    "system_fingerprint": "fp_fc9f1d7035",
}


def openai_chunk(
    choices: list[dict[str, Any]], include_usage: bool, **extra: Any
) -> dict[str, Any]:
    chunk = {
        "id": "chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG",
        "object": "chat.completion.chunk",
        "created": CREATED,
        "model": "gpt-4o-2024-08-06",
        "service_tier": "default",
        "system_fingerprint": "fp_fc9f1d7035",
        "choices": choices,
    }
    if include_usage:
        chunk["usage"] = None
    chunk["obfuscation"] = "xK3b"  # OpenAI pads chunks with a random field; it must be ignored
    return {**chunk, **extra}


def openai_delta(
    delta: dict[str, Any], finish: str | None = None, index: int = 0
) -> dict[str, Any]:
    return {"index": index, "delta": delta, "logprobs": None, "finish_reason": finish}


def sse(events: list[Any], done: bool = True) -> bytes:
    """An OpenAI SSE body: one `data:` event per chunk, then `data: [DONE]`."""
    out = "".join(f"data: {json.dumps(e)}\n\n" for e in events)
    return (out + ("data: [DONE]\n\n" if done else "")).encode()


def openai_text_stream(
    include_usage: bool, done: bool = True, finish: str | None = "stop"
) -> bytes:
    pieces = ["Hello", "!", " I'm", " doing", " well", ",", " thank", " you", " for", " asking", ".",
              " How", " can", " I", " help", " you", " with", " your", " project", " today", "?"]  # fmt: skip
    assert "".join(pieces) == OPENAI_TEXT
    chunks = [
        openai_chunk(
            [openai_delta({"role": "assistant", "content": "", "refusal": None})], include_usage
        )
    ]
    chunks += [openai_chunk([openai_delta({"content": p})], include_usage) for p in pieces]
    chunks.append(openai_chunk([openai_delta({}, finish)], include_usage))
    if include_usage:
        chunks.append(openai_chunk([], False, usage=OPENAI_USAGE))
    return sse(chunks, done)


def openai_tool_stream(include_usage: bool) -> bytes:
    """Two parallel tool calls whose arguments arrive in pieces, as OpenAI streams them."""

    def call(index: int, **fields: Any) -> dict[str, Any]:
        return openai_chunk(
            [openai_delta({"tool_calls": [{"index": index, **fields}]})], include_usage
        )

    chunks = [
        openai_chunk(
            [
                openai_delta(
                    {
                        "role": "assistant",
                        "content": None,
                        "tool_calls": [
                            {
                                "index": 0,
                                "id": "call_DdmO9pD3xa9XTPNJ32zg2hcA",
                                "type": "function",
                                "function": {"name": "get_weather", "arguments": ""},
                            }
                        ],
                        "refusal": None,
                    }
                )
            ],
            include_usage,
        ),
        call(0, function={"arguments": '{"lo'}),
        call(0, function={"arguments": 'cation": "Par'}),
        call(0, function={"arguments": 'is, France"}'}),
        call(1, id="call_ABC123", type="function", function={"name": "get_time", "arguments": ""}),
        call(1, function={"arguments": '{"timezone":'}),
        call(1, function={"arguments": ' "Europe/Paris"}'}),
        openai_chunk([openai_delta({}, "tool_calls")], include_usage),
    ]
    if include_usage:
        chunks.append(openai_chunk([], False, usage=OPENAI_USAGE))
    return sse(chunks)


OPENAI_TOOL_CALLS = [
    {
        "id": "call_DdmO9pD3xa9XTPNJ32zg2hcA",
        "type": "function",
        "function": {"name": "get_weather", "arguments": '{"location": "Paris, France"}'},
    },
    {
        "id": "call_ABC123",
        "type": "function",
        "function": {"name": "get_time", "arguments": '{"timezone": "Europe/Paris"}'},
    },
]

ANTHROPIC_USAGE_START = {
    "input_tokens": 472,
    "cache_creation_input_tokens": 1024,
    "cache_read_input_tokens": 2048,
    "cache_creation": {"ephemeral_5m_input_tokens": 1024, "ephemeral_1h_input_tokens": 0},
    "output_tokens": 2,
    "service_tier": "standard",
}
ANTHROPIC_TEXT = "Okay, let's check the weather for San Francisco, CA:"
ANTHROPIC_MESSAGE: dict[str, Any] = {
    "id": "msg_014p7gG3wDgGV9EUtLvnow3U",
    "type": "message",
    "role": "assistant",
    "model": "claude-sonnet-4-5-20250929",
    "content": [
        {"type": "text", "text": ANTHROPIC_TEXT},
        {
            "type": "tool_use",
            "id": "toolu_01T1x1fJ34qAmk2tNTrN7Up6",
            "name": "get_weather",
            "input": {"location": "San Francisco, CA", "unit": "fahrenheit"},
        },
    ],
    "stop_reason": "tool_use",
    "stop_sequence": None,
    "usage": {**ANTHROPIC_USAGE_START, "output_tokens": 89},
}


def anthropic_sse(events: list[dict[str, Any]]) -> bytes:
    return "".join(f"event: {e['type']}\ndata: {json.dumps(e)}\n\n" for e in events).encode()


def anthropic_events(stop_reason: str = "tool_use", stop: bool = True) -> list[dict[str, Any]]:
    start = {
        "id": "msg_014p7gG3wDgGV9EUtLvnow3U",
        "type": "message",
        "role": "assistant",
        "model": "claude-sonnet-4-5-20250929",
        "stop_sequence": None,
        "usage": ANTHROPIC_USAGE_START,
        "content": [],
        "stop_reason": None,
    }
    text = [
        "Okay",
        ",",
        " let",
        "'s",
        " check",
        " the",
        " weather",
        " for",
        " San",
        " Francisco",
        ",",
        " CA",
        ":",
    ]
    json_pieces = ["", '{"location":', ' "San Fra', 'ncisco, CA"', ', "unit": "fah', 'renheit"}']
    events = [
        {"type": "message_start", "message": start},
        {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
        {"type": "ping"},
        *(
            {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": t}}
            for t in text
        ),
        {"type": "content_block_stop", "index": 0},
        {
            "type": "content_block_start",
            "index": 1,
            "content_block": {
                "type": "tool_use",
                "id": "toolu_01T1x1fJ34qAmk2tNTrN7Up6",
                "name": "get_weather",
                "input": {},
            },
        },
        *(
            {
                "type": "content_block_delta",
                "index": 1,
                "delta": {"type": "input_json_delta", "partial_json": p},
            }
            for p in json_pieces
        ),
        {"type": "content_block_stop", "index": 1},
        {
            "type": "message_delta",
            "delta": {"stop_reason": stop_reason, "stop_sequence": None},
            "usage": {"output_tokens": 89},
        },
    ]
    if stop:
        events.append({"type": "message_stop"})
    return events


# --- accepted answers -------------------------------------------------------------------------


def expected_openai(include_usage: bool) -> dict[str, Any]:
    doc = copy.deepcopy(OPENAI_DOC)
    doc["choices"][0]["message"] = {"role": "assistant", "content": OPENAI_TEXT, "refusal": None}
    if not include_usage:
        del doc["usage"]
    return doc


def test_openai_json_is_kept_as_the_provider_wrote_it():
    assert (
        cacheable_completion("openai", json.dumps(OPENAI_DOC).encode(), streamed=False)
        == OPENAI_DOC
    )


@pytest.mark.parametrize("include_usage", [False, True])
def test_openai_stream_assembles_the_chat_completion(include_usage):
    answer = cacheable_completion("openai", openai_text_stream(include_usage), streamed=True)
    assert answer == expected_openai(include_usage)
    assert list(answer)[:5] == ["id", "object", "created", "model", "choices"]
    ChatCompletion.model_validate(answer)


@pytest.mark.parametrize("include_usage", [False, True])
def test_openai_stream_assembles_tool_calls_split_across_chunks(include_usage):
    answer = cacheable_completion("openai", openai_tool_stream(include_usage), streamed=True)
    assert answer is not None
    (choice,) = answer["choices"]
    assert choice["finish_reason"] == "tool_calls"
    assert choice["message"] == {
        "role": "assistant",
        "content": None,
        "refusal": None,
        "tool_calls": OPENAI_TOOL_CALLS,
    }
    assert ("usage" in answer) is include_usage
    ChatCompletion.model_validate(answer)


def test_openai_stream_with_several_choices():
    chunks = [
        openai_chunk(
            [openai_delta({"role": "assistant", "content": ""}, index=i) for i in (0, 1)], False
        ),
        openai_chunk([openai_delta({"content": "Blue"}, index=1)], False),
        openai_chunk([openai_delta({"content": "Red"}, index=0)], False),
        openai_chunk([openai_delta({}, "stop", index=1)], False),
        openai_chunk([openai_delta({}, "length", index=0)], False),
    ]
    answer = cacheable_completion("openai", sse(chunks), streamed=True)
    assert [
        (c["index"], c["message"]["content"], c["finish_reason"]) for c in answer["choices"]
    ] == [
        (0, "Red", "length"),
        (1, "Blue", "stop"),
    ]


def test_azure_stream_with_prompt_filter_chunk_and_filter_results():
    """Azure opens with a chunk of empty id/model and sends content_filter_results per choice."""
    first = {
        "choices": [],
        "created": 0,
        "id": "",
        "model": "",
        "object": "",
        "prompt_filter_results": [
            {
                "prompt_index": 0,
                "content_filter_results": {"hate": {"filtered": False, "severity": "safe"}},
            }
        ],
    }
    safe = {"hate": {"filtered": False, "severity": "safe"}}
    chunks = [first] + [
        {
            **openai_chunk([{**openai_delta(d, f), "content_filter_results": safe}], False),
            "system_fingerprint": None,
        }
        for d, f in [
            ({"role": "assistant", "content": ""}, None),
            ({"content": "Hi there"}, None),
            ({}, "stop"),
        ]
    ]
    answer = cacheable_completion("openai", sse(chunks), streamed=True)
    assert answer["id"] == "chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG"
    assert answer["model"] == "gpt-4o-2024-08-06"
    assert answer["created"] == CREATED
    assert answer["choices"][0]["message"]["content"] == "Hi there"
    ChatCompletion.model_validate(answer)


def test_sse_parsing_is_robust_to_framing():
    """CRLF and bare CR line ends, comments, BOM, a JSON document over several data lines."""
    body = openai_text_stream(True).decode()
    crlf = "\ufeff: keep-alive\r\n\r\n" + body.replace("\n", "\r\n")
    cr = body.replace("\n", "\r")
    multi = body.replace('{"id"', '{\ndata: "id"').replace(
        ': "chat.completion.chunk"', ':\ndata: "chat.completion.chunk"'
    )
    assert multi.count("\ndata: ") > body.count("\ndata: ")
    expected = expected_openai(True)
    for variant in (crlf, cr, multi, body.replace("\n\ndata", "\n\n: ping\n\ndata")):
        assert cacheable_completion("openai", variant.encode(), streamed=True) == expected
    # The stream has ended: a final event without its blank line still counts if its line ended,
    assert cacheable_completion("openai", body.encode()[:-1], streamed=True) == expected
    # but a last line without its line end may have been cut, so [DONE] is not seen.
    assert cacheable_completion("openai", body.encode()[:-2], streamed=True) is None


def test_anthropic_json_is_kept_as_the_provider_wrote_it():
    assert (
        cacheable_completion("anthropic", json.dumps(ANTHROPIC_MESSAGE).encode(), streamed=False)
        == ANTHROPIC_MESSAGE
    )


def test_anthropic_stream_assembles_the_message_with_merged_usage():
    answer = cacheable_completion("anthropic", anthropic_sse(anthropic_events()), streamed=True)
    assert answer == ANTHROPIC_MESSAGE
    assert answer["usage"]["cache_read_input_tokens"] == 2048
    assert answer["usage"]["output_tokens"] == 89
    Message.model_validate(answer)


def test_anthropic_stream_takes_cumulative_counts_from_message_delta():
    events = anthropic_events()
    events[-2]["usage"] = {
        "input_tokens": 472,
        "cache_creation_input_tokens": None,
        "output_tokens": 91,
    }
    answer = cacheable_completion(
        "anthropic", anthropic_sse(events).replace(b"\n", b"\r\n"), streamed=True
    )
    assert answer["usage"] == {**ANTHROPIC_USAGE_START, "output_tokens": 91}


def test_anthropic_stream_with_thinking_and_a_tool_without_arguments():
    events = anthropic_events()
    thinking = [
        {
            "type": "content_block_start",
            "index": 0,
            "content_block": {"type": "thinking", "thinking": "", "signature": ""},
        },
        {
            "type": "content_block_delta",
            "index": 0,
            "delta": {"type": "thinking_delta", "thinking": "The user wants "},
        },
        {
            "type": "content_block_delta",
            "index": 0,
            "delta": {"type": "thinking_delta", "thinking": "the weather."},
        },
        {
            "type": "content_block_delta",
            "index": 0,
            "delta": {"type": "signature_delta", "signature": "EqQBCgIYAhIM1gbcDa9GJwZA2b3h"},
        },
        {"type": "content_block_stop", "index": 0},
    ]
    tool = [
        {
            "type": "content_block_start",
            "index": 1,
            "content_block": {"type": "tool_use", "id": "toolu_1", "name": "now", "input": {}},
        },
        {"type": "content_block_stop", "index": 1},
    ]
    answer = cacheable_completion(
        "anthropic", anthropic_sse([events[0], *thinking, *tool, *events[-2:]]), streamed=True
    )
    assert answer["content"] == [
        {
            "type": "thinking",
            "thinking": "The user wants the weather.",
            "signature": "EqQBCgIYAhIM1gbcDa9GJwZA2b3h",
        },
        {"type": "tool_use", "id": "toolu_1", "name": "now", "input": {}},
    ]
    assert replayed_round_trip("anthropic", answer) == answer


# --- refused answers --------------------------------------------------------------------------


def openai_doc_with(**choice_changes: Any) -> bytes:
    doc = copy.deepcopy(OPENAI_DOC)
    for key, value in choice_changes.items():
        if key == "message":
            doc["choices"][0]["message"].update(value)
        else:
            doc["choices"][0][key] = value
    return json.dumps(doc).encode()


OPENAI_ERROR = {
    "error": {
        "message": "Rate limit reached",
        "type": "requests",
        "param": None,
        "code": "rate_limit_exceeded",
    }
}


@pytest.mark.parametrize(
    "body",
    [
        openai_doc_with(finish_reason="content_filter"),
        openai_doc_with(finish_reason=None),
        openai_doc_with(message={"content": None, "refusal": "I'm sorry, I can't help with that."}),
        openai_doc_with(logprobs={"content": [], "refusal": None}),
        openai_doc_with(message={"audio": {"id": "audio_1", "data": "UklGR", "transcript": "Hi"}}),
        json.dumps({**OPENAI_DOC, "choices": []}).encode(),
        json.dumps({**OPENAI_DOC, "object": "chat.completion.chunk"}).encode(),
        json.dumps(OPENAI_ERROR).encode(),
        json.dumps([OPENAI_DOC]).encode(),
        b"<html>502 Bad Gateway</html>",
        b"",
        b"\xff\xfe",
        openai_text_stream(False),  # a stream is not a JSON document
    ],
    ids=[
        "content_filter",
        "no_finish",
        "refusal",
        "logprobs",
        "audio",
        "no_choices",
        "chunk",
        "error",
        "list",
        "html",
        "empty",
        "binary",
        "sse",
    ],
)
def test_openai_json_refused(body):
    assert cacheable_completion("openai", body, streamed=False) is None


def refusal_stream() -> bytes:
    deltas = [
        {"role": "assistant", "content": None, "refusal": ""},
        {"refusal": "I'm sorry, "},
        {"refusal": "I can't help with that."},
    ]
    chunks = [openai_chunk([openai_delta(d)], False) for d in deltas]
    return sse([*chunks, openai_chunk([openai_delta({}, "stop")], False)])


@pytest.mark.parametrize(
    "body",
    [
        openai_text_stream(True, done=False),
        openai_text_stream(False, finish="content_filter"),
        openai_text_stream(False, finish=None),  # cut short: [DONE] came but no finish_reason
        openai_text_stream(True)
        .replace(b'"finish_reason": "stop"', b'"finish_reason": null')
        .replace(b"data: [DONE]\n\n", b""),
        refusal_stream(),
        openai_text_stream(False).replace(
            b"data: [DONE]", b"data: " + json.dumps(OPENAI_ERROR).encode() + b"\n\ndata: [DONE]"
        ),
        openai_text_stream(False).replace(
            b"data: [DONE]", b'event: error\ndata: {"message": "overloaded"}\n\ndata: [DONE]'
        ),
        sse(
            [openai_chunk([openai_delta({"role": "assistant", "content": "Hi"})], False)] * 2
            + [openai_chunk([{**openai_delta({}, "stop"), "logprobs": {"content": []}}], False)]
        ),
        sse(
            [
                openai_chunk(
                    [openai_delta({"content": "Hi", "reasoning_content": "hmm"}, "stop")], False
                )
            ]
        ),
        openai_text_stream(False).replace(b'"content": "Hello"', b'"content": "Hel'),
        sse([]),
        json.dumps(OPENAI_DOC).encode(),  # a JSON document is not a stream
        b"",
    ],
    ids=[
        "no_done",
        "content_filter",
        "no_finish",
        "cut_short",
        "refusal",
        "error_chunk",
        "error_event",
        "logprobs",
        "unknown_delta",
        "bad_json",
        "only_done",
        "json",
        "empty",
    ],
)
def test_openai_stream_refused(body):
    assert cacheable_completion("openai", body, streamed=True) is None


@pytest.mark.parametrize(
    "change",
    [
        {"stop_reason": "refusal"},
        {"stop_reason": "pause_turn"},
        {"stop_reason": None},
        {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}},
        {
            "content": [
                {
                    "type": "text",
                    "text": "See",
                    "citations": [{"type": "char_location", "cited_text": "x"}],
                }
            ]
        },
        {
            "content": [
                {"type": "server_tool_use", "id": "srvtoolu_1", "name": "web_search", "input": {}}
            ]
        },
    ],
    ids=["refusal", "pause_turn", "no_stop_reason", "error", "citations", "server_tool"],
)
def test_anthropic_json_refused(change):
    assert (
        cacheable_completion(
            "anthropic", json.dumps({**ANTHROPIC_MESSAGE, **change}).encode(), streamed=False
        )
        is None
    )


def test_anthropic_error_body_refused():
    error = {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
    assert cacheable_completion("anthropic", json.dumps(error).encode(), streamed=False) is None
    assert cacheable_completion("anthropic", b"not json", streamed=False) is None


def _without(
    events: list[dict[str, Any]], kind: str, index: int | None = None
) -> list[dict[str, Any]]:
    return [e for e in events if not (e["type"] == kind and index in (None, e.get("index")))]


@pytest.mark.parametrize(
    "events",
    [
        anthropic_events(stop=False),
        anthropic_events(stop_reason="refusal"),
        [
            *anthropic_events()[:-2],
            {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}},
        ],
        _without(anthropic_events(), "message_start"),
        _without(anthropic_events(), "message_delta"),
        _without(anthropic_events(), "content_block_stop", 1),
        _without(anthropic_events(), "content_block_start", 1),
        [
            e
            if e.get("delta", {}).get("partial_json") != 'renheit"}'
            else {**e, "delta": {"type": "input_json_delta", "partial_json": "renh"}}
            for e in anthropic_events()
        ],
        [
            *anthropic_events()[:2],
            {
                "type": "content_block_delta",
                "index": 0,
                "delta": {"type": "citations_delta", "citation": {}},
            },
            *anthropic_events()[2:],
        ],
        [
            e
            if e["type"] != "content_block_start" or e["index"]
            else {
                **e,
                "content_block": {
                    "type": "web_search_tool_result",
                    "tool_use_id": "s",
                    "content": [],
                },
            }
            for e in anthropic_events()
        ],
    ],
    ids=[
        "no_message_stop",
        "refusal",
        "error_event",
        "no_start",
        "no_delta",
        "block_not_stopped",
        "block_not_started",
        "bad_tool_json",
        "citations",
        "server_tool_result",
    ],
)
def test_anthropic_stream_refused(events):
    assert cacheable_completion("anthropic", anthropic_sse(events), streamed=True) is None


def test_anthropic_stream_cut_in_the_middle_refused():
    body = anthropic_sse(anthropic_events())
    for cut in (len(body) // 3, len(body) // 2, len(body) - 40):
        assert cacheable_completion("anthropic", body[:cut], streamed=True) is None


def test_error_event_name_alone_refuses_anthropic():
    body = anthropic_sse(anthropic_events()).replace(b"event: ping", b"event: error")
    assert cacheable_completion("anthropic", body, streamed=True) is None


def test_unknown_style_is_a_programming_error():
    with pytest.raises(ValueError):
        cacheable_completion("gemini", b"{}", streamed=False)
    with pytest.raises(ValueError):
        replay_stream("gemini", {}, include_usage=False)


# --- replays ----------------------------------------------------------------------------------


def sse_events(body: bytes) -> list[tuple[str | None, str]]:
    """Split one of our replays (always LF-framed) into (event, data) pairs, strictly."""
    assert body.endswith(b"\n\n")
    events = []
    for block in body.decode().split("\n\n")[:-1]:
        fields = dict(line.split(": ", 1) for line in block.split("\n"))
        assert set(fields) <= {"event", "data"}
        events.append((fields.get("event"), fields["data"]))
    return events


def replayed_round_trip(
    style: str, answer: dict[str, Any], include_usage: bool = True
) -> dict[str, Any] | None:
    return cacheable_completion(style, replay_stream(style, answer, include_usage), streamed=True)


def all_openai_answers() -> list[dict[str, Any]]:
    return [
        cacheable_completion("openai", openai_text_stream(True), streamed=True),
        cacheable_completion("openai", openai_text_stream(False), streamed=True),
        cacheable_completion("openai", openai_tool_stream(True), streamed=True),
        cacheable_completion("openai", openai_tool_stream(False), streamed=True),
    ]


@pytest.mark.parametrize("include_usage", [False, True])
@pytest.mark.parametrize(
    "body",
    [
        openai_text_stream(True),
        openai_text_stream(False),
        openai_tool_stream(True),
        openai_tool_stream(False),
    ],
    ids=["text_usage", "text", "tools_usage", "tools"],
)
def test_openai_stream_round_trip(body, include_usage):
    answer = cacheable_completion("openai", body, streamed=True)
    again = replayed_round_trip("openai", answer, include_usage)
    if include_usage or "usage" not in answer:
        assert again == answer
    else:  # the client did not ask for usage, so the replay cannot carry it
        assert again == {k: v for k, v in answer.items() if k != "usage"}


def test_anthropic_stream_round_trip():
    answer = cacheable_completion("anthropic", anthropic_sse(anthropic_events()), streamed=True)
    for include_usage in (False, True):
        assert replayed_round_trip("anthropic", answer, include_usage) == answer


def test_json_answers_replay_as_streams():
    """A non-streamed miss serves a streamed hit: the stream carries the same answer."""
    answer = cacheable_completion("openai", json.dumps(OPENAI_DOC).encode(), streamed=False)
    again = replayed_round_trip("openai", answer)
    assert again == expected_openai(True)
    assert replayed_round_trip("anthropic", ANTHROPIC_MESSAGE) == ANTHROPIC_MESSAGE


def test_replay_json_is_compact_and_keeps_ids():
    body = replay_json("openai", OPENAI_DOC)
    assert body.startswith(
        b'{"id":"chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG","object":"chat.completion",'
    )
    assert b'"content":"Hello! I' in body  # no spaces after separators
    assert json.loads(body) == OPENAI_DOC
    unicode = {**ANTHROPIC_MESSAGE, "content": [{"type": "text", "text": "Grüße 👋"}]}
    assert "Grüße 👋".encode() in replay_json("anthropic", unicode)


def test_openai_replayed_chunks_are_shaped_as_openai_sends_them():
    answer = cacheable_completion("openai", openai_text_stream(True), streamed=True)
    events = sse_events(replay_stream("openai", answer, include_usage=True))
    assert events[-1] == (None, "[DONE]")
    chunks = [json.loads(data) for _, data in events[:-1]]
    assert all(
        c["object"] == "chat.completion.chunk"
        and c["id"] == answer["id"]
        and c["created"] == CREATED
        for c in chunks
    )
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    pieces = [c["choices"][0]["delta"]["content"] for c in chunks[1:-2]]
    assert len(pieces) > 3 and all(0 < len(p) <= 20 for p in pieces)
    assert "".join(pieces) == OPENAI_TEXT
    assert chunks[-2]["choices"] == [
        {"index": 0, "delta": {}, "logprobs": None, "finish_reason": "stop"}
    ]
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"] == OPENAI_USAGE
    assert all("usage" in c and c["usage"] is None for c in chunks[:-1])
    for chunk in chunks:
        ChatCompletionChunk.model_validate(chunk)

    without = [
        json.loads(d)
        for _, d in sse_events(replay_stream("openai", answer, include_usage=False))[:-1]
    ]
    assert all("usage" not in c and c["choices"] for c in without)


def test_openai_replayed_tool_calls_are_one_delta_each():
    answer = cacheable_completion("openai", openai_tool_stream(False), streamed=True)
    chunks = [
        json.loads(d)
        for _, d in sse_events(replay_stream("openai", answer, include_usage=False))[:-1]
    ]
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": None}
    calls = [
        c["choices"][0]["delta"]["tool_calls"][0]
        for c in chunks
        if "tool_calls" in c["choices"][0]["delta"]
    ]
    assert calls == [{"index": n, **call} for n, call in enumerate(OPENAI_TOOL_CALLS)]
    for chunk in chunks:
        ChatCompletionChunk.model_validate(chunk)


def test_openai_function_call_answers_replay():
    doc = json.loads(
        openai_doc_with(
            finish_reason="function_call",
            message={"content": None, "function_call": {"name": "f", "arguments": '{"a": 1}'}},
        )
    )
    answer = cacheable_completion("openai", json.dumps(doc).encode(), streamed=False)
    assert answer == doc
    again = replayed_round_trip("openai", answer)
    assert again["choices"][0]["message"]["function_call"] == {"name": "f", "arguments": '{"a": 1}'}
    assert again["choices"][0]["message"]["content"] is None
    for _, data in sse_events(replay_stream("openai", answer, include_usage=False))[:-1]:
        ChatCompletionChunk.model_validate(json.loads(data))


def test_openai_replays_validate_with_the_sdk_types():
    for answer in [*all_openai_answers(), OPENAI_DOC]:
        completion = ChatCompletion.model_validate(json.loads(replay_json("openai", answer)))
        assert completion.id == answer["id"]
        for include_usage in (False, True):
            for _, data in sse_events(replay_stream("openai", answer, include_usage))[:-1]:
                ChatCompletionChunk.model_validate(json.loads(data))


def test_anthropic_replayed_events_are_shaped_as_anthropic_sends_them():
    events = sse_events(replay_stream("anthropic", ANTHROPIC_MESSAGE, include_usage=False))
    adapter = pydantic.TypeAdapter(RawMessageStreamEvent)
    for name, data in events:
        event = json.loads(data)
        assert name == event["type"]
        adapter.validate_python(event)
    kinds = [name for name, _ in events]
    assert kinds[0] == "message_start" and kinds[-2:] == ["message_delta", "message_stop"]
    start = json.loads(events[0][1])["message"]
    assert start["content"] == [] and start["stop_reason"] is None
    assert start["usage"] == {**ANTHROPIC_USAGE_START, "output_tokens": 1}
    texts = [
        json.loads(d)["delta"]["text"]
        for n, d in events
        if n == "content_block_delta" and '"text_delta"' in d
    ]
    assert len(texts) > 1 and all(len(t) <= 20 for t in texts) and "".join(texts) == ANTHROPIC_TEXT
    delta = json.loads(events[-2][1])
    assert delta["delta"] == {"stop_reason": "tool_use", "stop_sequence": None}
    assert delta["usage"] == {"output_tokens": 89}
    Message.model_validate(json.loads(replay_json("anthropic", ANTHROPIC_MESSAGE)))


# --- the SDKs' own stream parsers, over an in-memory transport (no network) -------------------


def sdk_http_client(body: bytes, content_type: str) -> httpx2.Client:
    def handler(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(200, headers={"content-type": content_type}, content=body)

    return httpx2.Client(transport=httpx2.MockTransport(handler))


@pytest.mark.parametrize("include_usage", [False, True])
@pytest.mark.parametrize("which", [0, 2], ids=["text", "tools"])
def test_openai_sdk_reads_the_replayed_stream(which, include_usage):
    answer = all_openai_answers()[which]
    body = replay_stream("openai", answer, include_usage)
    client = openai.OpenAI(
        api_key="sk-test",
        base_url="http://gateway.test/v1",
        max_retries=0,
        http_client=sdk_http_client(body, "text/event-stream"),
    )
    stream = client.chat.completions.create(
        model=answer["model"], messages=[{"role": "user", "content": "hi"}], stream=True
    )
    state = ChatCompletionStreamState()
    text = ""
    for chunk in stream:
        assert isinstance(chunk, ChatCompletionChunk)
        state.handle_chunk(chunk)
        text += "".join(c.delta.content or "" for c in chunk.choices)
    final = state.get_final_completion()
    message = answer["choices"][0]["message"]
    assert text == (message["content"] or "")
    assert final.id == answer["id"]
    assert final.choices[0].finish_reason == answer["choices"][0]["finish_reason"]
    assert (final.choices[0].message.content or "") == (message["content"] or "")
    got_calls = [
        (c.id, c.function.name, c.function.arguments)
        for c in final.choices[0].message.tool_calls or []
    ]
    assert got_calls == [
        (c["id"], c["function"]["name"], c["function"]["arguments"])
        for c in message.get("tool_calls", [])
    ]
    if include_usage and "usage" in answer:
        assert final.usage.total_tokens == answer["usage"]["total_tokens"]


def test_openai_sdk_reads_the_replayed_json():
    body = replay_json("openai", OPENAI_DOC)
    client = openai.OpenAI(
        api_key="sk-test",
        base_url="http://gateway.test/v1",
        max_retries=0,
        http_client=sdk_http_client(body, "application/json"),
    )
    completion = client.chat.completions.create(
        model="gpt-4o", messages=[{"role": "user", "content": "hi"}]
    )
    assert completion.choices[0].message.content == OPENAI_TEXT


def test_anthropic_sdk_reads_the_replayed_stream():
    body = replay_stream("anthropic", ANTHROPIC_MESSAGE, include_usage=False)
    client = anthropic.Anthropic(
        api_key="sk-ant-test",
        base_url="http://gateway.test",
        max_retries=0,
        http_client=sdk_http_client(body, "text/event-stream"),
    )
    with client.messages.stream(
        model=ANTHROPIC_MESSAGE["model"],
        max_tokens=1024,
        messages=[{"role": "user", "content": "hi"}],
    ) as stream:
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
    assert text == ANTHROPIC_TEXT
    got = final.model_dump(exclude_none=True)
    assert got["content"] == ANTHROPIC_MESSAGE["content"]
    assert got["stop_reason"] == "tool_use"
    assert got["usage"]["output_tokens"] == 89
    assert got["usage"]["cache_read_input_tokens"] == 2048


@pytest.mark.parametrize("style", ["openai", "anthropic"])  # text_completion: its own tests
def test_replays_do_not_change_the_stored_answer(style):
    answer = copy.deepcopy(OPENAI_DOC if style == "openai" else ANTHROPIC_MESSAGE)
    before = copy.deepcopy(answer)
    replay_json(style, answer)
    replay_stream(style, answer, include_usage=True)
    assert answer == before

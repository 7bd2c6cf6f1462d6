"""OpenAI Chat Completions <-> Anthropic Messages: requests, answers, streams and errors.

Everything translated is checked against the official SDKs: their request and response types,
their stream event types, and their own clients reading the output over an in-memory transport,
because a translation is only as good as what real clients and servers accept.
"""

from __future__ import annotations

import copy
import json
import time
from typing import Any

import anthropic
import httpx2
import openai
import pytest
from anthropic.types import Message
from anthropic.types.shared import ErrorResponse
from openai.lib.streaming.chat import ChatCompletionStreamState
from openai.types.chat import ChatCompletion

from gateway.caching.completions import cacheable_completion
from gateway.providers.translate import (
    ChatStreamToMessages,
    MessagesStreamToChat,
    TranslationError,
    chat_request_to_messages,
    chat_response_to_messages,
    error_to_chat,
    error_to_messages,
    messages_request_to_chat,
    messages_response_to_chat,
    stream_include_usage,
)
from tests.providers.samples import (
    ANTHROPIC_CALLS,
    ANTHROPIC_JSON_PIECES,
    ANTHROPIC_MESSAGE,
    ANTHROPIC_STREAM,
    ANTHROPIC_TEXT_PIECES,
    OPENAI_CALLS,
    OPENAI_COMPLETION,
    OPENAI_STREAM,
    OPENAI_TEXT_PIECES,
    PNG,
    SEEDS,
    anthropic_client,
    anthropic_events,
    anthropic_sse,
    assert_anthropic_request,
    assert_openai_request,
    canned,
    chat_chunks,
    final_completion,
    message_events,
    openai_chunk,
    openai_chunks,
    openai_client,
    openai_delta,
    openai_sse,
    run,
    sse_blocks,
)

# --- requests: OpenAI client -> Anthropic backend ----------------------------------------------

WEATHER_SCHEMA = {
    "type": "object",
    "properties": {"location": {"type": "string"}, "unit": {"type": "string"}},
    "required": ["location"],
}
TIME_SCHEMA = {"type": "object", "properties": {"timezone": {"type": "string"}}}
OPENAI_TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Current weather",
            "parameters": WEATHER_SCHEMA,
            "strict": False,
        },
    },
    {"type": "function", "function": {"name": "get_time", "parameters": TIME_SCHEMA}},
]
ANTHROPIC_TOOLS = [
    {"name": "get_weather", "description": "Current weather", "input_schema": WEATHER_SCHEMA},
    {"name": "get_time", "input_schema": TIME_SCHEMA},
]


def openai_request() -> dict[str, Any]:
    return {
        "model": "claude-sonnet-4-5",
        "messages": [
            {"role": "system", "content": "You are a weather assistant."},
            {"role": "developer", "content": [{"type": "text", "text": "Answer briefly."}]},
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "What is in these pictures?"},
                    {
                        "type": "image_url",
                        "image_url": {"url": f"data:image/png;base64,{PNG}", "detail": "high"},
                    },
                    {"type": "image_url", "image_url": {"url": "https://example.com/cat.jpg"}},
                ],
            },
            {"role": "assistant", "content": "A cat and a tiny image."},
            {"role": "user", "content": "Weather and time in Paris?", "name": "ann"},
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": "call_1",
                        "type": "function",
                        "function": {"name": "get_weather", "arguments": '{"location": "Paris"}'},
                    },
                    {
                        "id": "call_2",
                        "type": "function",
                        "function": {
                            "name": "get_time",
                            "arguments": '{"timezone":"Europe/Paris"}',
                        },
                    },
                ],
            },
            {"role": "tool", "tool_call_id": "call_1", "content": "18°C, sunny"},
            {
                "role": "tool",
                "tool_call_id": "call_2",
                "content": [{"type": "text", "text": "14:05"}],
            },
            {"role": "user", "content": "Thanks! Anything else?"},
        ],
        "tools": OPENAI_TOOLS,
        "tool_choice": "required",
        "parallel_tool_calls": False,
        "stop": "END",
        "temperature": 1.7,
        "top_p": 0.9,
        "user": "user-123",
        "stream": True,
        "stream_options": {"include_usage": True},
        # No Anthropic equivalent: all dropped.
        "n": 1,
        "seed": 7,
        "logprobs": True,
        "top_logprobs": 2,
        "frequency_penalty": 0.5,
        "presence_penalty": 0.1,
        "logit_bias": {"50256": -100},
        "response_format": {"type": "json_object"},
        "store": True,
        "metadata": {"team": "weather"},
        "reasoning_effort": "low",
        "service_tier": "auto",
    }


def test_chat_request_becomes_a_messages_request():
    assert chat_request_to_messages(openai_request()) == {
        "model": "claude-sonnet-4-5",
        "system": "You are a weather assistant.\n\nAnswer briefly.",
        "messages": [
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "What is in these pictures?"},
                    {
                        "type": "image",
                        "source": {"type": "base64", "media_type": "image/png", "data": PNG},
                    },
                    {
                        "type": "image",
                        "source": {"type": "url", "url": "https://example.com/cat.jpg"},
                    },
                ],
            },
            {"role": "assistant", "content": "A cat and a tiny image."},
            {"role": "user", "content": "Weather and time in Paris?"},
            {
                "role": "assistant",
                "content": [
                    {
                        "type": "tool_use",
                        "id": "call_1",
                        "name": "get_weather",
                        "input": {"location": "Paris"},
                    },
                    {
                        "type": "tool_use",
                        "id": "call_2",
                        "name": "get_time",
                        "input": {"timezone": "Europe/Paris"},
                    },
                ],
            },
            {  # both tool results and the next user text: one user turn, results first
                "role": "user",
                "content": [
                    {"type": "tool_result", "tool_use_id": "call_1", "content": "18°C, sunny"},
                    {
                        "type": "tool_result",
                        "tool_use_id": "call_2",
                        "content": [{"type": "text", "text": "14:05"}],
                    },
                    {"type": "text", "text": "Thanks! Anything else?"},
                ],
            },
        ],
        "max_tokens": 4096,
        "temperature": 1.0,
        "top_p": 0.9,
        "stop_sequences": ["END"],
        "stream": True,
        "metadata": {"user_id": "user-123"},
        "tools": ANTHROPIC_TOOLS,
        "tool_choice": {"type": "any", "disable_parallel_tool_use": True},
    }
    assert_anthropic_request(chat_request_to_messages(openai_request()))
    assert stream_include_usage(openai_request())


@pytest.mark.parametrize(
    ("choice", "parallel", "expected"),
    [
        ("auto", None, {"type": "auto"}),
        ("none", None, {"type": "none"}),
        ("none", False, {"type": "none"}),  # Anthropic's none takes no parallel flag
        ("required", None, {"type": "any"}),
        (
            {"type": "function", "function": {"name": "get_time"}},
            None,
            {"type": "tool", "name": "get_time"},
        ),
        (
            {"type": "function", "function": {"name": "get_time"}},
            False,
            {"type": "tool", "name": "get_time", "disable_parallel_tool_use": True},
        ),
        (None, False, {"type": "auto", "disable_parallel_tool_use": True}),
        (None, True, None),
        (None, None, None),
    ],
)
def test_tool_choice_to_messages(choice, parallel, expected):
    body = {"model": "m", "messages": [{"role": "user", "content": "hi"}], "tools": OPENAI_TOOLS}
    if choice is not None:
        body["tool_choice"] = choice
    if parallel is not None:
        body["parallel_tool_calls"] = parallel
    out = chat_request_to_messages(body)
    assert out.get("tool_choice") == expected
    assert_anthropic_request(out)


def test_tool_choice_without_tools_is_dropped():
    body = {"model": "m", "messages": [{"role": "user", "content": "hi"}], "tool_choice": "none"}
    assert "tool_choice" not in chat_request_to_messages(body)


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ({}, 4096),
        ({"max_tokens": 300}, 300),
        ({"max_completion_tokens": 500}, 500),
        ({"max_completion_tokens": 500, "max_tokens": 300}, 500),  # the current name wins
    ],
)
def test_max_tokens_to_messages(extra, expected):
    body = {"model": "m", "messages": [{"role": "user", "content": "hi"}], **extra}
    assert chat_request_to_messages(body)["max_tokens"] == expected
    assert chat_request_to_messages(body, default_max_tokens=99)["max_tokens"] == extra.get(
        "max_completion_tokens", extra.get("max_tokens", 99)
    )


@pytest.mark.parametrize(("given", "sent"), [(0, 0), (0.3, 0.3), (1.0, 1.0), (1.5, 1.0), (2, 1.0)])
def test_temperature_is_clamped_to_anthropics_range(given, sent):
    body = {"model": "m", "messages": [{"role": "user", "content": "hi"}], "temperature": given}
    assert chat_request_to_messages(body)["temperature"] == sent


def test_sampling_can_be_left_out_for_models_that_reject_it():
    """A backend's `translation.sampling: drop`, in both directions."""
    body = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}
    out = chat_request_to_messages({**body, "temperature": 0.2, "top_p": 0.5}, sampling=False)
    assert "temperature" not in out and "top_p" not in out
    body = {**body, "max_tokens": 5, "temperature": 0.2, "top_p": 0.5}
    assert {"temperature", "top_p"} <= set(messages_request_to_chat(body))
    out = messages_request_to_chat(body, sampling=False)
    assert "temperature" not in out and "top_p" not in out


@pytest.mark.parametrize(
    ("stop", "expected"), [("END", ["END"]), (["a", "b"], ["a", "b"]), (None, None), ([], None)]
)
def test_stop_to_stop_sequences(stop, expected):
    body = {"model": "m", "messages": [{"role": "user", "content": "hi"}], "stop": stop}
    assert chat_request_to_messages(body).get("stop_sequences") == expected


def test_same_role_neighbours_merge_and_empty_turns_vanish():
    body = {
        "model": "m",
        "messages": [
            {"role": "user", "content": "one"},
            {"role": "assistant", "content": ""},  # empty: Anthropic rejects it
            {"role": "user", "content": [{"type": "text", "text": "two"}]},
            {"role": "system", "content": "late system text"},
            {"role": "user", "content": ""},
        ],
    }
    out = chat_request_to_messages(body)
    assert out["messages"] == [
        {
            "role": "user",
            "content": [{"type": "text", "text": "one"}, {"type": "text", "text": "two"}],
        }
    ]
    assert out["system"] == "late system text"
    assert_anthropic_request(out)


def test_tool_ids_are_made_acceptable_to_anthropic_in_calls_and_results_alike():
    call = {"id": "call|42.a", "type": "function", "function": {"name": "f", "arguments": ""}}
    body = {
        "model": "m",
        "messages": [
            {"role": "user", "content": "go"},
            {"role": "assistant", "tool_calls": [call]},
            {"role": "tool", "tool_call_id": "call|42.a", "content": "done"},
        ],
    }
    out = chat_request_to_messages(body)
    assert out["messages"][1]["content"][0]["id"] == "call_42_a"
    assert out["messages"][1]["content"][0]["input"] == {}  # "" arguments: no arguments
    assert out["messages"][2]["content"][0]["tool_use_id"] == "call_42_a"


def test_json_schema_response_format_becomes_output_config():
    schema = {"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]}
    body = {
        "model": "m",
        "messages": [{"role": "user", "content": "hi"}],
        "response_format": {"type": "json_schema", "json_schema": {"name": "x", "schema": schema}},
    }
    out = chat_request_to_messages(body)
    assert out["output_config"] == {"format": {"type": "json_schema", "schema": schema}}
    assert_anthropic_request(out)


def test_inline_pdf_becomes_a_document_and_percent_encoded_data_urls_are_reencoded():
    pdf = {"filename": "a.pdf", "file_data": "data:application/pdf;base64,JVBERi0xLjQK"}
    body = {
        "model": "m",
        "messages": [
            {
                "role": "user",
                "content": [
                    {"type": "file", "file": pdf},
                    {"type": "image_url", "image_url": {"url": "data:image/gif,GIF89a"}},
                ],
            }
        ],
    }
    blocks = chat_request_to_messages(body)["messages"][0]["content"]
    assert blocks[0] == {
        "type": "document",
        "source": {"type": "base64", "media_type": "application/pdf", "data": "JVBERi0xLjQK"},
        "title": "a.pdf",
    }
    assert blocks[1]["source"] == {"type": "base64", "media_type": "image/gif", "data": "R0lGODlh"}


@pytest.mark.parametrize(
    "change",
    [
        {"n": 2},
        {"functions": [{"name": "f"}]},
        {"messages": [{"role": "user", "content": [{"type": "input_audio", "input_audio": {}}]}]},
        {
            "messages": [
                {
                    "role": "user",
                    "content": [{"type": "image_url", "image_url": {"url": "ftp://x"}}],
                }
            ]
        },
        {
            "messages": [
                {
                    "role": "user",
                    "content": [
                        {"type": "image_url", "image_url": {"url": "data:image/tiff;base64,AA=="}}
                    ],
                }
            ]
        },
        {
            "messages": [
                {"role": "user", "content": [{"type": "file", "file": {"file_id": "file-1"}}]}
            ]
        },
        {"messages": [{"role": "function", "name": "f", "content": "x"}]},
        {"messages": "hi"},
        {"messages": [{"role": "tool", "tool_call_id": "x", "content": [1]}]},  # malformed
        {"tools": "get_weather"},
        {"tools": OPENAI_TOOLS, "tool_choice": {"type": "allowed_tools", "allowed_tools": {}}},
    ],
)
def test_chat_requests_the_backend_cannot_serve_are_refused(change):
    body = {"model": "m", "messages": [{"role": "user", "content": "hi"}], **change}
    with pytest.raises(TranslationError):
        chat_request_to_messages(body)


def test_custom_tools_are_not_offered():
    custom = {"type": "custom", "custom": {"name": "grammar"}}
    body = {"model": "m", "messages": [{"role": "user", "content": "hi"}], "tools": [custom]}
    out = chat_request_to_messages(body)
    assert "tools" not in out and "tool_choice" not in out


# --- requests: Anthropic client -> OpenAI backend ----------------------------------------------


def anthropic_request() -> dict[str, Any]:
    image = {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": PNG}}
    return {
        "model": "gpt-4o",
        "max_tokens": 1024,
        "system": [
            {
                "type": "text",
                "text": "You are a weather assistant.",
                "cache_control": {"type": "ephemeral"},
            },
            {"type": "text", "text": "Answer briefly."},
        ],
        "messages": [
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "What is in these pictures?"},
                    image,
                    {
                        "type": "image",
                        "source": {"type": "url", "url": "https://example.com/cat.jpg"},
                    },
                ],
            },
            {"role": "assistant", "content": "A cat and a tiny image."},
            {"role": "user", "content": "Weather and time in Paris?"},
            {
                "role": "assistant",
                "content": [
                    {"type": "thinking", "thinking": "Two tools.", "signature": "EqQBCgIYAhIM"},
                    {"type": "text", "text": "Let me check."},
                    {
                        "type": "tool_use",
                        "id": "toolu_1",
                        "name": "get_weather",
                        "input": {"location": "Paris"},
                    },
                    {
                        "type": "tool_use",
                        "id": "toolu_2",
                        "name": "get_time",
                        "input": {"timezone": "Europe/Paris"},
                    },
                ],
            },
            {
                "role": "user",
                "content": [
                    {"type": "tool_result", "tool_use_id": "toolu_1", "content": "18°C, sunny"},
                    {
                        "type": "tool_result",
                        "tool_use_id": "toolu_2",
                        "content": [{"type": "text", "text": "14:05"}, image],
                        "is_error": False,
                    },
                    {"type": "text", "text": "Thanks!", "cache_control": {"type": "ephemeral"}},
                ],
            },
        ],
        "tools": [
            *ANTHROPIC_TOOLS[:-1],
            {**ANTHROPIC_TOOLS[-1], "cache_control": {"type": "ephemeral"}},
            {"type": "web_search_20250305", "name": "web_search", "max_uses": 3},  # a server tool
        ],
        "tool_choice": {"type": "any", "disable_parallel_tool_use": True},
        "stop_sequences": ["END"],
        "temperature": 0.4,
        "top_p": 0.9,
        "stream": True,
        "metadata": {"user_id": "user-123"},
        # No OpenAI equivalent: all dropped.
        "top_k": 40,
        "thinking": {"type": "enabled", "budget_tokens": 2048},
        "service_tier": "auto",
    }


def test_messages_request_becomes_a_chat_request():
    data_url = f"data:image/png;base64,{PNG}"
    out = messages_request_to_chat(anthropic_request())
    assert out == {
        "model": "gpt-4o",
        "messages": [
            {"role": "system", "content": "You are a weather assistant.\n\nAnswer briefly."},
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "What is in these pictures?"},
                    {"type": "image_url", "image_url": {"url": data_url}},
                    {"type": "image_url", "image_url": {"url": "https://example.com/cat.jpg"}},
                ],
            },
            {"role": "assistant", "content": "A cat and a tiny image."},
            {"role": "user", "content": "Weather and time in Paris?"},
            {
                "role": "assistant",
                "content": "Let me check.",
                "tool_calls": [
                    {
                        "id": "toolu_1",
                        "type": "function",
                        "function": {"name": "get_weather", "arguments": '{"location":"Paris"}'},
                    },
                    {
                        "id": "toolu_2",
                        "type": "function",
                        "function": {
                            "name": "get_time",
                            "arguments": '{"timezone":"Europe/Paris"}',
                        },
                    },
                ],
            },
            # Tool messages directly follow the calls; the image a tool returned and the rest
            # of the user turn follow as one user message.
            {"role": "tool", "tool_call_id": "toolu_1", "content": "18°C, sunny"},
            {"role": "tool", "tool_call_id": "toolu_2", "content": "14:05"},
            {
                "role": "user",
                "content": [
                    {"type": "image_url", "image_url": {"url": data_url}},
                    {"type": "text", "text": "Thanks!"},
                ],
            },
        ],
        "max_completion_tokens": 1024,
        "temperature": 0.4,
        "top_p": 0.9,
        "stop": ["END"],
        "stream": True,
        "stream_options": {"include_usage": True},
        "user": "user-123",
        "tools": [
            {
                "type": "function",
                "function": {
                    "name": "get_weather",
                    "description": "Current weather",
                    "parameters": WEATHER_SCHEMA,
                },
            },
            {"type": "function", "function": {"name": "get_time", "parameters": TIME_SCHEMA}},
        ],
        "tool_choice": "required",
        "parallel_tool_calls": False,
    }
    assert_openai_request(out)


@pytest.mark.parametrize(
    ("choice", "expected", "parallel"),
    [
        ({"type": "auto"}, "auto", None),
        ({"type": "any"}, "required", None),
        ({"type": "none"}, "none", None),
        (
            {"type": "tool", "name": "get_time"},
            {"type": "function", "function": {"name": "get_time"}},
            None,
        ),
        ({"type": "auto", "disable_parallel_tool_use": True}, "auto", False),
        (None, None, None),
    ],
)
def test_tool_choice_to_chat(choice, expected, parallel):
    body = {"model": "m", "max_tokens": 5, "messages": [{"role": "user", "content": "hi"}]}
    body["tools"] = ANTHROPIC_TOOLS
    if choice:
        body["tool_choice"] = choice
    out = messages_request_to_chat(body)
    assert out.get("tool_choice") == expected
    assert out.get("parallel_tool_calls") == parallel
    assert_openai_request(out)


def test_messages_request_details():
    body = {
        "model": "m",
        "max_tokens": 5,
        "system": "Be kind.",
        "messages": [
            {"role": "user", "content": [{"type": "text", "text": "hello"}]},
            {
                "role": "assistant",
                "content": [{"type": "tool_use", "id": "t", "name": "f", "input": {}}],
            },
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t"}]},
            {"role": "system", "content": "Mid-conversation instructions."},  # Opus 4.8+
            {
                "role": "user",
                "content": [
                    {
                        "type": "document",
                        "title": "a.pdf",
                        "source": {
                            "type": "base64",
                            "media_type": "application/pdf",
                            "data": "JVBERi0=",
                        },
                    },
                    {
                        "type": "document",
                        "source": {"type": "text", "media_type": "text/plain", "data": "plain"},
                    },
                ],
            },
        ],
        "tool_choice": {"type": "any"},  # no tools: dropped with them
        "output_config": {"format": {"type": "json_schema", "schema": TIME_SCHEMA}},
    }
    out = messages_request_to_chat(body)
    assert out["messages"] == [
        {"role": "system", "content": "Be kind."},
        {"role": "user", "content": "hello"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {"id": "t", "type": "function", "function": {"name": "f", "arguments": "{}"}}
            ],
        },
        {"role": "tool", "tool_call_id": "t", "content": ""},
        {"role": "system", "content": "Mid-conversation instructions."},
        {
            "role": "user",
            "content": [
                {
                    "type": "file",
                    "file": {
                        "filename": "a.pdf",
                        "file_data": "data:application/pdf;base64,JVBERi0=",
                    },
                },
                {"type": "text", "text": "plain"},
            ],
        },
    ]
    assert "tool_choice" not in out and "tools" not in out and "stream_options" not in out
    assert out["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": "output", "schema": TIME_SCHEMA, "strict": True},
    }
    assert_openai_request(out)


def user_says(*blocks: Any) -> dict[str, Any]:
    return {"messages": [{"role": "user", "content": list(blocks)}]}


@pytest.mark.parametrize(
    "change",
    [
        user_says({"type": "image", "source": {"type": "file", "file_id": "file_1"}}),
        user_says({"type": "document", "source": {"type": "url", "url": "https://x/a.pdf"}}),
        user_says({"type": "search_result", "source": "x", "title": "t", "content": []}),
        user_says({"type": "tool_result", "tool_use_id": "t", "content": [{"type": "document"}]}),
        {"messages": [{"role": "tool", "content": "x"}]},
        # Malformed requests are refused the same way, not with whatever walking them raised.
        user_says(7),
        {"tools": ANTHROPIC_TOOLS, "tool_choice": "any"},
        {"tools": ["get_weather"]},
        {"tools": {"name": "get_weather"}},
    ],
)
def test_messages_requests_the_backend_cannot_serve_are_refused(change):
    body = {"model": "m", "max_tokens": 5, "messages": [{"role": "user", "content": "hi"}]}
    with pytest.raises(TranslationError):
        messages_request_to_chat({**body, **change})


def test_requests_survive_a_round_trip():
    """OpenAI -> Anthropic -> OpenAI keeps what both APIs can say."""
    body = {
        "model": "m",
        "messages": [
            {"role": "system", "content": "sys"},
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "look"},
                    {"type": "image_url", "image_url": {"url": "https://example.com/a.png"}},
                ],
            },
            {
                "role": "assistant",
                "content": "calling",
                "tool_calls": [
                    {
                        "id": "c1",
                        "type": "function",
                        "function": {"name": "f", "arguments": '{"a":1}'},
                    }
                ],
            },
            {"role": "tool", "tool_call_id": "c1", "content": "ok"},
            {"role": "user", "content": "and?"},
        ],
        "tools": [{"type": "function", "function": {"name": "f", "parameters": TIME_SCHEMA}}],
        "tool_choice": "auto",
        "stop": ["x"],
        "temperature": 0.5,
        "max_completion_tokens": 64,
        "user": "u",
    }
    assert messages_request_to_chat(chat_request_to_messages(body)) == body


# --- answers -----------------------------------------------------------------------------------


def test_message_becomes_a_chat_completion():
    doc = messages_response_to_chat(copy.deepcopy(ANTHROPIC_MESSAGE))
    completion = ChatCompletion.model_validate(doc)
    assert completion.id == "chatcmpl-msg_014p7gG3wDgGV9EUtLvnow3U"
    assert completion.model == "claude-sonnet-4-5-20250929"
    assert abs(completion.created - time.time()) < 60
    choice = completion.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert choice.message.content == "".join(ANTHROPIC_TEXT_PIECES)
    calls = [
        (c.id, c.function.name, json.loads(c.function.arguments)) for c in choice.message.tool_calls
    ]
    assert calls == ANTHROPIC_CALLS
    assert doc["usage"] == {
        "prompt_tokens": 472 + 1024 + 2048,
        "completion_tokens": 89,
        "total_tokens": 472 + 1024 + 2048 + 89,
        "prompt_tokens_details": {"cached_tokens": 2048},
    }


@pytest.mark.parametrize(
    ("stop_reason", "finish"),
    [
        ("end_turn", "stop"),
        ("stop_sequence", "stop"),
        ("max_tokens", "length"),
        ("tool_use", "tool_calls"),
        ("refusal", "content_filter"),
        ("model_context_window_exceeded", "length"),
        ("pause_turn", "stop"),
    ],
)
def test_stop_reasons_to_chat(stop_reason, finish):
    message = {**ANTHROPIC_MESSAGE, "stop_reason": stop_reason}
    assert messages_response_to_chat(message)["choices"][0]["finish_reason"] == finish
    events = anthropic_events(stop_reason)
    chunks = chat_chunks(run(MessagesStreamToChat(False), anthropic_sse(events), 1))
    assert chunks[-1]["choices"][0]["finish_reason"] == finish


def test_calls_only_message_has_null_content_and_thinking_is_dropped():
    message = {
        **ANTHROPIC_MESSAGE,
        "id": "",
        "content": [
            {"type": "thinking", "thinking": "hmm", "signature": "sig"},
            {"type": "tool_use", "id": "toolu_1", "name": "f", "input": {}},
        ],
        "usage": {"input_tokens": 3, "output_tokens": 4},
    }
    doc = messages_response_to_chat(message)
    ChatCompletion.model_validate(doc)
    assert doc["id"].startswith("chatcmpl-") and len(doc["id"]) > len("chatcmpl-")
    assert doc["choices"][0]["message"]["content"] is None
    assert doc["choices"][0]["message"]["tool_calls"][0]["function"]["arguments"] == "{}"
    assert doc["usage"]["prompt_tokens"] == 3 and doc["usage"]["prompt_tokens_details"] == {
        "cached_tokens": 0
    }


def test_chat_completion_becomes_a_message():
    doc = chat_response_to_messages(copy.deepcopy(OPENAI_COMPLETION))
    message = Message.model_validate(doc)
    assert message.id == "msg_chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG"
    assert message.model == "gpt-4o-2024-08-06"
    assert message.stop_reason == "tool_use"
    assert doc["content"] == [
        {"type": "text", "text": "".join(OPENAI_TEXT_PIECES)},
        *(
            {"type": "tool_use", "id": i, "name": n, "input": json.loads(a)}
            for i, n, a in OPENAI_CALLS
        ),
    ]
    assert doc["usage"] == {
        "input_tokens": 1200 - 1024,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 1024,
        "output_tokens": 58,
        "output_tokens_details": {"thinking_tokens": 0},
    }


@pytest.mark.parametrize(
    ("finish", "calls", "stop_reason"),
    [
        ("stop", False, "end_turn"),
        ("length", False, "max_tokens"),
        ("tool_calls", True, "tool_use"),
        ("function_call", True, "tool_use"),
        ("content_filter", False, "refusal"),
        ("stop", True, "tool_use"),  # compatible servers that end tool turns with "stop"
        (None, False, "end_turn"),
    ],
)
def test_finish_reasons_to_messages(finish, calls, stop_reason):
    completion = copy.deepcopy(OPENAI_COMPLETION)
    choice = completion["choices"][0]
    choice["finish_reason"] = finish
    if not calls:
        del choice["message"]["tool_calls"]
    doc = chat_response_to_messages(completion)
    Message.model_validate(doc)
    assert doc["stop_reason"] == stop_reason


def test_chat_completion_oddities_still_translate():
    completion = {
        "id": "",
        "object": "chat.completion",
        "model": "llama3",
        "choices": [
            {
                "index": 0,
                "message": {
                    "role": "assistant",
                    "content": None,
                    "refusal": "I can't help with that.",
                    "tool_calls": [
                        {
                            "id": "",
                            "type": "function",
                            "function": {"name": "f", "arguments": "{oops"},
                        },
                    ],
                },
                "finish_reason": "stop",
            }
        ],
    }
    doc = chat_response_to_messages(completion)
    Message.model_validate(doc)
    assert doc["id"].startswith("msg_") and doc["stop_reason"] == "refusal"
    assert doc["content"][0] == {"type": "text", "text": "I can't help with that."}
    assert doc["content"][1]["input"] == {} and doc["content"][1]["id"].startswith("toolu_")
    assert doc["usage"]["input_tokens"] == 0 and doc["usage"]["output_tokens"] == 0


# --- streams: Anthropic backend -> OpenAI client -----------------------------------------------


@pytest.mark.parametrize("include_usage", [True, False])
@pytest.mark.parametrize("seed", SEEDS)
def test_messages_stream_becomes_chat_chunks(seed, include_usage):
    chunks = chat_chunks(run(MessagesStreamToChat(include_usage), ANTHROPIC_STREAM, seed))
    assert all(c["id"] == "chatcmpl-msg_014p7gG3wDgGV9EUtLvnow3U" for c in chunks)
    assert all(c["model"] == "claude-sonnet-4-5-20250929" for c in chunks)
    assert len({c["created"] for c in chunks}) == 1
    # Role first; text; each call opens with index/id/type/name, then argument pieces only.
    deltas = [c["choices"][0]["delta"] for c in chunks if c["choices"]]
    assert deltas[0] == {"role": "assistant", "content": ""}
    texts = [d["content"] for d in deltas[1:] if "content" in d]
    assert texts == ANTHROPIC_TEXT_PIECES
    calls = [d["tool_calls"][0] for d in deltas if "tool_calls" in d]
    for n, (call_id, name, _) in enumerate(ANTHROPIC_CALLS):
        mine = [c for c in calls if c["index"] == n]
        assert mine[0] == {
            "index": n,
            "id": call_id,
            "type": "function",
            "function": {"name": name, "arguments": ""},
        }
        assert all(c.keys() == {"index", "function"} for c in mine[1:])
        assert [c["function"]["arguments"] for c in mine[1:]] == [
            p for p in ANTHROPIC_JSON_PIECES[n] if p
        ]
    finish = [c for c in chunks if c["choices"] and c["choices"][0]["finish_reason"]]
    assert len(finish) == 1 and finish[0]["choices"][0]["delta"] == {}
    if include_usage:
        assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]["prompt_tokens"] == 3544
        assert all(c["usage"] is None for c in chunks[:-1])
    else:
        assert all("usage" not in c for c in chunks) and chunks[-1] is finish[0]
    # The SDK's own accumulation gives the source answer back.
    final = final_completion(chunks)
    message = final.choices[0].message
    assert message.content == "".join(ANTHROPIC_TEXT_PIECES)
    assert [
        (c.id, c.function.name, json.loads(c.function.arguments)) for c in message.tool_calls
    ] == (ANTHROPIC_CALLS)
    assert final.choices[0].finish_reason == "tool_calls"
    if include_usage:
        assert final.usage.model_dump(exclude_none=True) == {
            "prompt_tokens": 3544,
            "completion_tokens": 89,
            "total_tokens": 3633,
            "prompt_tokens_details": {"cached_tokens": 2048},
        }


@pytest.mark.parametrize("seed", SEEDS)
def test_messages_stream_and_message_translate_to_the_same_answer(seed):
    """A translated stream assembles into exactly the translated non-streamed answer."""
    streamed = cacheable_completion(
        "openai", run(MessagesStreamToChat(True), ANTHROPIC_STREAM, seed), True
    )
    source = cacheable_completion("anthropic", ANTHROPIC_STREAM, streamed=True)
    direct = messages_response_to_chat(source)
    for doc in (streamed, direct):
        del doc["created"]
        message = doc["choices"][0]["message"]
        message.pop("annotations", None)
        # The stream passes Anthropic's JSON text through as written; the JSON answer has an
        # object, written compactly: the same arguments either way.
        for call in message["tool_calls"]:
            call["function"]["arguments"] = json.loads(call["function"]["arguments"])
    assert streamed == direct


def with_framing(body: bytes) -> bytes:
    """The same stream with CRLF line ends, a BOM, and `:` comments between events."""
    text = body.decode().replace("\n", "\r\n")
    return (
        "\ufeff: keep-alive\r\n\r\n" + text.replace("\r\n\r\n", "\r\n: ping\r\n\r\n", 3)
    ).encode()


@pytest.mark.parametrize("seed", SEEDS)
def test_messages_stream_framing_variants(seed):
    body = with_framing(anthropic_sse(anthropic_events(thinking=True)))
    final = final_completion(chat_chunks(run(MessagesStreamToChat(True), body, seed)))
    assert final.choices[0].message.content == "".join(ANTHROPIC_TEXT_PIECES)  # thinking dropped
    assert len(final.choices[0].message.tool_calls) == 2
    assert final.usage.total_tokens == 3633


def test_messages_stream_uses_the_given_model_only_as_a_fallback():
    events = anthropic_events()
    events[0]["message"]["model"] = ""
    chunks = chat_chunks(
        run(MessagesStreamToChat(False, model="claude-x"), anthropic_sse(events), 2)
    )
    assert {c["model"] for c in chunks} == {"claude-x"}
    chunks = chat_chunks(run(MessagesStreamToChat(False, model="claude-x"), ANTHROPIC_STREAM, 2))
    assert {c["model"] for c in chunks} == {"claude-sonnet-4-5-20250929"}


def test_messages_stream_error_event_becomes_an_openai_error_and_ends_the_stream():
    events = anthropic_events()[:5]
    error = {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
    body = anthropic_sse([*events, error, *anthropic_events()[5:]])
    out = run(MessagesStreamToChat(True), body, 3)
    chunks = chat_chunks(out, done=False)[:-1]
    assert b"[DONE]" not in out and len(chunks) == 3  # role and two text pieces, then the error
    last = json.loads(sse_blocks(out)[-1][0].removeprefix("data: "))
    assert last == {
        "error": {
            "message": "Overloaded",
            "type": "server_error",
            "param": None,
            "code": "overloaded_error",
        }
    }
    client = openai_client(canned(out))
    stream = client.chat.completions.create(
        model="m", messages=[{"role": "user", "content": "hi"}], stream=True
    )
    with pytest.raises(openai.APIError, match="Overloaded"):
        list(stream)


@pytest.mark.parametrize("cut", [0, 40, len(ANTHROPIC_STREAM) // 2, len(ANTHROPIC_STREAM) - 30])
def test_messages_stream_cut_short_ends_with_an_error(cut):
    out = run(MessagesStreamToChat(True), ANTHROPIC_STREAM[:cut], 4)
    chunks = chat_chunks(out, done=False)
    assert not any(c.get("choices") and c["choices"][0]["finish_reason"] for c in chunks)
    assert chunks[-1]["error"]["type"] == "server_error"


def test_messages_stream_ignores_anything_after_the_end():
    translator = MessagesStreamToChat(False)
    out = translator.feed(ANTHROPIC_STREAM)
    assert out.endswith(b"data: [DONE]\n\n")
    assert translator.feed(ANTHROPIC_STREAM) == b"" and translator.close() == b""


# --- streams: OpenAI backend -> Anthropic client -----------------------------------------------


@pytest.mark.parametrize("seed", SEEDS)
def test_chat_stream_becomes_message_events(seed):
    events = message_events(run(ChatStreamToMessages(), OPENAI_STREAM, seed))
    kinds = [e["type"] for e in events]
    assert kinds[0] == "message_start" and kinds[-2:] == ["message_delta", "message_stop"]
    start = events[0]["message"]
    assert start["id"] == "msg_chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG"
    assert start["model"] == "gpt-4o-2024-08-06" and start["content"] == []
    # Blocks one after another: start, its deltas, stop; indexes counting up from 0.
    blocks: list[dict[str, Any]] = []
    open_index = None
    for event in events[1:-2]:
        if event["type"] == "content_block_start":
            assert open_index is None and event["index"] == len(blocks)
            open_index = event["index"]
            blocks.append({"block": event["content_block"], "deltas": []})
        elif event["type"] == "content_block_delta":
            assert event["index"] == open_index
            blocks[-1]["deltas"].append(event["delta"])
        else:
            assert event == {"type": "content_block_stop", "index": open_index}
            open_index = None
    assert open_index is None
    assert blocks[0]["block"] == {"type": "text", "text": ""}
    assert [d["text"] for d in blocks[0]["deltas"]] == OPENAI_TEXT_PIECES
    for (call_id, name, arguments), block in zip(OPENAI_CALLS, blocks[1:], strict=True):
        assert block["block"] == {"type": "tool_use", "id": call_id, "name": name, "input": {}}
        assert all(d["type"] == "input_json_delta" for d in block["deltas"])
        assert "".join(d["partial_json"] for d in block["deltas"]) == arguments
        assert len(block["deltas"]) > 1
    assert events[-2]["delta"] == {"stop_reason": "tool_use", "stop_sequence": None}
    assert events[-2]["usage"] == {
        "input_tokens": 176,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 1024,
        "output_tokens": 58,
        "output_tokens_details": {"thinking_tokens": 0},
    }


@pytest.mark.parametrize("seed", SEEDS)
def test_chat_stream_and_completion_translate_to_the_same_answer(seed):
    streamed = cacheable_completion(
        "anthropic", run(ChatStreamToMessages(), OPENAI_STREAM, seed), True
    )
    direct = chat_response_to_messages(cacheable_completion("openai", OPENAI_STREAM, streamed=True))
    assert streamed == direct
    assert streamed == chat_response_to_messages(OPENAI_COMPLETION)


@pytest.mark.parametrize("seed", SEEDS)
def test_chat_stream_framing_variants(seed):
    answer = cacheable_completion(
        "anthropic", run(ChatStreamToMessages(), with_framing(OPENAI_STREAM), seed), True
    )
    assert answer == chat_response_to_messages(OPENAI_COMPLETION)


def test_chat_stream_from_azure_and_loose_compatible_servers():
    """Azure's prompt-filter first chunk; no `index` on tool calls; id and name repeated."""
    azure_first = {
        "id": "",
        "object": "",
        "created": 0,
        "model": "",
        "choices": [],
        "prompt_filter_results": [],
    }
    call = {"id": "call_9", "type": "function", "function": {"name": "f", "arguments": '{"a":'}}
    chunks = [
        azure_first,
        openai_chunk([openai_delta({"role": "assistant", "content": None, "tool_calls": [call]})]),
        openai_chunk(
            [
                openai_delta(
                    {"tool_calls": [{**call, "function": {"name": "f", "arguments": " 1}"}}]}
                )
            ]
        ),
        openai_chunk([openai_delta({"tool_calls": [{"function": {"arguments": ""}}]})]),
        openai_chunk(
            [openai_delta({}, "stop")], usage={"prompt_tokens": 9, "completion_tokens": 3}
        ),
    ]
    out = run(ChatStreamToMessages(model="fallback"), openai_sse(chunks), 5)
    start = message_events(out)[0]["message"]
    assert start["id"] == "msg_chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG"
    assert start["model"] == "gpt-4o-2024-08-06"  # the answer's model, not the fallback
    answer = cacheable_completion("anthropic", out, streamed=True)
    assert answer["content"] == [
        {"type": "tool_use", "id": "call_9", "name": "f", "input": {"a": 1}}
    ]
    assert answer["stop_reason"] == "tool_use"  # "stop" with calls: the calls decide
    assert answer["usage"]["input_tokens"] == 9 and answer["usage"]["output_tokens"] == 3


def test_chat_stream_without_done_still_ends_cleanly_after_its_finish_reason():
    out = run(
        ChatStreamToMessages(), openai_sse(openai_chunks(finish="stop", usage=False), done=False), 6
    )
    events = message_events(out)
    assert [e["type"] for e in events[-2:]] == ["message_delta", "message_stop"]
    assert events[-2]["delta"]["stop_reason"] == "tool_use"
    assert events[-2]["usage"]["output_tokens"] == 0  # the server reported no usage


def test_chat_stream_refusal_becomes_text_with_stop_reason_refusal():
    chunks = [
        openai_chunk([openai_delta({"role": "assistant", "content": None, "refusal": ""})]),
        openai_chunk([openai_delta({"refusal": "I can't"})]),
        openai_chunk([openai_delta({"refusal": " help."})]),
        openai_chunk([openai_delta({}, "stop")]),
    ]
    events = message_events(run(ChatStreamToMessages(), openai_sse(chunks), 1))
    texts = [e["delta"]["text"] for e in events if e["type"] == "content_block_delta"]
    assert texts == ["I can't", " help."]
    assert events[-2]["delta"]["stop_reason"] == "refusal"


def test_chat_stream_error_chunk_becomes_an_anthropic_error_and_ends_the_stream():
    error = {
        "error": {
            "message": "Rate limit reached",
            "type": "requests",
            "param": None,
            "code": "rate_limit_exceeded",
        }
    }
    body = openai_sse([*openai_chunks()[:3], error, *openai_chunks()[3:]])
    out = run(ChatStreamToMessages(), body, 2)
    events = message_events(out)
    assert events[-1] == {
        "type": "error",
        "error": {"type": "rate_limit_error", "message": "Rate limit reached"},
    }
    assert not any(e["type"] == "message_stop" for e in events)
    ErrorResponse.model_validate(events[-1])
    with (
        anthropic_client(canned(out)).messages.stream(
            model="m", max_tokens=5, messages=[{"role": "user", "content": "hi"}]
        ) as stream,
        pytest.raises(anthropic.APIError, match="Rate limit reached"),
    ):
        stream.get_final_message()


@pytest.mark.parametrize(
    "cut", [0, 30, len(OPENAI_STREAM) // 2, OPENAI_STREAM.index(b'"finish_reason": "tool_calls"')]
)
def test_chat_stream_cut_short_ends_with_an_error(cut):
    events = message_events(run(ChatStreamToMessages(), OPENAI_STREAM[:cut], 3))
    assert events[-1]["type"] == "error" and events[-1]["error"]["type"] == "api_error"
    assert not any(e["type"] == "message_stop" for e in events)


@pytest.mark.parametrize("body", [b"data: {not json}\n\n", b"data: [1, 2]\n\n"])
def test_malformed_upstream_data_ends_both_streams_with_an_error(body):
    assert message_events(run(ChatStreamToMessages(), body, 1))[-1]["type"] == "error"
    out = run(MessagesStreamToChat(True), b"event: message_start\n" + body, 1)
    assert json.loads(sse_blocks(out)[-1][0].removeprefix("data: "))["error"]


# --- the SDKs end to end, through a translating in-memory gateway ------------------------------


def openai_via_anthropic(upstream_stream: bytes, upstream_json: dict[str, Any], seen: list) -> Any:
    """An OpenAI-speaking gateway whose backend answers in Anthropic's API."""

    def handler(request: httpx2.Request) -> httpx2.Response:
        body = json.loads(request.content)
        translated = chat_request_to_messages(body)
        assert_anthropic_request(translated)
        seen.append(translated)
        if body.get("stream"):
            translator = MessagesStreamToChat(stream_include_usage(body), model=body["model"])
            out = run(translator, upstream_stream, 7)
            return httpx2.Response(200, headers={"content-type": "text/event-stream"}, content=out)
        out = json.dumps(messages_response_to_chat(upstream_json)).encode()
        return httpx2.Response(200, headers={"content-type": "application/json"}, content=out)

    return handler


def anthropic_via_openai(upstream_stream: bytes, upstream_json: dict[str, Any], seen: list) -> Any:
    """An Anthropic-speaking gateway whose backend answers in OpenAI's API."""

    def handler(request: httpx2.Request) -> httpx2.Response:
        body = json.loads(request.content)
        translated = messages_request_to_chat(body)
        assert_openai_request(translated)
        seen.append(translated)
        if body.get("stream"):
            out = run(ChatStreamToMessages(model=body["model"]), upstream_stream, 7)
            return httpx2.Response(200, headers={"content-type": "text/event-stream"}, content=out)
        out = json.dumps(chat_response_to_messages(upstream_json)).encode()
        return httpx2.Response(200, headers={"content-type": "application/json"}, content=out)

    return handler


CLIENT_MESSAGES = [
    {"role": "system", "content": "You are a weather assistant."},
    {"role": "user", "content": "Weather and time in Paris?"},
]


@pytest.mark.parametrize("include_usage", [True, False])
def test_openai_sdk_streams_through_an_anthropic_backend(include_usage):
    seen: list = []
    client = openai_client(openai_via_anthropic(ANTHROPIC_STREAM, ANTHROPIC_MESSAGE, seen))
    stream = client.chat.completions.create(
        model="claude-sonnet-4-5",
        messages=CLIENT_MESSAGES,
        tools=OPENAI_TOOLS,
        stream=True,
        stream_options={"include_usage": include_usage},
    )
    state = ChatCompletionStreamState()
    for chunk in stream:
        state.handle_chunk(chunk)
    final = state.get_final_completion()
    assert seen[0]["system"] == "You are a weather assistant." and seen[0]["stream"] is True
    assert final.choices[0].message.content == "".join(ANTHROPIC_TEXT_PIECES)
    assert [
        (c.id, json.loads(c.function.arguments)) for c in final.choices[0].message.tool_calls
    ] == [(i, a) for i, _, a in ANTHROPIC_CALLS]
    assert (final.usage is not None) == include_usage


def test_openai_sdk_reads_a_translated_json_answer():
    seen: list = []
    client = openai_client(openai_via_anthropic(ANTHROPIC_STREAM, ANTHROPIC_MESSAGE, seen))
    completion = client.chat.completions.create(model="claude-sonnet-4-5", messages=CLIENT_MESSAGES)
    assert seen[0]["max_tokens"] == 4096
    assert completion.choices[0].finish_reason == "tool_calls"
    assert completion.usage.prompt_tokens_details.cached_tokens == 2048


def test_anthropic_sdk_streams_through_an_openai_backend():
    seen: list = []
    client = anthropic_client(anthropic_via_openai(OPENAI_STREAM, OPENAI_COMPLETION, seen))
    with client.messages.stream(
        model="gpt-4o",
        max_tokens=1024,
        system="You are a weather assistant.",
        messages=[{"role": "user", "content": "Weather and time in Paris?"}],
        tools=ANTHROPIC_TOOLS,
    ) as stream:
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
    assert seen[0]["stream_options"] == {"include_usage": True}
    assert text == "".join(OPENAI_TEXT_PIECES)
    got = final.model_dump(exclude_none=True)
    assert got["content"] == chat_response_to_messages(OPENAI_COMPLETION)["content"]
    assert got["stop_reason"] == "tool_use"
    assert got["usage"]["input_tokens"] == 176 and got["usage"]["cache_read_input_tokens"] == 1024
    assert got["usage"]["output_tokens"] == 58


def test_anthropic_sdk_reads_a_translated_json_answer():
    seen: list = []
    client = anthropic_client(anthropic_via_openai(OPENAI_STREAM, OPENAI_COMPLETION, seen))
    message = client.messages.create(
        model="gpt-4o", max_tokens=10, messages=[{"role": "user", "content": "hi"}]
    )
    assert seen[0]["max_completion_tokens"] == 10 and "stream" not in seen[0]
    assert message.content[1].type == "tool_use" and message.content[1].input == {
        "location": "Paris, France"
    }


# --- errors ------------------------------------------------------------------------------------


def anthropic_error(kind: str, message: str) -> bytes:
    doc = {"type": "error", "error": {"type": kind, "message": message}, "request_id": "req_011C"}
    return json.dumps(doc).encode()


@pytest.mark.parametrize(
    ("status", "kind", "exception", "openai_type", "code"),
    [
        (400, "invalid_request_error", openai.BadRequestError, "invalid_request_error", None),
        (
            401,
            "authentication_error",
            openai.AuthenticationError,
            "invalid_request_error",
            "invalid_api_key",
        ),
        (
            403,
            "permission_error",
            openai.PermissionDeniedError,
            "invalid_request_error",
            "permission_error",
        ),
        (404, "not_found_error", openai.NotFoundError, "invalid_request_error", "not_found_error"),
        (429, "rate_limit_error", openai.RateLimitError, "requests", "rate_limit_exceeded"),
        (500, "api_error", openai.InternalServerError, "server_error", None),
        (529, "overloaded_error", openai.InternalServerError, "server_error", "overloaded_error"),
    ],
)
def test_anthropic_errors_become_openai_errors(status, kind, exception, openai_type, code):
    body = error_to_chat(status, anthropic_error(kind, "Something specific."))
    assert json.loads(body) == {
        "error": {
            "message": "Something specific.",
            "type": openai_type,
            "param": None,
            "code": code,
        }
    }
    client = openai_client(canned(body, status, "application/json"))
    with pytest.raises(exception) as raised:
        client.chat.completions.create(model="m", messages=[{"role": "user", "content": "hi"}])
    assert raised.value.status_code == status and raised.value.type == openai_type
    assert "Something specific." in str(raised.value)


@pytest.mark.parametrize(
    ("status", "error", "exception", "kind"),
    [
        (
            400,
            {"message": "Bad.", "type": "invalid_request_error", "param": "messages", "code": None},
            anthropic.BadRequestError,
            "invalid_request_error",
        ),
        (
            401,
            {
                "message": "Bad key.",
                "type": "invalid_request_error",
                "param": None,
                "code": "invalid_api_key",
            },
            anthropic.AuthenticationError,
            "authentication_error",
        ),
        (
            404,
            {
                "message": "No model.",
                "type": "invalid_request_error",
                "param": None,
                "code": "model_not_found",
            },
            anthropic.NotFoundError,
            "not_found_error",
        ),
        (
            429,
            {
                "message": "Slow down.",
                "type": "requests",
                "param": None,
                "code": "rate_limit_exceeded",
            },
            anthropic.RateLimitError,
            "rate_limit_error",
        ),
        (
            429,
            {
                "message": "No quota.",
                "type": "insufficient_quota",
                "param": None,
                "code": "insufficient_quota",
            },
            anthropic.RateLimitError,
            "billing_error",
        ),
        (
            500,
            {"message": "Oops.", "type": "server_error", "param": None, "code": None},
            anthropic.InternalServerError,
            "api_error",
        ),
        (
            503,
            {"message": "Busy.", "type": "server_error", "param": None, "code": None},
            anthropic.InternalServerError,
            "overloaded_error",
        ),
    ],
)
def test_openai_errors_become_anthropic_errors(status, error, exception, kind):
    body = error_to_messages(status, json.dumps({"error": error}).encode())
    doc = json.loads(body)
    assert doc == {"type": "error", "error": {"type": kind, "message": error["message"]}}
    ErrorResponse.model_validate(doc)
    client = anthropic_client(canned(body, status, "application/json"))
    with pytest.raises(exception) as raised:
        client.messages.create(
            model="m", max_tokens=5, messages=[{"role": "user", "content": "hi"}]
        )
    assert raised.value.status_code == status and error["message"] in str(raised.value)


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (b"<html>502 Bad Gateway</html>", "<html>502 Bad Gateway</html>"),
        (b"", "upstream error (HTTP 502)"),
        (b'{"error": "model is loading"}', "model is loading"),  # some compatible servers
        (b'[{"error": {"code": 502, "message": "wrapped"}}]', "wrapped"),
        (b'{"detail": "Not here"}', "Not here"),
    ],
)
def test_error_bodies_in_other_shapes_keep_their_message(answer, message):
    doc = json.loads(error_to_messages(502, answer))
    assert doc == {"type": "error", "error": {"type": "api_error", "message": message}}
    ErrorResponse.model_validate(doc)
    if answer.startswith(b"<") or not answer:
        assert json.loads(error_to_chat(502, answer))["error"] == {
            "message": message,
            "type": "server_error",
            "param": None,
            "code": None,
        }

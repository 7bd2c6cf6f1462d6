"""Reasoning across the APIs: reasoning_effort <-> thinking, and the answers' reasoning text.

With `reasoning=True` (a backend's `translation.reasoning: map`) OpenAI's levels become
Anthropic budgets and back, and the reasoning an answer carries crosses as reasoning_content
or thinking blocks; by default all of it is dropped, as before the setting existed.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from anthropic.types import Message
from openai.types.chat import ChatCompletion

from gateway.caching.completions import cacheable_completion
from gateway.providers.reasoning import EFFORT_BUDGETS
from gateway.providers.translate import (
    ChatStreamToMessages,
    MessagesStreamToChat,
    TranslationError,
    chat_request_to_messages,
    chat_response_to_messages,
    messages_request_to_chat,
    messages_response_to_chat,
)
from tests.providers.samples import (
    ANTHROPIC_MESSAGE,
    ANTHROPIC_TEXT_PIECES,
    OPENAI_COMPLETION,
    OPENAI_TEXT_PIECES,
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
)

ASKED = [{"role": "user", "content": "Weather in Paris?"}]

# --- requests: OpenAI client -> Anthropic backend ----------------------------------------------


def chat(**extra: Any) -> dict[str, Any]:
    return {"model": "m", "messages": ASKED, "temperature": 0.5, "top_p": 0.9, **extra}


@pytest.mark.parametrize(
    ("effort", "budget"),
    [
        ("none", None),
        ("minimal", None),
        ("low", 1024),
        ("medium", 4096),
        ("high", 16384),
        ("xhigh", 24576),
        ("max", 24576),
    ],
)
def test_reasoning_effort_becomes_a_thinking_budget(effort, budget):
    out = chat_request_to_messages(chat(reasoning_effort=effort), reasoning=True)
    assert_anthropic_request(out)
    if budget is None:  # no thinking: the request is as without reasoning_effort
        assert out == chat_request_to_messages(chat())
        return
    assert out["thinking"] == {"type": "enabled", "budget_tokens": budget}
    assert out["max_tokens"] == budget + 4096  # the default room for the answer, after thinking
    assert "temperature" not in out and "top_p" not in out  # refused with thinking on


def test_every_level_the_sdk_knows_has_a_budget():
    from openai.types.shared.reasoning_effort import ReasoningEffort

    levels = set(ReasoningEffort.__args__[0].__args__)  # Optional[Literal[...]]
    assert levels == set(EFFORT_BUDGETS)


def test_reasoning_effort_is_dropped_by_default():
    out = chat_request_to_messages(chat(reasoning_effort="high"))
    assert "thinking" not in out and out["max_tokens"] == 4096 and out["temperature"] == 0.5


@pytest.mark.parametrize(
    ("limit", "effort", "budget", "max_tokens"),
    [
        ({"max_completion_tokens": 20000}, "high", 16384, 20000),
        ({"max_tokens": 2000}, "medium", 1999, 2000),  # the client's limit holds: budget below
        ({"max_tokens": 1025}, "high", 1024, 1025),
        ({"max_tokens": 1024}, "low", None, 1024),  # not even the least budget fits
        ({"max_completion_tokens": 100, "max_tokens": 9000}, "low", None, 100),
    ],
)
def test_a_token_limit_is_kept_and_the_budget_fits_below_it(limit, effort, budget, max_tokens):
    out = chat_request_to_messages(chat(reasoning_effort=effort, **limit), reasoning=True)
    assert out["max_tokens"] == max_tokens
    if budget is None:
        assert "thinking" not in out and out["temperature"] == 0.5
    else:
        assert out["thinking"]["budget_tokens"] == budget and out["max_tokens"] > budget
        assert_anthropic_request(out)


TOOLS = [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}]
CALL = {"id": "call_1", "type": "function", "function": {"name": "f", "arguments": "{}"}}
IN_A_TOOL_LOOP = [
    *ASKED,
    {"role": "assistant", "content": "Checking.", "tool_calls": [CALL]},
    {"role": "tool", "tool_call_id": "call_1", "content": "18°C"},
]


@pytest.mark.parametrize(
    ("extra", "thinks"),
    [
        ({"tools": TOOLS, "tool_choice": "auto"}, True),
        ({"tools": TOOLS, "tool_choice": "none"}, True),
        ({"tools": TOOLS, "tool_choice": "required"}, False),  # forced tool use: refused
        ({"tools": TOOLS, "tool_choice": {"type": "function", "function": {"name": "f"}}}, False),
        # The calls' turn would need its signed thinking block, which OpenAI cannot send back.
        ({"tools": TOOLS, "messages": IN_A_TOOL_LOOP}, False),
        (
            {
                "tools": TOOLS,
                "messages": [
                    *IN_A_TOOL_LOOP,
                    {"role": "assistant", "content": "18°C in Paris."},
                    {"role": "user", "content": "And tomorrow?"},
                ],
            },
            True,  # the loop is over: a new turn may think
        ),
    ],
)
def test_thinking_is_left_out_where_anthropic_would_refuse_it(extra, thinks):
    out = chat_request_to_messages(chat(reasoning_effort="medium", **extra), reasoning=True)
    assert ("thinking" in out) == thinks
    assert ("temperature" in out) != thinks
    assert_anthropic_request(out)


@pytest.mark.parametrize("effort", ["extreme", ["low"]])
def test_an_unknown_reasoning_effort_is_refused(effort):
    with pytest.raises(TranslationError, match="reasoning_effort"):
        chat_request_to_messages(chat(reasoning_effort=effort), reasoning=True)
    assert "thinking" not in chat_request_to_messages(chat(reasoning_effort=effort))


# --- requests: Anthropic client -> OpenAI backend ----------------------------------------------


def messages(**extra: Any) -> dict[str, Any]:
    return {"model": "m", "max_tokens": 32000, "messages": ASKED, **extra}


@pytest.mark.parametrize(
    ("budget", "effort"),
    [
        (1024, "low"),
        (2047, "low"),
        (2048, "medium"),  # nearest on a log scale: 2048 is as far from 1024 as from 4096
        (4096, "medium"),
        (8191, "medium"),
        (8192, "high"),
        (16384, "high"),
        (31999, "high"),  # never xhigh or max: not every reasoning model takes them
    ],
)
def test_a_thinking_budget_becomes_the_nearest_reasoning_effort(budget, effort):
    thinking = {"type": "enabled", "budget_tokens": budget}
    out = messages_request_to_chat(messages(thinking=thinking), reasoning=True)
    assert out["reasoning_effort"] == effort
    assert_openai_request(out)


@pytest.mark.parametrize(
    ("thinking", "output_config", "effort"),
    [
        ({"type": "adaptive"}, {"effort": "low"}, "low"),
        ({"type": "adaptive"}, {"effort": "max"}, "max"),  # the same names on both sides
        ({"type": "adaptive"}, None, None),  # the model decides: its own default
        ({"type": "enabled", "budget_tokens": 2048}, {"effort": "low"}, "medium"),
        ({"type": "disabled"}, {"effort": "high"}, None),
        (None, {"effort": "high"}, None),
    ],
)
def test_adaptive_thinking_takes_its_effort(thinking, output_config, effort):
    body = messages(thinking=thinking, output_config=output_config)
    out = messages_request_to_chat(body, reasoning=True)
    assert out.get("reasoning_effort") == effort
    assert_openai_request(out)


def test_thinking_is_dropped_by_default():
    body = messages(thinking={"type": "enabled", "budget_tokens": 2048})
    assert "reasoning_effort" not in messages_request_to_chat(body)


@pytest.mark.parametrize(
    "change",
    [
        {"thinking": {"type": "enabled"}},
        {"thinking": {"type": "enabled", "budget_tokens": "lots"}},
        {"thinking": {"type": "adaptive"}, "output_config": {"effort": "extreme"}},
    ],
)
def test_malformed_thinking_is_refused(change):
    with pytest.raises(TranslationError):
        messages_request_to_chat(messages(**change), reasoning=True)


# --- answers: Anthropic backend -> OpenAI client -----------------------------------------------

THOUGHT = "The user wants weather."  # what anthropic_events(thinking=True) thinks


def thinking_message() -> dict[str, Any]:
    message = copy.deepcopy(ANTHROPIC_MESSAGE)
    message["content"][:0] = [
        {"type": "thinking", "thinking": THOUGHT, "signature": "EqQBCgIYAhIM"},
        {"type": "redacted_thinking", "data": "EmwKAhgBEgy3va3pzix/LafPsn4a"},
    ]
    return message


def test_thinking_becomes_reasoning_content():
    doc = messages_response_to_chat(thinking_message(), reasoning=True)
    message = ChatCompletion.model_validate(doc).choices[0].message
    assert (message.model_extra or {})["reasoning_content"] == THOUGHT  # redacted: dropped
    assert message.content == "".join(ANTHROPIC_TEXT_PIECES) and len(message.tool_calls) == 2
    assert (
        "reasoning_content"
        not in messages_response_to_chat(thinking_message())["choices"][0]["message"]
    )


def test_reasoning_tokens_are_reported_only_when_the_answer_counts_them():
    message = thinking_message()
    assert (
        "completion_tokens_details"
        not in messages_response_to_chat(message, reasoning=True)["usage"]
    )
    message["usage"]["output_tokens_details"] = {"thinking_tokens": 40}
    usage = messages_response_to_chat(message, reasoning=True)["usage"]
    assert usage["completion_tokens"] == 89  # thinking is inside output_tokens, as in OpenAI's
    assert usage["completion_tokens_details"] == {"reasoning_tokens": 40}


@pytest.mark.parametrize("seed", SEEDS)
def test_thinking_streams_as_reasoning_content_deltas(seed):
    body = anthropic_sse(anthropic_events(thinking=True))
    chunks = chat_chunks(run(MessagesStreamToChat(True, reasoning=True), body, seed))
    deltas = [c["choices"][0]["delta"] for c in chunks if c["choices"]]
    assert [d["reasoning_content"] for d in deltas if "reasoning_content" in d] == [THOUGHT]
    first_text = next(n for n, d in enumerate(deltas) if d.get("content"))
    assert all("reasoning_content" not in d for d in deltas[first_text:])  # thinking first
    # The SDK's own accumulation gives what the JSON answer gives.
    final = final_completion(chunks).choices[0].message
    direct = messages_response_to_chat(
        cacheable_completion("anthropic", body, streamed=True), reasoning=True
    )
    assert (final.model_extra or {})["reasoning_content"] == THOUGHT
    assert direct["choices"][0]["message"]["reasoning_content"] == THOUGHT
    assert final.content == direct["choices"][0]["message"]["content"]


def test_thinking_is_not_streamed_by_default():
    body = anthropic_sse(anthropic_events(thinking=True))
    chunks = chat_chunks(run(MessagesStreamToChat(True), body, 1))
    assert not any("reasoning_content" in c["choices"][0]["delta"] for c in chunks if c["choices"])


def test_openai_sdk_reads_streamed_reasoning_content():
    body = run(
        MessagesStreamToChat(False, reasoning=True),
        anthropic_sse(anthropic_events(thinking=True)),
        2,
    )
    stream = openai_client(canned(body)).chat.completions.create(
        model="m", messages=ASKED, stream=True
    )
    deltas = [c.choices[0].delta for c in stream if c.choices]
    assert "".join(getattr(d, "reasoning_content", None) or "" for d in deltas) == THOUGHT


# --- answers: OpenAI backend -> Anthropic client -----------------------------------------------

REASONING_PIECES = ["Two tools", " are needed", " — Paris."]


def reasoning_completion(key: str = "reasoning_content") -> dict[str, Any]:
    completion = copy.deepcopy(OPENAI_COMPLETION)
    completion["choices"][0]["message"][key] = "".join(REASONING_PIECES)
    completion["usage"]["completion_tokens_details"]["reasoning_tokens"] = 12
    return completion


def reasoning_chunks(key: str = "reasoning_content") -> list[dict[str, Any]]:
    """Reasoning first, with content null, then the answer: as DeepSeek and vLLM stream."""
    first = openai_delta({"role": "assistant", "content": None, key: ""})
    chunks = [openai_chunk([first])]
    for piece in REASONING_PIECES:
        chunks.append(openai_chunk([openai_delta({"content": None, key: piece})]))
    rest = openai_chunks()[1:]  # text, tool calls, finish reason, usage
    rest[-1] = openai_chunk([], usage=reasoning_completion()["usage"])
    return chunks + rest


@pytest.mark.parametrize("key", ["reasoning_content", "reasoning"])
def test_reasoning_content_becomes_a_thinking_block_first(key):
    doc = chat_response_to_messages(reasoning_completion(key), reasoning=True)
    Message.model_validate(doc)
    thinking = {"type": "thinking", "thinking": "".join(REASONING_PIECES), "signature": ""}
    assert doc["content"][0] == thinking
    assert doc["content"][1] == {"type": "text", "text": "".join(OPENAI_TEXT_PIECES)}
    # Reasoning tokens stay inside output_tokens, and are told apart as Anthropic does.
    assert doc["usage"]["output_tokens"] == 58
    assert doc["usage"]["output_tokens_details"] == {"thinking_tokens": 12}


def test_reasoning_content_is_dropped_by_default():
    doc = chat_response_to_messages(reasoning_completion())
    assert [block["type"] for block in doc["content"]] == ["text", "tool_use", "tool_use"]


@pytest.mark.parametrize("key", ["reasoning_content", "reasoning"])
@pytest.mark.parametrize("seed", SEEDS)
def test_reasoning_content_streams_as_a_thinking_block(seed, key):
    out = run(ChatStreamToMessages(reasoning=True), openai_sse(reasoning_chunks(key)), seed)
    events = message_events(out)
    assert events[1] == {
        "type": "content_block_start",
        "index": 0,
        "content_block": {"type": "thinking", "thinking": "", "signature": ""},
    }
    thinking = [e["delta"] for e in events if e.get("index") == 0 and "delta" in e]
    assert thinking == [{"type": "thinking_delta", "thinking": p} for p in REASONING_PIECES]
    starts = [e["content_block"]["type"] for e in events if e["type"] == "content_block_start"]
    assert starts == ["thinking", "text", "tool_use", "tool_use"]
    streamed = cacheable_completion("anthropic", out, streamed=True)
    assert streamed == chat_response_to_messages(reasoning_completion(key), reasoning=True)


def test_reasoning_content_is_not_streamed_by_default():
    events = message_events(run(ChatStreamToMessages(), openai_sse(reasoning_chunks()), 3))
    starts = [e["content_block"]["type"] for e in events if e["type"] == "content_block_start"]
    assert starts == ["text", "tool_use", "tool_use"]


def test_anthropic_sdk_reads_a_streamed_thinking_block():
    out = run(ChatStreamToMessages(reasoning=True), openai_sse(reasoning_chunks()), 4)
    client = anthropic_client(canned(out))
    with client.messages.stream(model="m", max_tokens=5, messages=ASKED) as stream:
        thoughts = [event.thinking for event in stream if event.type == "thinking"]
        final = stream.get_final_message()
    assert "".join(thoughts) == "".join(REASONING_PIECES)
    assert final.content[0].type == "thinking" and final.content[0].signature == ""
    assert final.usage.output_tokens_details is not None
    assert final.usage.output_tokens_details.thinking_tokens == 12

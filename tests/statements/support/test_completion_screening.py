"""Screening the model's completion (gateway.statements.support.completion_screening): its
text in each API, the windows a stream is cut in, and what passes, in process against a
stand-in for Content Safety."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import pytest

from gateway.expressions.model import (
    ContextModel,
    HeaderDictionary,
    MessageBody,
    RequestModel,
    ResponseModel,
)
from gateway.runtime.context import RequestContext
from gateway.runtime.services import Services
from gateway.runtime.step import PolicyError
from gateway.statements.support.completion_screening import CompletionPlan, Windows, completion_text
from gateway.statements.support.content_safety_service import Settings, windows
from tests.fakes.backend_calls import StubTransport

TEXT = (
    "The weather is mild and the sky is clear today. Nothing much happens in the valley, "
    "where the river runs slowly past the old mill and the bakery opens at seven. "
) * 4


def test_a_streamed_answer_is_cut_into_the_windows_of_its_whole_text() -> None:
    for size, overlap in ((50, 10), (7, 0), (100, 99), (len(TEXT), 5)):
        expected = windows(TEXT, size, overlap)
        assert "".join(w[overlap:] if i else w for i, w in enumerate(expected)) == TEXT
        for step in (1, 3, 64, 1000):
            cut = Windows(size, overlap)
            seen = [w for i in range(0, len(TEXT), step) for w in cut.add(TEXT[i : i + step])]
            if last := cut.rest():
                seen.append(last)
            assert seen == expected, (size, overlap, step)
    # Each window holds the `overlap` characters before it: a word cut at a window's end is
    # whole in the next window.
    assert windows("abcdefghij", 4, 2) == ["abcd", "cdefgh", "ghij"]


def test_the_text_of_an_answer_in_each_api_leaves_tool_calls_out() -> None:
    chat = {
        "choices": [
            {"message": {"role": "assistant", "content": "first"}},
            {
                "message": {
                    "content": None,
                    "tool_calls": [{"function": {"arguments": '{"x": "hateword"}'}}],
                }
            },
        ]
    }
    assert completion_text(chat) == "first"
    assert completion_text({"choices": [{"text": "once upon"}, {"text": "a time"}]}) == (
        "once upon\na time"
    )
    claude = {
        "type": "message",
        "content": [
            {"type": "thinking", "thinking": "hateword"},
            {"type": "text", "text": "Hello"},
            {"type": "tool_use", "input": {"q": "hateword"}},
            {"type": "text", "text": "there"},
        ],
    }
    assert completion_text(claude) == "Hello there"
    responses = {
        "output": [
            {"type": "reasoning", "summary": []},
            {"type": "function_call", "arguments": '{"q": "hateword"}'},
            {"type": "message", "content": [{"type": "output_text", "text": "Done."}]},
        ]
    }
    assert completion_text(responses) == "Done."
    assert completion_text({"error": {"message": "x"}}) == completion_text([1]) == ""


def rate(path: str, body: dict) -> tuple[int, bytes]:
    """A Content Safety stand-in: "hateword" is Hate 6, anything else is clean."""
    severity = 6 if "hateword" in body["text"] else 0
    return 200, json.dumps(
        {"categoriesAnalysis": [{"category": "Hate", "severity": severity}]}
    ).encode()


SETTINGS = Settings("cs", False, "FourSeverityLevels", (("Hate", 4),), ())
USAGE = {"prompt_tokens": 5, "completion_tokens": 7, "total_tokens": 12}


def answered(
    answer: dict, status: int = 200, headers: dict[str, str] | None = None
) -> RequestContext:
    body = {"model": "gpt-4o", "messages": [{"role": "user", "content": "hello"}]}
    return RequestContext(
        ContextModel(
            Request=RequestModel(Method="POST", Body=MessageBody(json.dumps(body).encode())),
            Response=ResponseModel(
                StatusCode=status,
                Headers=HeaderDictionary(
                    headers or {"Content-Type": "application/json", "x-upstream": "fake"}
                ),
                Body=MessageBody(json.dumps(answer).encode()),
            ),
        ),
        services=Services(backend_calls=StubTransport(rate)),
    )


def chat_answer(text: str) -> dict:
    return {"choices": [{"message": {"content": text}}], "usage": USAGE}


def test_a_flagged_answer_is_refused_and_its_usage_was_read_first() -> None:
    plan = CompletionPlan(SETTINGS, None, None, "safety")
    clean = answered(chat_answer("A calm answer."))
    asyncio.run(plan.check(clean))
    assert clean.services.backend_calls.calls[0][2]["text"] == "A calm answer."  # type: ignore[union-attr]
    flagged = answered(chat_answer("You are a hateword."))
    with pytest.raises(PolicyError) as blocked:
        asyncio.run(plan.check(flagged))
    error = blocked.value
    assert (error.source, error.reason, error.status, error.policy_id) == (
        "llm-content-safety",
        "ContentSafetyViolation",
        403,
        "safety",
    )
    assert error.message.startswith("The answer was blocked by content safety: category Hate")
    assert "hateword" not in error.message
    assert flagged.usage_read and flagged.usage is not None and flagged.usage.total == 12
    assert flagged.model.Response.Headers.Count == 0  # the refusal is the gateway's


def test_answers_not_to_screen_make_no_call() -> None:
    plan = CompletionPlan(SETTINGS, None, None, None)
    for context in (
        answered(chat_answer("hateword"), status=500),  # an error is no model answer
        answered({"choices": [{"message": {"content": None, "tool_calls": []}}]}),
        answered({"data": [{"embedding": [0.1]}]}),
    ):
        asyncio.run(plan.check(context))
        assert context.services.backend_calls.calls == []  # type: ignore[union-attr]


def test_a_compressed_answer_cannot_be_read_so_it_is_refused() -> None:
    plan = CompletionPlan(SETTINGS, None, None, None)
    context = answered(chat_answer("fine"), headers={"Content-Encoding": "br"})
    with pytest.raises(PolicyError) as failed:
        asyncio.run(plan.check(context))
    assert (failed.value.status, failed.value.reason) == (500, "ContentSafetyServiceError")
    assert context.model.Response.Headers.get("Content-Encoding") is None  # not on the refusal


def test_a_window_size_cuts_a_whole_answer_too() -> None:
    context = answered(chat_answer(TEXT))
    asyncio.run(CompletionPlan(SETTINGS, 100, 10, None).check(context))
    sent = [call[2]["text"] for call in context.services.backend_calls.calls]  # type: ignore[union-attr]
    assert sent == windows(TEXT, 100, 10)


def sse(text: str) -> bytes:
    return (
        b"data: "
        + json.dumps({"choices": [{"index": 0, "delta": {"content": text}}]}).encode()
        + b"\n\n"
    )


def test_a_streamed_answer_passes_a_window_at_a_time_and_stops_at_a_flagged_one() -> None:
    pieces = ["The sky ", "is clear ", "and calm. ", "You are ", "a hatew", "ord, ", "truly. "]
    events: list[str] = []

    async def upstream() -> AsyncIterator[bytes]:
        yield b'data: {"choices":[{"index":0,"delta":{"role":"assistant"}}]}\n\n'
        for piece in pieces:
            events.append(f"upstream {piece!r}")
            event = sse(piece)
            yield event[:9]  # events split across chunks are put together again
            yield event[9:]
        yield b"data: [DONE]\n\n"

    async def scenario() -> RequestContext:
        context = answered({}, headers={"Content-Type": "text/event-stream"})
        context.response_stream = upstream()
        await CompletionPlan(SETTINGS, 20, 5, None).check(context)
        assert context.response_stream is not None
        with pytest.raises(PolicyError) as blocked:
            async for chunk in context.response_stream:
                for line in chunk.split(b"\n\n"):
                    if b"content" in line:
                        events.append(
                            f"client {json.loads(line[6:])['choices'][0]['delta']['content']!r}"
                        )
        assert blocked.value.reason == "ContentSafetyViolation"
        return context

    context = asyncio.run(scenario())
    # Windows of 20 new characters after the 5 before them: "The sky is clear and",
    # "r and" + " calm. You are a hat", "a hat" + "eword, truly. " (flagged). A piece passes
    # once the window its text ends in has passed: "and calm. " ends in the second one.
    assert events == [
        "upstream 'The sky '",
        "upstream 'is clear '",
        "upstream 'and calm. '",
        "client 'The sky '",
        "client 'is clear '",
        "upstream 'You are '",
        "upstream 'a hatew'",
        "client 'and calm. '",
        "client 'You are '",
        "upstream 'ord, '",
        "upstream 'truly. '",
    ]
    sent = [call[2]["text"] for call in context.services.backend_calls.calls]  # type: ignore[union-attr]
    assert sent == windows("".join(pieces), 20, 5)
    assert sent == ["The sky is clear and", "r and calm. You are a hat", "a hateword, truly. "]
    # The cut stream's tokens count: the prompt and what was produced, counted offline.
    assert context.usage_read and context.usage is not None
    assert context.usage.prompt > 0 and context.usage.completion > 0


def test_windows_that_passed_go_out_even_when_the_whole_stream_came_in_one_chunk() -> None:
    pieces = ["The sky ", "is clear ", "and calm. ", "You are ", "a hateword, ", "truly. "]

    async def upstream() -> AsyncIterator[bytes]:
        yield b"".join(sse(piece) for piece in pieces) + b"data: [DONE]\n\n"

    async def scenario() -> list[bytes]:
        context = answered({}, headers={"Content-Type": "text/event-stream"})
        context.response_stream = upstream()
        await CompletionPlan(SETTINGS, 20, 5, None).check(context)
        assert context.response_stream is not None
        received = []
        with pytest.raises(PolicyError):
            async for chunk in context.response_stream:
                received.append(chunk)
        return received

    assert b"".join(asyncio.run(scenario())) == b"".join(sse(piece) for piece in pieces[:4])


def test_an_answer_that_cannot_be_checked_is_a_500() -> None:
    context = answered(chat_answer("fine"))
    context.services = Services(backend_calls=StubTransport(TimeoutError()))
    with pytest.raises(PolicyError) as failed:
        asyncio.run(CompletionPlan(SETTINGS, None, None, "safety").check(context))
    assert (failed.value.status, failed.value.reason) == (500, "Timeout")
    assert context.usage is not None and context.usage.total == 12  # counted all the same

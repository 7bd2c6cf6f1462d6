"""Streamed answers: chunks pass at once; actions that need the whole body run after the last."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from gateway.expressions.model import ContextModel
from gateway.proxy.streaming import pass_through
from gateway.runtime.context import RequestContext


def test_chunks_pass_before_the_after_stream_actions_see_the_whole_body() -> None:
    events: list[str] = []

    async def upstream() -> AsyncIterator[bytes]:
        for part in (b"data: one\n\n", b"data: two\n\n"):
            events.append(f"upstream {part!r}")
            yield part

    async def count_tokens(context: RequestContext) -> None:
        body = context.model.Response.Body
        assert body is not None
        events.append(f"action saw {body.read(preserve=True)!r}")

    async def failing(context: RequestContext) -> None:
        raise RuntimeError("an action's failure never reaches the client")

    async def scenario() -> list[bytes]:
        context = RequestContext(ContextModel())
        context.after_stream += [failing, count_tokens]
        received = []
        async for chunk in pass_through(upstream(), context):
            events.append(f"client {chunk!r}")
            received.append(chunk)
        return received

    assert asyncio.run(scenario()) == [b"data: one\n\n", b"data: two\n\n"]
    assert events == [
        "upstream b'data: one\\n\\n'",
        "client b'data: one\\n\\n'",
        "upstream b'data: two\\n\\n'",
        "client b'data: two\\n\\n'",
        "action saw b'data: one\\n\\ndata: two\\n\\n'",
    ]


def test_without_actions_nothing_is_kept() -> None:
    async def upstream() -> AsyncIterator[bytes]:
        yield b"x"

    async def scenario() -> RequestContext:
        context = RequestContext(ContextModel())
        assert [c async for c in pass_through(upstream(), context)] == [b"x"]
        return context

    assert asyncio.run(scenario()).model.Response.Body is None


def test_the_usage_event_the_gateway_asked_for_is_hidden_however_chunks_split() -> None:
    from gateway.proxy.streaming import UsageChunkFilter

    stream = (
        b'data: {"choices":[{"delta":{"content":"a"}}],"usage":null}\n\n'
        b'data: {"choices":[],"usage":{"prompt_tokens":1,"completion_tokens":1}}\n\n'
        b"data: [DONE]\n\n"
    )
    expected = b'data: {"choices":[{"delta":{"content":"a"}}],"usage":null}\n\ndata: [DONE]\n\n'
    for size in (1, 7, 50, len(stream)):
        hidden = UsageChunkFilter()
        out = b"".join(hidden.feed(stream[i : i + size]) for i in range(0, len(stream), size))
        assert out + hidden.rest() == expected

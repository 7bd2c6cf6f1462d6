"""What a stream's deferred actions read: STREAM_END the stream up to its protocol's end, DONE
all that was kept, each a body of its own. The kept chunks are joined once when none came
after the end (gateway.proxy.streaming), and again when some did: either way the bytes are
those that passed, and the usage is the one the stream reported, parsed once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from gateway.expressions.model import ContextModel
from gateway.proxy.streaming import pass_through
from gateway.runtime.context import Phase, RequestContext

CHUNKS = (
    b'data: {"choices":[{"delta":{"content":"a"}}],"usage":null}\n\n',
    b'data: {"choices":[],"usage":{"prompt_tokens":7,"completion_tokens":2}}\n\n',
    b"data: [DONE]\n\n",
)


async def _upstream(parts: tuple[bytes, ...]) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


def _run(parts: tuple[bytes, ...], hide_usage: bool) -> tuple[bytes, list[str], RequestContext]:
    async def scenario() -> tuple[bytes, list[str], RequestContext]:
        context = RequestContext(ContextModel(), style="openai")
        context.model.Response.Headers.set("Content-Type", ["text/event-stream"])
        context.hide_stream_usage = hide_usage
        seen: list[str] = []

        def stored(done: RequestContext) -> None:  # reads it as a cache would, not preserved
            seen.append(f"end {done.model.Response.Body.read(preserve=False)!r}")

        def logged(done: RequestContext) -> None:
            seen.append(f"done {done.model.Response.Body.read(preserve=True)!r}")

        context.defer(Phase.STREAM_END, stored)
        context.defer(Phase.DONE, logged)
        passed = b"".join([chunk async for chunk in pass_through(_upstream(parts), context)])
        return passed, seen, context

    return asyncio.run(scenario())


@pytest.mark.parametrize("hide_usage", [False, True])
@pytest.mark.parametrize("after", [(), (b": the upstream kept its body open\n\n",)])
def test_the_phases_read_what_was_kept_at_the_end_and_at_the_last_byte(
    after: tuple[bytes, ...], hide_usage: bool
) -> None:
    passed, seen, context = _run(CHUNKS + after, hide_usage)
    whole = b"".join(CHUNKS)
    assert passed == (whole.replace(CHUNKS[1], b"") if hide_usage else whole) + b"".join(after)
    assert seen == [f"end {whole!r}", f"done {whole + b''.join(after)!r}"]
    usage = context.usage
    assert usage is not None and (usage.prompt, usage.completion, usage.model) == (7, 2, "")


@pytest.mark.parametrize("after", [(), (b": the upstream kept its body open\n\n",)])
def test_with_no_action_for_stream_end_its_turn_makes_nothing_and_done_reads_all(
    after: tuple[bytes, ...],
) -> None:
    async def scenario() -> tuple[list[object], list[bytes], RequestContext]:
        context = RequestContext(ContextModel(), style="openai")
        context.model.Response.Headers.set("Content-Type", ["text/event-stream"])
        seen: list[bytes] = []
        context.defer(
            Phase.DONE, lambda done: seen.append(done.model.Response.Body.read(preserve=True))
        )
        bodies: list[object] = []  # the response's body as each chunk passes
        async for _ in pass_through(_upstream(CHUNKS + after), context):
            bodies.append(context.model.Response.Body)
        return bodies, seen, context

    bodies, seen, context = asyncio.run(scenario())
    assert bodies == [None] * len(CHUNKS + after)  # no body made at the protocol's end
    assert seen == [b"".join(CHUNKS + after)]
    assert Phase.STREAM_END not in context.deferred and context.usage is not None

"""Streamed answers: chunks pass at once; actions that need the whole body run after the last;
a stream that does not complete ends with an error event, and one that breaks off counts
against its backend's circuit breaker."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import openai
import pytest

from gateway.config.backends import Backend, BreakerRule, CircuitBreaker, FailureCondition
from gateway.expressions.model import ApiModel, ContextModel, MessageBody, OperationModel
from gateway.proxy.streaming import StreamReading, pass_through
from gateway.routing.breakers import Breakers
from gateway.runtime.context import Phase, RequestContext
from gateway.runtime.forwarding import StreamBroken
from gateway.runtime.services import Services
from gateway.runtime.step import PolicyError
from gateway.stores.memory import MemoryCounters
from gateway.tokens.tokenizer import count_text
from tests.proxy.processes import chat_calls, fake_provider, free_port, inject_faults, serving


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
        context.defer(Phase.STREAM_END, failing)
        context.defer(Phase.STREAM_END, count_tokens)
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
    stream = (
        b'data: {"choices":[{"delta":{"content":"a"}}],"usage":null}\n\n'
        b'data: {"choices":[],"usage":{"prompt_tokens":1,"completion_tokens":1}}\n\n'
        b"data: [DONE]\n\n"
    )
    expected = b'data: {"choices":[{"delta":{"content":"a"}}],"usage":null}\n\ndata: [DONE]\n\n'
    for size in (1, 7, 50, len(stream)):
        hidden = StreamReading(protocol=False, hide_usage=True)
        out = b"".join(hidden.feed(stream[i : i + size]) for i in range(0, len(stream), size))
        assert out + hidden.close() == expected


def test_a_streams_usage_is_read_as_it_passes_and_the_kept_body_is_whole() -> None:
    usage = b'data: {"choices":[],"usage":{"prompt_tokens":7,"completion_tokens":2}}\n\n'
    parts = (b'data: {"choices":[{"delta":{"content":"a"}}],"usage":null}\n\n', usage)

    async def scenario() -> tuple[list[bytes], RequestContext, list[object]]:
        context = RequestContext(ContextModel(), style="openai")
        context.model.Response.Headers.set("Content-Type", ["text/event-stream"])
        context.hide_stream_usage = True
        seen: list[object] = []

        async def settle(done: RequestContext) -> None:
            seen.append((done.usage, done.model.Response.Body.read(preserve=True)))

        context.defer(Phase.DONE, settle)
        upstream = _stream_of(*parts, b"data: [DONE]\n\n")
        return [c async for c in pass_through(upstream, context)], context, seen

    received, context, seen = asyncio.run(scenario())
    assert b"".join(received) == parts[0] + b"data: [DONE]\n\n"  # the client's stream
    assert context.usage_read and seen == [(context.usage, b"".join(parts) + b"data: [DONE]\n\n")]
    assert context.usage is not None and (context.usage.prompt, context.usage.completion) == (7, 2)


# ------------------------------------------------------------------ a stream that does not complete


def _stream_of(*parts: bytes, then: BaseException | None = None) -> AsyncIterator[bytes]:
    async def upstream() -> AsyncIterator[bytes]:
        for part in parts:
            yield part
        if then is not None:
            raise then

    return upstream()


class Counted:
    """Metrics that remember what was added."""

    def __init__(self) -> None:
        self.added: list[tuple[str, float, dict[str, str]]] = []

    def add(self, namespace: str, name: str, value: float, dimensions: dict[str, str]) -> None:
        self.added.append((name, value, dict(dimensions)))


def _context(operation: str = "ChatCompletions_Create") -> tuple[RequestContext, Counted]:
    metrics = Counted()
    model = ContextModel(
        Api=ApiModel(Id="chat"), Operation=OperationModel(Id=operation, Name=operation)
    )
    style = "anthropic" if operation.startswith("Messages_") else "openai"
    context = RequestContext(model, style=style, services=Services(metrics=metrics))  # type: ignore[arg-type]
    context.backend = "east"
    return context, metrics


def test_a_policy_that_stops_a_stream_ends_it_with_its_reason_in_the_clients_format() -> None:
    blocked = PolicyError(
        "llm-content-safety",
        "ContentSafetyViolation",
        "The answer was blocked by content safety: category Hate has severity 6.",
        status=403,
    )

    async def scenario(operation: str) -> tuple[list[bytes], RequestContext, Counted]:
        context, metrics = _context(operation)
        chunks = _stream_of(b'data: {"choices":[{"delta":{"content":"fine"}}]}\n\n', then=blocked)
        return [c async for c in pass_through(chunks, context)], context, metrics

    received, context, metrics = asyncio.run(scenario("ChatCompletions_Create"))
    assert received[0].startswith(b'data: {"choices"')
    error = json.loads(received[-1].removeprefix(b"data: "))["error"]
    assert (error["type"], error["code"]) == ("policy_error", "ContentSafetyViolation")
    assert b"[DONE]" not in b"".join(received)
    assert context.stream_error == (
        "llm-content-safety (ContentSafetyViolation): The answer was blocked by content "
        "safety: category Hate has severity 6."
    )
    assert metrics.added == [
        (
            "stream_failures",
            1,
            {"API ID": "chat", "Backend ID": "east", "reason": "ContentSafetyViolation"},
        )
    ]
    anthropic, _, _ = asyncio.run(scenario("Messages_Create"))
    name, data = anthropic[-1].split(b"\n", 1)
    assert name == b"event: error"
    assert json.loads(data.removeprefix(b"data: "))["error"]["type"] == "permission_error"


def test_an_upstream_cut_short_is_counted_with_the_reason_the_breaker_gets() -> None:
    async def scenario() -> tuple[list[bytes], Counted]:
        context, metrics = _context()
        chunks = _stream_of(b"data: {}\n\n", then=StreamBroken("reset by peer"))
        return [c async for c in pass_through(chunks, context)], metrics

    received, metrics = asyncio.run(scenario())
    assert b'"code": "stream_broken"' in received[-1] and b'"upstream_error"' in received[-1]
    assert metrics.added[0][2]["reason"] == "BackendConnectionFailure"


def test_a_broken_stream_still_counts_the_tokens_it_used() -> None:
    """OpenAI-style streams report usage only at their end: one cut short is counted offline,
    its prompt and the text it produced; an Anthropic stream's own input count is kept."""
    request = {"model": "gpt-4o", "messages": [{"role": "user", "content": "Tell me a story."}]}

    async def scenario(operation: str, *events: bytes) -> RequestContext:
        context, _ = _context(operation)
        context.model.Request.Body = MessageBody(json.dumps(request).encode())
        seen: list[object] = []

        async def account(done: RequestContext) -> None:
            seen.append(done.usage)

        context.defer(Phase.DONE, account)
        chunks = _stream_of(*events, then=StreamBroken("reset by peer"))
        _ = [c async for c in pass_through(chunks, context)]
        assert seen == [context.usage]  # what the accounting and the access log read
        return context

    openai_style = asyncio.run(
        scenario(
            "ChatCompletions_Create",
            b'data: {"choices":[{"index":0,"delta":{"content":"Once upon a time, "}}]}\n\n',
            b'data: {"choices":[{"index":0,"delta":{"content":"there was a gateway"}}]}\n\n',
        )
    )
    assert openai_style.usage is not None
    assert openai_style.usage.prompt > 0
    assert openai_style.usage.completion == count_text(
        "Once upon a time, there was a gateway", "gpt-4o"
    )
    start = {"type": "message_start", "message": {"usage": {"input_tokens": 42}}}
    delta = {"type": "content_block_delta", "delta": {"type": "text_delta", "text": "Once"}}
    anthropic_style = asyncio.run(
        scenario(
            "Messages_Create",
            b"event: message_start\ndata: " + json.dumps(start).encode() + b"\n\n",
            b"event: content_block_delta\ndata: " + json.dumps(delta).encode() + b"\n\n",
        )
    )
    assert anthropic_style.usage is not None
    assert (anthropic_style.usage.prompt, anthropic_style.usage.completion) == (42, 1)


def test_a_broken_stream_already_counted_as_a_call_adds_only_its_failure() -> None:
    rule = BreakerRule(
        failure_condition=FailureCondition(
            interval=60, percentage=50, error_reasons=("BackendConnectionFailure",)
        ),
        trip_duration=60,
    )
    backend = Backend(id="east", circuit_breaker=CircuitBreaker(rules=(rule,)))

    async def scenario() -> float:
        breakers = Breakers({"east": backend}, MemoryCounters())
        for _ in range(4):  # four calls whose headers said 200 ...
            await breakers.record("east", 200, None, None)
        for _ in range(2):  # ... two of which then broke off: 2 of 4 failed, not 2 of 6
            await breakers.record("east", None, "BackendConnectionFailure", None, counted=True)
        await breakers.record("east", 200, None, None)  # a fifth call: 2 of 5 (40 %) stays closed
        closed = await breakers.open_for("east")
        assert closed == 0
        await breakers.record("east", None, "BackendConnectionFailure", None, counted=True)
        return await breakers.open_for("east")  # 3 of 5: open

    assert asyncio.run(scenario()) > 0


def _breaker_gateway(root: Path, port: int, backend: str, count: int) -> None:
    """A gateway.yaml: one backend at `port` whose breaker trips at `count` broken calls."""
    rule = f"{{count: {count}, interval: 60, error-reasons: [BackendConnectionFailure]}}"
    (root / "gateway.yaml").write_text(
        f"""
backends:
  {backend}:
    url: "http://127.0.0.1:{port}/v1"
    circuit-breaker:
      rules:
        - failure-condition: {rule}
          trip-duration: 60
apis:
  chat: {{path: chat, style: openai, backend: {backend}, subscription-required: false}}
"""
    )


def test_a_member_whose_streams_break_trips_its_breaker(tmp_path: Path) -> None:
    """Streams reset after their first chunk are failures of the backend (reason
    BackendConnectionFailure): two within the interval trip a count-2 rule, and the next call
    gets APIM's 503 without reaching the backend."""
    port = free_port()
    _breaker_gateway(tmp_path, port, "flaky", count=2)
    with fake_provider(port), serving(tmp_path) as gateway:
        inject_faults(port, mode="reset")
        client = openai.OpenAI(base_url=f"{gateway}/chat", api_key="-", max_retries=0)
        for _ in range(2):
            stream = client.chat.completions.create(
                model="m", messages=[{"role": "user", "content": "hi"}], stream=True
            )
            with pytest.raises(openai.APIError, match="broke off"):
                list(stream)
        assert chat_calls(port) == 2
        inject_faults(port, mode="ok")
        refused = httpx.post(
            f"{gateway}/chat/chat/completions",
            json={"model": "m", "messages": [{"role": "user", "content": "hi"}]},
        )
        assert refused.status_code == 503
        assert refused.json()["message"] == "Backend flaky is temporarily unavailable"
        assert chat_calls(port) == 2  # the open breaker kept the call away


def test_a_stream_that_ends_well_does_not_count_against_the_breaker(tmp_path: Path) -> None:
    port = free_port()
    _breaker_gateway(tmp_path, port, "steady", count=1)
    with fake_provider(port), serving(tmp_path) as gateway:
        client = openai.OpenAI(base_url=f"{gateway}/chat", api_key="-", max_retries=0)
        for _ in range(2):
            chunks = client.chat.completions.create(
                model="m",
                messages=[{"role": "user", "content": "hi"}],
                stream=True,
                extra_headers={"x-fake-answer": "all is well"},
            )
            assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == (
                "all is well"
            )


def test_a_stream_longer_than_the_retention_limit_is_passed_but_not_kept() -> None:
    """An upstream decides a stream's length: beyond `retain` bytes nothing more is kept, so
    no cache keeps it (STREAM_END does not run), while DONE still runs with its usage."""
    event = b'data: {"choices":[{"index":0,"delta":{"content":"word "}}]}\n\n'
    usage = b'data: {"choices":[],"usage":{"prompt_tokens":5,"completion_tokens":3}}\n\n'
    parts = [event] * 100 + [usage, b"data: [DONE]\n\n"]
    ran: list[str] = []

    async def scenario() -> tuple[list[bytes], RequestContext, Counted]:
        context, metrics = _context()
        context.model.Response.Headers.set("Content-Type", ["text/event-stream"])

        async def store(done: RequestContext) -> None:
            ran.append("stream-end")

        async def done(done: RequestContext) -> None:
            ran.append("done")

        context.defer(Phase.STREAM_END, store)
        context.defer(Phase.DONE, done)
        passed = [c async for c in pass_through(_stream_of(*parts), context, retain=1000)]
        return passed, context, metrics

    passed, context, metrics = asyncio.run(scenario())
    assert b"".join(passed) == b"".join(parts)  # the client gets it whole
    assert ran == ["done"]  # not kept, not cached
    assert context.model.Response.Body is None
    assert context.streamed_bytes == len(b"".join(parts))
    assert context.usage is not None and context.usage.total == 8  # read as it passed
    assert [name for name, _, _ in metrics.added] == ["streams_over_retention"]


def test_a_stream_whose_task_is_cancelled_still_runs_what_follows_it() -> None:
    """uvicorn's shutdown cancels a request's task once: the upstream is closed and the
    after-stream actions run (awaiting as they please) all the same."""
    closed: list[bool] = []

    async def upstream() -> AsyncIterator[bytes]:
        try:
            yield b"data: one\n\n"
            await asyncio.Event().wait()  # the next chunk never comes
            yield b"data: two\n\n"
        finally:
            await asyncio.sleep(0)
            closed.append(True)

    async def scenario() -> tuple[list[bytes], list[object]]:
        context, _ = _context()
        seen: list[object] = []

        async def settle(done: RequestContext) -> None:
            await asyncio.sleep(0)
            seen.append(done.model.Response.Body.read(preserve=True))

        context.defer(Phase.DONE, settle)
        received: list[bytes] = []

        async def serve() -> None:
            async for chunk in pass_through(upstream(), context):
                received.append(chunk)

        task = asyncio.ensure_future(serve())
        while not received:
            await asyncio.sleep(0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return received, seen

    received, seen = asyncio.run(scenario())
    assert received == [b"data: one\n\n"]
    assert closed == [True] and seen == [b"data: one\n\n"]

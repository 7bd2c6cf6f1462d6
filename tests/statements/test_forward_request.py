"""forward-request: what it hands the transport."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from gateway.expressions.model import ContextModel
from gateway.runtime.context import RequestContext
from gateway.runtime.forwarding import ForwardOptions
from tests.policies import compile_policy


class RecordingTransport:
    """Remembers the body forward-request handed over: bytes, or still a stream."""

    def __init__(self) -> None:
        self.body: bytes | None = None
        self.streamed = False

    async def forward(self, context: RequestContext, options: ForwardOptions) -> None:
        request = context.model.Request
        self.body = request.Body.read(preserve=True) if request.Body is not None else None
        self.streamed = context.request_stream is not None


def test_buffer_request_body_holds_a_streamed_body_whole() -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for part in (b"a" * 70_000, b"b"):
            yield part

    for attribute, expected in (('buffer-request-body="true"', True), ("", False)):
        policy = compile_policy(
            f"<policies><backend><forward-request {attribute} /></backend></policies>"
        )
        transport = RecordingTransport()
        context = RequestContext(ContextModel(), forward=transport.forward, request_stream=chunks())
        asyncio.run(policy.backend.run(context))
        assert (transport.body == b"a" * 70_000 + b"b") is expected
        assert transport.streamed is not expected

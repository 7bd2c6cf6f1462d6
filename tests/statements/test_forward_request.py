"""forward-request: what it hands the transport."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from gateway.expressions.model import ContextModel, MessageBody, RequestModel
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


def test_buffer_request_body_leaves_a_body_already_whole_as_it_is() -> None:
    policy = compile_policy(
        '<policies><backend><forward-request buffer-request-body="true" /></backend></policies>'
    )
    transport = RecordingTransport()
    request = RequestModel(Body=MessageBody(b"whole"))
    context = RequestContext(ContextModel(Request=request), forward=transport.forward)
    asyncio.run(policy.backend.run(context))
    assert (transport.body, transport.streamed) == (b"whole", False)


class OptionsTransport:
    """Remembers the options forward-request handed over on each call."""

    def __init__(self) -> None:
        self.options: list[ForwardOptions] = []

    async def forward(self, context: RequestContext, options: ForwardOptions) -> None:
        self.options.append(options)


def test_timeouts_written_as_numbers_or_expressions_give_the_same_options() -> None:
    # Numbers are read once, when the policy is compiled; expressions on every call.
    cases = {
        "": 300.0,
        'timeout="5"': 5.0,
        'timeout-ms="1500"': 1.5,
        'timeout="@(2 + 3)"': 5.0,
        'timeout-ms="@(750 * 2)"': 1.5,
        'timeout="@((int)context.Variables[&quot;t&quot;])"': 7.0,
    }
    for attributes, seconds in cases.items():
        policy = compile_policy(
            f"<policies><backend><forward-request {attributes} follow-redirects="
            '"true" buffer-response="false" /></backend></policies>'
        )
        transport = OptionsTransport()
        for _ in range(2):
            context = RequestContext(ContextModel(), forward=transport.forward)
            context.variables["t"] = 7
            asyncio.run(policy.backend.run(context))
        expected = ForwardOptions(seconds, True, False, False)
        assert transport.options == [expected, expected], attributes

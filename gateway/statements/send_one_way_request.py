"""`send-one-way-request`: call another service and go on without waiting for its response.

The call runs as a background task of the gateway process; its failure is logged (never
the request's problem, as in APIM) and its response is dropped.
"""

from __future__ import annotations

import asyncio
import logging

from gateway.policy.compiling import CompileContext
from gateway.policy.spec import POLICY_ID, AttributeSpec, Kind, StatementSpec
from gateway.policy.tree import Node
from gateway.runtime.context import RequestContext
from gateway.runtime.step import LocalReply, Step
from gateway.statements.send_request import MODE, REQUEST_CHILDREN, request_builder

log = logging.getLogger("aigw.policy")

# Keep a reference to every call in flight: the event loop holds tasks only weakly.
_IN_FLIGHT: set[asyncio.Task[None]] = set()


def compile_send_one_way_request(node: Node, context: CompileContext) -> Step:
    build = request_builder(node, context, "send-one-way-request")
    timeout = context.integer(node.attr("timeout"), 60)

    async def send_one_way_request(request: RequestContext) -> LocalReply | None:
        outgoing = await build(request)  # the URL check and the token fetch fail the request
        side_calls = request.services.side_calls
        assert side_calls is not None  # build() checked

        async def send() -> None:
            try:
                await side_calls.send(
                    outgoing.method, outgoing.url, outgoing.headers, outgoing.body, timeout
                )
            except (TimeoutError, ConnectionError) as error:
                log.warning("send-one-way-request to %s failed: %s", outgoing.url, error)

        task = asyncio.ensure_future(send())
        _IN_FLIGHT.add(task)
        task.add_done_callback(_IN_FLIGHT.discard)
        return None

    return send_one_way_request


SPEC = StatementSpec(
    names=("send-one-way-request",),
    summary="Sends a request without waiting for its response.",
    attributes=(
        POLICY_ID,
        MODE,
        AttributeSpec("timeout", Kind.INT, default="60", minimum=1, expression=False),
    ),
    children=REQUEST_CHILDREN,
    compile=compile_send_one_way_request,
)

"""`retry`: run its children, then again while `condition` holds, up to `count` more times.

As APIM runs it: the condition is evaluated after each run of the children (so it can read
the response a nested forward-request got); every child runs again on every attempt (so a
`set-backend-service` to a pool picks a member again); an error a child raises (a timeout, a
failed connection) leaves the loop for on-error. The wait before attempt n (n = 1 for the
first retry) is:

- `interval` alone: `interval` every time;
- with `delta`: `interval + (n - 1) * delta`;
- with `delta` and `max-interval`: `interval + (2^n - 1) * delta * random(0.8, 1.2)`, capped
  at `max-interval`;
- `first-fast-retry="true"`: the first retry does not wait.

The request body is buffered (the statement reads it), so each attempt can send it again. A
streamed response from an attempt that is retried is closed before the next attempt.
"""

from __future__ import annotations

import asyncio
import random
from contextlib import suppress

from gateway.policy.compiling import CompileContext
from gateway.policy.spec import POLICY_ID, AttributeSpec, Kind, StatementSpec
from gateway.policy.tree import Node
from gateway.runtime.context import RequestContext
from gateway.runtime.step import LocalReply, PolicyError, Step
from gateway.statements.support.numeric import whole_number


def wait_before(attempt: int, interval: int, delta: int | None, cap: int | None) -> float:
    """Seconds to wait before retry number `attempt` (1 for the first retry)."""
    if delta is None:
        return float(interval)
    if cap is None:
        return float(interval + (attempt - 1) * delta)
    grown = interval + (2**attempt - 1) * delta * random.uniform(0.8, 1.2)
    return float(min(grown, cap))


def compile_retry(node: Node, context: CompileContext) -> Step:
    children = context.chain(node.children)
    condition = context.condition(node.attr("condition"), False)
    count = context.value(node.attr("count"), "0")
    interval = context.value(node.attr("interval"), "0")
    given_delta, given_cap = node.attr("delta"), node.attr("max-interval")
    delta = context.value(given_delta) if given_delta is not None else None
    cap = context.value(given_cap) if given_cap is not None else None
    first_fast = context.condition(node.attr("first-fast-retry"), False)
    source, policy_id = node.tag, node.attr_text("id")

    def number(value: object, what: str) -> int:
        return whole_number(value, what, source, policy_id)

    # A count written as a number (the usual case) is read once here, not on every run; an
    # expression, or a literal that is no number (its error raised on each run, as before),
    # is read on each run.
    fixed: int | None = None
    given = node.attr("count")
    if given is not None and not given.is_expression:
        with suppress(PolicyError):
            fixed = number(context.literal(given), "count")

    async def retry(request: RequestContext) -> LocalReply | None:
        retries = fixed if fixed is not None else number(count(request), "count")
        attempt = 0
        while True:
            reply = await children.run(request)
            if reply is not None or attempt >= retries or not condition(request):
                return reply
            attempt += 1
            if request.response_stream is not None:  # this response is not the one sent
                stream, request.response_stream = request.response_stream, None
                aclose = getattr(stream, "aclose", None)
                if aclose is not None:
                    await aclose()
            if attempt == 1 and first_fast(request):
                continue
            seconds = wait_before(
                attempt,
                number(interval(request), "interval"),
                number(delta(request), "delta") if delta is not None else None,
                number(cap(request), "max-interval") if cap is not None else None,
            )
            if seconds > 0:
                await asyncio.sleep(seconds)

    return retry


SPEC = StatementSpec(
    names=("retry",),
    summary="Runs its children, then again up to `count` times while `condition` is true.",
    attributes=(
        POLICY_ID,
        AttributeSpec("condition", Kind.BOOL, required=True),
        AttributeSpec("count", Kind.INT, required=True, minimum=1, maximum=50),
        AttributeSpec("interval", Kind.INT, required=True, minimum=0),
        AttributeSpec("max-interval", Kind.INT, minimum=0),
        AttributeSpec("delta", Kind.INT, minimum=0),
        AttributeSpec("first-fast-retry", Kind.BOOL, default="false"),
    ),
    holds_statements=True,
    compile=compile_retry,
    reads_request_body=True,  # so that every attempt can send the body again
)

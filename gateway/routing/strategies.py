"""The pool strategies that use several members for one call: `fallback` and `race`.

`fallback`: the members in their declared order (those with an open breaker skipped); a 429,
a 5xx, a timeout or a failed connection moves on to the next member at once, without waiting
for a breaker to trip; the client gets the first good response, or the last member's response
when none was good.

`race`: the first `race-count` usable members are asked, at once or each `hedge-delay` after
the one before; the first good response wins and the others are cancelled. What a cancelled
call consumed is accounted as hedging cost: its prompt (counted offline) at the member's
input price, which providers bill once a request has reached them.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable

from gateway.expressions.model import HeaderDictionary, ResponseModel
from gateway.runtime.context import RequestContext
from gateway.runtime.step import PolicyError

Attempt = Callable[[RequestContext, str], Awaitable[None]]
RETRYABLE_REASONS = frozenset({"Timeout", "BackendConnectionFailure"})


def good(context: RequestContext) -> bool:
    status = context.model.Response.StatusCode
    return status != 429 and status < 500


async def discard(context: RequestContext) -> None:
    """Drop a response that will not be sent (close its stream)."""
    stream, context.response_stream = context.response_stream, None
    aclose = getattr(stream, "aclose", None)
    if aclose is not None:
        await aclose()


async def fallback(members: list[str], context: RequestContext, attempt: Attempt) -> None:
    for index, member in enumerate(members):
        last = index == len(members) - 1
        try:
            await attempt(context, member)
        except PolicyError as error:
            if last or error.reason not in RETRYABLE_REASONS:
                raise
            continue
        if good(context) or last:
            return
        await discard(context)


def fork(context: RequestContext) -> RequestContext:
    """A copy of the request for one racing attempt, with a response of its own."""
    response = ResponseModel(Headers=HeaderDictionary())
    model = dataclasses.replace(context.model, Response=response)
    return dataclasses.replace(
        context, model=model, attempts=[], response_stream=None, upstream_seconds=0.0
    )


async def race(
    members: list[str],
    count: int,
    hedge_delay: float,
    context: RequestContext,
    attempt: Attempt,
) -> list[str]:
    """Race the first `count` members; returns the members whose calls were cancelled or
    discarded after reaching them (for the hedging cost)."""
    chosen = members[:count]
    copies = [fork(context) for _ in chosen]
    sent: set[int] = set()

    async def run(index: int) -> int:
        if index and hedge_delay:
            await asyncio.sleep(hedge_delay * index)
        sent.add(index)
        await attempt(copies[index], chosen[index])
        return index

    tasks = [asyncio.create_task(run(index)) for index in range(len(chosen))]
    winner: int | None = None
    finished: list[int] = []
    failure: BaseException | None = None
    pending = set(tasks)
    while pending and winner is None:
        done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
        for task in done:
            if task.exception() is not None:
                failure = failure or task.exception()
                continue
            index = task.result()
            finished.append(index)
            if winner is None and good(copies[index]):
                winner = index
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    if winner is None and finished:
        winner = finished[-1]  # nobody responded well: the last response stands
    for index, copy in enumerate(copies):
        if index in sent and not copy.attempts:  # sent, then cancelled before it answered
            copy.attempts.append(f"{chosen[index]}:cancelled")
        context.attempts += copy.attempts
        if index != winner:
            await discard(copy)
    if winner is None:
        assert failure is not None
        raise failure
    won = copies[winner]
    context.model.Response = won.model.Response
    context.response_stream = won.response_stream
    context.backend_member = won.backend_member
    context.upstream_seconds += won.upstream_seconds  # the winner's wait is the request's
    return [chosen[index] for index in sorted(sent) if index != winner]

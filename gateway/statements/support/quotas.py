"""What quota and quota-by-key share: calls and kilobytes per window under a counter key,
counted once per request, and APIM's 403 when a quota is spent.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from gateway.expressions.values import format_timespan
from gateway.runtime.context import Phase, RequestContext
from gateway.runtime.step import PolicyError
from gateway.statements.support.counter_store import StoreGuard, now, seconds_left, store_of
from gateway.stores.counters import Change, Count, Window


def quota_exceeded(source: str, what: str, count: Count) -> PolicyError:
    """403, as APIM responds to a spent quota: `what` is "call volume" or "bandwidth"."""
    wait = seconds_left(count)
    when = format_timespan(timedelta(seconds=wait)) if wait else "never"
    return PolicyError(
        source,
        "QuotaExceeded",
        f"Out of {what} quota. Quota will be replenished in {when}.",
        status=403,
        headers=[("Retry-After", str(wait))] if wait else [],
    )


def kilobytes(request: RequestContext) -> int:
    """The request's and the response's bodies, in whole kilobytes (rounded up): a streamed
    response's bytes as they passed, though it was too large to keep."""
    model = request.model
    size = 0
    for body in (model.Request.Body, model.Response.Body):
        if body is not None:
            size += len(body.read(preserve=True))
    if model.Response.Body is None:
        size += request.streamed_bytes
    return math.ceil(size / 1024)


class CountedKeys(set[str]):
    """The quota counters this request has counted already: APIM counts a key once per
    request, however many scopes' quotas name it."""


@dataclass(frozen=True, slots=True)
class Quota:
    """Calls and/or kilobytes per window under one counter key (quota, quota-by-key)."""

    guard: StoreGuard
    calls: int | None
    kilobytes: int | None
    window: Window

    @property
    def source(self) -> str:
        return self.guard.source

    async def enforce(
        self,
        request: RequestContext,
        key: str,
        count_now: bool,
        condition: Callable[[RequestContext], bool],
        amount: Callable[[RequestContext], int],
    ) -> None:
        """403 if a quota is spent; count this call now (`count_now`) or when it completes.

        Bandwidth is counted when the call completes (it needs the response's size), as is a
        call whose increment-condition or -count reads the response.
        """
        calls_key, bandwidth_key = "quota-calls:" + key, "quota-kb:" + key
        counted = request.state.setdefault(CountedKeys)
        # Both counters checked (and the call counted, when it counts now) in one store call.
        changes: list[Change] = []
        # (what is limited, the count at which it is spent; None: taken, refused if over)
        spent: list[tuple[str, int | None]] = []
        if self.calls is not None and calls_key not in counted:  # once per request
            if count_now and condition(request):
                counted.add(calls_key)
                changes.append(Change(calls_key, amount(request), self.window, self.calls))
                spent.append(("call volume", None))
            else:
                changes.append(Change(calls_key, 0, self.window))
                spent.append(("call volume", self.calls))
        if self.kilobytes is not None:
            changes.append(Change(bandwidth_key, 0, self.window))
            spent.append(("bandwidth", self.kilobytes))
        if changes:
            counts = await self.guard.check(request, store_of(request).apply(changes, now()))
            for (what, limit), count in zip(spent, counts or (), strict=False):
                refused = not count.allowed if limit is None else count.value >= limit
                if refused:
                    raise quota_exceeded(self.source, what, count)

        def counted_when_done(done: RequestContext) -> list[Change]:
            later = []
            if self.calls is not None and not count_now and calls_key not in counted:
                counted.add(calls_key)
                later.append(Change(calls_key, amount(done), self.window))
            if self.kilobytes is not None and bandwidth_key not in counted:
                counted.add(bandwidth_key)
                later.append(Change(bandwidth_key, kilobytes(done), self.window))
            return later

        async def count_when_done(done: RequestContext) -> None:
            if condition(done):  # counted behind the response: the client does not wait
                self.guard.add_later(done, counted_when_done(done))

        if self.kilobytes is not None or not count_now:
            request.defer(Phase.DONE, count_when_done)

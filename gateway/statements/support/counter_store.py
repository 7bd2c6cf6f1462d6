"""Where the limit statements count: the request's counter store, the clock, and what a limit
does when its store cannot be reached (`StoreGuard`).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from gateway.policy.compiling import CompileContext
from gateway.policy.tree import Node
from gateway.runtime.context import RequestContext
from gateway.runtime.step import PolicyError
from gateway.stores.counters import Change, Count, CounterStore, StoreUnavailable
from gateway.stores.memory import MemoryCounters

log = logging.getLogger("aigw.limits")

WARN_EVERY = 60.0  # seconds between warnings about an unreachable store
_last_warning = -WARN_EVERY

# A request context without a gateway (tests, `aigw` tools) counts in this process.
_LOCAL = MemoryCounters()

Counted = TypeVar("Counted", Count, list[Count])


def store_of(request: RequestContext) -> CounterStore:
    return request.services.counters or _LOCAL


@dataclass(frozen=True, slots=True)
class StoreGuard:
    """What a limit does when its counter store cannot be reached.

    Fail open (APIM's behaviour and the default) lets the call through; fail closed refuses it
    with 503 until the store responds again. Either way the `aigw.store_failures` metric counts
    it and the log says so once a minute. The statement's `on-store-failure` attribute decides,
    else gateway.yaml's `limits.on-store-failure`.
    """

    source: str
    mode: str | None = None  # "open" or "closed"; None: the gateway's setting

    @classmethod
    def of(cls, source: str, node: Node, context: CompileContext) -> StoreGuard:
        return cls(source, context.literal(node.attr("on-store-failure")))

    async def check(self, request: RequestContext, operation: Awaitable[Counted]) -> Counted | None:
        """The store's count(s); None (let the call pass) or a 503 when it is unreachable."""
        try:
            return await operation
        except StoreUnavailable as error:
            return self.unavailable(request, error)

    def unavailable(self, request: RequestContext, error: StoreUnavailable) -> None:
        """What `check` does when the store failed: None (let the call pass), or raise a 503.
        (For a caller awaiting the store itself: one coroutine fewer than `check`.)"""
        closed = (self.mode or request.services.on_store_failure) == "closed"
        self._failed(request, "refused" if closed else "allowed", error)
        if closed:
            raise PolicyError(
                self.source,
                "CounterStoreUnavailable",
                "The limit cannot be checked: its counter store is unreachable.",
                status=503,
                headers=[("Retry-After", "1")],
            ) from None

    def add_later(self, request: RequestContext, changes: Sequence[Change]) -> None:
        """Count after the call without the client waiting for the store (it writes behind);
        when the store is unreachable the amounts are lost (and said)."""
        for change in changes:  # a loop, not `any` over a generator: per request
            if change.amount:
                store_of(request).add_later(
                    changes, now(), lambda error: self._failed(request, "uncounted", error)
                )
                return

    def _failed(self, request: RequestContext, outcome: str, error: StoreUnavailable) -> None:
        metrics = request.services.metrics
        if metrics is not None:
            metrics.add("aigw", "store_failures", 1, {"statement": self.source, "outcome": outcome})
        global _last_warning
        if time.monotonic() - _last_warning > WARN_EVERY:  # one line a minute, not per request
            _last_warning = time.monotonic()
            verb = "refuses" if outcome == "refused" else "lets through"
            log.warning(
                "%s %s requests: the counter store is unreachable (%s)", self.source, verb, error
            )


def seconds_left(count: Count) -> int:
    """How long a refused call is told to wait, in whole seconds (0: the window never ends)."""
    return 0 if math.isinf(count.retry_after) else max(1, math.ceil(count.retry_after))


def now() -> float:
    return time.time()

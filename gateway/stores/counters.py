"""The counter store contract that every limit statement uses.

A counter is a number under a key inside one window of time. Windows are fixed: a window of
`period` seconds starts at `origin + k * period` (APIM's quota periods are counted from a
start date the same way); `period` 0 means one window that never ends. Every operation is
atomic on its key, so that any number of requests and replicas share one count.

A statement with several counters (tokens per minute and a token quota) checks them all in
one `apply`: atomic over all of them and, on Redis, one round trip. What it counts once the
response is known goes to `add_later`, which the caller does not wait for: the store writes
it behind (Redis: batched with other requests' writes, one script per flush) and `close`
writes what is still pending.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import NamedTuple, Protocol


@dataclass(frozen=True, slots=True)
class Window:
    period: float  # seconds; 0: never renews
    origin: float = 0.0  # epoch seconds where the first window starts
    calendar: str | None = None  # "month" or "year": calendar windows in UTC instead

    def bounds(self, now: float) -> tuple[float, float]:
        """(start, end) of the window holding `now`; end is infinite for period 0."""
        if self.calendar is not None:
            return _calendar_bounds(self.calendar, now)
        if self.period <= 0:
            return self.origin, math.inf
        index = math.floor((now - self.origin) / self.period)
        start = self.origin + index * self.period
        return start, start + self.period


def _calendar_bounds(unit: str, now: float) -> tuple[float, float]:
    moment = datetime.fromtimestamp(now, UTC)
    if unit == "year":
        start = datetime(moment.year, 1, 1, tzinfo=UTC)
        end = datetime(moment.year + 1, 1, 1, tzinfo=UTC)
    else:
        start = datetime(moment.year, moment.month, 1, tzinfo=UTC)
        year, month = divmod(moment.month, 12)
        end = datetime(moment.year + year, month + 1, 1, tzinfo=UTC)
    return start.timestamp(), end.timestamp()


# Count and Change are made per request and per counter: a NamedTuple costs half what a
# frozen dataclass does to make (whose __init__ sets each field through object.__setattr__).


class Count(NamedTuple):
    allowed: bool  # for `consume`: the amount was added; for the others always True
    value: int  # the counter after the operation
    retry_after: float  # seconds until the window renews (math.inf if it never does)


class Change(NamedTuple):
    """One counter's part in `CounterStore.apply` or `add_later`."""

    key: str
    amount: int  # 0: only read the counter
    window: Window
    limit: int | None = None  # None: added whatever the limit


Failed = Callable[["StoreUnavailable"], None]  # told when a write behind could not be made


class CounterStore(Protocol):
    async def apply(self, changes: Sequence[Change], now: float) -> list[Count]:
        """Every change at once, atomically (one round trip): each amount is added unless that
        takes any counter with a limit past it; then nothing is added. A Count per change, in
        order: `allowed` False for each counter the call would take past its limit, `value`
        the counter after the operation. The keys are distinct."""
        ...

    def add_later(self, changes: Sequence[Change], now: float, failed: Failed) -> None:
        """Add `changes` (limits ignored) without making the caller wait; `failed` is told
        if the store could not be reached. `close` writes what is still pending."""
        ...

    async def consume(self, key: str, amount: int, limit: int, window: Window, now: float) -> Count:
        """Add `amount` unless that takes the counter past `limit`; then add nothing."""
        ...

    async def add(self, key: str, amount: int, window: Window, now: float) -> Count:
        """Add `amount` whatever the limit (counting after the fact)."""
        ...

    async def peek(self, key: str, window: Window, now: float) -> Count:
        """The counter as it stands."""
        ...

    async def hold(self, key: str, seconds: float) -> None:
        """Mark `key` for `seconds` from now (a circuit breaker's open state)."""
        ...

    async def held(self, key: str) -> float:
        """Seconds left on `key`'s mark; 0 when it is not marked."""
        ...

    async def close(self) -> None: ...


class StoreUnavailable(Exception):
    """The store cannot be reached; the limit decides whether to fail open or closed."""


def window_key(key: str, window: Window, start: float) -> str:
    """The stored name of a counter in one window. `{...}` keeps it in one Redis Cluster slot."""
    return f"aigw:{{{key}}}:{window.calendar or f'{window.period:g}'}:{start:.0f}"

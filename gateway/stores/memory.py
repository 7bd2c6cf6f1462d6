"""Counters in the gateway process: the embedded default, exact for one process."""

from __future__ import annotations

import time
from collections.abc import Sequence

from gateway.stores.counters import Change, Count, Failed, Window, window_key

SWEEP_EVERY = 10_000  # operations between sweeps of expired counters


class MemoryCounters:
    def __init__(self) -> None:
        self._values: dict[str, tuple[int, float]] = {}  # stored key -> (value, window end)
        self._operations = 0
        self._marks: dict[str, float] = {}  # key -> monotonic time the mark ends
        # key -> (window, start, end, stored key) of the window last used: a key is counted
        # in the same window request after request, whose bounds and stored name (formatted
        # floats) are worked out once per window rather than once per operation.
        self._windows: dict[str, tuple[Window, float, float, str]] = {}

    def _current(self, key: str, window: Window, now: float) -> tuple[str, int, float]:
        known = self._windows.get(key)
        if known is not None and known[0] is window and known[1] <= now < known[2]:
            _, _, end, stored = known
        else:
            start, end = window.bounds(now)
            stored = window_key(key, window, start)
            self._windows[key] = (window, start, end, stored)
        value = self._values.get(stored, (0, end))[0]
        self._operations += 1
        if self._operations % SWEEP_EVERY == 0:
            self._sweep(now)
        return stored, value, end

    def _sweep(self, now: float) -> None:
        for stored in [k for k, (_, end) in self._values.items() if end <= now]:
            del self._values[stored]
        for key in [k for k, (_, _, end, _) in self._windows.items() if end <= now]:
            del self._windows[key]

    async def apply(self, changes: Sequence[Change], now: float) -> list[Count]:
        # No await from the first read to the last write: atomic in the event loop. Plain
        # loops, not comprehensions: a statement has one or two changes, and each
        # comprehension is a call of its own.
        current = []
        admitted = True  # nothing is added unless every counter fits
        for change in changes:
            stored, value, end = self._current(change.key, change.window, now)
            fit = change.limit is None or value + change.amount <= change.limit
            admitted = admitted and fit
            current.append((change.amount, stored, value, end, fit))
        counts = []
        for amount, stored, value, end, fit in current:
            if admitted and amount:
                value += amount
                self._values[stored] = (value, end)
            counts.append(Count(fit, value, _left(end, now)))
        return counts

    def add_later(self, changes: Sequence[Change], now: float, failed: Failed) -> None:
        for change in changes:  # in the process, at once: nothing to wait for
            stored, value, end = self._current(change.key, change.window, now)
            self._values[stored] = (value + change.amount, end)

    async def consume(self, key: str, amount: int, limit: int, window: Window, now: float) -> Count:
        stored, value, end = self._current(key, window, now)
        if value + amount > limit:
            return Count(False, value, _left(end, now))
        self._values[stored] = (value + amount, end)
        return Count(True, value + amount, _left(end, now))

    async def add(self, key: str, amount: int, window: Window, now: float) -> Count:
        stored, value, end = self._current(key, window, now)
        self._values[stored] = (value + amount, end)
        return Count(True, value + amount, _left(end, now))

    async def peek(self, key: str, window: Window, now: float) -> Count:
        _, value, end = self._current(key, window, now)
        return Count(True, value, _left(end, now))

    async def hold(self, key: str, seconds: float) -> None:
        self._marks[key] = time.monotonic() + seconds

    async def held(self, key: str) -> float:
        until = self._marks.get(key)
        if until is None:
            return 0.0
        left = until - time.monotonic()
        if left <= 0:
            del self._marks[key]
            return 0.0
        return left

    async def close(self) -> None:
        self._values.clear()
        self._marks.clear()
        self._windows.clear()


def _left(end: float, now: float) -> float:
    left = end - now  # a window that never ends: inf less now, inf
    return left if left > 0.0 else 0.0

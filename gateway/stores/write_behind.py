"""Counter additions that no request waits for: written behind, merged, one flush at a time.

A limit learns what a call used once its response is known; writing that to Redis before the
client gets the end of its response would make every call wait one more round trip. Instead
the addition is queued here and returns at once. One task writes the queue, LINGER seconds
after something was queued: what comes in meanwhile is merged per counter (amounts summed),
so many requests' additions share one round trip and the queue never holds more than one
entry per counter. A check of a counter takes what is queued for it and writes it in its own
round trip, first (`take`): within a process a check always sees what was counted before it,
and under steady traffic most additions ride on the next check and cost no round trip at
all. `drain` (the store's `close`) writes what is left at once.

A write that fails tells each request that queued part of it (its `Failed`), which counts
and logs the loss as an addition made on the spot would.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from collections.abc import Awaitable, Callable

from gateway.stores.counters import Failed, StoreUnavailable

log = logging.getLogger("aigw.stores")

# stored key -> (amount, milliseconds until its window ends, math.inf: never)
Additions = dict[str, tuple[int, float]]
Write = Callable[[Additions], Awaitable[None]]

# Seconds an addition waits before it is written: for other additions to join it, or for a
# check of its counter to take it along (then it costs no round trip of its own). Other
# replicas see it that much later; this process's own checks see it at once.
LINGER = 0.05


class WriteBehind:
    def __init__(self, write: Write) -> None:
        self._write = write
        self._queued: Additions = {}
        self._failed: list[Failed] = []
        self._task: asyncio.Task[None] | None = None
        self._draining = asyncio.Event()

    def add(self, stored: str, amount: int, expiry: float, failed: Failed) -> None:
        """Queue `amount` for the counter `stored` (its window ends in `expiry` ms)."""
        if amount == 0:
            return
        before, longest = self._queued.get(stored, (0, -math.inf))
        self._queued[stored] = (before + amount, max(longest, expiry))
        self._failed.append(failed)
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._flush())

    def take(self, stored: str, expiry: float) -> tuple[int, float]:
        """What is queued for `stored` (0 if nothing), no longer queued: the caller writes it
        along with its own operation (or gives it back with `put_back`)."""
        return self._queued.pop(stored, (0, expiry))

    def put_back(self, additions: Additions) -> None:
        """Queue again what `take` handed out and could not be written."""
        for stored, (amount, expiry) in additions.items():
            self.add(stored, amount, expiry, _nobody)

    async def _flush(self) -> None:
        try:
            while True:
                await self._linger()
                if not self._queued:  # checks took it all, and wrote it (or told of it)
                    self._failed = []
                    return
                additions, self._queued = self._queued, {}
                failed, self._failed = self._failed, []
                try:
                    await self._write(additions)
                except StoreUnavailable as error:
                    for tell in failed:
                        tell(error)
                except Exception:  # never let the writer die: the next flush tries again
                    log.exception("writing counters behind failed")
        finally:
            self._task = None

    async def _linger(self) -> None:
        """Wait LINGER seconds (none once draining): for more to join, or a check to take it."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._draining.wait(), LINGER)

    async def drain(self) -> None:
        """Write whatever is queued or being written, and return when it is done."""
        self._draining.set()
        while self._task is not None:
            await asyncio.shield(self._task)


def _nobody(error: StoreUnavailable) -> None:
    """Put back after a failed check: that check's failure was counted and said already."""

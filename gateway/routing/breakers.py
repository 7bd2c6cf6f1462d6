"""Circuit breakers per backend, as APIM defines them, with their state in the counter store.

A rule counts a call as failed when its status is in `status-code-ranges` or its error reason
is in `error-reasons` (`Timeout`, `BackendConnectionFailure`: the reasons forward-request
raises; a streamed response that breaks off after its headers is a `BackendConnectionFailure`
too, as a buffered response cut short is). The breaker trips when `count` failures fall within
`interval` (or, with `percentage`, when at least that share of at least `MIN_CALLS` calls
failed), and stays open for `trip-duration`, or for the response's Retry-After when
`accept-retry-after` is set. While it is open, the backend gets no calls: a pool skips it, a
lone backend responds 503.

Counts and the open mark live in the counter store, so replicas sharing Redis agree on which
backend is open. Each replica reads a backend's mark at most once per `REFRESH` seconds (and
knows at once when it trips one itself), so a request does not pay a round trip per member.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from gateway.config.backends import Backend, BreakerRule
from gateway.runtime.forwarding import StreamBroken
from gateway.stores.counters import CounterStore, StoreUnavailable, Window

log = logging.getLogger("aigw.breakers")

REFRESH = 0.5  # seconds a replica trusts its last read of a backend's open mark
MIN_CALLS = 5  # a percentage rule needs this many calls in its interval before it trips


def failed(rule: BreakerRule, status: int | None, reason: str | None) -> bool:
    condition = rule.failure_condition
    if reason is not None and reason in condition.error_reasons:
        return True
    return status is not None and any(
        low <= status <= high for low, high in condition.status_code_ranges
    )


class Breakers:
    def __init__(self, backends: dict[str, Backend], store: CounterStore) -> None:
        self.rules = {
            b.id: b.circuit_breaker.rules for b in backends.values() if b.circuit_breaker.rules
        }
        self.store = store
        self._known: dict[str, tuple[float, float]] = {}  # backend -> (read at, open until)

    async def open_for(self, backend: str) -> float:
        """Seconds until the backend's breaker closes; 0 when it is closed."""
        if backend not in self.rules:
            return 0.0
        now = time.monotonic()
        known = self._known.get(backend)
        if known is None or now - known[0] > REFRESH:
            try:
                left = await self.store.held("breaker:" + backend)
            except StoreUnavailable:
                left = max(known[1] - now, 0.0) if known is not None else 0.0
            known = (now, now + left)
            self._known[backend] = known
        return max(known[1] - now, 0.0)

    def states(self) -> list[tuple[str, bool]]:
        """Each backend with a breaker and whether it is open, as this process last saw it
        (no store call: for the metrics, read at each scrape)."""
        now = time.monotonic()
        return [
            (backend, (known := self._known.get(backend)) is not None and known[1] > now)
            for backend in self.rules
        ]

    async def record(
        self,
        backend: str,
        status: int | None,
        reason: str | None,
        retry_after: float | None,
        *,
        counted: bool = False,
    ) -> None:
        """Count a call's outcome against the backend's rules; trip the breaker if one says so.

        `counted`: the call was counted already, when its headers came (a streamed response that
        broke off later): only its failure is added, so a percentage rule sees it once."""
        for index, rule in enumerate(self.rules.get(backend, ())):
            is_failure = failed(rule, status, reason)
            try:
                await self._record(backend, index, rule, is_failure, retry_after, counted)
            except StoreUnavailable as error:
                log.warning("breaker of %s not updated: %s", backend, error)

    async def _record(
        self,
        backend: str,
        index: int,
        rule: BreakerRule,
        is_failure: bool,
        retry_after: float | None,
        counted: bool = False,
    ) -> None:
        condition = rule.failure_condition
        window = Window(condition.interval)
        now = time.time()
        prefix = f"breaker:{backend}:{index}"
        if not is_failure and counted:
            return
        if condition.percentage is not None:
            calls = prefix + ":calls"
            if counted:
                total = (await self.store.peek(calls, window, now)).value
            else:
                total = (await self.store.add(calls, 1, window, now)).value
        if not is_failure:
            return
        failures = (await self.store.add(prefix + ":failures", 1, window, now)).value
        if condition.percentage is not None:
            trips = total >= MIN_CALLS and failures * 100 >= condition.percentage * total
        else:
            trips = failures >= (condition.count or 1)
        if not trips:
            return
        seconds = rule.trip_duration
        if rule.accept_retry_after and retry_after is not None:
            seconds = retry_after
        await self.store.hold("breaker:" + backend, seconds)
        self._known[backend] = (time.monotonic(), time.monotonic() + seconds)
        log.warning("circuit breaker of %s is open for %.0f s", backend, seconds)


def retry_after_seconds(retry_after: str | None) -> float | None:
    """A Retry-After header's delay: seconds, or an HTTP date."""
    if not retry_after:
        return None
    text = retry_after.strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    return max((when - datetime.now(UTC)).total_seconds(), 0.0)


async def breaking_counted(
    chunks: AsyncIterator[bytes], breakers: Breakers, member: str
) -> AsyncIterator[bytes]:
    """A member's streamed response that breaks off after its headers (counted then as the
    call's outcome) is a failure of that member: `BackendConnectionFailure`, the reason a
    buffered response cut short gets. The client's side is gateway.proxy.streaming's."""
    try:
        async for chunk in chunks:
            yield chunk
    except StreamBroken:
        await breakers.record(member, None, "BackendConnectionFailure", None, counted=True)
        raise
    finally:
        aclose = getattr(chunks, "aclose", None)
        if aclose is not None:
            await aclose()

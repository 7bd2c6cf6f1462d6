"""What the call-limit statements share: the store, the window, the answers APIM gives.

rate-limit and rate-limit-by-key answer 429 with `Retry-After`; quota and quota-by-key answer
403 with `Retry-After` and APIM's "replenished in" text. Headers and variables named by the
statement report the remaining and total calls. When the store cannot be reached the limit
lets the request through (fails open) and says so in the log.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import PurePath

from gateway.expressions.values import format_timespan, to_text
from gateway.policy.compiling import CompileContext
from gateway.policy.tree import Node
from gateway.runtime.context import Phase, RequestContext
from gateway.runtime.step import PolicyError
from gateway.stores.counters import Count, CounterStore, StoreUnavailable, Window
from gateway.stores.memory import MemoryCounters

log = logging.getLogger("aigw.limits")

WARN_EVERY = 60.0  # seconds between warnings about an unreachable store
_last_warning = -WARN_EVERY

# A request context without a gateway (tests, `aigw` tools) counts in this process.
_LOCAL = MemoryCounters()


def store_of(request: RequestContext) -> CounterStore:
    return request.services.counters or _LOCAL


@dataclass(frozen=True, slots=True)
class StoreGuard:
    """What a limit does when its counter store cannot be reached.

    Fail open (APIM's behaviour and the default) lets the call through; fail closed refuses it
    with 503 until the store answers again. Either way the `aigw.store_failures` metric counts
    it and the log says so once a minute. The statement's `on-store-failure` attribute decides,
    else gateway.yaml's `limits.on-store-failure`.
    """

    source: str
    mode: str | None = None  # "open" or "closed"; None: the gateway's setting

    @classmethod
    def of(cls, source: str, node: Node, context: CompileContext) -> StoreGuard:
        return cls(source, context.literal(node.attr("on-store-failure")))

    async def check(self, request: RequestContext, operation: Awaitable[Count]) -> Count | None:
        """The store's answer; None (let the call pass) or a 503 when it is unreachable."""
        try:
            return await operation
        except StoreUnavailable as error:
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
            return None

    async def count(self, request: RequestContext, operation: Awaitable[Count]) -> Count | None:
        """Count after the call; when the store is unreachable the amount is lost (and said)."""
        try:
            return await operation
        except StoreUnavailable as error:
            self._failed(request, "uncounted", error)
            return None

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


def whole_number(value: object, what: str, source: str, policy_id: str | None) -> int:
    """An expression's value as a count (calls, tokens); a 500 naming it when it is not one."""
    return int(number(value, what, source, policy_id, "a whole number"))


def number(
    value: object, what: str, source: str, policy_id: str | None, kind: str = "a number"
) -> float:
    """An expression's value as a number; a 500 naming the attribute when it is not one."""
    try:
        return float(to_text(value))
    except ValueError:
        raise PolicyError(
            source,
            "ExpressionValueEvaluationFailure",
            f"{what} must be {kind}, not '{to_text(value)}'",
            policy_id=policy_id,
        ) from None


def seconds_left(count: Count) -> int:
    return 0 if math.isinf(count.retry_after) else max(1, math.ceil(count.retry_after))


@dataclass(frozen=True, slots=True)
class LimitOutputs:
    """The retry-after / remaining / total header and variable names a statement declares."""

    retry_after_header: str = "Retry-After"
    retry_after_variable: str | None = None
    remaining_header: str | None = None
    remaining_variable: str | None = None
    total_header: str | None = None

    @classmethod
    def of(cls, node: Node, context: CompileContext) -> LimitOutputs:
        name = context.literal
        return cls(
            name(node.attr("retry-after-header-name"), "Retry-After") or "Retry-After",
            name(node.attr("retry-after-variable-name")),
            name(node.attr("remaining-calls-header-name")),
            name(node.attr("remaining-calls-variable-name")),
            name(node.attr("total-calls-header-name")),
        )

    def passed(self, request: RequestContext, limit: int, used: int) -> None:
        remaining = max(limit - used, 0)
        if self.remaining_header:
            request.response_headers.append((self.remaining_header, str(remaining)))
        if self.remaining_variable:
            request.variables[self.remaining_variable] = remaining
        if self.total_header:
            request.response_headers.append((self.total_header, str(limit)))

    def rate_exceeded(self, request: RequestContext, source: str, count: Count) -> PolicyError:
        wait = seconds_left(count)
        if self.retry_after_variable:
            request.variables[self.retry_after_variable] = wait
        return PolicyError(
            source,
            "RateLimitExceeded",
            f"Rate limit is exceeded. Try again in {wait} seconds.",
            status=429,
            headers=[(self.retry_after_header, str(wait))],
        )


def quota_exceeded(source: str, what: str, count: Count) -> PolicyError:
    """403, as APIM answers a spent quota: `what` is "call volume" or "bandwidth"."""
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
    """The request's and the response's bodies, in whole kilobytes (rounded up)."""
    model = request.model
    size = 0
    for body in (model.Request.Body, model.Response.Body):
        if body is not None:
            size += len(body.read(preserve=True))
    return math.ceil(size / 1024)


def now() -> float:
    return time.time()


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

        Bandwidth is counted when the call completes (it needs the answer's size), as is a
        call whose increment-condition or -count reads the response.
        """
        store = store_of(request)
        calls_key, bandwidth_key = "quota-calls:" + key, "quota-kb:" + key
        counted = request.state.setdefault(CountedKeys)
        if self.calls is not None and calls_key not in counted:  # once per request
            if count_now and condition(request):
                counted.add(calls_key)
                operation = store.consume(
                    calls_key, amount(request), self.calls, self.window, now()
                )
                count = await self.guard.check(request, operation)
                if count is not None and not count.allowed:
                    raise quota_exceeded(self.source, "call volume", count)
            else:
                count = await self.guard.check(request, store.peek(calls_key, self.window, now()))
                if count is not None and count.value >= self.calls:
                    raise quota_exceeded(self.source, "call volume", count)
        if self.kilobytes is not None:
            operation = store.peek(bandwidth_key, self.window, now())
            count = await self.guard.check(request, operation)
            if count is not None and count.value >= self.kilobytes:
                raise quota_exceeded(self.source, "bandwidth", count)

        async def count_when_done(done: RequestContext) -> None:
            if not condition(done):
                return
            if self.calls is not None and not count_now and calls_key not in counted:
                counted.add(calls_key)
                await self.guard.count(done, store.add(calls_key, amount(done), self.window, now()))
            if self.kilobytes is not None and bandwidth_key not in counted:
                counted.add(bandwidth_key)
                used = kilobytes(done)
                await self.guard.count(done, store.add(bandwidth_key, used, self.window, now()))

        if self.kilobytes is not None or not count_now:
            request.defer(Phase.DONE, count_when_done)


def instance_id(node: Node) -> str:
    """Which policy this is, the same on every replica: its scope file and line."""
    path = PurePath(node.location.path)
    return f"{path.parent.name}/{path.name}:{node.location.line}"


def names_of(element: Node) -> tuple[str, ...]:
    """An <api>/<operation> element's id and name: either identifies it."""
    return tuple(n for n in (element.attr_text("id"), element.attr_text("name")) if n)


def matches(request: RequestContext, apis: tuple[str, ...], operations: tuple[str, ...]) -> bool:
    model = request.model
    if apis and model.Api.Id not in apis and model.Api.Name not in apis:
        return False
    return not operations or model.Operation.Id in operations or model.Operation.Name in operations


def scoped_elements(node: Node) -> list[tuple[Node, str, tuple[str, ...], tuple[str, ...]]]:
    """The statement and its nested <api>/<operation> limits: (element, name, apis, ops)."""
    found = [(node, "", (), ())]
    for api in node.children_named("api"):
        apis = names_of(api)
        found.append((api, "api:" + "|".join(apis), apis, ()))
        for operation in api.children_named("operation"):
            ops = names_of(operation)
            found.append((operation, "op:" + "|".join(apis + ops), apis, ops))
    return found

"""One ledger record: what a call was, who made it, what it used and cost, how it ended.

Built at the request's DONE phase from what the context knows then: the usage of the
response the client got (gateway.runtime.llm_call: a retry's replaces the attempt before it),
priced by the price row of the backend that answered. A cache hit never reached a provider:
its record has no tokens and no cost, so the ledger sums to what the providers bill.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from decimal import Decimal
from typing import NamedTuple

from gateway.runtime.context import RequestContext
from gateway.runtime.llm_call import price_of, request_json, request_model, response_usage

CACHE_HEADER = "x-aigw-cache"  # set by cache-lookup and the semantic cache on a hit


class Record(NamedTuple):
    """A tuple with names: it is also the row inserted, in the columns' order (a frozen
    dataclass of 22 fields took 8 times as long to make, per call)."""

    time: float  # seconds since the epoch, UTC: when the request arrived
    day: str  # its UTC day, YYYY-MM-DD: what totals and reconciling group by
    request_id: str
    subscription: str | None
    product: str | None
    api: str
    operation: str
    model_requested: str | None
    model_served: str | None
    backend: str | None  # the backend (a pool's member) that answered
    attempts: int  # backend calls made, retries and skipped members included
    attempt_log: str  # each attempt, "member:outcome", as x-aigw-attempts says
    prompt_tokens: int
    completion_tokens: int
    cached_tokens: int  # part of prompt_tokens
    cache_write_tokens: int  # Anthropic: part of prompt_tokens
    reasoning_tokens: int  # part of completion_tokens
    cost: Decimal | None  # dollars, exact; None: the model has no price
    price_date: str | None  # the date of the price row the cost came from
    cache: str | None  # hit, shadow-hit, shadow-miss; None: no cache answered
    status: int
    latency_ms: float


COLUMNS = Record._fields


_DAY = 86400
_today: tuple[int, str] = (-1, "")  # the last day formatted: calls of one day share it


def day_of(moment: float) -> str:
    """The UTC day of `moment`, YYYY-MM-DD (formatted once a day, not once a call)."""
    global _today
    number = int(moment // _DAY)
    if number != _today[0]:
        _today = (number, datetime.fromtimestamp(number * _DAY, UTC).strftime("%Y-%m-%d"))
    return _today[1]


def record_of(context: RequestContext, status: int, headers: list[tuple[str, str]]) -> Record:
    """The record of a request whose response is final (`headers`: the reply's own)."""
    model = context.model
    cache = _cache_result(headers) or _cache_result(context.response_headers)
    usage = response_usage(context) if cache != "hit" else None
    asked = request_model(context, request_json(context)) or None
    # The model that served the call is the response's, else the one asked for (as
    # gateway.runtime.llm_call's response_model says, without reading the request again).
    served = (usage.model or asked) if usage is not None else None
    price = price_of(context, served or "") if usage is not None else None
    started = model.started
    # Positional, in the columns' order (each line names its field): a NamedTuple's
    # keyword construction took four times as long as the tuple itself.
    return tuple.__new__(
        Record,
        (
            started,  # time
            day_of(started),  # day
            model.request_id_text,  # request_id
            model.Subscription.Id if model.Subscription is not None else None,  # subscription
            model.Product.Id if model.Product is not None else None,  # product
            model.Api.Id,  # api
            model.Operation.Id,  # operation
            asked,  # model_requested
            served,  # model_served
            context.backend_member or (context.backend if context.attempts else None),  # backend
            len(context.attempts),  # attempts
            ", ".join(context.attempts),  # attempt_log
            usage.prompt if usage is not None else 0,  # prompt_tokens
            usage.completion if usage is not None else 0,  # completion_tokens
            usage.cached_prompt if usage is not None else 0,  # cached_tokens
            usage.cache_write if usage is not None else 0,  # cache_write_tokens
            usage.reasoning if usage is not None else 0,  # reasoning_tokens
            price.cost(usage) if price is not None and usage is not None else None,  # cost
            (price.date or None) if price is not None else None,  # price_date
            cache,  # cache
            status,  # status
            (time.time() - started) * 1000,  # latency_ms
        ),
    )


def _cache_result(headers: list[tuple[str, str]]) -> str | None:
    # The caches write the header's name as CACHE_HEADER is: no need to lower each name.
    for name, value in headers:
        if name == CACHE_HEADER:
            return value
    return None

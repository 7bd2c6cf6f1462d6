"""Accounting counts the response the client gets: each backend call replaces the figures of
the one before it (a retry), whether that one reported usage or not."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from decimal import Decimal

from gateway.expressions.model import HeaderDictionary, MessageBody
from gateway.proxy.accounting import Accounting
from gateway.runtime.context import Phase, RequestContext
from gateway.runtime.llm_call import response_replaced, response_usage
from gateway.runtime.phases import run_phase
from gateway.runtime.services import Services
from gateway.tokens.prices import Price
from tests.policies import new_context

USAGE = {"prompt_tokens": 5, "completion_tokens": 7, "total_tokens": 12}
FIGURES = ("llm-model", "llm-prompt-tokens", "llm-completion-tokens", "llm-total-tokens")


class Prices:
    def price(self, backend: str, api: str, model: str) -> Price | None:
        return Price(provider="openai", model=model, input=Decimal(1), output=Decimal(2))


class Metrics:
    def __init__(self) -> None:
        self.added: list[tuple[str, float]] = []

    def add(self, namespace: str, name: str, value: float, dimensions: Mapping[str, str]) -> None:
        self.added.append((name, value))


def answered(context: RequestContext, status: int, document: dict[str, object]) -> None:
    """What the proxy's forward function does with a backend's response: it replaces the one
    before it, and the accounting counts it."""
    response_replaced(context)
    response = context.model.Response
    response.StatusCode = status
    response.Headers = HeaderDictionary({"Content-Type": "application/json"})
    response.Body = MessageBody(json.dumps(document).encode())


def calls(*answers: tuple[int, dict[str, object]]) -> tuple[RequestContext, Metrics]:
    """A request whose backend was called once per answer (a retry after each but the last)."""
    context, metrics = new_context(), Metrics()
    context.services = Services(prices=Prices(), metrics=metrics)
    accounting = Accounting(metrics)
    for status, document in answers:
        answered(context, status, document)
        accounting.forwarded(context)
    asyncio.run(run_phase(context, Phase.DONE))
    return context, metrics


def test_a_retry_that_succeeds_counts_its_own_usage_not_the_429_before_it() -> None:
    limited = {"error": {"message": "slow down"}}
    context, metrics = calls((429, limited), (200, {"model": "m", "usage": USAGE}))
    assert [context.variables[name] for name in FIGURES] == ["m", 5, 7, 12]
    assert context.variables["llm-cost"] == 19 / 1_000_000
    assert metrics.added == [("Cost", 19 / 1_000_000)]  # counted once, for the response sent


def test_a_response_without_usage_leaves_none_of_the_figures_an_earlier_attempt_had() -> None:
    context, metrics = calls((200, {"model": "m", "usage": USAGE}), (503, {"error": "down"}))
    assert response_usage(context) is None
    assert not [name for name in (*FIGURES, "llm-cost") if name in context.variables]
    assert metrics.added == []

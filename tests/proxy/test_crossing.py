"""How an attempt crosses to its backend (gateway.proxy.crossing), decided once per operation,
API style and provider: the decision kept is the one each attempt used to make."""

from __future__ import annotations

import itertools

from gateway.expressions.model import ContextModel, OperationModel
from gateway.providers.crossings import CROSSINGS, crossing
from gateway.proxy.crossing import _how, client_style
from gateway.runtime.context import RequestContext

OPERATIONS = sorted({operation for operation, _, _ in CROSSINGS} | {"ChatCompletions_Create", "x"})
STYLES = ("openai", "azure-openai", "anthropic", "http")
PROVIDERS = ("openai", "azure-openai", "anthropic", "openai-compatible", "http")


def test_the_kept_decision_is_the_one_made_per_attempt() -> None:
    for operation, style, provider in itertools.product(OPERATIONS, STYLES, PROVIDERS):
        how = crossing(operation, style, provider)
        context = RequestContext(ContextModel(Operation=OperationModel(Id=operation)), style=style)
        responses = operation == "Responses_Create" and how == "translated"
        spoken = "openai" if responses else client_style(context)
        assert _how(operation, style, provider) == (how, spoken), (operation, style, provider)


def test_the_decisions_kept_are_bounded() -> None:
    assert _how.cache_info().maxsize == 256

"""Which message a statement changes (the request before the backend, the response after),
and the bytes a body expression's result becomes."""

from __future__ import annotations

from gateway.expressions.model import RequestModel, ResponseModel
from gateway.expressions.values import JToken, to_text
from gateway.runtime.context import RequestContext

RESPONSE_SECTIONS = frozenset({"outbound", "on-error"})


def message_of(context: RequestContext, section: str) -> RequestModel | ResponseModel:
    return context.model.Response if section in RESPONSE_SECTIONS else context.model.Request


def body_bytes(value: object) -> bytes:
    """What a body expression's result sends: text as UTF-8, JSON as Newtonsoft writes it."""
    if isinstance(value, bytes):
        return value
    if isinstance(value, JToken):
        return value.to_json(indent=True).encode()
    return to_text(value).encode()

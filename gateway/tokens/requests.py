"""A model call's request as JSON, parsed once per body however many steps read it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from gateway.fastjson import loads

if TYPE_CHECKING:
    from gateway.runtime.context import RequestContext


def request_json(request: RequestContext) -> dict[str, object]:
    """The request body as a JSON object ({} when it is not one), parsed once per body: the
    token and cost limits, the semantic cache and content safety all read it. A statement
    that changes it writes a new body (so the next reader parses that one)."""
    body = request.model.Request.Body
    if body is None:
        return {}
    parsed = request.parsed_body
    if parsed is not None and parsed[0] is body:
        return parsed[1]
    try:
        document = loads(body.read(preserve=True) or b"{}")
    except (ValueError, UnicodeDecodeError):
        document = {}
    found = document if isinstance(document, dict) else {}
    request.parsed_body = (body, found)
    return found


def request_model(request: RequestContext, body: dict[str, object]) -> str:
    """The model: the body's, else the Azure deployment the URL names."""
    model = body.get("model")
    if isinstance(model, str) and model:
        return model
    return str(request.model.Request.MatchedParameters.get("deployment-id", ""))

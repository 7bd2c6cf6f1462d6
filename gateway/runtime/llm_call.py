"""The model call a request makes, as its steps read it: the request's JSON (parsed once), the
model it asks for, its price, the usage its response reports (read once), and what a stream
cut short used. Token and cost limits, the semantic cache, content safety, accounting and the access
log all read the same figures here.
"""

from __future__ import annotations

from dataclasses import replace

from gateway.common.fastjson import loads
from gateway.runtime.context import RequestContext
from gateway.tokens.prices import Price
from gateway.tokens.stream_text import DeltaText, Events
from gateway.tokens.tokenizer import count_text, prompt_tokens
from gateway.tokens.usage import Usage, from_event_stream, from_response


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


def price_of(request: RequestContext, model: str) -> Price | None:
    """`model`'s price where this call goes: the pool member or backend it was sent to (or
    is going to), else by its API's style."""
    prices = request.services.prices
    if prices is None:
        return None
    backend = request.backend_member or request.backend or ""
    return prices.price(backend, request.model.Api.Id, model)


def response_usage(request: RequestContext) -> Usage | None:
    """The usage in the request's (complete) response, read once and kept on the context."""
    if request.usage_read:
        return request.usage
    response = request.model.Response
    body = response.Body.read(preserve=True) if response.Body is not None else b""
    request.usage = from_response(body, response.Headers.joined("content-type") or "")
    request.usage_read = True
    return request.usage


def count_cut_stream(request: RequestContext, received: bytes) -> None:
    """The usage of a streamed response cut short, by the upstream or by a policy, made the
    request's usage: it still used tokens. The provider's own count where its usage came
    before the cut (an Anthropic stream reports its input first), else the prompt and the
    text produced so far, counted offline."""
    given = from_event_stream(received) or Usage()
    body = request_json(request)
    model = request_model(request, body)
    events, deltas = Events(), DeltaText()
    produced = "".join(deltas.of(event) for event in [*events.feed(received), events.rest()])
    prompt = given.prompt or prompt_tokens(body, model)
    completion = max(given.completion, count_text(produced, model) if produced else 0)
    request.usage = replace(given, prompt=prompt, completion=completion)
    request.usage_read = True

"""The model call a request makes, as its steps read it: the request's JSON (parsed once), the
model it asks for, its price, the usage its response reports (read once per response), what it
cost, and what a stream cut short used. Token and cost limits, token metrics, the semantic
cache, content safety, accounting and the access log all read the same figures here.

The figures are those of the response the client gets. Each backend call (a retry, another
pool member) replaces the response, and `response_replaced` forgets what was read of the one
before, so no reader can count an attempt the client never got (a usage-less 429 standing
for the 200 after it, or a retried answer's usage for the one that replaced it).

A usage report with a figure no provider sends (negative, fractional, a string, beyond
`MOST_TOKENS`: gateway.tokens.usage) is taken for no report (`checked`): the gateway counts
the call as it counts one without usage, `aigw.invalid_usage` counts it by backend, and the
first from each backend is logged.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Callable
from decimal import Decimal

from gateway.common.fastjson import loads
from gateway.common.sse import parse
from gateway.expressions.model import MessageBody
from gateway.runtime.context import RequestContext
from gateway.tokens.prices import Price
from gateway.tokens.stream_text import DeltaText
from gateway.tokens.tokenizer import count_prompt, count_text, prompt_tokens
from gateway.tokens.usage import InvalidUsage, Usage, from_event_stream, from_response

log = logging.getLogger("aigw.tokens")

_LOGGED: set[str] = set()  # the backends whose invalid usage was logged (once each)

# Operations that generate nothing: a token count is no completion (Anthropic's is free), so
# token and cost limits take nothing for it up front (its answer reports no usage either).
COUNTING_ONLY = frozenset({"Messages_CountTokens"})


def generates(request: RequestContext) -> bool:
    """Whether the call may generate tokens (and so use a token or cost limit's allowance)."""
    return request.model.Operation.Id not in COUNTING_ONLY


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


def write_request_json(request: RequestContext, document: dict[str, object]) -> None:
    """Send `document` (JSON: read by `request_json`, changed) as the request's body, which
    its readers then read as written: the new body is not parsed again (a JSON document
    written and read back is the same document)."""
    body = MessageBody(json.dumps(document).encode())
    request.model.Request.Body = body
    request.parsed_body = (body, document)


async def estimated_prompt(request: RequestContext, body: dict[str, object], model: str) -> int:
    """The prompt's tokens, counted offline; a large one off the event loop (count_prompt)."""
    raw = request.model.Request.Body
    size = len(raw.read(preserve=True)) if raw is not None else 0
    return await count_prompt(body, model, size)


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


def response_replaced(request: RequestContext) -> None:
    """The backend is called again (a retry, another pool member, a race): what was read of
    the response before is forgotten, so every reader reads the one that replaces it."""
    request.usage = None
    request.usage_read = False


def checked(request: RequestContext, read: Callable[[], Usage | None]) -> Usage | None:
    """The usage `read` finds in the request's response, or None when it reports a figure
    no provider sends (counted in `aigw.invalid_usage`, logged once per backend): then the
    gateway counts the call as one without usage."""
    try:
        return read()
    except InvalidUsage as error:
        return _invalid(request, error)


def _invalid(request: RequestContext, error: InvalidUsage) -> None:
    """A usage report with a figure no provider sends: counted, logged once per backend, and
    taken for no report."""
    backend = request.backend_member or request.backend or ""
    metrics = request.services.metrics
    if metrics is not None:
        dimensions = {"API ID": request.model.Api.Id, "Backend ID": backend}
        metrics.add("aigw", "invalid_usage", 1, dimensions)
    if backend not in _LOGGED and len(_LOGGED) < 1000:
        _LOGGED.add(backend)
        log.warning("backend %r reported %s: its usage is not counted", backend, error)


def usage_was_read(request: RequestContext, read: Callable[[], Usage | None]) -> None:
    """The usage of the request's response, read by what read the response as it passed (a
    stream, gateway.proxy.streaming), so that nobody reads the whole body again for it."""
    request.usage = checked(request, read)
    request.usage_read = True


def response_usage(request: RequestContext) -> Usage | None:
    """The usage in the request's (complete) response, read once per response and kept on the
    context. A stream that has not ended has no body to read yet: nothing is kept for it."""
    if request.usage_read:
        return request.usage
    response = request.model.Response
    if response.Body is None:
        return None
    body = response.Body.read(preserve=True)
    content_type = response.Headers.joined("content-type") or ""
    try:  # as `checked` does, without a closure made for it: once per response
        usage = from_response(body, content_type)
    except InvalidUsage as error:
        usage = _invalid(request, error)
    request.usage = usage
    request.usage_read = True
    return usage


def response_model(request: RequestContext, usage: Usage) -> str:
    """The model that served the call: the one the response names, else the request's."""
    return usage.model or request_model(request, request_json(request))


def response_price(request: RequestContext, usage: Usage) -> Price | None:
    """The price of the model that served the call, where it went (None: it has none and
    gateway.yaml's `limits.unpriced-models` is `allow`)."""
    return price_of(request, response_model(request, usage))


def response_cost(request: RequestContext) -> Decimal | None:
    """What the response's usage cost (None: it reports no usage, or its model has no price
    where the call went and none is assumed)."""
    usage = response_usage(request)
    if usage is None:
        return None
    price = response_price(request, usage)
    return price.cost(usage) if price is not None else None


def count_cut_stream(
    request: RequestContext, received: bytes, reported: Usage | None = None, scale: float = 1.0
) -> None:
    """The usage of a streamed response cut short, by the upstream, a policy or the client's
    going, made the request's usage: it still used tokens. The provider's own count where its
    usage came before the cut (an Anthropic stream reports its input first; `reported`, else
    read from `received`), else the prompt and the text produced so far, counted offline.
    `received` may be the first part of what came only (what was kept of a long stream):
    `scale` is how many times larger the whole was, and the text's count grows with it."""
    given = reported or checked(request, lambda: from_event_stream(received)) or Usage()
    body = request_json(request)
    model = request_model(request, body)
    deltas = DeltaText()
    produced = "".join(deltas.of(event) for event in parse(received))
    prompt = given.prompt or prompt_tokens(body, model)
    counted = math.ceil(count_text(produced, model) * scale) if produced else 0
    completion = max(given.completion, counted)
    request.usage = given._replace(prompt=prompt, completion=completion)
    request.usage_read = True

"""What each attempt of a backend call leaves behind, beside its answer.

Its record (`x-aigw-attempts`, the access log, the trace, `aigw_backend_attempts_total`),
APIM's 503 when a breaker or a whole pool is out, the Retry-After a breaker may follow, and
the breaker's count of a streamed answer that breaks off after its headers.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from gateway.expressions.model import HeaderDictionary, MessageBody
from gateway.routing.breakers import Breakers
from gateway.runtime.context import RequestContext
from gateway.runtime.forwarding import StreamBroken


def attempted(context: RequestContext, member: str, outcome: str) -> None:
    """Note an attempt for the answer's headers, the access log and the metrics."""
    context.attempts.append(f"{member}:{outcome}")
    if member == context.backend and outcome[:1] == "2" and len(context.attempts) == 1:
        return  # a lone backend's plain success: the access log says it; keep the path lean
    context.model.Trace(f"[information] forward-request: {member} answered {outcome}")
    metrics = context.services.metrics
    if metrics is not None:
        dimensions = {"Backend ID": member, "outcome": outcome}
        metrics.add("aigw", "backend_attempts", 1, dimensions)


def unavailable(context: RequestContext, message: str) -> None:
    """APIM's answer when a backend's breaker is open or no pool member can be used."""
    response = context.model.Response
    response.StatusCode, response.StatusReason = 503, message
    response.Headers = HeaderDictionary({"Content-Type": "application/json"})
    body = json.dumps({"statusCode": 503, "message": message}).encode()
    response.Body = MessageBody(body)


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
    """A member's streamed answer that breaks off after its headers (counted then as the
    call's outcome) is a failure of that member: `BackendConnectionFailure`, the reason a
    buffered answer cut short gets. The client's side is gateway.proxy.streaming's."""
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

"""Run one request through its compiled policy: inbound, backend, outbound, and on-error.

The contract of every step (continue / local reply / raise) makes this short:

- a local reply from any section ends the request with that reply;
- a `PolicyError` skips the rest of inbound/backend/outbound, fills `context.LastError` (its
  Scope is the one the failing statement's chain gave the error), sets the response status,
  and runs `on-error`; a reply there wins, otherwise the caller gets the response `on-error`
  left, or APIM's error envelope when it left no body;
- `None` from `run_pipeline` means: send `context.Response` as it stands (the backend's
  response, as outbound changed it). The proxy owns that part.
"""

from __future__ import annotations

from gateway.expressions.model import LastErrorModel
from gateway.runtime.context import RequestContext
from gateway.runtime.replies import error_reply, reason_phrase
from gateway.runtime.step import CompiledPolicy, LocalReply, PolicyError

# LastError.Scope of an error no chain gave a scope: a document compiled on its own (as tests
# do), outside a policies directory, has no scope of its own; it is taken for an API's policy.
DEFAULT_SCOPE = "api"


async def run_pipeline(policy: CompiledPolicy, context: RequestContext) -> LocalReply | None:
    sections = (
        ("inbound", policy.inbound),
        ("backend", policy.backend),
        ("outbound", policy.outbound),
    )
    for section, chain in sections:
        context.section = section
        try:
            reply = await chain.run(context)
        except PolicyError as error:
            return await _on_error(policy, context, error, section)
        if reply is not None:
            return reply
    return None


async def _on_error(
    policy: CompiledPolicy,
    context: RequestContext,
    error: PolicyError,
    section: str,
) -> LocalReply:
    model = context.model
    model.LastError = LastErrorModel(
        Source=error.source,
        Reason=error.reason,
        Message=error.message,
        Scope=error.scope or DEFAULT_SCOPE,
        Section=section,
        PolicyId=error.policy_id or "",
    )
    model.Response.StatusCode = error.status
    model.Response.StatusReason = reason_phrase(error.status)
    model.Response.Body = None
    for name, value in error.headers:
        model.Response.Headers.set(name, [value])
    context.section = "on-error"
    try:
        reply = await policy.on_error.run(context)
    except PolicyError as failure:  # an error inside on-error: APIM's plain error response
        return error_reply(
            failure.status, failure.message, style=context.error_style, code=failure.reason
        )
    if reply is not None:
        return reply
    response = model.Response
    if response.Body is None:
        return error_reply(
            response.StatusCode,
            error.message,
            response.Headers.lines(),
            response.StatusReason,
            style=context.error_style,
            code=error.reason,
        )
    body = response.Body.read(preserve=True)
    return LocalReply(response.StatusCode, response.StatusReason, response.Headers.lines(), body)

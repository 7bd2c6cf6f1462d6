"""`llm-token-limit` / `azure-openai-token-limit`: tokens per minute (429) and token quotas (403).

Counts are the provider's own (`usage` in the response or at the end of its stream). With
`estimate-prompt-tokens="true"`, and always for a streamed request, the prompt is counted
before forwarding (offline tokenizer) and a request that would pass the limit is refused
then; the count is settled to the real usage when the response is complete. With "false" the
request is only refused once earlier responses have used the limit up, as APIM does.

Beyond APIM, gateway.yaml's `limits.token-limit-mode: reserve-and-settle` makes every call
reserve its prompt plus its output cap (`max_tokens` and kin, or `reserved-output-tokens`)
atomically before forwarding: concurrent calls on any number of replicas then cannot take
more than the limit, since no call can use more than it reserved (exactly so for OpenAI
models, whose prompts are counted exactly; other models' prompts are estimated).

On the request's path the counters cost one call to the counter store (on Redis one script
run, one round trip): every counter of the statement checked, and taken when estimating, at
once; a refusal takes nothing. What the response used is counted after it, written behind
(`CounterStore.add_later`): the client never waits for it. The remaining-tokens headers and
variables (APIM: what is left "after each execution") are the limit less the counter as this
call found it and less what this call used, known as the response is; calls finishing at the
same moment elsewhere are not in that figure, as they would not be in APIM's estimate either.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

from gateway.expressions.values import to_text
from gateway.policy.compiling import CompileContext
from gateway.policy.spec import POLICY_ID, AttributeSpec, Kind, StatementSpec
from gateway.policy.tree import Node
from gateway.runtime.context import Phase, RequestContext
from gateway.runtime.llm_call import (
    estimated_prompt,
    generates,
    request_json,
    request_model,
    response_usage,
    write_request_json,
)
from gateway.runtime.step import LocalReply, PolicyError, Step
from gateway.statements.support.counter_store import StoreGuard, now, seconds_left, store_of
from gateway.statements.support.declarations import (
    COUNTER_KEY,
    INBOUND,
    ON_STORE_FAILURE,
    RETRY_AFTER_HEADER,
    name_only,
    rate_and_quota_check,
)
from gateway.statements.support.limit_windows import MINUTE, QUOTA_PERIODS, QUOTA_WINDOWS
from gateway.statements.support.numeric import whole_number
from gateway.stores.counters import Change, Count, StoreUnavailable, Window
from gateway.tokens.tokenizer import output_cap

check = rate_and_quota_check("tokens-per-minute", "token-quota", "token-quota-period")


class TokenCounter(NamedTuple):
    """One of a statement's two counters: tokens per minute, or the token quota. (Made per
    request: a NamedTuple costs half what a frozen dataclass does to make.)"""

    name: str
    limit: int
    window: Window
    is_quota: bool
    variable: str | None  # remaining-(quota-)tokens-variable-name
    header: str | None  # remaining-(quota-)tokens-header-name


# The counter keys whose counters a statement keeps made (`TokenLimit.counters`): the same few
# subscriptions call again and again, so their counters are made once; past this many the
# oldest key is forgotten (made again when it calls next).
KEYS_KEPT = 4096

# A key's counters and the changes that only read them (a check that takes nothing up front,
# the usual: `estimate-prompt-tokens="false"`). Both immutable: every request shares them.
Counters = tuple[tuple[TokenCounter, ...], tuple[Change, ...]]


class TokenLimit:
    """One compiled token-limit statement: its settings, and the per-request steps."""

    def __init__(self, node: Node, context: CompileContext) -> None:
        name = context.literal
        self.source = node.tag
        self.guard = StoreGuard.of(node.tag, node, context)
        self.policy_id = node.attr_text("id")
        self.counter_key = context.value(node.attr("counter-key"), "")
        self.per_minute = context.value(node.attr("tokens-per-minute"))
        # A literal limit (the usual) read once here; else per request, where a bad value is
        # the request's error.
        self.minute_limit = self.literal_limit(node, context)
        quota = node.attr("token-quota")
        self.quota = context.integer(quota, 0) if quota is not None else None
        self.quota_window = QUOTA_WINDOWS.get(name(node.attr("token-quota-period")) or "")
        self.estimate = context.condition(node.attr("estimate-prompt-tokens"), False)
        self.retry_header = name(node.attr("retry-after-header-name")) or "Retry-After"
        self.retry_variable = name(node.attr("retry-after-variable-name"))
        self.minute_outputs = (
            name(node.attr("remaining-tokens-variable-name")),
            name(node.attr("remaining-tokens-header-name")),
        )
        self.quota_outputs = (
            name(node.attr("remaining-quota-tokens-variable-name")),
            name(node.attr("remaining-quota-tokens-header-name")),
        )
        self.consumed_variable = name(node.attr("tokens-consumed-variable-name"))
        self.consumed_header = name(node.attr("tokens-consumed-header-name"))
        # Counters by counter-key text, when nothing else in them varies per request (a
        # literal tokens-per-minute, or none): the key text, as the counter store keeps it.
        fixed = self.minute_limit is not None or node.attr("tokens-per-minute") is None
        self.known: dict[str, Counters] | None = {} if fixed else None

    def literal_limit(self, node: Node, context: CompileContext) -> int | None:
        given = node.attr("tokens-per-minute")
        if given is None or given.is_expression:
            return None
        try:
            return self.whole(context.literal(given))
        except PolicyError:
            return None

    def whole(self, value: object) -> int:
        return whole_number(value, "tokens-per-minute", self.source, self.policy_id)

    def counters(self, request: RequestContext) -> Counters:
        key = to_text(self.counter_key(request))
        known = self.known
        if known is None:  # tokens-per-minute is an expression: per request
            per_minute = self.per_minute(request)
            return self.made(key, None if per_minute is None else self.whole(per_minute))
        found = known.get(key)
        if found is None:
            found = self.made(key, self.minute_limit)
            if len(known) >= KEYS_KEPT:
                del known[next(iter(known))]  # the oldest key made
            known[key] = found
        return found

    def made(self, key_text: str, limit: int | None) -> Counters:
        """The counters of the key `key_text` under a per-minute `limit` (None: no such
        counter), and the changes that only read them."""
        key = "tokens:" + key_text
        found = []
        if limit is not None:
            found.append(TokenCounter(key + ":minute", limit, MINUTE, False, *self.minute_outputs))
        if self.quota is not None and self.quota_window is not None:
            window = self.quota_window
            found.append(
                TokenCounter(key + ":quota", self.quota, window, True, *self.quota_outputs)
            )
        return tuple(found), tuple(Change(c.name, 0, c.window) for c in found)

    def refuse(self, request: RequestContext, count: Count, counter: TokenCounter) -> PolicyError:
        wait = seconds_left(count)
        if self.retry_variable:
            request.variables[self.retry_variable] = wait
        if counter.is_quota:
            message, reason, status = "Token quota is exceeded.", "TokenQuotaExceeded", 403
        else:
            message = f"Token limit is exceeded. Try again in {wait} seconds."
            reason, status = "TokenLimitExceeded", 429
        headers = [(self.retry_header, str(wait))] if wait else []
        return PolicyError(
            self.source, reason, message, status=status, headers=headers, policy_id=self.policy_id
        )

    async def check(self, request: RequestContext) -> LocalReply | None:
        counters, reads = self.counters(request)
        body = request_json(request)
        streamed = bool(body.get("stream"))
        if streamed:
            ask_for_stream_usage(request, body)
        reserve_output = request.services.reserved_output_tokens
        estimating = self.estimate(request) or streamed or reserve_output is not None
        estimating = estimating and generates(request)  # a token count takes nothing
        estimated = 0
        if estimating:
            estimated = await estimated_prompt(request, body, request_model(request, body))
        if reserve_output is not None:  # reserve-and-settle: the most this call can use
            estimated += output_cap(body, reserve_output)
        # Every counter checked (and, when estimating, taken) in one call: one round trip.
        # (A loop, not a comprehension: for one or two counters its own call costs more.)
        changes: Sequence[Change] = reads
        if estimated:
            changes = []
            for c in counters:
                changes.append(Change(c.name, estimated, c.window, c.limit))
        try:  # `guard.check`'s, inline: one coroutine fewer a request
            counts = await store_of(request).apply(changes, now())
        except StoreUnavailable as error:
            counts = self.guard.unavailable(request, error)
        for counter, count in zip(counters, counts or (), strict=False):
            # Estimating: refused unless the prompt fits (then nothing was taken). Else, as
            # APIM: refused only once the limit is used up.
            refused = not count.allowed if estimated else count.value >= counter.limit
            if refused:
                raise self.refuse(request, count, counter)
        if self.consumed_variable:
            request.variables[self.consumed_variable] = estimated

        def settle(done: RequestContext) -> None:
            """Count the provider's usage (less what was taken up front), written behind, and
            report what is left: the count this call saw, plus what it used. (A plain function:
            it awaits nothing, and the phase runs it without making a coroutine.)"""
            usage = response_usage(done)
            used = usage.total if usage is not None else estimated
            added = []
            for c in counters:
                added.append(Change(c.name, used - estimated, c.window))
            self.guard.add_later(done, added)
            for counter, count in zip(counters, counts or (), strict=False):
                if counter.variable or counter.header:  # most statements report one figure
                    left = max(counter.limit - (count.value + used - estimated), 0)
                    _report(done, counter.variable, counter.header, left)
            if self.consumed_variable or self.consumed_header:
                _report(done, self.consumed_variable, self.consumed_header, used)

        request.defer(Phase.DONE, settle)
        return None


def _report(request: RequestContext, variable: str | None, header: str | None, value: int) -> None:
    if variable:
        request.variables[variable] = value
    if header:
        request.response_headers.append((header, str(value)))


def ask_for_stream_usage(request: RequestContext, body: dict[str, Any]) -> None:
    """Make an OpenAI-style stream end with its usage, hidden again from a client that did
    not ask for it. Anthropic streams always report usage."""
    if "messages" not in body and "prompt" not in body:
        return
    if not _openai_style(request):
        return
    options = body.get("stream_options")
    if isinstance(options, dict) and options.get("include_usage"):
        return
    body["stream_options"] = {
        **(options if isinstance(options, dict) else {}),
        "include_usage": True,
    }
    write_request_json(request, body)  # its readers read `body`, not the new body parsed
    request.hide_stream_usage = True


def _openai_style(request: RequestContext) -> bool:
    """Every API style streams usage OpenAI's way (on request) but Anthropic's (always)."""
    return request.style != "anthropic"


def compile_token_limit(node: Node, context: CompileContext) -> Step:
    return TokenLimit(node, context).check


SPEC = StatementSpec(
    names=("llm-token-limit", "azure-openai-token-limit"),
    summary="Limits prompt+completion tokens per minute (429) and per quota period (403).",
    sections=INBOUND,
    attributes=(
        POLICY_ID,
        COUNTER_KEY,
        AttributeSpec("tokens-per-minute", Kind.INT, minimum=0),
        AttributeSpec("token-quota", Kind.INT, minimum=0, expression=False),
        AttributeSpec(
            "token-quota-period",
            Kind.ENUM,
            choices=QUOTA_PERIODS,
            expression=False,
        ),
        AttributeSpec("estimate-prompt-tokens", Kind.BOOL, required=True),
        RETRY_AFTER_HEADER,
        name_only("retry-after-variable-name"),
        name_only("remaining-quota-tokens-header-name"),
        name_only("remaining-quota-tokens-variable-name"),
        name_only("remaining-tokens-header-name"),
        name_only("remaining-tokens-variable-name"),
        name_only("tokens-consumed-header-name"),
        name_only("tokens-consumed-variable-name"),
        ON_STORE_FAILURE,
    ),
    check=check,
    compile=compile_token_limit,
    reads_request_body=True,
)

"""`llm-cost-limit`: dollars per minute (429) and per quota period (403), per counter key.

Not an APIM statement: the gateway's own, shaped like `llm-token-limit` so that it reads the
same. Spend is each call's real cost (the price table applied to the provider's usage),
counted when the response is complete; like APIM's token limits without estimation, a call is
refused once earlier calls have spent the limit.

With gateway.yaml's `limits.token-limit-mode: reserve-and-settle`, each call first reserves
the most it can cost (its prompt, counted offline, at the dearest input rate plus its output
cap at the dearest output rate) and settles to its real cost when the response is complete, so
concurrent calls on any number of replicas cannot spend past the limit.

As `llm-token-limit` does, the limits are checked (and the reservation taken) in one call to
the counter store, and the spend is counted behind the response (the client never waits for
it); the remaining-dollars header is the lowest limit less its counter as the call found it
and less the call's cost.

A call to a model with no price never passes silently (gateway.yaml's
`limits.unpriced-models`): `refuse` (the default) refuses it with 403 `UnpricedModel` before it
goes upstream; `dearest` reserves and counts it at the dearest rates of its provider's prices;
`allow` lets it through uncounted (`aigw.unpriced_calls` counts it).

    <llm-cost-limit counter-key="@(context.Subscription.Id)" dollars-per-minute="0.50"
        dollar-quota="100" dollar-quota-period="Monthly"
        remaining-dollars-header-name="x-budget-left" />
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from gateway.expressions.values import to_text
from gateway.policy.compiling import CompileContext, CompileFailure
from gateway.policy.spec import POLICY_ID, AttributeSpec, Kind, StatementSpec
from gateway.policy.tree import Node
from gateway.runtime.context import Phase, RequestContext
from gateway.runtime.llm_call import (
    estimated_prompt,
    generates,
    price_of,
    request_json,
    request_model,
    response_cost,
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
from gateway.stores.counters import Change, Count, Window
from gateway.tokens.tokenizer import output_cap

NANO = Decimal(1_000_000_000)  # counters hold whole nano-dollars


check = rate_and_quota_check("dollars-per-minute", "dollar-quota", "dollar-quota-period")


def _nanos(node: Node, name: str, context: CompileContext) -> int | None:
    text = context.literal(node.attr(name))
    if text is None:
        return None
    try:
        return int(Decimal(text.strip()) * NANO)
    except InvalidOperation:
        where = node.attr(name)
        assert where is not None
        raise CompileFailure(
            where.location, "invalid-value", f"'{text}' is not an amount"
        ) from None


def compile_llm_cost_limit(node: Node, context: CompileContext) -> Step:
    counter_key = context.value(node.attr("counter-key"), "")
    limits: list[tuple[str, int, Window, bool]] = []
    per_minute = _nanos(node, "dollars-per-minute", context)
    if per_minute is not None:
        limits.append(("minute", per_minute, MINUTE, False))
    quota = _nanos(node, "dollar-quota", context)
    window = QUOTA_WINDOWS.get(context.literal(node.attr("dollar-quota-period")) or "")
    if quota is not None and window is not None:
        limits.append(("quota", quota, window, True))
    retry_header = context.literal(node.attr("retry-after-header-name")) or "Retry-After"
    remaining_header = context.literal(node.attr("remaining-dollars-header-name"))
    remaining_variable = context.literal(node.attr("remaining-dollars-variable-name"))
    policy_id = node.attr_text("id")
    guard = StoreGuard.of("llm-cost-limit", node, context)

    def refuse(count: Count, is_quota: bool) -> PolicyError:
        wait = seconds_left(count)
        if is_quota:
            message, reason, status = "Spending quota is exceeded.", "CostQuotaExceeded", 403
        else:
            message = f"Spending limit is exceeded. Try again in {wait} seconds."
            reason, status = "CostLimitExceeded", 429
        headers = [(retry_header, str(wait))] if wait else []
        return PolicyError(
            "llm-cost-limit", reason, message, status=status, headers=headers, policy_id=policy_id
        )

    async def reservation(request: RequestContext) -> int:
        """The call's most possible cost, to take from every limit (0: none is taken)."""
        reserve_output = request.services.reserved_output_tokens
        if reserve_output is None or request.services.prices is None or not generates(request):
            return 0
        body = request_json(request)
        model = request_model(request, body)
        price = price_of(request, model)
        if price is None:
            return 0
        prompt = await estimated_prompt(request, body, model)
        ceiling = price.ceiling(prompt, output_cap(body, reserve_output))
        return int(ceiling * NANO)

    def refuse_unpriced(request: RequestContext) -> None:
        """Under `limits.unpriced-models: refuse`, a model with no price goes no further."""
        prices = request.services.prices
        if prices is None or prices.unpriced != "refuse":
            return
        model = request_model(request, request_json(request))
        price = price_of(request, model) if model else None
        if model and (price is None or price.dearest):
            raise PolicyError(
                "llm-cost-limit",
                "UnpricedModel",
                f"Model '{model}' has no price, so its spending cannot be limited.",
                status=403,
                policy_id=policy_id,
            )

    async def llm_cost_limit(request: RequestContext) -> LocalReply | None:
        refuse_unpriced(request)
        key = "cost:" + to_text(counter_key(request))
        reserved = await reservation(request)
        # Every limit checked (and the reservation taken) in one call: one round trip. With
        # no reservation, a call is refused once earlier calls have spent the limit.
        changes = [
            Change(f"{key}:{name}", reserved, window, limit if reserved else None)
            for name, limit, window, _ in limits
        ]
        counts = await guard.check(request, store_of(request).apply(changes, now()))
        for (_, limit, _, is_quota), count in zip(limits, counts or (), strict=False):
            refused = not count.allowed if reserved else count.value >= limit
            if refused:
                raise refuse(count, is_quota)

        async def spend(done: RequestContext) -> None:
            # What the accounting set for a whole response; a stream is accounted after this
            # runs, so its cost is read from it here.
            cost = done.variables.get("llm-cost")
            dollars = Decimal(str(cost)) if isinstance(cost, float) else response_cost(done)
            if dollars is not None:
                nanos = int(dollars * NANO) - reserved
            elif reserved:
                nanos = 0  # the real cost is unknown: the reservation stands
            else:
                return  # no usage or no price: nothing to count
            guard.add_later(done, [Change(c.key, nanos, c.window) for c in changes])
            # What is left: the counters as this call found them, less what it spent.
            lefts = [
                max(limit - (count.value + nanos), 0) / 1e9
                for (_, limit, _, _), count in zip(limits, counts or (), strict=False)
            ]
            if lefts:
                lowest = min(lefts)
                if remaining_variable:
                    done.variables[remaining_variable] = lowest
                if remaining_header:
                    done.response_headers.append((remaining_header, f"{lowest:.6f}"))

        request.defer(Phase.DONE, spend)
        return None

    return llm_cost_limit


SPEC = StatementSpec(
    names=("llm-cost-limit",),
    summary="Limits spend in dollars per minute (429) and per quota period (403) per key.",
    sections=INBOUND,
    attributes=(
        POLICY_ID,
        COUNTER_KEY,
        AttributeSpec("dollars-per-minute", Kind.NUMBER, minimum=0, expression=False),
        AttributeSpec("dollar-quota", Kind.NUMBER, minimum=0, expression=False),
        AttributeSpec(
            "dollar-quota-period",
            Kind.ENUM,
            choices=QUOTA_PERIODS,
            expression=False,
        ),
        RETRY_AFTER_HEADER,
        name_only("remaining-dollars-header-name"),
        name_only("remaining-dollars-variable-name"),
        ON_STORE_FAILURE,
    ),
    check=check,
    compile=compile_llm_cost_limit,
    reads_request_body=True,  # reserve-and-settle counts the prompt
)

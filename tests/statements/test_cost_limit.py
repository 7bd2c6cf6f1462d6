"""llm-cost-limit: spend per minute (429) and per period (403), on both stores."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from gateway.expressions.model import ContextModel, HeaderDictionary, RequestModel
from gateway.runtime.context import Phase, RequestContext
from gateway.runtime.phases import run_phase
from gateway.runtime.pipeline import run_pipeline
from gateway.runtime.services import Services
from gateway.runtime.step import CompiledPolicy
from gateway.stores.counters import CounterStore
from tests.policies import compile_policy


def test_spend_is_counted_from_each_calls_cost_and_refused_once_spent(
    make_store: Callable[[], CounterStore], key: str
) -> None:
    policy = compile_policy(
        f"""<policies><inbound><llm-cost-limit counter-key="{key}" dollars-per-minute="1"
            dollar-quota="1.5" dollar-quota-period="Daily"
            remaining-dollars-variable-name="left" /></inbound></policies>"""
    )

    async def scenario() -> list[int]:
        store = make_store()
        statuses = []
        for cost in (0.6, 0.6, 0.6):
            request = RequestContext(
                ContextModel(Request=RequestModel(Headers=HeaderDictionary())),
                services=Services(counters=store),
            )
            reply = await run_pipeline(CompiledPolicy(inbound=policy.inbound), request)
            if reply is None:
                request.variables["llm-cost"] = cost  # what accounting sets for the call
                await run_phase(request, Phase.DONE)
                statuses.append(200)
                last_left = request.variables["left"]
            else:
                statuses.append(reply.status)
                assert request.model.LastError.Reason == "CostLimitExceeded"
        assert last_left == 0  # the lower of what is left: the minute (1 - 1.2), not the day (0.3)
        await store.close()
        return statuses

    assert asyncio.run(scenario()) == [200, 200, 429]


def test_a_spent_quota_is_403(make_store: Callable[[], CounterStore], key: str) -> None:
    policy = compile_policy(
        f"""<policies><inbound><llm-cost-limit counter-key="{key}" dollar-quota="0.5"
            dollar-quota-period="Monthly" /></inbound></policies>"""
    )

    async def scenario() -> list[int]:
        store = make_store()
        statuses = []
        for _ in range(2):
            request = RequestContext(ContextModel(), services=Services(counters=store))
            reply = await run_pipeline(CompiledPolicy(inbound=policy.inbound), request)
            if reply is None:
                request.variables["llm-cost"] = 0.75
                await run_phase(request, Phase.DONE)
            statuses.append(reply.status if reply is not None else 200)
        await store.close()
        return statuses

    assert asyncio.run(scenario()) == [200, 403]

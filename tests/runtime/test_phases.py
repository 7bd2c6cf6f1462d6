"""Deferred actions run in the order deferred, coroutines and plain functions alike; after
the response, one that fails is logged and the next still runs."""

from __future__ import annotations

import asyncio
import logging

import pytest

from gateway.expressions.model import ContextModel
from gateway.runtime.context import Phase, RequestContext
from gateway.runtime.phases import run_phase


def test_plain_and_coroutine_actions_run_in_turn(caplog: pytest.LogCaptureFixture) -> None:
    context = RequestContext(ContextModel())
    ran: list[str] = []

    async def waits(_: RequestContext) -> None:
        await asyncio.sleep(0)
        ran.append("coroutine")

    def plain(_: RequestContext) -> None:
        ran.append("plain")

    def fails(_: RequestContext) -> None:
        raise RuntimeError("the log is full")

    for phase in (Phase.RESPONSE, Phase.DONE):
        context.defer(phase, plain)
        context.defer(phase, waits)
    context.defer(Phase.DONE, fails)
    context.defer(Phase.DONE, plain)

    asyncio.run(run_phase(context, Phase.RESPONSE))
    assert ran == ["plain", "coroutine"]
    with caplog.at_level(logging.ERROR, "aigw.phases"):
        asyncio.run(run_phase(context, Phase.DONE))
    assert ran == ["plain", "coroutine", "plain", "coroutine", "plain"]
    assert "an action after the response (done) failed" in caplog.text

"""The one runner of deferred actions, phase by phase (`Phase` says when each happens).

`RESPONSE` actions run after every response forward-request gets (a retry's too), in turn,
and may refuse it: a `PolicyError` goes on to on-error, as the statement's own would.
`STREAM_END` and `DONE` actions run once, after the client has its response (or has gone):
a failure is logged and the next action still runs.
"""

from __future__ import annotations

import logging

from gateway.runtime.context import Phase, RequestContext

log = logging.getLogger("aigw.phases")


async def run_phase(context: RequestContext, phase: Phase) -> None:
    if phase is Phase.RESPONSE:
        for action in context.deferred.get(phase, ()):
            waiting = action(context)
            if waiting is not None:  # a coroutine's; a plain function's action is done
                await waiting
        return
    actions = context.deferred.pop(phase, None)
    for action in actions or ():
        try:
            waiting = action(context)
            if waiting is not None:
                await waiting
        except Exception:
            log.exception("an action after the response (%s) failed", phase.value)

"""The per-request state that steps read and change.

`model` is the read-only object that policy expressions see as `context` (APIM's object
model, defined by the expression layer). The proxy builds it from the live request; tests and
`aigw` tools build it from plain values.
"""

from __future__ import annotations

from dataclasses import dataclass

from gateway.expressions.model import ContextModel


@dataclass
class RequestContext:
    model: ContextModel
    section: str = "inbound"
    # The proxy adds typed fields here for what steps hand it (backend choice, pending
    # response, ...), each with the issue that needs it.

    @property
    def variables(self) -> dict[str, object]:
        return self.model.Variables

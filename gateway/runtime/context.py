"""The per-request state that steps read and change.

`model` is the read-only object that policy expressions see as `context` (APIM's object
model, defined by the expression layer). The proxy builds it from the live request; tests and
`aigw` tools build it from plain values.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from gateway.expressions.model import ContextModel


@dataclass
class RequestContext:
    model: ContextModel
    section: str = "inbound"
    # Everything a step leaves for the proxy (backend choice, pending response, ...) goes in
    # typed fields added by the issues that need them; `scratch` is not for that.
    scratch: dict[str, object] = field(default_factory=dict)

    @property
    def variables(self) -> dict[str, object]:
        return self.model.Variables

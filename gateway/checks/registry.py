"""The kinds of probe `aigw check` runs, in the order it reports them.

Each is a function from the configuration to the probes it asks for; add a kind with a
module beside this one and a line here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from gateway.checks.backends import backend_probes
from gateway.checks.probe import Outcome, Probe, run_probes
from gateway.checks.stores import store_probes
from gateway.config.settings import GatewayConfig

ProbeKind = Callable[[GatewayConfig], Iterable[Probe]]

PROBE_KINDS: tuple[ProbeKind, ...] = (
    backend_probes,
    store_probes,
)


def probes_for(config: GatewayConfig) -> list[Probe]:
    return [probe for kind in PROBE_KINDS for probe in kind(config)]


async def run_checks(config: GatewayConfig, timeout: float) -> list[Outcome]:
    return await run_probes(probes_for(config), timeout)

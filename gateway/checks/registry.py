"""The kinds of probe `aigw check` runs, in the order it reports them.

Each is a function from what is checked (gateway.yaml and its directory) to the probes it
asks for; add a kind with a module beside this one and a line here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from gateway.checks.backends import backend_probes
from gateway.checks.ledger import ledger_probes
from gateway.checks.probe import Checked, Outcome, Probe, run_probes
from gateway.checks.stores import store_probes

ProbeKind = Callable[[Checked], Iterable[Probe]]

PROBE_KINDS: tuple[ProbeKind, ...] = (
    backend_probes,
    store_probes,
    ledger_probes,
)


def probes_for(checked: Checked) -> list[Probe]:
    return [probe for kind in PROBE_KINDS for probe in kind(checked)]


async def run_checks(checked: Checked, timeout: float) -> list[Outcome]:
    return await run_probes(probes_for(checked), timeout)

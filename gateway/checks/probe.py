"""A probe: one thing gateway.yaml names, reached once; and the runner that reaches them all.

Probes run at once, each within the timeout. What a probe reports is checked for the secrets
it used before it is shown: a key never reaches the output, whatever a server echoes back.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from gateway.config.secrets import SecretUnavailable
from gateway.config.settings import GatewayConfig


@dataclass(frozen=True, slots=True)
class Checked:
    """What the probes are asked about: gateway.yaml, and the policies directory it is in
    (where the defaults beside it are: the ledger's SQLite file)."""

    config: GatewayConfig
    root: Path


@dataclass(frozen=True, slots=True)
class Found:
    """What a probe found: whether it answers as it should, and a line saying how."""

    ok: bool
    detail: str


@dataclass(frozen=True, slots=True)
class Secrets:
    """The secret values a probe used, collected as it resolves them, so that none of them
    can appear in what it reports."""

    values: list[str]

    def use(self, value: str) -> str:
        if value:
            self.values.append(value)
        return value

    def hide(self, text: str) -> str:
        for value in sorted(self.values, key=len, reverse=True):
            text = text.replace(value, "***")
        return text


Reach = Callable[[Secrets, float], Awaitable[Found]]  # (secrets, timeout) -> what it found


@dataclass(frozen=True, slots=True)
class Probe:
    name: str  # "backend openai", "redis stores.default"
    reach: Reach


@dataclass(frozen=True, slots=True)
class Outcome:
    name: str
    ok: bool
    detail: str
    milliseconds: int


async def run_probes(probes: Sequence[Probe], timeout: float) -> list[Outcome]:
    """Every probe at once; outcomes in the probes' order."""
    return list(await asyncio.gather(*(_run(probe, timeout) for probe in probes)))


async def _run(probe: Probe, timeout: float) -> Outcome:
    secrets = Secrets([])
    started = time.perf_counter()
    try:
        found = await asyncio.wait_for(probe.reach(secrets, timeout), timeout)
    except SecretUnavailable as error:
        found = Found(False, f"a secret it names cannot be read: {error}")
    except TimeoutError:
        found = Found(False, f"no answer within {timeout:g} s")
    except Exception as error:  # a probe's own failure is that probe's FAIL, not the run's
        found = Found(False, f"{type(error).__name__}: {error}")
    elapsed = round((time.perf_counter() - started) * 1000)
    return Outcome(probe.name, found.ok, secrets.hide(found.detail), elapsed)

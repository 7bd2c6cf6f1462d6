"""The configuration serving now, and reloading it while serving.

A `Generation` is one loaded directory with everything built from it (its Wiring, Traffic
and Sockets). The traffic app reads `Live.current` once when a request arrives, so a request
or stream finishes on the generation it started on, however many reloads happen meanwhile.

`Live.reload` loads, checks and compiles the directory beside the serving generation; any
error leaves the old one serving and comes back as diagnostics. On success a new Wiring is
built carrying over the parts that still apply (gateway.proxy.wiring), the single reference
is swapped, and the old generation's leftovers (the sessions of removed backends, say) are
closed once its last request has ended. Reloads run one at a time.

The watch (gateway.yaml `reload.watch`) hashes the directory every `reload.interval` and
reloads when the version changes; a version that fails is reported once, not every interval.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from gateway.common.diagnostics import DiagnosticError
from gateway.load import LoadedGateway, directory_version, load_gateway
from gateway.proxy.sockets import Sockets
from gateway.proxy.traffic import Traffic
from gateway.proxy.wiring import Wiring
from gateway.runtime.services import Metrics
from gateway.tokens.tokenizer import use_counter

if TYPE_CHECKING:  # OpenTelemetry is imported only when tracing is on
    from gateway.telemetry.tracing import Tracing

log = logging.getLogger("aigw.reload")

RETIRE_POLL = 0.5  # seconds between looks at a retired generation's requests in flight


@dataclass(eq=False, slots=True)
class Generation:
    gateway: LoadedGateway
    wiring: Wiring
    traffic: Traffic
    sockets: Sockets
    in_flight: int = 0  # requests (streams, WebSocket sessions) that entered on this one

    @property
    def version(self) -> str:
        return self.gateway.version


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one reload did: the version serving after it, and the errors if it failed."""

    ok: bool
    version: str
    diagnostics: list[str] = field(default_factory=list)

    def answer(self, pid: int) -> dict[str, object]:
        body: dict[str, object] = {"pid": pid, "ok": self.ok, "version": self.version}
        if not self.ok:
            body["diagnostics"] = self.diagnostics
        return body


def generation(
    gateway: LoadedGateway,
    metrics: Metrics | None,
    tracing: Tracing | None,
    previous: Wiring | None,
) -> Generation:
    wiring = Wiring(gateway.config, metrics, tracing, previous, gateway.root)
    traffic = Traffic(gateway, wiring)
    return Generation(gateway, wiring, traffic, Sockets(traffic, wiring.forwarder))


class Live:
    """The serving generation of one process, swapped whole by a reload."""

    def __init__(
        self,
        gateway: LoadedGateway,
        metrics: Metrics | None = None,
        tracing: Tracing | None = None,
    ) -> None:
        self.metrics = metrics  # one per process: they outlive every generation
        self.tracing = tracing
        self.current = generation(gateway, metrics, tracing, None)
        use_counter(gateway.config.limits.token_counter)  # the process's: one gateway serves
        self._lock = asyncio.Lock()
        self._retiring: set[Generation] = set()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._watch: asyncio.Task[None] | None = None

    @property
    def gateway(self) -> LoadedGateway:
        return self.current.gateway

    @property
    def version(self) -> str:
        return self.current.version

    async def reload(self, reason: str) -> Outcome:
        """Load the directory again and swap it in, or keep serving and say why not."""
        async with self._lock:
            old = self.current
            root = old.gateway.root
            try:  # compiling takes a while: off the event loop, which keeps serving
                gateway = await asyncio.to_thread(load_gateway, root)
                new = generation(gateway, self.metrics, self.tracing, old.wiring)
                await new.wiring.start()
            except DiagnosticError as error:
                lines = [d.format() for d in error.diagnostics if d.is_error]
                return self._failed(old, reason, lines)
            except Exception as error:  # unreadable directory, unreachable store, ...
                return self._failed(old, reason, [f"{root}: error: {error}"])
            self.current = new
            use_counter(gateway.config.limits.token_counter)  # once swapped, not before
            self._retire(old, new)
            log.info("reload (%s) of %s: version %s -> %s", reason, root, old.version, new.version)
            self._follow_watch_setting()
            return Outcome(True, new.version)

    def _failed(self, old: Generation, reason: str, lines: list[str]) -> Outcome:
        log.error(
            "reload (%s) of %s failed; version %s keeps serving:\n%s",
            reason,
            old.gateway.root,
            old.version,
            "\n".join(lines),
        )
        return Outcome(False, old.version, lines)

    def _retire(self, old: Generation, new: Generation) -> None:
        """Close what `new` did not carry over, once `old`'s last request has ended."""
        self._retiring.add(old)

        async def when_done() -> None:
            while old.in_flight:
                await asyncio.sleep(RETIRE_POLL)
            self._retiring.discard(old)
            await old.wiring.close(successor=new.wiring)

        self.spawn(when_done())

    def spawn(self, work: Coroutine[Any, Any, Any]) -> None:
        """Run a coroutine in the background, keeping a reference until it ends."""
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def start(self) -> None:
        """In the serving loop: read the stores, and start the watch if gateway.yaml asks."""
        await self.current.wiring.start()
        self._follow_watch_setting()

    async def close(self) -> None:
        if self._watch is not None:
            self._watch.cancel()
        for task in list(self._tasks):
            task.cancel()
        for old in list(self._retiring):
            await old.wiring.close(successor=self.current.wiring)
        await self.current.wiring.close()

    def _follow_watch_setting(self) -> None:
        wanted = self.current.gateway.config.reload.watch
        if wanted and self._watch is None:
            self._watch = asyncio.get_running_loop().create_task(self._watching())
        elif not wanted and self._watch is not None:
            self._watch.cancel()
            self._watch = None

    async def _watching(self) -> None:
        failed: str | None = None  # the version that last failed: reported once
        root = self.gateway.root
        while True:
            await asyncio.sleep(self.current.gateway.config.reload.interval)
            version = await asyncio.to_thread(directory_version, root)
            if version in (self.version, failed):
                continue
            outcome = await self.reload("watch")
            failed = None if outcome.ok else version

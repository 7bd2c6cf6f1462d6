"""Benchmark: the gateway's added latency and CPU cost against a bare forwarder.

    python bench/latency.py [--duration 10] [--warmup 2] [--rounds 1] [--quick] [--check]

Needs wrk and nginx (`apt-get install wrk nginx-light`) and 2 cores. Starts, each pinned to
core 0 with taskset:

- nginx on 127.0.0.1:18081 (bench/nginx.conf), returning a canned chat completion;
- the bare forwarder on 127.0.0.1:18082 (bench/bare_forwarder.py): Starlette + one aiohttp
  session, the least a Python forwarder on the gateway's stack does;
- the gateway (`aigw run`, here `python -m gateway.cli run` so the work tree's code is what
  runs) four times: bench/chains/passthrough on 18090 (no key check, empty policy),
  bench/chains/typical on 18092 (subscription key, three set-header and a choose), and the
  typical chain plus llm-token-limit and llm-emit-token-metric with counters in the process
  (bench/chains/tokens-memory, 18094) and in Redis (bench/chains/tokens-redis, 18096; Redis
  must listen on 127.0.0.1:6379); then the typical chain traced (telemetry.traces) at 100 %
  and at 1 % sampling (bench/chains/typical-traced-100, 18098; typical-traced-1, 18100),
  exporting spans over OTLP/HTTP to nginx's `/v1/traces`, which drops them: what tracing
  adds on the request path, against the typical chain's tracing off.

It checks each responds to one POST with 200 (and that the typical chain really ran: key checked,
headers set, backend credentials sent), then drives each with wrk pinned to core 1
(bench/post.lua): latency at one connection (p50, p99), throughput at 32 connections, and
the server's CPU time (user + system from /proc, its child processes included) over the
throughput run divided by the requests wrk counted. It prints a Markdown table and the
targets: pass-through within 20% of the bare forwarder's throughput; the typical chain at most
0.25 ms CPU and 0.35 ms added p50 per request, then notes: repeated response headers, and how
much CPU other processes took meanwhile (a busy machine makes the figures noisy; --rounds N
measures the targets round-robin N times and reports medians). --check exits 1 when a target
is missed. Every process it starts is stopped on exit, Ctrl-C and SIGTERM included.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from types import FrameType

from procstat import busy_seconds, cpu_seconds  # bench/: running this script puts it on sys.path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
HOST = "127.0.0.1"
NGINX_PORT = 18081
BARE_PORT = 18082
PASSTHROUGH_PORTS = (18090, 18091)  # traffic, admin
TYPICAL_PORTS = (18092, 18093)
# The gateway chains under bench/chains, each served on its own (traffic, admin) ports. The
# token chains are the typical chain plus llm-token-limit and llm-emit-token-metric, with
# counters in the process or in Redis (which must run on 127.0.0.1:6379).
GATEWAYS = {
    "passthrough": PASSTHROUGH_PORTS,
    "typical": TYPICAL_PORTS,
    "tokens-memory": (18094, 18095),
    "tokens-redis": (18096, 18097),
    "typical-traced-100": (18098, 18099),
    "typical-traced-1": (18100, 18101),
}
CHAT_PATH = "/v1/chat/completions"
GATEWAY_PATH = "/llm/chat/completions"
SUBSCRIPTION_KEY = "bench-key-123"
BACKEND_AUTH = "Bearer sk-bench"  # the backend credentials in bench/chains/*/gateway.yaml
BODY = json.dumps(
    {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Say hello."}]}
).encode()
SERVER_CORE = "0"
CLIENT_CORE = "1"
THROUGHPUT_CONNECTIONS = 32
STARTUP_TIMEOUT = 20.0

# The targets the gateway is held to.
MIN_PASSTHROUGH_RATIO = 0.80
MAX_TYPICAL_CPU_MS = 0.25
MAX_TYPICAL_ADDED_P50_MS = 0.35


class BenchError(Exception):
    """The benchmark cannot run or a target misbehaved; the message says why."""


@dataclass(frozen=True)
class Target:
    name: str
    server: str  # the key of the process that serves it
    url: str
    auth: str | None = None  # the Authorization header the client sends
    chain: str | None = None  # a gateway's: the bench/chains directory it serves


@dataclass(frozen=True)
class WrkRun:
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float

    @property
    def rate(self) -> float:
        return self.requests / self.seconds


@dataclass(frozen=True)
class Row:
    target: Target
    p50_ms: float  # at one connection
    p99_ms: float
    rate: float  # requests per second at THROUGHPUT_CONNECTIONS
    cpu_ms: float  # server CPU per request over the throughput run


def median_row(rows: list[Row]) -> Row:
    """Each figure's median over the rounds (one round: the round itself)."""
    return Row(
        rows[0].target,
        statistics.median(row.p50_ms for row in rows),
        statistics.median(row.p99_ms for row in rows),
        statistics.median(row.rate for row in rows),
        statistics.median(row.cpu_ms for row in rows),
    )


def gateway_target(name: str, chain: str, server: str | None = None, port: int = 0) -> Target:
    """A gateway serving bench/chains/<chain>; every chain but pass-through checks the key."""
    return Target(
        name,
        server or chain,
        f"http://{HOST}:{port or GATEWAYS[chain][0]}{GATEWAY_PATH}",
        auth=None if chain == "passthrough" else f"Bearer {SUBSCRIPTION_KEY}",
        chain=chain,
    )


TARGETS = (
    Target("nginx direct", "nginx", f"http://{HOST}:{NGINX_PORT}{CHAT_PATH}"),
    Target("bare forwarder", "bare", f"http://{HOST}:{BARE_PORT}{CHAT_PATH}"),
    gateway_target("gateway pass-through", "passthrough"),
    gateway_target("gateway typical", "typical"),
    gateway_target("typical + token limit, metrics (memory)", "tokens-memory"),
    gateway_target("typical + token limit, metrics (Redis)", "tokens-redis"),
    gateway_target("typical, traced at 100 %", "typical-traced-100"),
    gateway_target("typical, traced at 1 %", "typical-traced-1"),
)


# -- processes ------------------------------------------------------------------------------


class Servers:
    """The processes the benchmark started, by name; `stop` ends them all."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.processes: dict[str, subprocess.Popen[bytes]] = {}

    def start(
        self,
        name: str,
        command: list[str],
        env: dict[str, str] | None = None,
        cwd: Path = REPO,
        cores: str = SERVER_CORE,
    ) -> int:
        """Start `command` pinned to `cores` (taskset's list: "0", "0,1"), its output logged."""
        log = (self.workdir / f"{name}.log").open("wb")
        process = subprocess.Popen(
            ["taskset", "-c", cores, *command],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
            cwd=cwd,
            start_new_session=True,  # a terminal's Ctrl-C reaches us; we stop them in order
        )
        log.close()
        self.processes[name] = process
        return process.pid

    def pid(self, name: str) -> int:
        return self.processes[name].pid

    def check_alive(self, name: str) -> None:
        code = self.processes[name].poll()
        if code is not None:
            raise BenchError(f"{name} exited with code {code}:\n{self.log_tail(name)}")

    def log_tail(self, name: str, lines: int = 20) -> str:
        path = self.workdir / f"{name}.log"
        text = path.read_text(errors="replace") if path.exists() else ""
        return "\n".join(text.splitlines()[-lines:]) or "(no output)"

    def stop(self, names: Iterable[str] | None = None) -> None:
        """End the named processes (default: all), waiting for each; kill what lingers."""
        names = list(self.processes) if names is None else list(names)
        chosen = {name: self.processes[name] for name in names}
        for process in chosen.values():
            if process.poll() is None:
                process.terminate()
        deadline = time.monotonic() + 10
        for name, process in chosen.items():
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            del self.processes[name]


def require_tools() -> None:
    missing = [tool for tool in ("wrk", "nginx", "taskset") if shutil.which(tool) is None]
    if missing:
        packages = "wrk nginx-light" + (" util-linux" if "taskset" in missing else "")
        raise BenchError(
            f"{', '.join(missing)} not found: install with `apt-get install {packages}`"
        )
    if (os.cpu_count() or 1) < 2:
        raise BenchError("needs 2 cores: the servers run on core 0, wrk on core 1")


def require_free_ports(ports: Iterable[int] = ()) -> None:
    """Fail when a port is taken (default: every port this script serves on)."""
    ports = list(ports) or [
        NGINX_PORT,
        BARE_PORT,
        *(port for pair in GATEWAYS.values() for port in pair),
    ]
    taken = [port for port in ports if listening(port)]
    if taken:
        raise BenchError(f"ports already in use: {taken}; stop whatever listens there")


def listening(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.2)
        return probe.connect_ex((HOST, port)) == 0


def start_all(servers: Servers) -> None:
    start_nginx(servers)
    servers.start(
        "bare", [sys.executable, str(BENCH / "bare_forwarder.py"), "--port", str(BARE_PORT)]
    )
    for name, ports in GATEWAYS.items():
        start_gateway(servers, name, BENCH / "chains" / name, ports)
    wait_until(servers, "nginx", lambda: listening(NGINX_PORT))
    wait_until(servers, "bare", lambda: listening(BARE_PORT))
    for name, (port, _) in GATEWAYS.items():
        wait_healthy(servers, name, port)


def start_nginx(
    servers: Servers, config: Path = BENCH / "nginx.conf", port: int = NGINX_PORT
) -> None:
    """nginx on NGINX_PORT (bench/nginx.conf, or `config`; on `port`, another benchmark's own
    upstream, the same file listening there), its files under the servers' workdir."""
    prefix = servers.workdir / "nginx"
    prefix.mkdir()
    if port != NGINX_PORT:  # another benchmark's own upstream: the same file on its port
        text = config.read_text().replace(f"listen {HOST}:{NGINX_PORT};", f"listen {HOST}:{port};")
        for included in config.parent.glob("canned_*.conf"):  # its includes, found beside it
            shutil.copy(included, prefix / included.name)
        config = prefix / "nginx.conf"
        config.write_text(text)
    nginx = ["nginx", "-p", f"{prefix}/", "-e", str(prefix / "error.log")]
    nginx += ["-c", str(config), "-g", f"pid {prefix / 'nginx.pid'};"]
    servers.start("nginx", nginx)


def gateway_env(tree: Path) -> dict[str, str]:
    """The environment under which `python -m gateway` imports the gateway package of `tree`.

    Run it with `tree` as the working directory too: `python -m` puts the working directory
    first on sys.path, ahead of PYTHONPATH (and PYTHONPATH comes before any installed copy).
    """
    return {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(tree), os.environ.get("PYTHONPATH")])),
    }


def start_gateway(
    servers: Servers,
    name: str,
    chain: Path,
    ports: tuple[int, int],
    tree: Path = REPO,
    workers: int = 1,
    cores: str = SERVER_CORE,
) -> None:
    """`python -m gateway.cli run CHAIN` with the code of `tree` (default: this work tree)."""
    command = gateway_command(chain, ports, workers)
    servers.start(name, command, gateway_env(tree), cwd=tree, cores=cores)


def gateway_command(chain: Path, ports: tuple[int, int], workers: int = 1) -> list[str]:
    """The command serving `chain` on (traffic, admin) ports; run it with `gateway_env`."""
    port, admin = ports
    command = [sys.executable, "-m", "gateway.cli", "run", str(chain)]
    command += ["--host", HOST, "--port", str(port), "--admin-port", str(admin)]
    if workers != 1:  # left out otherwise: bench/ab.py may serve a revision from before it
        command += ["--workers", str(workers)]
    return command


def wait_healthy(servers: Servers, name: str, port: int) -> None:
    wait_until(servers, name, lambda: _healthy(f"http://{HOST}:{port}/-/health"))


def wait_until(
    servers: Servers, name: str, ready: Callable[[], bool], timeout: float = STARTUP_TIMEOUT
) -> None:
    deadline = time.monotonic() + timeout
    while not ready():
        servers.check_alive(name)
        if time.monotonic() > deadline:
            raise BenchError(f"{name} did not come up in {timeout:g}s:\n{servers.log_tail(name)}")
        time.sleep(0.1)


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:
            return response.status == 200
    except (OSError, urllib.error.URLError):
        return False


# -- checks before measuring ----------------------------------------------------------------


@dataclass(frozen=True)
class Response:
    status: int
    headers: list[tuple[str, str]]  # as sent: lower-case names, repeats kept
    body: bytes

    def header(self, name: str) -> str | None:
        return next((value for key, value in self.headers if key == name), None)

    def repeated(self) -> list[str]:
        names = [key for key, _ in self.headers]
        return sorted({name for name in names if names.count(name) > 1})


def post(url: str, auth: str | None, extra: dict[str, str] | None = None) -> Response:
    headers = {"Content-Type": "application/json", **(extra or {})}
    if auth:
        headers["Authorization"] = auth
    request = urllib.request.Request(url, data=BODY, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=5) as raw:
            return Response(raw.status, _headers(raw.headers.items()), raw.read())
    except urllib.error.HTTPError as error:
        return Response(error.code, _headers(error.headers.items()), error.read())


def _headers(items: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    return [(name.lower(), value) for name, value in items]


def verify(target: Target) -> list[str]:
    """Fail unless the target responds as it should; return what is odd but not fatal."""
    response = post(target.url, target.auth)
    if response.status != 200:
        raise BenchError(
            f"{target.name}: POST {target.url} answered {response.status}: {response.body[:300]!r}"
        )
    if json.loads(response.body).get("object") != "chat.completion":
        raise BenchError(f"{target.name}: not the canned chat completion: {response.body[:300]!r}")
    if target.chain is not None:
        expect(target, response, "x-bench-auth", BACKEND_AUTH)  # nginx echoes what it was sent
    chain = target.chain or ""
    if chain.startswith("tokens-") and response.header("x-tokens-left") is None:
        raise BenchError(f"{target.name}: the token limit did not run (no x-tokens-left)")
    if chain and chain != "passthrough":
        expect(target, response, "x-bench-team", "bench-team")
        expect(target, response, "x-bench-route", "default")
        fast = post(target.url, target.auth, {"x-mode": "fast"})  # the choose's other branch
        expect(target, fast, "x-bench-route", "fast")
        denied = post(target.url, None)
        if denied.status != 401:
            raise BenchError(
                f"{target.name}: a request without the key answered {denied.status}, not 401"
            )
    repeated = response.repeated()
    return (
        [f"{target.name} answers with repeated headers: {', '.join(repeated)}"] if repeated else []
    )


def expect(target: Target, response: Response, header: str, value: str) -> None:
    got = response.header(header)
    if got != value:
        raise BenchError(
            f"{target.name}: the backend saw {header[len('x-bench-') :]}={got!r}, not {value!r}"
        )


# -- measuring ------------------------------------------------------------------------------


def wrk(
    target: Target,
    connections: int,
    seconds: float,
    script: Path | None = None,
    timeout: int = 2,
) -> WrkRun:
    """Drive the target with wrk on the client core: bench/post.lua, or `script` (one that
    runs post.lua first, for its report line, then changes the request). A request unanswered
    after `timeout` seconds (wrk's default 2) is an error."""
    command = ["taskset", "-c", CLIENT_CORE, "wrk", "-t1", f"-c{connections}", f"-d{seconds:g}s"]
    command.append(f"--timeout={timeout}s")
    command += ["--latency", "-s", str(script or BENCH / "post.lua"), target.url]
    env = {**os.environ, "AIGW_BENCH_AUTH": target.auth or ""}
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=seconds + 60)
    lines = [line for line in done.stdout.splitlines() if line.startswith("AIGW_BENCH ")]
    if done.returncode != 0 or not lines:
        raise BenchError(
            f"wrk failed on {target.name} ({done.returncode}):\n{done.stdout}{done.stderr}"
        )
    stats = json.loads(lines[-1].removeprefix("AIGW_BENCH "))
    errors = {k: v for k, v in stats.items() if k.endswith(("_errors", "timeouts")) and v}
    if errors or not stats["requests"]:
        raise BenchError(
            f"wrk on {target.name} ({connections} connections): {errors or 'no requests'}\n"
            + done.stdout
        )
    return WrkRun(
        stats["requests"], stats["duration_us"] / 1e6, stats["p50_us"] / 1e3, stats["p99_us"] / 1e3
    )


def own_seconds(servers: Servers) -> float:
    """CPU time of this script, the wrk runs it waited for, and the servers it started."""
    used = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        usage = resource.getrusage(who)
        used += usage.ru_utime + usage.ru_stime
    return used + sum(cpu_seconds(process.pid) for process in servers.processes.values())


@contextmanager
def others_watched(servers: Servers, notes: list[str]) -> Iterator[None]:
    """Note how busy the rest of the machine kept the cores meanwhile: it skews the figures."""
    start, (busy, stolen), own = time.monotonic(), busy_seconds(), own_seconds(servers)
    yield
    wall = time.monotonic() - start
    (busy_after, stolen_after), own_after = busy_seconds(), own_seconds(servers)
    others = max(0.0, (busy_after - busy) - (own_after - own)) / wall
    steal = (stolen_after - stolen) / wall
    quiet = "" if others < 0.05 and steal < 0.05 else ": the figures are noisy, rerun when quiet"
    notes.append(
        f"other processes used {others:.0%} of a core during the measurements,"
        f" the hypervisor stole {steal:.0%}{quiet}"
    )


def measure(target: Target, pid: int, duration: float, warmup: float) -> Row:
    if warmup > 0:
        wrk(target, THROUGHPUT_CONNECTIONS, warmup)
    latency = wrk(target, 1, duration)
    before = cpu_seconds(pid)
    throughput = wrk(target, THROUGHPUT_CONNECTIONS, duration)
    used = cpu_seconds(pid) - before
    cpu_ms = used * 1000 / throughput.requests
    return Row(target, latency.p50_ms, latency.p99_ms, throughput.rate, cpu_ms)


# -- report ---------------------------------------------------------------------------------


def machine(load: tuple[float, float, float], code: str | None = None) -> list[str]:
    """The machine, the stack's versions and the code measured (default: this work tree's)."""
    model = "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    versions = ", ".join(
        f"{name} {_version(name)}"
        for name in ("uvicorn", "starlette", "aiohttp", "uvloop", "httptools")
    )
    nginx = subprocess.run(["nginx", "-v"], capture_output=True, text=True).stderr.strip()
    wrk_version = subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout.splitlines()[
        0
    ]
    return [
        f"- CPU: {model} ({os.cpu_count()} cores;"
        f" servers on core {SERVER_CORE}, wrk on core {CLIENT_CORE})",
        f"- Python {platform.python_version()} on Linux {platform.release()}; {versions}",
        f"- {nginx.removeprefix('nginx version: ')}; {wrk_version.split(' [')[0]}",
        f"- gateway code: {code or code_version()}",
        f"- load average before the benchmark (1, 5, 15 min): {' '.join(f'{x:.2f}' for x in load)}",
    ]


def code_version() -> str:
    """The commit the gateway's code is at, and whether gateway/ has uncommitted changes."""
    git = ["git", "-C", str(REPO)]
    try:
        head = subprocess.run(
            [*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True
        )
        dirty = subprocess.run(
            [*git, "status", "--porcelain", "--", "gateway"], capture_output=True, text=True
        )
    except OSError:
        return "unknown (no git)"
    if head.returncode != 0:
        return "unknown (not a git work tree)"
    return head.stdout.strip() + (" + uncommitted changes in gateway/" if dirty.stdout else "")


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "?"


def table(rows: list[Row]) -> list[str]:
    direct = rows[0].p50_ms
    lines = [
        "| target | p50 ms (c=1) | p99 ms (c=1) | "
        f"req/s (c={THROUGHPUT_CONNECTIONS}) | CPU ms/req | added p50 vs nginx direct |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in rows:
        added = row.p50_ms - direct
        lines.append(
            f"| {row.target.name} | {row.p50_ms:.3f} | {row.p99_ms:.3f} | "
            f"{row.rate:,.0f} | {row.cpu_ms:.3f} | {added:+.3f} |"
        )
    return lines


def verdicts(rows: list[Row]) -> list[tuple[str, bool]]:
    by = {row.target.server: row for row in rows}
    ratio = by["passthrough"].rate / by["bare"].rate
    cpu = by["typical"].cpu_ms
    added = by["typical"].p50_ms - by["nginx"].p50_ms
    return [
        (
            "gateway pass-through / bare forwarder throughput:"
            f" {ratio:.2f} (target >= {MIN_PASSTHROUGH_RATIO:.2f})",
            ratio >= MIN_PASSTHROUGH_RATIO,
        ),
        (
            f"typical chain CPU: {cpu:.3f} ms/request (target <= {MAX_TYPICAL_CPU_MS})",
            cpu <= MAX_TYPICAL_CPU_MS,
        ),
        (
            f"typical chain added p50: {added:.3f} ms (target <= {MAX_TYPICAL_ADDED_P50_MS})",
            added <= MAX_TYPICAL_ADDED_P50_MS,
        ),
    ]


def report(
    rows: list[Row], notes: list[str], args: argparse.Namespace, load: tuple[float, float, float]
) -> bool:
    medians = f", median of {args.rounds} rounds" if args.rounds > 1 else ""
    print(f"\n## Gateway latency benchmark ({args.duration:g} s per wrk run{medians})\n")
    print("\n".join(machine(load)))
    print()
    print("\n".join(table(rows)))
    print(
        "\nCPU ms/req: the server process's user + system time over the c=32 run divided by the"
        " requests wrk counted (nginx: master + worker; the other rows exclude nginx).\n"
    )
    results = verdicts(rows)
    for text, met in results:
        print(f"- {'PASS' if met else 'MISS'}: {text}")
    for note in notes:
        print(f"- NOTE: {note}")
    return all(met for _, met in results)


# -- main -----------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="The gateway's added latency and CPU cost against a bare forwarder."
    )
    add = parser.add_argument
    add("--duration", type=float, default=10.0, help="seconds per wrk run (default 10)")
    add("--warmup", type=float, default=2.0, help="seconds of c=32 load before each target")
    add("--rounds", type=int, default=1, help="measure each target N times; report medians")
    add("--quick", action="store_true", help="short runs (2 s, 1 s warm-up): a smoke test")
    add("--check", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args(argv)
    if args.quick:
        args.duration, args.warmup = 2.0, 1.0
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    return args


@contextmanager
def stopped_on_sigterm() -> Iterator[None]:
    """Turn SIGTERM into an exception, so `finally` stops the servers then too."""

    def handler(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def measure_rounds(servers: Servers, args: argparse.Namespace) -> dict[Target, list[Row]]:
    rounds: dict[Target, list[Row]] = {target: [] for target in TARGETS}
    for number in range(1, args.rounds + 1):
        for target in TARGETS:  # round-robin: a slow spell of the machine hits every target
            print(f"round {number}/{args.rounds}: {target.name}", file=sys.stderr)
            pid = servers.pid(target.server)
            rounds[target].append(measure(target, pid, args.duration, args.warmup))
            servers.check_alive(target.server)
    return rounds


def run(args: argparse.Namespace) -> bool:
    require_tools()
    require_free_ports()
    load = os.getloadavg()  # other work on the machine skews the numbers
    with tempfile.TemporaryDirectory(prefix="aigw-bench-") as workdir, stopped_on_sigterm():
        servers = Servers(Path(workdir))
        try:
            start_all(servers)
            notes = [note for target in TARGETS for note in verify(target)]
            with others_watched(servers, notes):
                rounds = measure_rounds(servers, args)
        finally:
            servers.stop()
    rows = [median_row(found) for found in rounds.values()]
    return report(rows, notes, args, load)


def guarded(script: str, body: Callable[[], int]) -> int:
    """A benchmark's exit code: its body's; 2 with the message on a BenchError; 130 on Ctrl-C
    or SIGTERM (see stopped_on_sigterm), once the processes it started are stopped."""
    try:
        return body()
    except BenchError as error:
        print(f"{script}: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{script}: interrupted; every process it started is stopped", file=sys.stderr)
        return 130


def exit_status(script: str, run: Callable[[], bool]) -> int:
    """A bench script's exit status: as `guarded`, with 0 when `run` passes and 1 when not."""
    return guarded(script, lambda: 0 if run() else 1)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    return guarded("bench/latency.py", lambda: 0 if run(args) or not args.check else 1)


if __name__ == "__main__":
    sys.exit(main())

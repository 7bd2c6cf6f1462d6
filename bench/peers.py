"""Benchmark: our gateway beside its two peers, LiteLLM's proxy and Portkey's gateway, in one run.

    python bench/peers.py --install [--peers-dir /tmp/aigw-peers]
    python bench/peers.py [--duration 8] [--warmup 2] [--max-noise 0.10] [--max-drift 0.05]
                          [--only KEYS]

--install puts the peers, pinned, in a folder outside the repository: LiteLLM's proxy
(`litellm[proxy]==1.106.2` in a venv of its own) and Portkey's gateway (`@portkey-ai/gateway`
1.15.2 with `@hono/node-server` 1.14.1 forced for the gateway too: later versions break its
streaming). It needs PyPI and the npm registry; nothing else here does, and no test runs it.

A run needs wrk, nginx with its echo module (`apt-get install wrk nginx-light
libnginx-mod-http-echo`) and 2 cores. nginx (bench/peers_nginx.conf) returns canned chat
completions: JSON, an SSE stream when asked for one, and the same 50 ms late. Then each target
in turn (bench/peer_targets.py: LiteLLM, Portkey, ours pass-through and governed, the bare
forwarder), one worker pinned to core 0, is started, checked (bench/peer_checks.py: a target
answering wrongly is reported, not timed), driven by wrk on core 1 and stopped: p50 at one
connection, req/s at 32 connections and the target's CPU time over that run (/proc), streams/s
at 16, a stream's time to first byte (p50, one connection, from this script, pinned to core 1),
req/s at 32 with the 50 ms upstream, and its resident memory after. It prints one Markdown
table with each figure's ratio to ours (governed), the targets as met or missed, and the noise:
steal, and other processes' share of each core (busy time less the target's, nginx's, wrk's
and this script's); over --max-noise a warning heads the table. The server core's own speed,
which moves here with nothing else running, is probed before each target and at the end
(bench/drift.py): a spread over --max-drift warns too, since targets timed at different
speeds compare unfairly. Every process it starts is stopped on exit, Ctrl-C and SIGTERM
included. Ports: --base-port and the 7 above it.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import drift
import latency  # bench/: running this script puts it first on sys.path
import peer_checks
import peer_targets
import procstat
from latency import REPO, BenchError, Servers, Target
from peer_report import Measured, Outcome, render
from peer_targets import JSON, SLOW, STREAM, Call, Peer, Ports

DEFAULT_PEERS_DIR = Path("/tmp/aigw-peers")
DEFAULT_BASE_PORT = 23570
LITELLM_SPEC = "litellm[proxy]==1.106.2"
NPM_PACKAGES = {"@portkey-ai/gateway": "1.15.2", "@hono/node-server": "1.14.1"}
SERVER_CORE, CLIENT_CORE = int(latency.SERVER_CORE), int(latency.CLIENT_CORE)
STREAM_CONNECTIONS = 16
WRK_TIMEOUT = 30  # seconds
PROBE_TRIES = 5  # the server core's speed: the fastest of these (bench/drift.py)
TARGET_KEYS = "litellm,portkey,passthrough,governed,bare"  # peer_targets.targets' keys


# -- install --------------------------------------------------------------------------------


def npm_manifest() -> dict[str, object]:
    """package.json for the peers' folder: exact versions, and node-server forced everywhere
    (the gateway's own dependencies would otherwise bring a later one beside it)."""
    return {
        "name": "aigw-bench-peers",
        "private": True,
        "dependencies": NPM_PACKAGES,
        "overrides": {"@hono/node-server": NPM_PACKAGES["@hono/node-server"]},
    }


def install(peers_dir: Path) -> None:
    if peers_dir.resolve().is_relative_to(REPO):
        raise BenchError(f"--peers-dir {peers_dir} is inside the repository; choose another")
    if shutil.which("npm") is None:
        raise BenchError("npm not found: install Node.js 18 or later with npm")
    peers_dir.mkdir(parents=True, exist_ok=True)
    venv = peers_dir / "litellm-venv"
    step([sys.executable, "-m", "venv", str(venv)], peers_dir)
    step([str(venv / "bin" / "pip"), "install", "--quiet", LITELLM_SPEC], peers_dir)
    (peers_dir / "package.json").write_text(json.dumps(npm_manifest(), indent=2) + "\n")
    (peers_dir / "package-lock.json").unlink(missing_ok=True)  # the overrides apply afresh
    step(["npm", "install", "--no-fund", "--no-audit"], peers_dir)
    print(
        f"installed in {peers_dir}: {LITELLM_SPEC}; "
        + ", ".join(f"{name}@{version}" for name, version in NPM_PACKAGES.items())
    )


def step(command: list[str], cwd: Path) -> None:
    print("$ " + " ".join(command), file=sys.stderr)
    if subprocess.run(command, cwd=cwd).returncode != 0:
        raise BenchError(f"failed: {' '.join(command)}")


def require_installed(peers_dir: Path) -> None:
    missing = [
        str(peers_dir / path)
        for path in (peer_targets.LITELLM_BIN, peer_targets.PORTKEY_SERVER)
        if not (peers_dir / path).exists()
    ]
    if missing:
        raise BenchError(f"not installed: {', '.join(missing)}; run `bench/peers.py --install`")
    if not peer_targets.ECHO_MODULE.exists():
        raise BenchError("nginx's echo module is missing: apt-get install libnginx-mod-http-echo")
    if shutil.which("node") is None:
        raise BenchError("node not found: Portkey's gateway runs on Node.js")


# -- measuring ------------------------------------------------------------------------------


def answers(url: str) -> bool:
    """Whether an HTTP server answers at `url` (any status under 500: it is up)."""
    try:
        with urllib.request.urlopen(url, timeout=1) as response:
            return response.status < 500
    except urllib.error.HTTPError as error:
        return error.code < 500
    except OSError:
        return False


def first_byte_p50(call: Call, seconds: float) -> float:
    """A stream's time to its first body byte, p50 in ms, one keep-alive connection."""
    url = urllib.parse.urlsplit(call.url)
    connection = http.client.HTTPConnection(url.hostname or "", url.port, timeout=10)
    headers = {"Content-Type": "application/json", **call.headers}
    found: list[float] = []
    deadline = time.monotonic() + seconds
    try:
        while time.monotonic() < deadline:
            start = time.perf_counter()
            connection.request("POST", url.path, call.body, headers)
            response = connection.getresponse()
            first = response.read1(1)  # waits for the first chunk of the body
            found.append(time.perf_counter() - start)
            rest = response.read()
            if response.status != 200 or not first + rest:
                raise BenchError(f"stream from {call.url}: {response.status} {rest[:200]!r}")
    except (OSError, http.client.HTTPException) as error:
        raise BenchError(f"stream from {call.url}: {error}") from error
    finally:
        connection.close()
    return statistics.median(found) * 1000


def client_seconds() -> float:
    """CPU time of this script and the wrk runs it waited for (both on the client core)."""
    return sum(
        usage.ru_utime + usage.ru_stime
        for usage in map(resource.getrusage, (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
    )


class Run:
    """One run: nginx up, the targets measured one after the other, the noise added up."""

    def __init__(self, servers: Servers, args: argparse.Namespace, workdir: Path) -> None:
        self.servers, self.args, self.workdir = servers, args, workdir
        self.noise = procstat.Noise({}, {}, 0.0, 0.0)
        self.drift = drift.Drift(())

    def probe(self, label: str) -> None:
        """The server core's speed now (nothing of ours runs on it between targets)."""
        self.drift = self.drift.then(label, drift.probe_seconds(SERVER_CORE, PROBE_TRIES))

    def wrk(self, peer: Peer, kind: str, connections: int, seconds: float) -> latency.WrkRun:
        script = self.workdir / f"{peer.key}-{kind}.lua"
        script.write_text(peer_targets.wrk_script(peer.calls[kind]))
        target = Target(f"{peer.name} ({kind})", peer.key, peer.calls[kind].url)
        # A slow peer may take over wrk's default 2 s at 32 connections on one core: that is
        # a result, not a failure.
        return latency.wrk(target, connections, seconds, script, WRK_TIMEOUT)

    def direct_p50(self, ports: Ports) -> float:
        """nginx direct's p50 at one connection: what the targets' p50 is added to."""
        nginx = Peer("nginx", "nginx direct", [], {JSON: peer_targets.nginx_direct(ports)}, "")
        if self.args.warmup:
            self.wrk(nginx, JSON, latency.THROUGHPUT_CONNECTIONS, self.args.warmup)
        return self.wrk(nginx, JSON, 1, self.args.duration).p50_ms

    def measure(self, peer: Peer, direct_ms: float) -> Outcome:
        self.probe(peer.key)
        self.servers.start(peer.key, peer.command, peer.env, peer.cwd)
        try:
            print(f"{peer.name}: starting", file=sys.stderr)
            ready = peer.ready_url
            latency.wait_until(self.servers, peer.key, lambda: answers(ready), peer.startup_timeout)
            wrong = peer_checks.problems(peer)
            if wrong:
                return Outcome(peer.key, peer.name, None, "; ".join(wrong))
            print(f"{peer.name}: measuring", file=sys.stderr)
            return Outcome(peer.key, peer.name, self.timed(peer, direct_ms))
        except BenchError as error:  # it fell over, or wrk failed on it: the first line says
            return Outcome(peer.key, peer.name, None, str(error).splitlines()[0][:300])
        finally:
            self.servers.stop([peer.key])

    def timed(self, peer: Peer, direct_ms: float) -> Measured:
        pid, nginx, duration = (
            self.servers.pid(peer.key),
            self.servers.pid("nginx"),
            self.args.duration,
        )
        before, client = procstat.read_proc_stat(), client_seconds()
        server = procstat.cpu_seconds(pid) + procstat.cpu_seconds(nginx)
        if self.args.warmup:
            self.wrk(peer, JSON, latency.THROUGHPUT_CONNECTIONS, self.args.warmup)
        one = self.wrk(peer, JSON, 1, duration)
        cpu = procstat.cpu_seconds(pid)
        many = self.wrk(peer, JSON, latency.THROUGHPUT_CONNECTIONS, duration)
        cpu_ms = (procstat.cpu_seconds(pid) - cpu) * 1000 / many.requests
        streams = self.wrk(peer, STREAM, STREAM_CONNECTIONS, duration)
        first_byte = first_byte_p50(peer.calls[STREAM], duration)
        slow = self.wrk(peer, SLOW, latency.THROUGHPUT_CONNECTIONS, duration)
        self.servers.check_alive(peer.key)
        rss = procstat.rss_bytes(pid)
        ours = {
            SERVER_CORE: procstat.cpu_seconds(pid) + procstat.cpu_seconds(nginx) - server,
            CLIENT_CORE: client_seconds() - client,
        }
        self.noise = self.noise + procstat.noise(before, procstat.read_proc_stat(), ours)
        return Measured(
            one.p50_ms - direct_ms,
            many.rate,
            streams.rate,
            first_byte,
            slow.rate,
            cpu_ms,
            rss / 1e6,
        )


def run(args: argparse.Namespace) -> list[str]:
    latency.require_tools()
    require_installed(args.peers_dir)
    ports = Ports(args.base_port)
    latency.require_free_ports(ports.all())
    load = os.getloadavg()
    # This script's own work (the first-byte client, reading /proc) stays off the server core.
    os.sched_setaffinity(0, {CLIENT_CORE})
    with tempfile.TemporaryDirectory(prefix="aigw-peers-") as workdir, latency.stopped_on_sigterm():
        work = Path(workdir)
        (work / "nginx.conf").write_text(peer_targets.nginx_config(ports))
        (work / "litellm.yaml").write_text(peer_targets.litellm_config(ports))
        servers = Servers(work)
        measuring = Run(servers, args, work)
        try:
            latency.start_nginx(servers, work / "nginx.conf")
            latency.wait_until(servers, "nginx", lambda: latency.listening(ports.nginx))
            direct = measuring.direct_p50(ports)
            chosen = peer_targets.targets(ports, args.peers_dir, work / "litellm.yaml")
            outcomes = [
                measuring.measure(peer, direct)
                for peer in chosen
                if not args.only or peer.key in args.only
            ]
            measuring.probe("end")
        finally:
            servers.stop()
    title = f"## Gateways side by side ({args.duration:g} s per wrk run, {args.warmup:g} s warm-up)"
    return [
        title,
        "",
        *latency.machine(load),
        f"- peers: {LITELLM_SPEC}; "
        + ", ".join(f"{name}@{version}" for name, version in NPM_PACKAGES.items())
        + f" on Node.js {node_version()}",
        "",
        *render(outcomes, measuring.noise, args.max_noise, direct, measuring.drift, args.max_drift),
    ]


def node_version() -> str:
    done = subprocess.run(["node", "--version"], capture_output=True, text=True)
    return done.stdout.strip() or "?"


# -- main -----------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Our gateway beside LiteLLM's and Portkey's.")
    add = parser.add_argument
    add("--install", action="store_true", help="install the peers, pinned, then exit")
    add("--peers-dir", type=Path, default=DEFAULT_PEERS_DIR, help=f"default {DEFAULT_PEERS_DIR}")
    # Whole seconds: wrk reads "1.5s" as no duration at all.
    add("--duration", type=int, default=8, help="seconds per wrk run (default 8)")
    add("--warmup", type=int, default=2, help="seconds of c=32 load before each target")
    add("--quick", action="store_true", help="short runs (3 s, 1 s warm-up): a smoke test")
    add("--max-noise", type=float, default=0.10, help="noisier runs get a warning (default 0.10)")
    add("--max-drift", type=float, default=0.05, help="a core speed spread over it warns")
    add("--base-port", type=int, default=DEFAULT_BASE_PORT, help="nginx's; targets above it")
    add("--only", help=f"comma-separated targets to run, of {TARGET_KEYS}")
    args = parser.parse_args(argv)
    if args.quick:
        args.duration, args.warmup = 3, 1
    if args.duration < 1 or args.warmup < 0:
        parser.error("--duration must be at least 1 and --warmup at least 0")
    args.only = {key.strip() for key in args.only.split(",")} if args.only else set()
    unknown = args.only - set(TARGET_KEYS.split(","))
    if unknown:
        parser.error(f"--only: no target {', '.join(sorted(unknown))}; known: {TARGET_KEYS}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)

    def body() -> int:
        if args.install:
            install(args.peers_dir)
        else:
            print("\n".join(run(args)))
        return 0

    return latency.guarded("bench/peers.py", body)


if __name__ == "__main__":
    sys.exit(main())

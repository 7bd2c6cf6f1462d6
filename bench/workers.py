"""Scale-out on one machine: the typical chain with `aigw run --workers 1` against `--workers 2`.

    python bench/workers.py [--duration 10] [--warmup 2] [--rounds 3] [--connections 32]

Same tools as bench/latency.py (wrk, nginx, taskset; 2 cores). nginx (bench/nginx.conf) runs on
core 0 and wrk on core 1, as there, on ports of their own (nginx 23491; a bench/latency.py run
may go on meanwhile). The gateway serves a copy of bench/chains/typical pointed at that nginx on
127.0.0.1:23492 with one worker pinned to core 0, then with two workers allowed on both cores: so with two
workers the gateway shares core 1 with wrk and core 0 with nginx, and the second worker gains
less than a core (say so when quoting the figures). Each round measures both, one worker first
in odd rounds and two workers first in even ones; it prints the medians of throughput at
`--connections` and of the gateway's CPU time per request (all its processes), and how much CPU
other processes took meanwhile.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

import latency  # bench/latency.py: running this script puts bench/ first on sys.path
import procstat
from latency import Servers

CHAIN = "typical"
NGINX_PORT = 23491
PORTS = (23492, 23493)  # traffic, admin
WORKERS = {1: latency.SERVER_CORE, 2: f"{latency.SERVER_CORE},{latency.CLIENT_CORE}"}


def measure(servers: Servers, workers: int, args: argparse.Namespace) -> tuple[float, float]:
    """(requests per second, gateway CPU ms per request) of one run."""
    name = f"typical-{workers}"
    target = latency.gateway_target(name, CHAIN, server=name, port=PORTS[0])
    pid = servers.pid(name)
    if args.warmup > 0:
        latency.wrk(target, args.connections, args.warmup)
    before = procstat.cpu_seconds(pid)
    run = latency.wrk(target, args.connections, args.duration)
    used = procstat.cpu_seconds(pid) - before
    servers.check_alive(name)
    return run.rate, used * 1000 / run.requests


def serve(servers: Servers, chain: Path, workers: int) -> None:
    name = f"typical-{workers}"
    latency.start_gateway(servers, name, chain, PORTS, workers=workers, cores=WORKERS[workers])
    latency.wait_healthy(servers, name, PORTS[0])
    latency.verify(latency.gateway_target(name, CHAIN, server=name, port=PORTS[0]))


def copy_chain(workdir: Path) -> Path:
    """bench/chains/typical with its backend on this script's nginx."""
    chain = workdir / CHAIN
    shutil.copytree(latency.BENCH / "chains" / CHAIN, chain)
    config = chain / "gateway.yaml"
    upstream = f"{latency.HOST}:{latency.NGINX_PORT}"
    config.write_text(config.read_text().replace(upstream, f"{latency.HOST}:{NGINX_PORT}"))
    return chain


def run(args: argparse.Namespace) -> bool:
    latency.require_tools()
    latency.require_free_ports([NGINX_PORT, *PORTS])
    load = os.getloadavg()
    results: dict[int, list[tuple[float, float]]] = {1: [], 2: []}
    notes: list[str] = []
    with tempfile.TemporaryDirectory(prefix="aigw-workers-") as workdir:
        servers = Servers(Path(workdir))
        with latency.stopped_on_sigterm():
            try:
                chain = copy_chain(Path(workdir))
                latency.start_nginx(servers, port=NGINX_PORT)
                latency.wait_until(servers, "nginx", lambda: latency.listening(NGINX_PORT))
                with latency.others_watched(servers, notes):
                    for number in range(1, args.rounds + 1):
                        order = (1, 2) if number % 2 else (2, 1)
                        for workers in order:  # one gateway at a time on the same ports
                            print(f"round {number}: {workers} worker(s)", file=sys.stderr)
                            serve(servers, chain, workers)
                            results[workers].append(measure(servers, workers, args))
                            servers.stop([f"typical-{workers}"])
            finally:
                servers.stop()
    print(f"\n## Workers: the typical chain, {args.rounds} rounds of {args.duration:g} s\n")
    print("\n".join(latency.machine(load)))
    print(f"\n| workers | req/s (c={args.connections}) | CPU ms/req | req/s vs 1 worker |")
    print("| ---: | ---: | ---: | ---: |")
    one = statistics.median(rate for rate, _ in results[1])
    for workers, found in results.items():
        rate = statistics.median(r for r, _ in found)
        cpu = statistics.median(c for _, c in found)
        print(f"| {workers} | {rate:,.0f} | {cpu:.3f} | {rate / one:.2f}x |")
    print("\nTwo workers may use both cores, which nginx and wrk use too.")
    for note in notes:
        print(f"- NOTE: {note}")
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="--workers 1 against --workers 2.")
    add = parser.add_argument
    add("--duration", type=float, default=10.0, help="seconds per wrk run (default 10)")
    add("--warmup", type=float, default=2.0, help="seconds of load before each run")
    add("--rounds", type=int, default=3, help="rounds; medians are reported (default 3)")
    add("--connections", type=int, default=latency.THROUGHPUT_CONNECTIONS)
    args = parser.parse_args(argv)
    return latency.exit_status("bench/workers.py", lambda: run(args))


if __name__ == "__main__":
    sys.exit(main())

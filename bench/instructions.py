"""Benchmark A/B in instructions: what one request costs the gateway's process, counted.

    python bench/instructions.py --old REV [--new REV] [--chains typical,passthrough]
                                 [--requests 400] [--stream] [--port 18081]

Wall-clock figures on a shared machine move by several percent from run to run; instruction
counts do not (valgrind's callgrind counts them whatever else the machine does), so a change
of a fraction of a percent shows. Each side's gateway (its code from `git archive REV`, or
this work tree; the chains from the new side, as bench/ab.py does) is driven in process: the
chain is loaded, the traffic application built, and requests are handed to it as ASGI calls
one after the other, its backend calls going to nginx (bench/nginx.conf) as in
bench/latency.py. Each side runs twice under `valgrind --tool=callgrind`: with no measured
requests and with --requests of them (both after the same warm-up), and the difference over
--requests is the side's instructions per request: routing, admission, the chains, the
backend call, the response, the access log; not uvicorn's HTTP parsing, which both sides
share. `--stream` sends `"stream": true` and asks nginx for its canned event stream (a chat
completion streamed in five events) and counts a streamed request instead, sent chunk by chunk
as uvicorn's request cycle would be (before 2026-12-07 20:45 the body did not say
`"stream": true`, so a token limit neither asked for the stream's usage nor hid it).

The chains bench/peers.py serves (governed, passthrough-mock) are driven as peers.py sends
them: at /v1/chat/completions, governed's key in Authorization, their upstream (MOCK_BASE) this
script's nginx. --port moves nginx off 18081 (so two runs can share a machine); the chains
whose upstream URL is written in their gateway.yaml (typical, passthrough, ...) need 18081.

Needs valgrind and nginx (and Redis on 127.0.0.1:6379 for the tokens-redis chain); slow (about
a minute per chain and side). The counts are steadier than times but not exact: work driven
by the clock (the access log's flush every 0.2 s, timers) runs more or less often per request
under valgrind's slowdown, so runs of the same code differ by up to about 2 %.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import ab
import latency
from latency import BenchError, Servers

WARM_UP = 100
# The chains bench/peers.py serves: their API at v1, the upstream from the environment, and
# the governed chain's key as peer_targets.py sends it (Authorization: Bearer).
MOCK_PATH = "/v1/chat/completions"
MOCK_CHAINS = {"governed": "sk-bench-0001", "passthrough-mock": None}
BODY = json.dumps(
    {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Say hello."}]}
).encode()
# A streamed call asks for a stream as clients do, so a token limit asks the backend for the
# stream's usage and hides that event from the client, as in bench/peers.py's wrk runs.
STREAM_BODY = json.dumps(
    {
        "model": "gpt-4o-mini",
        "stream": True,
        "messages": [{"role": "user", "content": "Say hello."}],
    }
).encode()


def drive(chain: Path, requests: int) -> None:
    """The driver: run in the side's tree, under valgrind. Imports that side's gateway."""
    sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - the access log's lines, for the process's life
    body = STREAM_BODY if os.environ.get("AIGW_BENCH_STREAM") else BODY
    from gateway.load import load_gateway
    from gateway.proxy.app import create_app

    try:
        from gateway.proxy.live import Live
    except ImportError:  # a revision before hot reload: create_app took the gateway itself
        app = create_app(load_gateway(chain), None)  # type: ignore[arg-type]
    else:
        app = create_app(Live(load_gateway(chain)))
    headers = [
        (b"host", f"{latency.HOST}:8080".encode()),
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
    ]
    path = latency.GATEWAY_PATH
    if chain.name in MOCK_CHAINS:
        path, key = MOCK_PATH, MOCK_CHAINS[chain.name]
        if key is not None:
            headers.append((b"authorization", f"Bearer {key}".encode()))
    else:
        headers.append((b"ocp-apim-subscription-key", latency.SUBSCRIPTION_KEY.encode()))
    scope = {
        "type": "http",
        "method": "POST",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "headers": headers,
        "client": (latency.HOST, 50000),
        "server": (latency.HOST, 8080),
        "scheme": "http",
        "http_version": "1.1",
        "asgi": {"version": "3.0"},
    }

    if os.environ.get("AIGW_BENCH_STREAM"):  # nginx answers with its canned event stream
        headers.append((b"x-bench-stream", b"1"))

    class Cycle:
        """The client's side of a request, with uvicorn's `disconnected` flag, which the
        gateway's stream sender reads on `receive.__self__`."""

        disconnected = False

        def __init__(self) -> None:
            self.messages = [{"type": "http.request", "body": body, "more_body": False}]

        async def receive(self) -> dict[str, object]:
            if self.messages:
                return self.messages.pop()
            await asyncio.Event().wait()  # the client stays: nothing more to receive
            return {}

    async def one() -> int:
        statuses: list[int] = []
        receive = Cycle().receive

        async def send(message: dict[str, object]) -> None:
            if message["type"] == "http.response.start":
                statuses.append(int(message["status"]))  # type: ignore[call-overload]

        await app(dict(scope), receive, send)
        return statuses[0]

    async def main() -> None:
        for _ in range(WARM_UP + requests):
            status = await one()
            if status != 200:
                raise SystemExit(f"the gateway answered {status}, not 200")

    asyncio.run(main())


def driver_env(tree: Path, port: int) -> dict[str, str]:
    """The side's environment, with the mock chains' upstream (MOCK_*) this script's nginx."""
    base = f"http://{latency.HOST}:{port}/v1"
    mock = {"MOCK_BASE": base, "MOCK_SLOW_BASE": base, "MOCK_API_KEY": "sk-bench"}
    return {**latency.gateway_env(tree), **mock}


def counted(side: ab.Side, chain: Path, requests: int, port: int) -> int:
    """Instructions the whole driver process executed (startup included)."""
    command = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null"]
    command += [sys.executable, "-W", "ignore", __file__, "--drive", str(chain), str(requests)]
    done = subprocess.run(
        command, cwd=side.tree, env=driver_env(side.tree, port), capture_output=True, text=True
    )
    found = re.search(r"Collected : (\d+)", done.stderr)
    if done.returncode != 0 or found is None:
        raise BenchError(f"{side.describe()} on {chain.name} failed:\n{done.stderr[-2000:]}")
    return int(found.group(1))


def per_request(side: ab.Side, chain: Path, requests: int, port: int) -> float:
    print(f"{chain.name}: {side.name}", file=sys.stderr)
    return (counted(side, chain, requests, port) - counted(side, chain, 0, port)) / requests


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Instructions per request, old vs new.")
    add = parser.add_argument
    add("--old", help="the revision to compare against")
    add("--new", help="the revision to measure (default: this work tree)")
    add("--chains", default="typical,passthrough", help="bench/chains to drive")
    add("--requests", type=int, default=400, help="measured requests per run (default 400)")
    add("--stream", action="store_true", help="ask nginx for its canned event stream")
    add("--port", type=int, default=latency.NGINX_PORT, help="nginx's port (default 18081)")
    add("--drive", nargs=2, metavar=("CHAIN", "REQUESTS"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.drive is None and args.old is None:
        parser.error("--old is required")
    args.chains = [c.strip() for c in args.chains.split(",") if c.strip()]
    return args


def run(args: argparse.Namespace) -> None:
    for tool in ("valgrind", "nginx"):
        if subprocess.run(["which", tool], capture_output=True).returncode != 0:
            raise BenchError(f"{tool} is not installed")
    latency.require_free_ports([args.port])
    if args.stream:  # read by the driver, which runs in valgrind's child process
        os.environ["AIGW_BENCH_STREAM"] = "1"
    with tempfile.TemporaryDirectory(prefix="aigw-ir-") as workdir, latency.stopped_on_sigterm():
        work = Path(workdir)
        sides = [ab.materialise("old", args.old, work), ab.materialise("new", args.new, work)]
        for side in sides:
            ab.check_imports(side)
        chains = sides[-1].tree / "bench" / "chains"
        (work / "logs").mkdir()
        servers = Servers(work / "logs")
        rows = []
        try:
            latency.start_nginx(servers, port=args.port)
            latency.wait_until(servers, "nginx", lambda: latency.listening(args.port))
            for name in args.chains:
                old, new = (
                    per_request(side, chains / name, args.requests, args.port) for side in sides
                )
                rows.append(f"| {name} | {old:,.0f} | {new:,.0f} | {100 * (new / old - 1):+.2f}% |")
        finally:
            servers.stop()
    what = "streamed request" if args.stream else "request"
    print(f"\n## Instructions per {what} (callgrind, {args.requests} requests a run)\n")
    print(f"- gateway code: old: {sides[0].label}; new: {sides[1].label}\n")
    print("| chain | old | new | change |\n| --- | ---: | ---: | ---: |")
    print("\n".join(rows))


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.drive is not None:
        drive(Path(args.drive[0]), int(args.drive[1]))
        return 0
    try:
        run(args)
    except BenchError as error:
        print(f"bench/instructions.py: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Soak: the gateway under steady load for minutes, its memory and open files watched.

    python bench/soak.py [--scenario hardening|limits] [--duration 600] [--warmup 30]
                         [--interval 10] [--concurrency 16] [--redis [URL]] [--ports BASE]

Needs nginx and 2 cores (`apt-get install nginx-light`). Starts, pinned to core 0 with taskset:

- nginx on 127.0.0.1:23481 (bench/nginx.conf on a port of its own, so a bench/latency.py run
  at the same time does not clash), answering a canned chat completion, or the same completion
  as an SSE stream when the request has an X-Bench-Stream header;
- the gateway (`python -m gateway.cli run`, one worker) on 127.0.0.1:23482 (admin 23483)
  serving a copy of the scenario's chain, its counters in the process, or with --redis in Redis (default redis://127.0.0.1:6379/14; the keys expire
  within a minute). The copy is in a temporary directory, so the usage ledger it writes
  (SQLite, on by default), the LLM message log and the access log (the gateway's output) go
  there too. `--ports BASE` puts the three on BASE, BASE+1 and BASE+2 instead.

The scenarios (`--scenario`, default `hardening`):

- `limits` (issue 16's): bench/chains/soak-limits, the typical chain plus llm-token-limit,
  llm-emit-token-metric and rate-limit-by-key; plain and streamed calls. What a worker
  serving LLM calls under limits holds.
- `hardening` (issue 17's): bench/chains/soak, the same plus the semantic cache with the
  built-in embedder for the calls that ask for it, LLM message logging to a file and the
  access log (the embedder alone takes a worker past 200 MB).

Then this script, pinned to core 1, drives the gateway with `--concurrency` clients (aiohttp),
each sending requests back to back: every third one streamed (`"stream": true`, which also
makes the token limit ask for the stream's usage), the others plain; under `hardening` every
fourth asks for the semantic cache (`x-soak-cache`), with one of 16 questions. Client 0 is greedy: the
chain gives it 10 calls a second, so its 429s are expected and counted apart; a 429 to anyone
else is an error. Every `--interval` seconds it samples the gateway's process tree (the process
and its descendants): RSS (the sum of /proc/<pid>/status VmRSS) and open file descriptors (the
entries of /proc/<pid>/fd), with the requests so far by kind: 2xx, expected 429s, other status
classes, broken streams (no `data: [DONE]`), connection errors, timeouts.

It prints a table of the samples and a summary (bench/soak_verdict.py). RSS is flat when no
sample after the warm-up exceeds the first sample after it by more than 5 %; open descriptors
are steady when the last sample has at most 16 more than the first after the warm-up (what the
load holds open comes and goes; a leak only grows). The exit status is 1 when RSS is not flat, the descriptors not
steady, or any request failed (the expected 429s aside), 2 when the soak could not run. Whether
RSS stayed under 100 MB is reported too (a target, not the exit status: `hardening`'s embedder
is past it). Every process it starts is stopped on exit, Ctrl-C and SIGTERM included.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import latency  # bench/latency.py: running this script puts bench/ first on sys.path
from latency import HOST, BenchError, Servers
from soak_verdict import (
    CONNECTION,
    OK,
    TIMEOUT,
    Sample,
    classify,
    judge,
    summary,
    table,
    tree_usage,
)

NGINX_PORT = 23481  # bench/chains/soak/gateway.yaml's backend
GATEWAY_PORTS = (23482, 23483)  # traffic, admin
CHAIN = latency.BENCH / "chains" / "soak"


@dataclass(frozen=True)
class Scenario:
    chain: Path
    cache_every: int  # every nth request of a client asks for the semantic cache (0: none)


SCENARIOS = {
    "hardening": Scenario(CHAIN, 4),
    "limits": Scenario(latency.BENCH / "chains" / "soak-limits", 0),
}
DEFAULT_SCENARIO = "hardening"
DEFAULT_REDIS = "redis://127.0.0.1:6379/14"
STREAM_EVERY = 3  # every third request of a client is streamed
CACHED_QUESTIONS = 16
GREEDY_PAUSE = 0.02  # seconds between the greedy client's requests: its 429s stay a minority
REQUEST_TIMEOUT = 10.0
# -- the load -------------------------------------------------------------------------------


def request_body(streamed: bool, question: int | None = None) -> bytes:
    body = json.loads(latency.BODY)
    if streamed:
        body["stream"] = True
    if question is not None:  # one of the cached questions
        body["messages"] = [{"role": "user", "content": f"Soak question number {question}?"}]
    return json.dumps(body).encode()


async def call(
    session: aiohttp.ClientSession,
    url: str,
    headers: dict[str, str],
    streamed: bool,
    question: int | None = None,
) -> str:
    greedy = headers["x-soak-client"] == "greedy"
    if streamed:
        headers = {**headers, "x-bench-stream": "1"}
    if question is not None:
        headers = {**headers, "x-soak-cache": "1"}
    body = request_body(streamed, question)
    try:
        async with session.post(url, data=body, headers=headers) as response:
            body = await response.read()
    except TimeoutError:
        return TIMEOUT
    except (aiohttp.ClientError, OSError):
        return CONNECTION
    return classify(response.status, body, streamed, greedy)


def client_headers(name: str) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "Authorization": f"Bearer {latency.SUBSCRIPTION_KEY}",
        "x-soak-client": name,
    }


async def client(
    session: aiohttp.ClientSession,
    index: int,
    url: str,
    stop_at: float,
    kinds: Counter[str],
    cache_every: int = 0,
) -> None:
    headers = client_headers("greedy" if index == 0 else f"client-{index}")
    sent = 0
    while time.monotonic() < stop_at:
        cached = bool(cache_every) and sent % cache_every == 1
        question = (sent // cache_every + index) % CACHED_QUESTIONS if cached else None
        kinds[await call(session, url, headers, sent % STREAM_EVERY == 0, question)] += 1
        sent += 1
        if index == 0:
            await asyncio.sleep(GREEDY_PAUSE)


async def sampler(
    servers: Servers, started: float, stop_at: float, interval: float, kinds: Counter[str]
) -> list[Sample]:
    samples: list[Sample] = []
    next_at = started + interval
    while next_at <= stop_at + 0.01:
        await asyncio.sleep(max(0.0, next_at - time.monotonic()))
        servers.check_alive("gateway")
        usage = tree_usage(servers.pid("gateway"))
        sample = Sample(time.monotonic() - started, usage.rss_kb, usage.fds, dict(kinds))
        print(table([*samples[-1:], sample])[-1], file=sys.stderr, flush=True)
        samples.append(sample)
        next_at += interval
    return samples


async def soak(servers: Servers, args: argparse.Namespace) -> list[Sample]:
    url = f"http://{HOST}:{gateway_ports(args)[0]}{latency.GATEWAY_PATH}"
    kinds: Counter[str] = Counter()
    timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT)
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(timeout=timeout, connector=connector) as session:
        for streamed in (False, True):  # the chain answers both before the load starts
            kind = await call(session, url, client_headers("check"), streamed)
            if kind != OK:
                what = "streamed" if streamed else "plain"
                raise BenchError(f"a {what} request came back as {kind!r}")
        started = time.monotonic()
        stop_at = started + args.duration
        print(table([])[0], file=sys.stderr)
        every = SCENARIOS[args.scenario].cache_every
        clients = [client(session, i, url, stop_at, kinds, every) for i in range(args.concurrency)]
        *_, samples = await asyncio.gather(
            *clients, sampler(servers, started, stop_at, args.interval, kinds)
        )
    return samples


def exercised(admin_port: int, workdir: Path) -> list[str]:
    """What the load went through besides the backend: the semantic cache's lookups by result
    (from /metrics), the LLM messages logged and the access log's lines."""
    with urllib.request.urlopen(f"http://{HOST}:{admin_port}/metrics", timeout=10) as answer:
        metrics = answer.read().decode()
    lookups: Counter[str] = Counter()
    for found in re.finditer(
        r'^aigw_cache_lookups_total\{[^}]*result="(\w+)"[^}]*\} (\S+)$', metrics, re.MULTILINE
    ):
        lookups[found.group(1)] += int(float(found.group(2)))
    messages = workdir / "chain" / "llm-messages.jsonl"
    logged = sum(1 for _ in messages.open("rb")) if messages.exists() else 0
    gateway_log = workdir / "gateway.log"
    access = sum(1 for line in gateway_log.open("rb") if line.startswith(b'{"time"'))
    by_result = ", ".join(f"{result} {n:,}" for result, n in sorted(lookups.items()))
    return [
        f"- semantic cache lookups: {by_result or 'none'}",
        f"- LLM messages logged: {logged:,}; access log lines: {access:,}",
    ]


# -- main -----------------------------------------------------------------------------------


def gateway_ports(args: argparse.Namespace) -> tuple[int, int]:
    """The gateway's (traffic, admin) ports."""
    return (args.ports + 1, args.ports + 2) if args.ports else GATEWAY_PORTS


def prepare_chain(
    workdir: Path, redis: str | None, nginx_port: int = NGINX_PORT, source: Path = CHAIN
) -> Path:
    """A copy of the scenario's chain, `source` (its ledger and logs land beside it), with the
    Redis store if asked and its backend on `nginx_port`."""
    chain = workdir / "chain"
    shutil.copytree(source, chain)
    config = chain / "gateway.yaml"
    config.write_text(config.read_text().replace(f":{NGINX_PORT}/", f":{nginx_port}/"))
    if redis:
        with (chain / "gateway.yaml").open("a") as config:
            config.write(f"stores: {{default: {json.dumps(redis)}}}\n")
    return chain


def require_redis(url: str) -> None:
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except redis.RedisError as error:
        raise BenchError(f"Redis at {url} does not answer: {error}") from None


def run(args: argparse.Namespace) -> bool:
    if shutil.which("nginx") is None or shutil.which("taskset") is None:
        raise BenchError("nginx or taskset not found: `apt-get install nginx-light util-linux`")
    nginx_port, ports = args.ports or NGINX_PORT, gateway_ports(args)
    latency.require_free_ports([nginx_port, *ports])
    if args.redis:
        require_redis(args.redis)
    os.sched_setaffinity(0, {int(latency.CLIENT_CORE)})  # the servers have core 0
    with tempfile.TemporaryDirectory(prefix="aigw-soak-") as workdir, latency.stopped_on_sigterm():
        servers = Servers(Path(workdir))
        try:
            latency.start_nginx(servers, port=nginx_port)
            scenario = SCENARIOS[args.scenario]
            chain = prepare_chain(Path(workdir), args.redis, nginx_port, scenario.chain)
            latency.start_gateway(servers, "gateway", chain, ports)
            latency.wait_until(servers, "nginx", lambda: latency.listening(nginx_port))
            latency.wait_healthy(servers, "gateway", ports[0])
            samples = asyncio.run(soak(servers, args))
            seen = exercised(ports[1], Path(workdir)) if scenario.cache_every else []
        finally:
            servers.stop()
    store = f"Redis ({args.redis})" if args.redis else "in the process"
    print(
        f"\n## Soak ({args.scenario}): {args.duration:g} s at {args.concurrency} clients,"
        f" counters {store}\n"
        f"\n- gateway code: {latency.code_version()}; load average at the end:"
        f" {' '.join(f'{x:.2f}' for x in os.getloadavg())}\n"
    )
    print("\n".join(table(samples)))
    verdict = judge(samples, args.warmup)
    print()
    print("\n".join([*summary(verdict, args.warmup), *seen]))
    return verdict.passed


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="The gateway under steady load: RSS and fds.")
    add = parser.add_argument
    add(
        "--scenario",
        choices=sorted(SCENARIOS),
        default=DEFAULT_SCENARIO,
        help="limits: token and rate limits, plain and streamed calls (issue 16); hardening:"
        f" those plus the semantic cache and logging (issue 17; default {DEFAULT_SCENARIO})",
    )
    add("--duration", type=float, default=600.0, help="seconds of load (default 600)")
    add("--warmup", type=float, default=30.0, help="seconds before the reference sample")
    add("--interval", type=float, default=10.0, help="seconds between samples (default 10)")
    add("--concurrency", type=int, default=16, help="clients sending back to back (default 16)")
    add(
        "--redis",
        nargs="?",
        const=DEFAULT_REDIS,
        default=None,
        metavar="URL",
        help=f"counters in Redis (default URL {DEFAULT_REDIS}) rather than in the process",
    )
    add(
        "--ports",
        type=int,
        default=0,
        metavar="BASE",
        help=f"nginx on BASE, the gateway on BASE+1 and BASE+2 (default {NGINX_PORT}, ...)",
    )
    args = parser.parse_args(argv)
    if args.concurrency < 2:
        parser.error("--concurrency must be at least 2 (client 0 is the greedy one)")
    if args.warmup + args.interval > args.duration:
        parser.error("--duration must leave at least one sample after --warmup")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    return latency.exit_status("bench/soak.py", lambda: run(args))


if __name__ == "__main__":
    sys.exit(main())

"""Benchmark A/B of what the gateway does with a streamed answer, in process.

    python bench/streams_bench.py --old REV [--new REV] [--events 40] [--repeat 9]

A streamed chat completion of --events content chunks, its usage chunk and `[DONE]` (the
shape OpenAI sends when the gateway asks for the usage the client did not), is passed through
`gateway.proxy.streaming.pass_through` as a token limit makes it: kept for the actions after
the stream, the usage chunk hidden from the client, the usage read at the end. Each side (its
code from `git archive REV`, or this work tree) runs in its own interpreter and reports the
best of --repeat timings, in microseconds per stream, for the stream arriving in one chunk
(nginx's canned body) and one event per chunk (as providers send), and for reading a whole
stream's usage alone. Best-of timings stand up to a shared machine better than means; run
`--old X --new X` to see the noise.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import ab
import latency

# Runs inside each side's interpreter, with that side's `gateway` first on sys.path.
DRIVER = r"""
import asyncio, json, sys, timeit
from gateway.expressions.model import ContextModel
from gateway.proxy.streaming import pass_through
from gateway.runtime.context import Phase, RequestContext
from gateway.runtime.llm_call import response_usage
from gateway.tokens.usage import from_event_stream

events, repeat = int(sys.argv[1]), int(sys.argv[2])
chunk = {"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1,
         "model": "gpt-4o-mini", "usage": None}
sse = [
    b"data: " + json.dumps({**chunk, "choices": [{"index": 0, "delta": {"content": f"word{i} "},
                                                "finish_reason": None}]}).encode() + b"\n\n"
    for i in range(events)
]
usage = {"prompt_tokens": 12, "completion_tokens": events, "total_tokens": 12 + events}
sse.append(b"data: " + json.dumps({**chunk, "choices": [], "usage": usage}).encode() + b"\n\n")
sse.append(b"data: [DONE]\n\n")
body = b"".join(sse)

async def settle(context):
    assert response_usage(context).completion == events

async def one(chunks):
    async def upstream():
        for part in chunks:
            yield part
    context = RequestContext(ContextModel(), style="openai")
    context.model.Response.Headers.set("Content-Type", ["text/event-stream"])
    context.hide_stream_usage = True
    context.defer(Phase.DONE, settle)
    async for _ in pass_through(upstream(), context):
        pass

def streams(chunks, number=200):
    async def many():
        for _ in range(number):
            await one(chunks)
    return min(timeit.repeat(lambda: asyncio.run(many()), number=1, repeat=repeat)) / number

def usage_alone(number=200):
    return min(timeit.repeat(lambda: from_event_stream(body), number=number, repeat=repeat)) / number

print(json.dumps({
    "one chunk": streams([body]) * 1e6,
    "event per chunk": streams(sse) * 1e6,
    "usage of a whole stream": usage_alone() * 1e6,
}))
"""


def measure(side: ab.Side, events: int, repeat: int) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, "-c", DRIVER, str(events), str(repeat)],
        env=latency.gateway_env(side.tree),
        cwd=side.tree,
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise latency.BenchError(f"{side.describe()} failed:\n{done.stderr}")
    return json.loads(done.stdout)


def best_of_rounds(
    old: ab.Side, new: ab.Side, events: int, repeat: int, rounds: int = 4
) -> tuple[dict[str, float], dict[str, float]]:
    """Each side's best figures over rounds that alternate which side goes first, so that
    neither always runs on the warmer or the quieter machine."""
    best: dict[str, dict[str, float]] = {"old": {}, "new": {}}
    for round_ in range(rounds):
        order = (old, new) if round_ % 2 == 0 else (new, old)
        for side in order:
            for name, value in measure(side, events, repeat).items():
                best[side.name][name] = min(value, best[side.name].get(name, value))
    return best["old"], best["new"]


def report(old: ab.Side, new: ab.Side, before: dict[str, float], after: dict[str, float]) -> str:
    lines = [
        f"old: {old.label}",
        f"new: {new.label}",
        "",
        "| µs per stream | old | new | change |",
        "| --- | ---: | ---: | ---: |",
    ]
    for name, was in before.items():
        lines.append(f"| {name} | {was:.1f} | {after[name]:.1f} | {ab.change(was, after[name])} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--old", required=True, help="the revision to compare against")
    parser.add_argument("--new", help="the other revision (default: this work tree)")
    parser.add_argument("--events", type=int, default=40, help="content chunks per stream")
    parser.add_argument("--repeat", type=int, default=9, help="timings; the best is kept")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="aigw-streams-") as workdir:
        try:
            old = ab.materialise("old", args.old, Path(workdir))
            new = ab.materialise("new", args.new, Path(workdir))
            before, after = best_of_rounds(old, new, args.events, args.repeat)
        except latency.BenchError as error:
            print(f"streams_bench: {error}", file=sys.stderr)
            return 2
    print(report(old, new, before, after))
    return 0


if __name__ == "__main__":
    sys.exit(main())

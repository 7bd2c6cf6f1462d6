"""The traffic listener's own cost per request, in instructions or in CPU time.

    python bench/listener_bench.py --old REV [--new REV] [--requests 2000] [--pipelined]
                                   [--floor]
    python bench/listener_bench.py --serve PORT     # the same, on a port, for wrk

The listener (gateway.proxy.listener's protocol, with gateway.yaml's default limits and
uvicorn's and the collector's settings as `aigw run` has them) serves a trivial ASGI app (it
reads the body and answers an 11-byte JSON with a content-length) over a real loopback socket
pair, the client a plain asyncio protocol in the same uvloop loop sending wrk's request
(bench/post.lua) one after another on one keep-alive connection (or all at once,
--pipelined). Each side (its tree from `git archive REV`, or this work tree) runs twice under
`valgrind --tool=callgrind`, with no measured requests and with --requests, and the
difference over --requests is its instructions per request: the protocol, the request cycle,
the app's two sends and the client's side (which every side shares). --floor counts two
floors as well: httptools' parser answering from its callbacks (no ASGI), and that plus a
task per request calling the app with the least of a scope, receive and send.

`--serve` runs the app behind the listener on a port (`LISTENER_FLOOR=1` or `asgi`: a
floor), for wrk with the server and wrk pinned to a core each:
`taskset -c 0 python bench/listener_bench.py --serve 19300`, then
`taskset -c 1 wrk -t1 -c32 -d5s -s bench/post.lua http://127.0.0.1:19300/` and the server's
CPU time from /proc/PID/stat over the requests wrk counted.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import re
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import ab

WARM_UP = 200
BODY = (
    b'{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Say hello."}],"max_tokens":16}'
)
REQUEST = (
    b"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1:19300\r\n"
    b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (len(BODY), BODY)
)
ANSWER = b'{"ok":true}'
# uvicorn.Config's options as gateway.proxy.server sets them (no Server header, no access log)
AS_AIGW_RUN = {"log_level": "warning", "access_log": False, "server_header": False}


def as_aigw_run() -> None:
    """The collector's settings `aigw run` serves with (gateway.proxy.server.serve)."""
    gc.freeze()
    gc.set_threshold(50_000, 50, 50)


async def app(scope: dict, receive, send) -> None:  # type: ignore[no-untyped-def]
    if scope["type"] != "http":
        return
    while (await receive()).get("more_body"):
        pass
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"application/json"), (b"content-length", b"11")],
        }
    )
    await send({"type": "http.response.body", "body": ANSWER})


class Floor(asyncio.Protocol):
    """The floor: httptools' parser answering from its callbacks, no ASGI at all."""

    def connection_made(self, transport) -> None:  # type: ignore[no-untyped-def]
        import httptools

        self.transport, self.parser = transport, httptools.HttpRequestParser(self)

    def data_received(self, data: bytes) -> None:
        self.parser.feed_data(data)

    def on_url(self, url: bytes) -> None:
        self.url, self.headers = url, []

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.append((name, value))

    def on_body(self, body: bytes) -> None:
        self.body = body

    def on_message_complete(self) -> None:
        self.transport.write(
            b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 11\r\n\r\n"
            + ANSWER
        )


class AsgiFloor(Floor):
    """The floor of ASGI: the same, but the app called in a task of its own per request, with
    the least of a scope, receive and send (no limits, no flow control, no pipelining)."""

    def on_message_complete(self) -> None:
        scope = {"type": "http", "method": "POST", "path": "/", "headers": self.headers}
        asyncio.get_running_loop().create_task(app(scope, self.receive, self.send))

    async def receive(self) -> dict:  # type: ignore[type-arg]
        return {"type": "http.request", "body": self.body, "more_body": False}

    async def send(self, message: dict) -> None:  # type: ignore[type-arg]
        if message["type"] == "http.response.start":
            head = [b"HTTP/1.1 200 OK\r\n"]
            for name, value in message["headers"]:
                head += (name, b": ", value, b"\r\n")
            self.head = b"".join(head) + b"\r\n"
        else:
            self.transport.write(self.head + message["body"])


def protocol_factory():  # type: ignore[no-untyped-def]
    floor = os.environ.get("LISTENER_FLOOR")
    if floor:
        return AsgiFloor if floor == "asgi" else Floor
    import uvicorn
    from uvicorn.server import ServerState

    from gateway.config.settings import Limits
    from gateway.proxy.listener import listener_options

    options = listener_options(Limits(), None)
    config = uvicorn.Config(app, **AS_AIGW_RUN, **options)
    config.load()
    state = ServerState()
    return lambda: config.http_protocol_class(config=config, server_state=state, app_state={})


class Client(asyncio.Protocol):
    """Sends `total` requests, the next once the last one's answer is whole (or all at once)."""

    def __init__(self, total: int, pipelined: bool, done: asyncio.Future[None]) -> None:
        self.total, self.pipelined, self.done = total, pipelined, done
        self.sent = self.answered = 0
        self.length = 0  # one answer's bytes, learnt from the first
        self.head = b""  # the first answer's bytes until its head is whole
        self.pending = 0  # bytes of an answer not yet whole

    def connection_made(self, transport) -> None:  # type: ignore[no-untyped-def]
        self.transport = transport
        if self.total == 0:
            self.done.set_result(None)
        elif self.pipelined:
            transport.write(REQUEST * self.total)
        else:
            transport.write(REQUEST)

    def data_received(self, data: bytes) -> None:
        if not self.length:
            self.head += data
            end = self.head.find(b"\r\n\r\n")
            if end < 0:
                return
            found = re.search(rb"content-length: (\d+)", self.head[:end])
            self.length = end + 4 + int(found.group(1))  # type: ignore[union-attr]
        whole, self.pending = divmod(self.pending + len(data), self.length)
        self.answered += whole
        if self.answered >= self.total:
            if not self.done.done():
                self.done.set_result(None)
        elif whole and not self.pipelined:
            self.transport.write(REQUEST)


async def drive(requests: int, pipelined: bool) -> None:
    loop = asyncio.get_running_loop()
    factory = protocol_factory()
    as_aigw_run()
    for count in (WARM_UP, requests):
        served, client = socket.socketpair()
        await loop.connect_accepted_socket(factory, served)
        done: asyncio.Future[None] = loop.create_future()
        client_protocol = Client(count, pipelined, done)
        transport, _ = await loop.create_connection(lambda c=client_protocol: c, sock=client)
        await done
        transport.close()
        await asyncio.sleep(0)


def serve(port: int) -> None:
    import uvicorn

    from gateway.config.settings import Limits
    from gateway.proxy.listener import listener_options

    options = listener_options(Limits(), None)
    as_aigw_run()
    uvicorn.run(app, host="127.0.0.1", port=port, loop="uvloop", **AS_AIGW_RUN, **options)


def counted(tree: Path, requests: int, pipelined: bool, floor: bool | str = False) -> int:
    command = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable]
    command += [__file__, "--drive", str(requests)] + (["--pipelined"] if pipelined else [])
    env = {"PYTHONPATH": str(tree), "PATH": "/usr/bin:/bin"} | (
        {"LISTENER_FLOOR": str(floor)} if floor else {}
    )
    done = subprocess.run(command, cwd=tree, env=env, capture_output=True, text=True)
    found = re.search(r"Collected : (\d+)", done.stderr)
    if done.returncode != 0 or found is None:
        raise SystemExit(f"{tree} failed:\n{done.stderr[-2000:]}")
    return int(found.group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description="The listener's instructions per request.")
    add = parser.add_argument
    add("--old", help="the revision to compare against")
    add("--new", help="the revision to measure (default: this work tree)")
    add("--requests", type=int, default=2000)
    add("--pipelined", action="store_true", help="send every request at once")
    add("--floor", action="store_true", help="also count the floor: a bare httptools protocol")
    add("--drive", type=int, help=argparse.SUPPRESS)
    add("--serve", type=int, metavar="PORT", help="serve the trivial app on PORT")
    args = parser.parse_args()
    import uvloop

    if args.drive is not None:
        uvloop.run(drive(args.drive, args.pipelined))
        return
    if args.serve is not None:
        serve(args.serve)
        return
    if args.old is None:
        parser.error("--old is required")
    with tempfile.TemporaryDirectory(prefix="aigw-listener-") as workdir:
        sides = [ab.materialise("old", args.old, Path(workdir))]
        sides.append(ab.materialise("new", args.new, Path(workdir)))
        rows = []
        for side in sides:
            counted(side.tree, 0, args.pipelined)  # compiles the tree's modules: not counted
            zero = counted(side.tree, 0, args.pipelined)
            many = counted(side.tree, args.requests, args.pipelined)
            rows.append((side.label, (many - zero) / args.requests))
    mode = "pipelined" if args.pipelined else "one after another"
    print(f"\n## The listener's instructions per request (callgrind, {mode})\n")
    for label, count in rows:
        print(f"- {label}: {count:,.0f}")
    print(f"- change: {100 * (rows[1][1] / rows[0][1] - 1):+.1f}%")
    if args.floor:
        zero = counted(sides[-1].tree, 0, args.pipelined, floor=True)
        many = counted(sides[-1].tree, args.requests, args.pipelined, floor=True)
        print(f"- the floor (httptools alone, no ASGI): {(many - zero) / args.requests:,.0f}")
        zero = counted(sides[-1].tree, 0, args.pipelined, floor="asgi")
        many = counted(sides[-1].tree, args.requests, args.pipelined, floor="asgi")
        print(
            f"- the ASGI floor (a task and the app per request): {(many - zero) / args.requests:,.0f}"
        )


if __name__ == "__main__":
    main()

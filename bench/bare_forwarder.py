"""The benchmark's baseline: the least a Python forwarder does, on the gateway's own stack.

    python bench/bare_forwarder.py [--port 18082] [--upstream http://127.0.0.1:18081]

One catch-all POST route reads the body, posts it upstream with one shared aiohttp session
(made at startup) and responds with the upstream's bytes, status and content type; an event
stream (text/event-stream) is passed on chunk by chunk as it arrives. Served like
`aigw run`: uvicorn with uvloop and httptools, no access log. bench/latency.py compares the
gateway's pass-through chain with it, bench/peers.py its streams too.
"""

from __future__ import annotations

import argparse
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiohttp
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route


def create_app(upstream: str) -> Starlette:
    state: dict[str, aiohttp.ClientSession] = {}

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        state["session"] = aiohttp.ClientSession()
        yield
        await state["session"].close()

    async def forward(request: Request) -> Response:
        body = await request.body()
        headers = {"Content-Type": request.headers.get("content-type", "application/json")}
        response = await state["session"].post(
            upstream + request.url.path, data=body, headers=headers
        )
        if response.content_type != "text/event-stream":
            async with response:
                content = await response.read()
            return Response(content, response.status, media_type=response.content_type)

        async def chunks() -> AsyncIterator[bytes]:
            async with response:  # open until the stream ends; then its connection is reused
                async for chunk in response.content.iter_any():
                    yield chunk

        return StreamingResponse(chunks(), response.status, media_type=response.content_type)

    return Starlette(routes=[Route("/{path:path}", forward, methods=["POST"])], lifespan=lifespan)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=18082)
    parser.add_argument("--upstream", default="http://127.0.0.1:18081")
    args = parser.parse_args()
    uvicorn.run(
        create_app(args.upstream.rstrip("/")),
        host=args.host,
        port=args.port,
        loop="uvloop",
        http="httptools",
        access_log=False,
        log_level="warning",
    )


if __name__ == "__main__":
    main()

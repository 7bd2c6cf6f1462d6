"""One HTTP request handed straight to the traffic application, as an ASGI server would."""

from __future__ import annotations

import asyncio

from starlette.types import ASGIApp


def body_of(
    app: ASGIApp,
    method: str,
    path: str,
    headers: list[tuple[bytes, bytes]],
    scheme: str = "http",
    client: str = "10.0.0.1",
) -> str:
    """The response body `app` sends to `method path` with `headers` (and no body)."""
    scope = {
        "type": "http",
        "method": method,
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "headers": headers,
        "client": (client, 50000),
        "server": ("192.0.2.7", 8443),
        "scheme": scheme,
        "http_version": "1.1",
        "asgi": {"version": "3.0"},
    }
    body: list[bytes] = []

    async def receive() -> dict[str, object]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, object]) -> None:
        if message["type"] == "http.response.body":
            body.append(message["body"])  # type: ignore[arg-type]

    asyncio.run(app(scope, receive, send))
    return b"".join(body).decode()

"""A fake Azure identity service on loopback: managed identity, IMDS and Entra token endpoints.

Tokens name where they came from and count up (`mi-1`, `sp-2`, ...), so tests can tell a
cached token from a new one. `GET /stats` tells how many tokens were handed out and the last
form or query each endpoint received. Run: `python -m tests.fakes.identity PORT [LIFETIME]`.
"""

from __future__ import annotations

import sys
import time

from aiohttp import web

IDENTITY_HEADER = "fake-identity-header"


def make_app(lifetime: int = 3600) -> web.Application:
    state: dict[str, object] = {"issued": 0, "last": {}}

    def issue(kind: str, resource: str) -> dict[str, object]:
        state["issued"] = int(state["issued"]) + 1  # type: ignore[call-overload]
        return {
            "access_token": f"{kind}-{state['issued']}-{resource}",
            "expires_on": str(int(time.time()) + lifetime),
            "token_type": "Bearer",
        }

    async def managed_identity(request: web.Request) -> web.Response:
        state["last"] = dict(request.query)
        if request.headers.get("X-IDENTITY-HEADER") != IDENTITY_HEADER:
            return web.json_response({"error": "invalid_request"}, status=401)
        return web.json_response(issue("mi", request.query.get("resource", "")))

    async def entra(request: web.Request) -> web.Response:
        form = dict(await request.post())
        state["last"] = {k: str(v) for k, v in form.items()}
        if form.get("client_secret") == "wrong":
            return web.json_response(
                {"error": "invalid_client", "error_description": "AADSTS7000215: Invalid secret"},
                status=401,
            )
        kind = "wi" if "client_assertion" in form else "sp"
        scope = str(form.get("scope", ""))
        token = issue(kind, scope.removesuffix("/.default"))
        token.pop("expires_on")
        token["expires_in"] = lifetime
        return web.json_response(token)

    async def stats(request: web.Request) -> web.Response:
        return web.json_response(state)

    app = web.Application()
    app.router.add_get("/msi/token", managed_identity)
    app.router.add_post("/{tenant}/oauth2/v2.0/token", entra)
    app.router.add_get("/stats", stats)
    app.router.add_get("/", stats)
    return app


if __name__ == "__main__":
    port = int(sys.argv[1])
    web.run_app(
        make_app(int(sys.argv[2]) if len(sys.argv) > 2 else 3600),
        host="127.0.0.1",
        port=port,
        print=None,
    )

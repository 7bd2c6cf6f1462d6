"""The dashboard on the admin listener: `GET /-/dashboard`, its static files (package data in
`dashboard_static/`, uPlot vendored there), the login form that sets the session cookie, and
the JSON it polls (gateway.proxy.admin_data). No build step: the files are served as written.

A browser without a session is sent to `/-/login`; the form's key is checked by the admin
key (gateway.proxy.admin_auth) and never echoed or logged. The session cookie opens reads
only, so the page polls with it while every change still needs `Authorization: Bearer`.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from importlib import resources
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from gateway.proxy.admin_auth import COOKIE, SESSION_SECONDS, AdminKey, guarded, refusal
from gateway.proxy.admin_data import AdminData
from gateway.proxy.fleet import Fleet
from gateway.proxy.live import Live
from gateway.telemetry.metrics import Metrics

STATIC = resources.files("gateway.proxy") / "dashboard_static"
TYPES = {".js": "text/javascript", ".css": "text/css", ".txt": "text/plain", ".html": "text/html"}
# Only our own files: no inline script or style, nothing from elsewhere.
POLICY = "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'"
HEADERS = {"content-security-policy": POLICY, "x-content-type-options": "nosniff"}
MAX_FORM = 4096  # bytes: a login form is a key, no more


def dashboard_routes(
    live: Live, fleet: Fleet, metrics: Metrics | None, admin_key: Callable[[], AdminKey]
) -> list[Route]:
    files = {
        entry.name: entry.read_bytes()
        for entry in STATIC.iterdir()
        if entry.name.endswith(tuple(TYPES)) and entry.name != "dashboard.html"
    }
    page = (STATIC / "dashboard.html").read_bytes()

    async def dashboard(request: Request) -> Response:
        key = admin_key()
        refused = refusal(key, request, always=True)
        if refused is not None:
            if refused.status_code == 401:  # a browser without a session: log in first
                return RedirectResponse("/-/login", 303)
            return refused
        return Response(page, media_type="text/html", headers=_no_store(HEADERS))

    async def static(request: Request) -> Response:
        name = request.path_params["name"]
        content = files.get(name)
        if content is None:
            return Response("not found", 404, media_type="text/plain")
        kind = TYPES[name[name.rindex(".") :]]
        return Response(content, media_type=kind, headers={**HEADERS, "cache-control": "private"})

    async def login_form(request: Request) -> Response:
        return _login_page(admin_key(), "")

    async def login_style(request: Request) -> Response:
        """The login page's style: open, as the page is, for a browser with no session yet."""
        return Response(files["login.css"], media_type="text/css", headers=HEADERS)

    async def login(request: Request) -> Response:
        key = admin_key()
        body = await _small_body(request)
        given = parse_qs(body.decode("utf-8", "replace")).get("key", [""])[0] if body else ""
        if not key.configured or key.unavailable or not given or not key.matches(given):
            return _login_page(key, "That is not the admin key.", 401)
        answer = RedirectResponse("/-/dashboard", 303)
        answer.set_cookie(
            COOKIE,
            key.session_cookie(),
            max_age=SESSION_SECONDS,
            path="/-/",
            httponly=True,
            samesite="strict",
        )
        return answer

    async def logout(request: Request) -> Response:
        answer = RedirectResponse("/-/login", 303)
        answer.delete_cookie(COOKIE, path="/-/", httponly=True, samesite="strict")
        return answer

    data = AdminData(live, fleet, metrics is not None)
    return [
        Route("/-/dashboard", dashboard, methods=["GET"]),
        Route(
            "/-/dashboard/static/{name}",
            guarded(static, admin_key, always=True),
            methods=["GET"],
        ),
        Route("/-/login", login_form, methods=["GET"]),
        Route("/-/login.css", login_style, methods=["GET"]),
        Route("/-/login", login, methods=["POST"]),
        Route("/-/logout", logout, methods=["POST"]),
        *data.routes(admin_key),
    ]


async def _small_body(request: Request) -> bytes:
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM:
            return b""
    return body


def _no_store(headers: dict[str, str]) -> dict[str, str]:
    return {**headers, "cache-control": "no-store"}


def _login_page(key: AdminKey, message: str, status: int = 200) -> HTMLResponse:
    if not key.configured:
        message, status = "The dashboard is off: set admin.key in gateway.yaml.", 404
    elif key.unavailable:
        message, status = "admin.key cannot be read: see the gateway's log.", 503
    shown = f'<p class="error" role="alert">{html.escape(message)}</p>' if message else ""
    text = LOGIN.replace("{message}", shown)
    return HTMLResponse(text, status, headers=_no_store(HEADERS))


LOGIN = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>aigw: log in</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/-/login.css"></head>
<body class="login"><main>
<h1>aigw</h1>
<form method="post" action="/-/login">
<label for="key">Admin key</label>
<input id="key" name="key" type="password" autocomplete="current-password" required autofocus>
<button type="submit">Log in</button>
</form>
{message}
</main></body></html>
"""

"""Backends: one cheap authenticated call each, the one its provider lists models with.

OpenAI-shaped providers: `GET {url}/models` with the key as they read it. Azure OpenAI:
`GET {url}/models?api-version=...`. Anthropic: `GET {url}/v1/models` with `x-api-key` and
`anthropic-version`. A plain `http` backend has no such call: any answer but 401/403 is
taken as reaching it. A 401 or 403 is the credentials refused. Pools are not probed: their
members are backends of their own.
"""

from __future__ import annotations

import aiohttp
from yarl import URL

from gateway.checks.probe import Checked, Found, Probe, Reach, Secrets
from gateway.config.backends import Backend, credential_headers, credential_query

ANTHROPIC_VERSION = "2023-06-01"


def backend_probes(checked: Checked) -> list[Probe]:
    return [
        Probe(f"backend {backend.id}", _reacher(backend))
        for backend in checked.config.backends.values()
        if backend.url is not None and not backend.is_pool
    ]


def models_call(backend: Backend, base: str) -> tuple[URL, dict[str, str]]:
    """The model-listing URL for `backend` at `base`, and the headers its provider needs."""
    url = URL(base.rstrip("/"))
    if backend.provider == "http":
        return url, {}
    if backend.provider == "azure-openai":
        return (url / "models").update_query({"api-version": backend.api_version}), {}
    if backend.provider == "anthropic":
        listing = url / "models" if url.path.endswith("/v1") else url / "v1" / "models"
        return listing, {"anthropic-version": ANTHROPIC_VERSION}
    return url / "models", {}


def _reacher(backend: Backend) -> Reach:
    async def reach(secrets: Secrets, timeout: float) -> Found:
        assert backend.url is not None
        url, headers = models_call(backend, backend.url.resolve())
        secrets.use(url.password or "")  # shown without it, but an error may echo the URL
        for name, value in credential_headers(backend):
            headers[name] = secrets.use(value)
            secrets.use(value.rpartition(" ")[2])  # "Bearer KEY": the key alone too
        query = {name: secrets.use(value) for name, value in credential_query(backend)}
        shown = f"GET {url.with_user(None).with_query(None)}"
        identity = backend.credentials.managed_identity is not None
        ssl = None if backend.tls.validate_certificate_chain else False
        try:
            async with (
                aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout)) as session,
                session.get(url.update_query(query), headers=headers, ssl=ssl) as response,
            ):
                status = response.status
        except aiohttp.ClientConnectorError as error:
            return Found(False, f"{shown}: cannot connect to {error.host}:{error.port}")
        except aiohttp.ClientError as error:
            return Found(False, f"{shown}: {type(error).__name__}: {error}")
        return _judged(backend, status, shown, identity)

    return reach


def _judged(backend: Backend, status: int, shown: str, identity: bool) -> Found:
    if identity:  # its token comes from the identity service at run time: reachability only
        return Found(status < 500, f"{shown}: HTTP {status} (managed-identity token not checked)")
    if status in (401, 403):
        return Found(False, f"{shown}: HTTP {status}: the credentials are refused")
    if 200 <= status < 300:
        return Found(True, f"{shown}: HTTP {status}")
    if status == 429:
        return Found(True, f"{shown}: HTTP 429: rate-limited, the credentials were not refused")
    if backend.provider == "http" and status < 500:
        return Found(True, f"{shown}: HTTP {status} (an http backend: it answers)")
    hint = ": is url the API's base URL?" if status == 404 else ""
    return Found(False, f"{shown}: HTTP {status}{hint}")

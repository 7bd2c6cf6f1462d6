"""Bearer tokens for `authentication-managed-identity`, cached until shortly before expiry.

Where a token for a resource comes from, first match wins:

1. gateway.yaml `identity.tokens`: a token (usually `${env:...}`/`${file:...}`) mapped to
   the resource; for gateways outside Azure;
2. an Entra app's client secret: gateway.yaml `identity.tenant-id/client-id/client-secret`,
   else the environment's `AZURE_TENANT_ID`, `AZURE_CLIENT_ID`, `AZURE_CLIENT_SECRET`;
3. workload identity (AKS): `AZURE_FEDERATED_TOKEN_FILE` with `AZURE_CLIENT_ID` and
   `AZURE_TENANT_ID`, exchanged at Entra for a token;
4. managed identity: `identity.endpoint`, else App Service / Container Apps'
   `IDENTITY_ENDPOINT` (with `IDENTITY_HEADER`), else the VM's IMDS endpoint.

These are the same protocols the `azure-identity` package speaks; each is one HTTP call, so
the gateway speaks them itself and needs no extra package.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import aiohttp

from gateway.config.secrets import ConfigValue, SecretUnavailable
from gateway.config.settings import Identity
from gateway.proxy.unreachable import logged
from gateway.runtime.services import TokenUnavailable

IMDS = "http://169.254.169.254/metadata/identity/oauth2/token"
REFRESH_MARGIN = 300.0  # seconds before expiry at which a cached token is renewed
STATIC_TOKEN_LIFETIME = 300.0  # re-read mapped tokens this often: files may be rotated
TIMEOUT = aiohttp.ClientTimeout(total=10)


@dataclass(frozen=True, slots=True)
class Token:
    value: str
    expires_at: float  # time.time()


def _scope(resource: str) -> str:
    return resource if resource.endswith("/.default") else resource.rstrip("/") + "/.default"


class IdentityTokens:
    def __init__(self, identity: Identity, environ: Mapping[str, str] | None = None) -> None:
        self.identity = identity
        self.environ = os.environ if environ is None else environ
        self._cache: dict[tuple[str, str | None], Token] = {}
        self._locks: dict[tuple[str, str | None], asyncio.Lock] = {}
        self._session: aiohttp.ClientSession | None = None

    async def token(self, resource: str, client_id: str | None) -> str:
        key = (resource, client_id)
        cached = self._cache.get(key)
        if cached is not None and cached.expires_at - REFRESH_MARGIN > time.time():
            return cached.value
        # One fetch per resource at a time: a burst of requests shares it.
        async with self._locks.setdefault(key, asyncio.Lock()):
            cached = self._cache.get(key)
            if cached is not None and cached.expires_at - REFRESH_MARGIN > time.time():
                return cached.value
            fresh = await self._fetch(resource, client_id)
            self._cache[key] = fresh
            return fresh.value

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    async def _fetch(self, resource: str, client_id: str | None) -> Token:
        mapped = self._mapped(resource)
        if mapped is not None:
            return Token(_resolve(mapped), time.time() + STATIC_TOKEN_LIFETIME)
        env = self.environ
        identity = self.identity
        if identity.client_secret is not None:
            tenant = _resolve(identity.tenant_id) if identity.tenant_id else ""
            app = _resolve(identity.client_id) if identity.client_id else ""
            return await self._entra(
                tenant,
                {"client_id": app, "client_secret": _resolve(identity.client_secret)},
                resource,
            )
        if env.get("AZURE_CLIENT_SECRET") and env.get("AZURE_TENANT_ID"):
            app = client_id or env.get("AZURE_CLIENT_ID", "")
            form = {"client_id": app, "client_secret": env["AZURE_CLIENT_SECRET"]}
            return await self._entra(env["AZURE_TENANT_ID"], form, resource)
        if env.get("AZURE_FEDERATED_TOKEN_FILE") and env.get("AZURE_TENANT_ID"):
            assertion = Path(env["AZURE_FEDERATED_TOKEN_FILE"]).read_text().strip()
            form = {
                "client_id": client_id or env.get("AZURE_CLIENT_ID", ""),
                "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                "client_assertion": assertion,
            }
            return await self._entra(env["AZURE_TENANT_ID"], form, resource)
        return await self._managed_identity(resource, client_id)

    def _mapped(self, resource: str) -> ConfigValue | None:
        tokens = self.identity.tokens
        for name in (resource, resource.rstrip("/"), resource.rstrip("/") + "/"):
            if name in tokens:
                return tokens[name]
        return None

    async def _entra(self, tenant: str, form: dict[str, str], resource: str) -> Token:
        authority = self.environ.get("AZURE_AUTHORITY_HOST") or self.identity.authority_host
        url = f"{authority.rstrip('/')}/{tenant}/oauth2/v2.0/token"
        data = {**form, "grant_type": "client_credentials", "scope": _scope(resource)}
        return await self._call("POST", url, {}, data, "Entra ID")

    async def _managed_identity(self, resource: str, client_id: str | None) -> Token:
        endpoint = self.identity.endpoint or self.environ.get("IDENTITY_ENDPOINT")
        params = {"resource": resource}
        if endpoint:  # App Service, Container Apps, Functions
            params["api-version"] = "2019-08-01"
            headers = {"X-IDENTITY-HEADER": self.environ.get("IDENTITY_HEADER", "")}
        else:
            endpoint, headers = IMDS, {"Metadata": "true"}
            params["api-version"] = "2018-02-01"
        if client_id:
            params["client_id"] = client_id
        query = "&".join(f"{k}={v}" for k, v in params.items())
        return await self._call("GET", f"{endpoint}?{query}", headers, None, "managed identity")

    async def _call(
        self,
        method: str,
        url: str,
        headers: dict[str, str],
        form: dict[str, str] | None,
        source: str,
    ) -> Token:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=TIMEOUT)
        try:
            async with self._session.request(method, url, headers=headers, data=form) as response:
                payload = await response.json(content_type=None)
                status = response.status
        except (aiohttp.ClientError, TimeoutError, ValueError) as error:
            # In general words: the message may reach the client (its host: the log only).
            cause = logged(f"the {source} endpoint", urlsplit(url).netloc, error)
            raise TokenUnavailable(
                f"the {source} endpoint could not be reached ({cause}); "
                "outside Azure, map a token to the resource under identity.tokens in gateway.yaml"
            ) from None
        if status != 200 or not isinstance(payload, dict) or "access_token" not in payload:
            detail = (
                payload.get("error_description") or payload.get("error")
                if isinstance(payload, dict)
                else None
            )
            raise TokenUnavailable(
                f"the {source} endpoint answered {status}: {detail or 'no token'}"
            )
        return Token(str(payload["access_token"]), _expiry(payload))


def _expiry(payload: dict[str, object]) -> float:
    expires_on = payload.get("expires_on")
    if expires_on is not None and str(expires_on).isdigit():
        return float(str(expires_on))
    return time.time() + float(str(payload.get("expires_in", 3600)))


def _resolve(value: ConfigValue) -> str:
    try:
        return value.resolve()
    except SecretUnavailable as error:
        raise TokenUnavailable(str(error)) from None

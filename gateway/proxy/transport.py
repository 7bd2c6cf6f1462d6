"""The aiohttp transport: one pooled client session per backend, credentials added per call.

The backend's URL is joined with the path after the API suffix and the (policy-changed)
query. A pool's member is chosen per attempt (gateway.routing.pools), and every attempt's
outcome feeds its backend's circuit breaker (gateway.routing.breakers). The backend's own
credentials replace anything the client sent for them; the subscription key never travels
upstream (the proxy removed it before the pipeline ran).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from functools import lru_cache
from urllib.parse import quote, urlsplit

import aiohttp
from yarl import URL

from gateway.config.model import Backend, GatewayConfig, SecretUnavailable
from gateway.expressions.model import HeaderDictionary, MessageBody
from gateway.proxy.attempts import attempted, breaking_counted, retry_after_seconds, unavailable
from gateway.proxy.crossing import client_style, crossing_for
from gateway.proxy.limits import BodyTooLarge, caused_by_too_large
from gateway.routing.breakers import Breakers
from gateway.routing.costs import CallCosts
from gateway.routing.pools import Latencies, Pools
from gateway.routing.strategies import fallback, race
from gateway.runtime.context import RequestContext
from gateway.runtime.forwarding import ForwardOptions, StreamBroken
from gateway.runtime.services import BearerTokens, TokenUnavailable
from gateway.runtime.step import PolicyError
from gateway.stores.memory import MemoryCounters
from gateway.tokens.prices import PriceTable

# Never copied from the client's request to the backend's: the transport owns them.
HOP_BY_HOP = frozenset(
    """connection keep-alive proxy-authenticate proxy-authorization te trailers
    transfer-encoding upgrade host content-length""".split()
)


Headers = list[tuple[str, str]]


def _encoded(base: str) -> str:
    """A base URL in its percent-encoded form, without a trailing slash."""
    return str(URL(base.rstrip("/")))


@lru_cache(maxsize=64)
def _timeout(seconds: float) -> aiohttp.ClientTimeout:
    """One timeout object per distinct value: policies use a handful."""
    return aiohttp.ClientTimeout(total=None, sock_connect=seconds, sock_read=seconds)


# Requests to one operation share their path and URL: quoting and parsing them again on every
# request showed in profiles. Bounded, as paths come from clients.
@lru_cache(maxsize=4096)
def _quoted_path(path: str) -> str:
    return quote(path, safe="/%:@!$&'()*+,;=-._~")


@lru_cache(maxsize=4096)
def _url(encoded: str) -> URL:
    return URL(encoded, encoded=True)


@lru_cache(maxsize=256)
def _not_copied(credential_names: tuple[str, ...]) -> frozenset[str]:
    """The client headers not sent on: hop-by-hop ones and those the credentials replace."""
    return HOP_BY_HOP.union(name.lower() for name in credential_names)


def _error(reason: str, message: str, status: int = 500) -> PolicyError:
    return PolicyError("forward-request", reason, message, status=status)


class AiohttpTransport:
    def __init__(
        self,
        config: GatewayConfig,
        tokens: BearerTokens | None = None,
        breakers: Breakers | None = None,
        prices: PriceTable | None = None,
    ) -> None:
        self.backends = config.backends
        self.tokens = tokens
        self.breakers = breakers or Breakers(config.backends, MemoryCounters())
        self.latencies = Latencies()
        self.pools = Pools(config.backends, self.breakers, self.latencies)
        self.costs = CallCosts(config, prices or PriceTable())
        self._sessions: dict[str, aiohttp.ClientSession] = {}
        self._secrets: dict[str, tuple[str, Headers, Headers]] = {}

    def _session(self, key: str, verify: bool = True) -> aiohttp.ClientSession:
        session = self._sessions.get(key)
        if session is None or session.closed:
            connector = aiohttp.TCPConnector(
                limit=0, ttl_dns_cache=300, ssl=None if verify else False
            )
            # Answers pass through as sent, so the backend is asked for exactly the encodings
            # the client asked for: no Accept-Encoding of aiohttp's own.
            session = aiohttp.ClientSession(
                connector=connector,
                auto_decompress=False,
                skip_auto_headers=("Accept-Encoding",),
            )
            self._sessions[key] = session
        return session

    async def close(self) -> None:
        await asyncio.gather(*(s.close() for s in self._sessions.values()))
        self._sessions.clear()

    def _target(
        self,
        context: RequestContext,
        backend_id: str | None,
        path: str | None = None,
        query: list[tuple[str, str]] | None = None,
    ) -> tuple[aiohttp.ClientSession, URL, list[tuple[str, str]]]:
        """The session, the full URL and the credential headers for this request.

        The URL is assembled already percent-encoded (the base once, when first used), so
        the HTTP client is told not to parse and re-quote it on every request.
        """
        if query is None:
            query = context.model.Request.Url.Query.lines()
        if context.backend_url is not None:  # set-backend-service base-url
            base, credentials = _encoded(context.backend_url), []
            session = self._session("url:" + urlsplit(base).netloc)
        else:
            backend = self._backend(backend_id)
            base, credentials, query_credentials = self._resolved(backend)
            query += query_credentials
            session = self._session(backend.id, backend.validate_certificate_chain)
        url = base + _quoted_path(path or context.backend_path)
        if query:
            url += "?" + "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in query)
        return session, _url(url), credentials

    def _resolved(self, backend: Backend) -> tuple[str, Headers, Headers]:
        """URL and credentials with their `${env:}`/`${file:}` read once, on first use.

        Not at start: a gateway with one unset key still serves its other backends. A failure
        is not cached, so setting the secret and reloading is all a fix takes.
        """
        found = self._secrets.get(backend.id)
        if found is None:
            if backend.url is None:  # a pool: only forward-request chooses members
                raise _error(
                    "BackendConnectionFailure",
                    f"backend '{backend.id}' is a pool; name one of its members here",
                )
            try:
                headers = [(k, v.resolve()) for k, v in backend.credentials.headers.items()]
                if backend.api_key is not None:
                    headers.append(_key_header(backend.provider, backend.api_key.resolve()))
                found = (
                    _encoded(backend.url.resolve()),
                    headers,
                    [(k, v.resolve()) for k, v in backend.credentials.query.items()],
                )
            except SecretUnavailable as error:
                raise _error(
                    "BackendConnectionFailure", f"backend '{backend.id}' cannot be called: {error}"
                ) from None
            self._secrets[backend.id] = found
        return found

    async def _identity_header(self, backend_id: str | None) -> Headers:
        """`credentials.managed-identity`: a bearer token for the backend's resource."""
        backend = self._backend(backend_id)
        resource = backend.credentials.managed_identity_resource
        if resource is None:
            return []
        try:
            if self.tokens is None:
                raise TokenUnavailable("this gateway has no token service")
            token = await self.tokens.token(
                resource, backend.credentials.managed_identity_client_id
            )
        except TokenUnavailable as error:
            raise _error(
                "BackendConnectionFailure",
                f"backend '{backend.id}' cannot be called: no token for '{resource}': {error}",
            ) from None
        return [("Authorization", f"Bearer {token}")]

    def _backend(self, backend_id: str | None) -> Backend:
        backend = self.backends.get(backend_id or "")
        if backend is None:
            raise _error("BackendConnectionFailure", f"there is no backend '{backend_id}'")
        return backend

    async def _member(self, context: RequestContext) -> str | None:
        """The backend this attempt goes to (a pool's member), or None when it is unavailable:
        then the response is APIM's 503, which a retry condition can read."""
        chosen = context.backend or ""
        while (backend := self._backend(chosen)).is_pool:
            skipped: list[str] = []
            member = await self._choose(context, backend, skipped)
            context.attempts += [f"{name}:open" for name in skipped]
            if member is None:
                unavailable(context, f"Backend pool {backend.id} is temporarily unavailable")
                return None
            chosen = member
        if chosen != context.backend or not self.backends[chosen].breaker_rules:
            return chosen  # a pool skipped open members already
        if await self.breakers.open_for(chosen) > 0:
            unavailable(context, f"Backend {chosen} is temporarily unavailable")
            return None
        return chosen

    async def _choose(
        self, context: RequestContext, backend: Backend, skipped: list[str]
    ) -> str | None:
        """A pool's member for this attempt, with the pool's session affinity if it has one.

        The request's first attempt goes where the client's cookie pins it, while that member
        is usable; a later attempt (a retry) chooses afresh, away from the member the attempt
        before it went to. The answer's cookie follows the last attempt's member, so the
        session's next call goes where this one ended (gateway.routing.affinity)."""
        pool, affinity = backend.id, self.pools.affinity
        cost_of = self.costs.estimator(context) if backend.pool_strategy == "cheapest" else None
        if affinity.cookie(pool) is None:
            return await self.pools.choose(pool, skipped, cost_of)
        pin = affinity.pin(pool, context.model.Request.Headers.get("cookie"))
        if pool not in context.affinity:
            member = await self.pools.choose(pool, skipped, cost_of, pinned=pin.member)
        else:
            member = await self.pools.choose(pool, skipped, cost_of, avoid=context.backend_member)
        if member is not None:
            session = context.affinity.setdefault(pool, pin.session)
            affinity.answer(context.response_headers, pool, session, pin.member, member)
        return member

    async def post_json(
        self, backend_id: str, body: bytes, timeout: float, path: str = ""
    ) -> tuple[int, bytes]:
        """POST a JSON body to a backend's URL as configured (with `path` appended), with its
        credentials.

        For calls the gateway makes on its own account: a semantic cache's embeddings (the
        backend's whole URL, as APIM's embeddings backends are) and Content Safety's
        operations (`/contentsafety/text:analyze?api-version=...` under its endpoint). `path`
        goes as given, already percent-encoded; query credentials follow any query it has.
        """
        backend = self._backend(backend_id)
        base, credentials, query = self._resolved(backend)
        url = base + path
        if query:
            url += "&" if "?" in url else "?"
            url += "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in query)
        headers = [*credentials, *await self._identity_header(backend_id)]
        # The sessions do not decompress (answers pass through as sent): ask for plain bytes.
        headers += [("Content-Type", "application/json"), ("Accept-Encoding", "identity")]
        session = self._session(backend.id, backend.validate_certificate_chain)
        async with session.post(
            URL(url, encoded=True), data=body, headers=headers, timeout=_timeout(timeout)
        ) as answer:
            return answer.status, await answer.read()

    async def forward(self, context: RequestContext, options: ForwardOptions) -> None:
        if context.backend_url is not None:  # set-backend-service base-url: no backend entity
            await self._send(context, options, None)
            return
        backend = self._backend(context.backend)
        if backend.is_pool and backend.pool_strategy in ("fallback", "race"):
            await self._several(backend, context, options)
            return
        member = await self._member(context)
        if member is not None:
            await self._attempt(context, options, member)

    async def _several(
        self, pool: Backend, context: RequestContext, options: ForwardOptions
    ) -> None:
        """fallback and race: one call, several members (gateway.routing.strategies)."""
        skipped: list[str] = []
        members = await self.pools.in_order(pool.id, skipped)
        context.attempts += [f"{name}:open" for name in skipped]
        if not members:
            unavailable(context, f"Backend pool {pool.id} is temporarily unavailable")
            return
        await _buffered(context)  # every member may need the body

        async def attempt(each: RequestContext, member: str) -> None:
            await self._attempt(each, options, member)

        if pool.pool_strategy == "fallback":
            await fallback(members, context, attempt)
            return
        hedged = await race(members, pool.race_count, pool.hedge_delay, context, attempt)
        cost_of = self.costs.estimator(context, prompt_only=True)
        spent = sum(cost_of(member) or 0.0 for member in hedged)
        context.variables["llm-hedging-cost"] = spent
        metrics = context.services.metrics
        if metrics is not None and spent:
            metrics.add("aigw", "hedging_cost", spent, {"Backend ID": pool.id})

    async def _attempt(self, context: RequestContext, options: ForwardOptions, member: str) -> None:
        """One call to one backend; its outcome feeds the breaker, the latency, the log."""
        context.backend_member = member
        started = time.monotonic()
        try:
            await self._send(context, options, member)
        except PolicyError as error:
            self.latencies.observe(member, time.monotonic() - started)
            attempted(context, member, error.reason)
            if member in self.breakers.rules:
                await self.breakers.record(member, None, error.reason, None)
            raise
        self.latencies.observe(member, time.monotonic() - started)
        response = context.model.Response
        attempted(context, member, str(response.StatusCode))
        if member in self.breakers.rules:  # most backends have no breaker: no call at all
            retry_after = retry_after_seconds(response.Headers.joined("retry-after"))
            await self.breakers.record(member, response.StatusCode, None, retry_after)
            if context.response_stream is not None:  # it may still break: that counts too
                context.response_stream = breaking_counted(
                    context.response_stream, self.breakers, member
                )

    async def _send(
        self, context: RequestContext, options: ForwardOptions, member: str | None
    ) -> None:
        crossing = None
        if member is not None:
            if context.request_stream is not None and client_style(context) is not None:
                await _buffered(context)  # a chat body may have to be translated
            backend = self.backends[member]
            crossing = crossing_for(context, backend)
        path = crossing.path if crossing is not None else None
        query = crossing.query if crossing is not None else None
        session, url, credentials = self._target(context, member, path, query)
        if member is not None:
            credentials = credentials + await self._identity_header(member)
        if crossing is not None:
            credentials = credentials + crossing.headers
        request = context.model.Request
        dropped = _not_copied(tuple(k for k, _ in credentials))
        headers = [(k, v) for k, v in request.Headers.lines() if k.lower() not in dropped]
        headers += credentials
        body: bytes | AsyncIterator[bytes] | None = None
        if crossing is not None and crossing.body is not None:
            body = crossing.body
        elif request.Body is not None:
            body = request.Body.read(preserve=True)
        elif context.request_stream is not None:
            body, context.request_stream = context.request_stream, None  # it streams once
            length = request.Headers.joined("content-length")
            if length is not None:  # keep it, so the body goes as sent rather than chunked
                headers.append(("Content-Length", length))
        timeout = _timeout(options.timeout)
        try:
            answer = await session.request(
                request.Method,
                url,
                headers=headers,
                data=body,
                allow_redirects=options.follow_redirects,
                timeout=timeout,
            )
        except TimeoutError:
            raise _error(
                "Timeout", f"The backend did not answer within {options.timeout:g} seconds."
            ) from None
        except aiohttp.ClientError as error:
            if caused_by_too_large(error):
                raise BodyTooLarge from None
            host = url.raw_authority
            raise _error(
                "BackendConnectionFailure", f"The backend {host} could not be reached: {error}"
            ) from None
        response = context.model.Response
        response.StatusCode = answer.status
        response.StatusReason = answer.reason or ""
        response.Headers = HeaderDictionary.from_lines(answer.headers.items(), HOP_BY_HOP)
        event_stream = answer.headers.get("Content-Type", "").startswith("text/event-stream")
        if event_stream or not options.buffer_response:
            response.Body = None
            context.response_stream = _chunks(answer)
        else:
            try:
                response.Body = MessageBody(await answer.read())
            except (TimeoutError, aiohttp.ClientError) as error:
                raise _error(
                    "BackendConnectionFailure", f"The backend's answer broke off: {error}"
                ) from None
            finally:
                answer.release()
        if crossing is not None:
            crossing.translate_answer(context)


async def _chunks(answer: aiohttp.ClientResponse) -> AsyncIterator[bytes]:
    """The answer's body as it arrives; closing early (a client gone) closes the upstream too."""
    try:
        async for chunk in answer.content.iter_any():
            yield chunk
    except (aiohttp.ClientError, TimeoutError) as error:
        raise StreamBroken(str(error) or type(error).__name__) from None
    finally:
        answer.close()


def _key_header(provider: str, key: str) -> tuple[str, str]:
    """A provider's key, the way that provider reads it."""
    if provider == "azure-openai":
        return ("api-key", key)
    if provider == "anthropic":
        return ("x-api-key", key)
    return ("Authorization", f"Bearer {key}")


async def _buffered(context: RequestContext) -> None:
    """Read a streaming request body whole, so that another attempt can send it again."""
    stream, context.request_stream = context.request_stream, None
    if stream is not None:
        context.model.Request.Body = MessageBody(b"".join([chunk async for chunk in stream]))

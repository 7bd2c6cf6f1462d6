"""One attempt's call to one backend, and the calls the gateway makes to backends itself.

The backend's URL is joined with the path after the API suffix and the (policy-changed)
query. The backend's own credentials replace anything the client sent for them; the
subscription key never travels upstream (the proxy removed it before the pipeline ran). A
call in another API's style than the backend's is translated on the way (gateway.proxy.crossing).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from gateway.common.url_paths import AllowedUrls, UrlError, normalised_url
from gateway.config.backends import Backend
from gateway.expressions.model import HeaderDictionary, MessageBody
from gateway.proxy.azure_paths import openai_path
from gateway.proxy.credentials import HOP_BY_HOP, Credentials, Headers, Resolved, not_copied
from gateway.proxy.crossing import crossing_for, reads_body
from gateway.proxy.http1 import Response
from gateway.proxy.sessions import Sessions, quoted_path, with_query
from gateway.proxy.unreachable import broke_off, unreachable
from gateway.proxy.upstream_errors import UpstreamError
from gateway.routing.members import no_backend
from gateway.runtime.context import RequestContext
from gateway.runtime.forwarding import ForwardOptions, StreamBroken
from gateway.runtime.step import PolicyError
from gateway.tokens.tokenizer import count_prompt


def _error(reason: str, message: str) -> PolicyError:
    return PolicyError("forward-request", reason, message, status=500)


@lru_cache(maxsize=256)
def _base_url(url: str, allowed: AllowedUrls | None) -> str:
    """set-backend-service's base-url, normalised (gateway.common.url_paths), without a
    trailing slash; UrlNotAllowed when it cannot be read, climbs above its root, or is under
    none of `allowed`. (Cached: a policy sends to a handful of base URLs.)"""
    try:
        normal = normalised_url(url)
        why = "its path climbs above its root ('..', '%2e%2e', '..%2f'); remove them"
    except UrlError as error:
        normal, why = None, f"{error}; write scheme://host[:port]/path"
    if normal is not None and allowed is not None and not allowed.allows(normal[0]):
        normal = None
        why = (
            "it is under none of gateway.yaml's set-backend-service.allowed-urls "
            "(nor a backend's URL)"
        )
    if normal is None:
        raise PolicyError(
            "set-backend-service",
            "UrlNotAllowed",
            f"set-backend-service may not send requests to '{url.partition('?')[0]}': {why}",
            status=500,
        )
    return normal[0].rstrip("/")


class Upstream:
    def __init__(
        self,
        backends: Mapping[str, Backend],
        sessions: Sessions,
        credentials: Credentials,
        base_urls: AllowedUrls | None = None,
    ) -> None:
        self.backends = backends
        self.sessions = sessions
        self.credentials = credentials
        # Where set-backend-service's base-url may send requests (None: anywhere, as APIM).
        self.base_urls = base_urls

    def _backend(self, backend_id: str) -> Backend:
        backend = self.backends.get(backend_id)
        if backend is None:
            raise no_backend(f"there is no backend '{backend_id}'")
        return backend

    async def send(
        self,
        context: RequestContext,
        options: ForwardOptions,
        member: str | None,
        trace_headers: Headers | None = None,
    ) -> None:
        """Send the request to `member` (None: the URL set-backend-service set); put the
        response in `context.model.Response`, a stream in `context.response_stream`.
        `trace_headers` (a traced attempt's traceparent) replace the client's."""
        crossing = backend = path = query = None
        if member is not None:
            if context.request_stream is not None and reads_body(context):
                await context.hold_request_body()  # a chat body may have to be translated
            backend = self._backend(member)
            crossing = crossing_for(context, backend)
            if crossing is not None:
                if crossing.answer is not None:
                    _answered(context, crossing.answer)  # nothing is sent
                    return
                if crossing.counted is not None:  # counted, not sent
                    _answered(context, await _count(context, crossing.counted))
                    return
                path, query = crossing.path, crossing.query
        if path is None and backend is not None and context.style == "azure-openai":
            # Azure's URLs, to an OpenAI-shaped backend
            path, openai_query = openai_path(context, backend)
            query = openai_query if query is None else query
        key, verify, url, resolved = self._aimed(context, backend, path, query)
        credentials = resolved.headers if resolved is not None else []
        if backend is not None and backend.credentials.managed_identity is not None:
            credentials = credentials + await self.credentials.identity(backend)
        if crossing is not None:
            credentials = credentials + crossing.headers
        if trace_headers is not None:  # like credentials: the client's copies are dropped
            credentials = credentials + trace_headers
        request = context.model.Request
        # Most calls add no header of their own to the backend's credentials: those calls
        # send the lines formatted once per backend (gateway.proxy.credentials), with the
        # client's headers but those the backend's credentials replace.
        fixed = ""
        if (
            resolved is not None
            and resolved.lines is not None
            and credentials is resolved.headers
            and not options.follow_redirects
        ):
            dropped, fixed = resolved.dropped, resolved.lines
        else:
            dropped = not_copied(tuple([k for k, _ in credentials]))
        headers = [(k, v) for k, v in request.Headers.lines() if k.lower() not in dropped]
        if not fixed:
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
        try:
            response = await self.sessions.pool(key, verify).request(
                request.Method, url, headers, body, options.timeout, options.follow_redirects, fixed
            )
        except TimeoutError:
            raise _error(
                "Timeout", f"The backend did not answer within {options.timeout:g} seconds."
            ) from None
        except UpstreamError as error:
            # The client learns which backend and why; its host, port and the HTTP client's
            # words go to the log only (gateway.proxy.unreachable).
            where = urlsplit(url).netloc
            message = unreachable(member, where, error, context.model.request_id_text)
            raise _error("BackendConnectionFailure", message) from None
        if _received(context, options, response):  # read whole
            try:
                body = response.whole()  # most answers: whole already, no coroutine
                if body is None:
                    body = await response.read()
                context.model.Response.Body = MessageBody(body)
            except UpstreamError as error:
                why = broke_off(context.backend_member, error, context.model.request_id_text)
                raise _error(
                    "BackendConnectionFailure", f"The backend's answer broke off: {why}."
                ) from None
        if crossing is not None:
            crossing.translate_response(context)

    def _target(
        self,
        context: RequestContext,
        backend: Backend | None,
        path: str | None,
        query: list[tuple[str, str]] | None,
    ) -> tuple[str, bool, str, Headers]:
        """`_aimed`, with the backend's credential headers (gateway.proxy.sockets' handshake)."""
        key, verify, url, resolved = self._aimed(context, backend, path, query)
        return key, verify, url, resolved.headers if resolved is not None else []

    def _aimed(
        self,
        context: RequestContext,
        backend: Backend | None,
        path: str | None,
        query: list[tuple[str, str]] | None,
    ) -> tuple[str, bool, str, Resolved | None]:
        """This attempt's client key (gateway.proxy.sessions) and certificate checking, its
        full URL (percent-encoded) and its backend's credentials (None: no backend, no
        credentials): to `backend`, or to the URL set-backend-service set."""
        if query is None:
            query = context.model.Request.Url.Query.lines()
        if backend is None:  # set-backend-service base-url
            base, resolved = _base_url(context.backend_url or "", self.base_urls), None
            key, verify = "url:" + urlsplit(base).netloc, True
        else:
            resolved = self.credentials.resolved(backend)
            base = resolved.base
            if resolved.query:
                query = query + resolved.query
            key, verify = backend.id, backend.tls.validate_certificate_chain
        url = base + quoted_path(path or context.backend_path)
        if query:
            url = with_query(url, query)
        return key, verify, url, resolved

    async def post_json(
        self, backend_id: str, body: bytes, timeout_seconds: float, path: str = ""
    ) -> tuple[int, bytes]:
        """POST a JSON body to a backend's URL as configured (with `path` appended), with its
        credentials: the gateway's `BackendCalls` service.

        For calls the gateway makes on its own account: a semantic cache's embeddings (the
        backend's whole URL, as APIM's embeddings backends are) and Content Safety's
        operations (`/contentsafety/text:analyze?api-version=...` under its endpoint). `path`
        goes as given, already percent-encoded; query credentials follow any query it has.
        """
        backend = self._backend(backend_id)
        resolved = self.credentials.resolved(backend)
        base, query = resolved.base, resolved.query
        headers = [*resolved.headers, *await self.credentials.identity(backend)]
        # The pools do not decompress (responses pass through as sent): ask for plain bytes.
        headers += [("Content-Type", "application/json"), ("Accept-Encoding", "identity")]
        pool = self.sessions.pool(backend.id, backend.tls.validate_certificate_chain)
        url = with_query(base + path, query)
        try:
            response = await pool.request("POST", url, headers, body, timeout_seconds)
            return response.status, await response.read()
        except UpstreamError as error:  # its callers' messages may reach a client
            where = urlsplit(url).netloc
            raise ConnectionError(unreachable(backend_id, where, error)) from None


async def _count(context: RequestContext, chat: dict[str, Any]) -> bytes:
    """Anthropic's count_tokens answered offline: the chat's prompt and tools, counted with
    the backend's model (exactly for OpenAI's), a large one off the event loop."""
    raw = context.model.Request.Body
    size = len(raw.read(preserve=True)) if raw is not None else 0
    count = await count_prompt(chat, str(chat.get("model") or ""), size, tools=True)
    return json.dumps({"input_tokens": count}).encode()


def _answered(context: RequestContext, body: bytes) -> None:
    """The gateway's own answer in place of the backend's (a token count made offline)."""
    response = context.model.Response
    response.StatusCode, response.StatusReason = 200, "OK"
    response.Headers = HeaderDictionary.from_lines([("Content-Type", "application/json")])
    response.Body = MessageBody(body)
    context.response_stream = None


def _received(context: RequestContext, options: ForwardOptions, upstream: Response) -> bool:
    """The backend's response's status and headers into the context, and its body as a
    stream (server-sent events, or `buffer-response="false"`); True when the body is to be
    read whole instead (by the caller: one coroutine fewer per call)."""
    if not 100 <= upstream.status <= 599:  # the server could not send it on: no answer at all
        upstream.close()
        member = context.backend_member
        backend = f"The backend '{member}'" if member else "The backend"
        status = f"status {upstream.status}, which HTTP does not have"
        raise _error("BackendConnectionFailure", f"{backend} answered with {status}.")
    response = context.model.Response
    response.StatusCode = upstream.status
    response.StatusReason = upstream.reason or ""
    response.Headers = HeaderDictionary.from_lines(upstream.headers, HOP_BY_HOP)
    event_stream = (upstream.header("content-type") or "").startswith("text/event-stream")
    if event_stream or not options.buffer_response:
        response.Body = None

        def broken(error: UpstreamError) -> Exception:
            # Said in general terms: the client's error event carries it (the detail is logged).
            member, request_id = context.backend_member, context.model.request_id_text
            return StreamBroken(broke_off(member, error, request_id))

        context.response_stream = upstream.chunks(broken)
        return False
    return True

"""The traffic application: route, admit, build the context, run the chains, answer.

Everything that can be is prepared at load (routes, admission index, the API, operation and
product models, the compiled chains per target); a request does lookups, builds its own
context and runs its chains.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from gateway.config.model import Api, GatewayConfig, Subscription
from gateway.expressions.model import (
    ApiModel,
    ContextModel,
    DeploymentModel,
    HeaderDictionary,
    MessageBody,
    OperationModel,
    ProductModel,
    RequestModel,
    ResponseModel,
    SubscriptionModel,
    UrlModel,
)
from gateway.load import LoadedGateway, operations_of
from gateway.policy.loader import Target
from gateway.proxy.accounting import Accounting, Prices
from gateway.proxy.admission import STYLE_KEY_HEADERS, Admission, Admitted, Denied
from gateway.proxy.embeddings import GatewayEmbeddings
from gateway.proxy.identity import IdentityTokens
from gateway.proxy.incoming import Incoming
from gateway.proxy.jwks import JwksKeys
from gateway.proxy.limits import BodyTooLarge
from gateway.proxy.routing import ApiRoutes, RouteMatch, RouteMiss, Router, operation_route
from gateway.proxy.samples import OperationSamples
from gateway.proxy.side_calls import AiohttpSideCalls
from gateway.proxy.streaming import pass_through
from gateway.proxy.styles import style_error
from gateway.proxy.transport import AiohttpTransport
from gateway.proxy.wiring import caches_for, counter_store
from gateway.routing.breakers import Breakers
from gateway.runtime.context import Phase, RequestContext
from gateway.runtime.forwarding import ForwardOptions
from gateway.runtime.phases import run_phase
from gateway.runtime.pipeline import run_pipeline
from gateway.runtime.replies import error_reply
from gateway.runtime.services import Services
from gateway.runtime.step import LocalReply
from gateway.telemetry.access_log import AccessLog
from gateway.telemetry.metrics import Metrics
from gateway.tokens.prices import PriceTable

log = logging.getLogger("aigw.proxy")

# Bodies up to this size are read whole before the backend call: one bytes payload costs
# the HTTP client less than a stream. Larger ones stream (unless a policy reads them).
SMALL_BODY = 64 * 1024


@dataclass(frozen=True, slots=True)
class Streamed:
    """A backend answer passed to the client chunk by chunk."""

    status: int
    headers: list[tuple[str, str]]
    chunks: AsyncIterator[bytes]


# Headers the server writes itself: the backend's copies would repeat them.
_SERVER_OWNED = frozenset({"content-length", "transfer-encoding", "date"})


def _raw(headers: list[tuple[str, str]]) -> list[tuple[bytes, bytes]]:
    return [
        (key.encode("latin-1"), value.encode("latin-1"))
        for name, value in headers
        if (key := name.lower()) not in _SERVER_OWNED
    ]


class Traffic:
    """The request handler, with everything it needs prepared at load."""

    def __init__(self, gateway: LoadedGateway, metrics: Metrics | None = None) -> None:
        config = gateway.config
        self.config = config
        self.policies = gateway.policies
        self.tokens = IdentityTokens(config.identity)
        self.counters = counter_store(config)
        prices = PriceTable(row.price() for row in config.pricing)
        self.transport = AiohttpTransport(
            config, self.tokens, Breakers(config.backends, self.counters), prices
        )
        self.side_calls = AiohttpSideCalls(config)
        self.keys = JwksKeys(config)
        self.caches = caches_for(config)
        self.embeddings = GatewayEmbeddings(config, self.transport)
        self.accounting = Accounting(metrics) if _has_llm_apis(config) else None
        self.services = Services(
            counters=self.counters,
            metrics=metrics,
            caches=self.caches,
            embeddings=self.embeddings,
            prices=Prices(config, prices) if self.accounting is not None else None,
            reserved_output_tokens=config.reserved_output_tokens,
            on_store_failure=config.on_store_failure,
            side_calls=self.side_calls,
            backend_calls=self.transport,
            samples=OperationSamples(config),
            bearer_tokens=self.tokens,
            signing_keys=self.keys,
        )
        self.max_body = config.max_request_body
        self.routing_headers = config.telemetry.routing_headers
        self.access_log = AccessLog() if config.telemetry.access_log else None
        self.admission = Admission(
            config,
            lambda subscription, why: log.warning(
                "subscription %s has an unusable key: %s", subscription.id, why
            ),
        )
        operations = operations_of(config)
        self.router = Router(
            ApiRoutes(api.id, api.path, tuple(operation_route(*op) for op in operations[api.id]))
            for api in config.apis.values()
        )
        self.api_models = {
            api.id: ApiModel(Id=api.id, Name=api.name, Path=api.path)
            for api in config.apis.values()
        }
        self.operation_models = {
            (api, op_id): OperationModel(Id=op_id, Method=method, Name=op_id, UrlTemplate=template)
            for api, ops in operations.items()
            for op_id, method, template in ops
        }
        self.deployment = DeploymentModel()  # the same for every request: read-only
        self.subscription_models: dict[tuple[str, str], SubscriptionModel] = {}
        self.key_headers = {api.id: _key_headers(api) for api in config.apis.values()}
        self.key_queries = {api.id: frozenset({api.key_query}) for api in config.apis.values()}
        self.product_models = {
            p.id: ProductModel(Id=p.id, Name=p.name, SubscriptionRequired=p.subscription_required)
            for p in config.products.values()
        }

    async def close(self) -> None:
        await self.transport.close()
        await self.side_calls.close()
        await self.tokens.close()
        await self.keys.close()
        await self.counters.close()
        await self.caches.close()
        self.embeddings.close()
        if self.access_log is not None:
            self.access_log.flush()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The traffic listener's ASGI entry: every request but `/-/health` comes here."""
        response = await self.respond(Incoming(scope, receive))
        await response(scope, receive, send)

    async def respond(self, request: Incoming) -> Response:
        try:
            reply = await self.handle(request)
        except BodyTooLarge:
            reply = self.refused(request, self.too_large())
        except Exception:  # the promise: an answer in APIM's shape, never a traceback
            activity = uuid.uuid4()
            log.exception("request %s failed", activity)
            if self.access_log is not None:
                self.access_log.write_refused(
                    request.method, request.path, request.client_ip, 500, request.started
                )
            return JSONResponse(
                {
                    "statusCode": 500,
                    "message": "Internal server error",
                    "activityId": str(activity),
                },
                status_code=500,
            )
        if isinstance(reply, Streamed):
            streamed = StreamingResponse(reply.chunks, reply.status)
            streamed.raw_headers.extend(_raw(reply.headers))
            return streamed
        response = Response(reply.body, reply.status)
        response.raw_headers.extend(_raw(reply.headers))
        return response

    async def handle(self, request: Incoming) -> LocalReply | Streamed:
        found = self.router.match(request.method, request.path)
        if isinstance(found, RouteMiss):
            return await self.preflight(request, found) or self.refused(
                request, self.route_miss(found), found.api
            )
        api = self.config.apis[found.api]
        key = self.admission.key_from(api, request.headers, request.first_query_values)
        admitted = self.admission.admit(api.id, key)
        if isinstance(admitted, Denied):
            realm = f"https://{request.netloc}/{api.path}"
            challenge = (
                f'AzureApiManagementKey realm="{realm}",name="{api.key_header}",type="header"'
            )
            denied = error_reply(401, admitted.message, [("WWW-Authenticate", challenge)])
            return self.refused(request, denied, api.id)
        policy = self.policies[Target(api.id, found.operation, admitted.product)]
        length = request.headers.get("content-length", "")
        size = int(length) if length.isdigit() else None
        if size is not None and size > self.max_body:
            return self.refused(request, self.too_large(api.style), api.id)
        body = stream = None
        # A policy that may read the body, or a small body, is read whole; a large one that no
        # policy reads streams to the backend as it arrives.
        if policy.reads_request_body or (size is not None and size <= SMALL_BODY):
            body = MessageBody(await request.body(self.max_body) if request.has_body else b"")
        elif request.has_body:
            stream = request.stream(self.max_body)
        context = self.context(request, api, found, admitted, key, body)
        context.request_stream = stream
        model = context.model
        reply = await run_pipeline(policy, context)
        if self.routing_headers and _routed(context):
            context.response_headers += [
                ("x-aigw-backend", context.backend_member or ""),
                ("x-aigw-attempts", ", ".join(context.attempts)),
            ]
        if context.response_stream is not None:
            if reply is None:
                if self.access_log is not None:
                    context.defer(Phase.DONE, self.access_log.action(model.Response.StatusCode))
                headers = model.Response.Headers.lines() + context.response_headers
                chunks = pass_through(context.response_stream, context)
                return Streamed(model.Response.StatusCode, headers, chunks)
            await context.response_stream.aclose()  # a policy answered instead: drop the stream
        if reply is None:
            response = model.Response
            content = response.Body.read(preserve=True) if response.Body is not None else b""
            reply = LocalReply(
                response.StatusCode, response.StatusReason, response.Headers.lines(), content
            )
        if self.access_log is not None:
            context.defer(Phase.DONE, self.access_log.action(reply.status))
        await run_phase(context, Phase.DONE)
        reply.headers.extend(context.response_headers)
        return reply

    def context(
        self,
        request: Incoming,
        api: Api,
        found: RouteMatch,
        admitted: Admitted,
        key: str | None,
        body: MessageBody | None,
    ) -> RequestContext:
        """The request context (APIM's `context`) of a routed, admitted request."""
        host, port = request.host_and_port()
        url = UrlModel(
            Scheme=request.scheme,
            Host=host,
            Port=port,
            Path=request.path,
            Query=HeaderDictionary.from_lines(request.query, self.key_queries[api.id]),
        )
        model = ContextModel(
            Deployment=self.deployment,
            Api=self.api_models[api.id],
            Operation=self.operation_models[(api.id, found.operation)],
            Product=self.product_models.get(admitted.product or ""),
            Subscription=self.subscription_model(admitted.subscription, key),
            Request=RequestModel(
                Method=request.method,
                Url=url,
                OriginalUrl=url,
                Headers=HeaderDictionary.from_lines(
                    request.lines if api.style == "http" else _plain_answer(request.lines),
                    self.key_headers[api.id],
                ),
                IpAddress=request.client_ip,
                MatchedParameters=found.parameters,
                Body=body,
            ),
            Response=ResponseModel(Headers=HeaderDictionary()),
        )
        return RequestContext(
            model,
            forward=self.forward,
            services=self.services,
            backend=api.backend,
            backend_path=found.remainder,
        )

    async def forward(self, context: RequestContext, options: ForwardOptions) -> None:
        """The backend call forward-request makes, its usage accounted as its response comes."""
        await self.transport.forward(context, options)
        if self.accounting is not None:
            self.accounting.forwarded(context)

    def subscription_model(
        self, subscription: Subscription | None, key: str | None
    ) -> SubscriptionModel | None:
        """`context.Subscription`, made once per subscription and key (expressions only read
        it; the keys that get this far are the configured ones, so the cache stays small)."""
        if subscription is None:
            return None
        cached = (subscription.id, key or "")
        found = self.subscription_models.get(cached)
        if found is None:
            found = SubscriptionModel(Id=subscription.id, Name=subscription.name, Key=cached[1])
            self.subscription_models[cached] = found
        return found

    async def preflight(self, request: Incoming, miss: RouteMiss) -> LocalReply | None:
        """A CORS preflight for an operation with no OPTIONS of its own: only cors runs.

        The operation is the one the browser asks about (`Access-Control-Request-Method`);
        browsers send no subscription key on a preflight, so the API's own scope answers.
        None when this is no preflight, or no cors statement covers that operation.
        """
        asked = request.headers.get("access-control-request-method")
        if request.method != "OPTIONS" or miss.status != 405 or not asked:
            return None
        if "origin" not in request.headers:
            return None
        found = self.router.match(asked, request.path)
        if isinstance(found, RouteMiss):
            return None
        policy = self.policies.get(Target(found.api, found.operation, None))
        if policy is None or not policy.preflight:
            return None
        api = self.config.apis[found.api]
        context = self.context(request, api, found, Admitted(None, None), None, None)
        context.preflight = True
        reply = await policy.preflight.run(context) or LocalReply(200, "OK")
        if self.access_log is not None:
            self.access_log.write(context, reply.status)
        return reply

    def refused(self, request: Incoming, reply: LocalReply, api: str | None = None) -> LocalReply:
        """`reply`, answered before any policy ran; logged as such."""
        if self.access_log is not None:
            self.access_log.write_refused(
                request.method, request.path, request.client_ip, reply.status, request.started, api
            )
        return reply

    def route_miss(self, found: RouteMiss) -> LocalReply:
        headers = [("Allow", ", ".join(found.allowed))] if found.allowed else []
        message = "Method not allowed" if found.status == 405 else "Resource not found"
        style = self.config.apis[found.api].style if found.api else None
        return style_error(style, found.status, message, headers)

    def too_large(self, style: str | None = None) -> LocalReply:
        message = f"The request body is larger than the gateway's limit of {self.max_body} bytes."
        return style_error(style, 413, message)


def _routed(context: RequestContext) -> bool:
    """Did this request go through a pool, or take more than one attempt? (Then its answer
    says how; a lone backend's single attempt needs no headers.)"""
    attempts = context.attempts
    return len(attempts) > 1 or (bool(attempts) and context.backend_member != context.backend)


def _has_llm_apis(config: GatewayConfig) -> bool:
    return any(api.style != "http" for api in config.apis.values())


def _key_headers(api: Api) -> frozenset[str]:
    """Every header that may carry the API's subscription key (lower case)."""
    return frozenset({api.key_header.lower(), *STYLE_KEY_HEADERS.get(api.style, ())})


def _plain_answer(lines: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """A model API's request asks the provider for an uncompressed answer, whatever the
    client accepts: the gateway reads the answer (usage, cost, caches, translation, content
    safety) and its backend sessions pass answers through undecoded. (Names are lower case.)"""
    return [*(line for line in lines if line[0] != "accept-encoding"), _IDENTITY]


_IDENTITY = ("Accept-Encoding", "identity")


async def _health(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


def create_app(gateway: LoadedGateway, metrics: Metrics | None = None) -> ASGIApp:
    """The traffic listener's application.

    Traffic goes straight to `Traffic` (a plain ASGI callable: no router or middleware
    between the socket and the compiled chains, which the benchmark shows matters); Starlette
    serves `/-/health` and runs the lifespan that closes the backend sessions.
    """
    traffic = Traffic(gateway, metrics)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        await traffic.close()

    service = Starlette(routes=[Route("/-/health", _health, methods=["GET"])], lifespan=lifespan)

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] != "/-/health":
            await traffic(scope, receive, send)
        else:
            await service(scope, receive, send)

    return app

"""The request context (APIM's `context`) of a routed, admitted request.

Everything that can be is made at load: the API, operation and product models (expressions
only read them), the headers and query names that may carry a subscription key; a request
builds its own URL, headers and context around them.
"""

from __future__ import annotations

from dataclasses import dataclass

from gateway.config.apis import Api, Subscription
from gateway.config.settings import GatewayConfig
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
from gateway.proxy.admission import STYLE_KEY_HEADERS, Admitted
from gateway.proxy.incoming import Incoming
from gateway.proxy.router import RouteMatch
from gateway.runtime.context import Forward, RequestContext
from gateway.runtime.services import Services

_MOST_PLACES = 256  # Host headers whose host and port are kept parsed
# Operations as (id, method, URL template), by API id.
Operations = dict[str, list[tuple[str, str, str]]]


class ContextFactory:
    def __init__(
        self, config: GatewayConfig, operations: Operations, services: Services, forward: Forward
    ) -> None:
        self.services = services
        self.forward = forward
        self.api_models = {
            api.id: ApiModel(Id=api.id, Name=api.name, Path=api.path)
            for api in config.apis.values()
        }
        # API id -> operation id -> its model.
        operation_models: dict[str, dict[str, OperationModel]] = {}
        for api, ops in operations.items():
            models = operation_models.setdefault(api, {})
            for op_id, method, template in ops:  # served at several URLs: the first names it
                models.setdefault(
                    op_id, OperationModel(Id=op_id, Method=method, Name=op_id, UrlTemplate=template)
                )
        self.product_models = {
            p.id: ProductModel(Id=p.id, Name=p.name, SubscriptionRequired=p.subscription_required)
            for p in config.products.values()
        }
        self.deployment = DeploymentModel()  # the same for every request: read-only
        self.subscription_models: dict[tuple[str, str], SubscriptionModel] = {}
        # gateway.yaml's subscriptions whose keys it gives as they are (or from the
        # environment or a file): the process holds those anyway. Not one given as a digest
        # (sha256:...), nor one made at run time, kept by its key's digest (gateway.tenants).
        self.configured = {
            sub.id: sub
            for sub in config.subscriptions.values()
            if not any(
                k is not None and k.raw.startswith("sha256:")
                for k in (sub.primary_key, sub.secondary_key)
            )
        }
        self.shapes = {
            api.id: _shape(api, self.api_models[api.id], operation_models.get(api.id, {}))
            for api in config.apis.values()
        }
        # (Host header, scheme) -> (host, port): the few a gateway is called by, parsed once.
        self.places: dict[tuple[str, str], tuple[str, int]] = {}

    def new(
        self,
        request: Incoming,
        api: Api,
        found: RouteMatch,
        admitted: Admitted,
        key: str | None,
        body: MessageBody | None,
    ) -> RequestContext:
        """The context of `request`, routed to `found` of `api` and admitted as `admitted`;
        the subscription key's header and query parameter are left out."""
        scope = request.scope
        scheme = scope.get("scheme", "http")
        headers = request.headers
        place = (headers.get("host") or "", scheme)
        found_place = self.places.get(place)
        if found_place is None:
            found_place = request.host_and_port()
            if place[0]:  # without a Host, the server's address (which may vary): not kept
                if len(self.places) >= _MOST_PLACES:  # the client writes Host: keep it bounded
                    self.places.clear()
                self.places[place] = found_place
        shape = self.shapes[api.id]
        client = scope.get("client")
        # Positional: a dataclass's keyword arguments cost more (tests/proxy/test_contexts
        # holds these to the fields they name).
        url = UrlModel(
            scheme,
            found_place[0],
            found_place[1],
            request.path,
            HeaderDictionary.from_lines(request.query, shape.key_queries),
        )
        lines = request.lines
        model = ContextModel.of_request(
            request.started,  # its arrival: routing and reading the body count too
            self.deployment,
            shape.model,
            shape.operations[found.operation],
            self.product_models.get(admitted.product or ""),
            self.subscription_model(admitted.subscription, key),
            RequestModel(
                request.method,
                url,
                url,  # OriginalUrl
                HeaderDictionary.from_lines(
                    lines if shape.style == "http" else _plain_response(lines),
                    shape.key_headers
                    if _carries(headers.get("authorization"), key)
                    and (api.subscription_required or admitted.subscription is not None)
                    else shape.token_headers,
                ),
                client[0] if client else "",  # IpAddress: Incoming.client_ip
                # MatchedParameters, its own: the router's match is shared by requests to the
                # same path, and an expression may change a dictionary (`.Remove`, `[k] = v`).
                dict(found.parameters) if found.parameters else {},
                body,
            ),
            ResponseModel(200, "OK", HeaderDictionary()),
        )
        return RequestContext.of_request(
            model,
            shape.style,
            shape.error_style,
            self.forward,
            self.services,
            api.backend,
            found.remainder,
        )

    def subscription_model(
        self, subscription: Subscription | None, key: str | None
    ) -> SubscriptionModel | None:
        """`context.Subscription`: made once per key for a gateway.yaml subscription whose
        keys the configuration holds as they are (expressions only read it; its keys are
        few); made each request for any other, so the process keeps no key in plain text
        that it was given only as a digest, however many come."""
        if subscription is None:
            return None
        if self.configured.get(subscription.id) is not subscription:
            return SubscriptionModel(Id=subscription.id, Name=subscription.name, Key=key or "")
        cached = (subscription.id, key or "")
        found = self.subscription_models.get(cached)
        if found is None:
            found = SubscriptionModel(Id=subscription.id, Name=subscription.name, Key=cached[1])
            self.subscription_models[cached] = found
        return found


@dataclass(frozen=True, slots=True)
class _Shape:
    """What an API's every request context takes from it, looked up once a request."""

    model: ApiModel
    style: str
    error_style: str | None
    key_headers: frozenset[str]  # every header that may carry its key (lower case)
    token_headers: frozenset[str]  # the same, less Authorization
    key_queries: frozenset[str]  # its key's query parameter
    operations: dict[str, OperationModel]  # its operations' models, by id


def _shape(api: Api, model: ApiModel, operations: dict[str, OperationModel]) -> _Shape:
    key_headers = frozenset({api.key_header.lower(), *STYLE_KEY_HEADERS.get(api.style, ())})
    # Authorization is a subscription key's header only when it carried one: a client's own
    # token (an Entra ID token for validate-azure-ad-token, on an API that takes no key or
    # takes it as api-key) stays for the policies and goes on, as APIM leaves it.
    return _Shape(
        model,
        api.style,
        api.error_style,
        key_headers,
        key_headers - {"authorization"},
        frozenset({api.key_query}),
        operations,
    )


def _carries(authorization: str | None, key: str | None) -> bool:
    """Whether `Authorization` presents the subscription key (as `Bearer <key>`)."""
    return (
        authorization is not None
        and key is not None
        and authorization[7:].strip() == key
        and authorization[:7].lower() == "bearer "
    )


def _plain_response(lines: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """A model API's request asks the provider for an uncompressed response, whatever the
    client accepts: the gateway reads the response (usage, cost, caches, translation, content
    safety) and its backend sessions pass responses through undecoded. (Names are lower case.)"""
    plain = [line for line in lines if line[0] != "accept-encoding"]
    plain.append(_IDENTITY)
    return plain


_IDENTITY = ("Accept-Encoding", "identity")

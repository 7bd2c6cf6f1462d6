"""The admin API's subscriptions, products and APIs (`/-/api/...` on the admin listener).

Every route needs the admin key, even when none is configured (then the API is off: 404).
Subscriptions are gateway.yaml's (read-only here) and those made through this API
(gateway.tenants), listed together. Keys appear in an answer once: when a subscription is
created, and when one of its keys is regenerated.

    GET    /-/api/subscriptions                         every subscription
    POST   /-/api/subscriptions                         {scope, id?, displayName?, state?,
                                                         expirationDate?} -> 201, with the keys
    GET    /-/api/subscriptions/{id}
    PATCH  /-/api/subscriptions/{id}                    {displayName?, scope?, expirationDate?}
    POST   /-/api/subscriptions/{id}/suspend|reactivate|cancel
    POST   /-/api/subscriptions/{id}/regenerate/primary|secondary   -> the new key
    DELETE /-/api/subscriptions/{id}                    -> 204
    GET    /-/api/products, /-/api/apis, /-/api/audit?limit=N
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from gateway.config.apis import Subscription
from gateway.proxy.admin_auth import AdminKey, guarded
from gateway.proxy.live import Live
from gateway.tenants.changes import TRANSITIONS, Changes, Refused
from gateway.tenants.index import Tenants
from gateway.tenants.record import iso
from gateway.tenants.store import StoreUnavailable

PREFIX = "/-/api"
ACTOR_HEADER = "x-aigw-actor"  # who is at the keyboard, as `aigw subscriptions` says (audit)


def admin_api_routes(live: Live, admin_key: Callable[[], AdminKey]) -> list[Route]:
    def tenants() -> Tenants:
        found = live.current.wiring.tenants
        if found is None:
            raise Refused(
                404, "no_store", "subscriptions need a store: run the gateway on a directory"
            )
        return found

    def changes(request: Request) -> Changes:
        client = request.client.host if request.client is not None else "unknown"
        who = request.headers.get(ACTOR_HEADER, "")[:100]
        actor = f"{who} from {client}" if who else f"admin key from {client}"
        return Changes(tenants(), live.current.gateway.config, actor)

    async def listing(request: Request) -> Response:
        tenants()  # 404 when there is nowhere to keep them
        return JSONResponse({"subscriptions": subscription_rows(live)})

    async def create(request: Request) -> Response:
        made = await changes(request).create(await _body(request))
        shown = {
            **made.tenant.public(),
            "primaryKey": made.primary_key,
            "secondaryKey": made.secondary_key,
        }
        return JSONResponse(shown, 201, headers={"cache-control": "no-store"})

    async def one(request: Request) -> Response:
        id = request.path_params["id"]
        for row in subscription_rows(live):
            if row["id"] == id:
                return JSONResponse(row)
        raise Refused(404, "not_found", f"no subscription {id}")

    async def update(request: Request) -> Response:
        tenant = await changes(request).update(request.path_params["id"], await _body(request))
        return JSONResponse(tenant.public())

    async def transition(request: Request) -> Response:
        action = request.path_params["action"]
        if action not in TRANSITIONS:
            raise Refused(404, "not_found", f"actions: {', '.join(TRANSITIONS)}")
        tenant = await changes(request).transition(request.path_params["id"], action)
        return JSONResponse(tenant.public())

    async def regenerate(request: Request) -> Response:
        which = request.path_params["which"]
        tenant, key = await changes(request).regenerate(request.path_params["id"], which)
        shown = {**tenant.public(), f"{which}Key": key}
        return JSONResponse(shown, headers={"cache-control": "no-store"})

    async def delete(request: Request) -> Response:
        await changes(request).delete(request.path_params["id"])
        return Response(status_code=204)

    async def products(request: Request) -> Response:
        config = live.current.gateway.config
        return JSONResponse(
            {
                "products": [
                    {
                        "id": product.id,
                        "displayName": product.name,
                        "state": product.state,
                        "subscriptionRequired": product.subscription_required,
                        "apis": list(product.apis),
                    }
                    for product in config.products.values()
                ]
            }
        )

    async def apis(request: Request) -> Response:
        config = live.current.gateway.config
        return JSONResponse(
            {
                "apis": [
                    {
                        "id": api.id,
                        "path": api.path,
                        "style": api.style,
                        "subscriptionRequired": api.subscription_required,
                        "products": [p.id for p in config.products.values() if api.id in p.apis],
                    }
                    for api in config.apis.values()
                ]
            }
        )

    async def audit(request: Request) -> Response:
        limit = request.query_params.get("limit", "100")
        if not limit.isdigit() or not 0 < int(limit) <= 10_000:
            raise Refused(400, "invalid_limit", "limit: a whole number from 1 to 10000")
        entries = await tenants().store.audit_log(int(limit))
        return JSONResponse({"entries": [json.loads(entry) for entry in entries]})

    endpoints: list[tuple[str, Callable[[Request], Awaitable[Response]], str]] = [
        ("/subscriptions", listing, "GET"),
        ("/subscriptions", create, "POST"),
        ("/subscriptions/{id}", one, "GET"),
        ("/subscriptions/{id}", update, "PATCH"),
        ("/subscriptions/{id}", delete, "DELETE"),
        ("/subscriptions/{id}/regenerate/{which}", regenerate, "POST"),
        ("/subscriptions/{id}/{action}", transition, "POST"),
        ("/products", products, "GET"),
        ("/apis", apis, "GET"),
        ("/audit", audit, "GET"),
    ]
    return [
        Route(PREFIX + path, guarded(_answering(endpoint), admin_key, always=True), methods=[verb])
        for path, endpoint, verb in endpoints
    ]


def subscription_rows(live: Live) -> list[dict[str, object]]:
    """gateway.yaml's subscriptions, then those made at run time (a run-time one whose id
    gateway.yaml took since is left out: gateway.yaml's wins at admission too)."""
    configured = live.current.gateway.config.subscriptions
    rows = [_configured(subscription) for subscription in configured.values()]
    tenants = live.current.wiring.tenants
    made = sorted(tenants.records.items()) if tenants is not None else []
    rows += [tenant.public() for id, tenant in made if id not in configured]
    return rows


def _configured(subscription: Subscription) -> dict[str, object]:
    return {
        "id": subscription.id,
        "displayName": subscription.name,
        "scope": subscription.scope,
        "state": subscription.state,
        "expirationDate": iso(None),
        "source": "gateway.yaml",
    }


async def _body(request: Request) -> dict[str, Any]:
    try:
        body = json.loads(await request.body() or b"{}")
    except ValueError as error:
        raise Refused(400, "invalid_json", f"the body is not JSON: {error}") from None
    if not isinstance(body, dict):
        raise Refused(400, "invalid_json", "the body must be a JSON object")
    return body


def _answering(
    endpoint: Callable[[Request], Awaitable[Response]],
) -> Callable[[Request], Awaitable[Response]]:
    """Refusals and an unavailable store as JSON errors in one shape."""

    async def answered(request: Request) -> Response:
        try:
            return await endpoint(request)
        except Refused as refused:
            return _error(refused.status, refused.code, refused.message)
        except StoreUnavailable as error:
            return _error(503, "store_unavailable", f"the subscriptions store: {error}")

    return answered


def _error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status)

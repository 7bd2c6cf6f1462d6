"""Routing: API by path suffix, operation by method and template, APIM's 404 and 405."""

from __future__ import annotations

from gateway.config.styles import BUILT_IN_OPERATIONS
from gateway.proxy.router import ApiRoutes, RouteMatch, RouteMiss, Router, operation_route


def api(
    api_id: str, path: str, style: str, extra: tuple[tuple[str, str, str], ...] = ()
) -> ApiRoutes:
    operations = [
        operation_route(o.id, o.method, o.url_template) for o in BUILT_IN_OPERATIONS[style]
    ]
    operations += [operation_route(*o) for o in extra]
    return ApiRoutes(api_id, path, tuple(operations))


ROUTER = Router(
    [
        api("aoai", "openai", "azure-openai"),
        api("chat", "llm", "openai"),
        api("claude", "llm/anthropic", "anthropic"),
        api(
            "inventory",
            "inventory",
            "http",
            (
                ("get-item", "GET", "/items/{id}"),
                ("put-item", "PUT", "/items/{id}"),
                ("list", "GET", "/items"),
            ),
        ),
    ]
)


def test_azure_openai_deployment_route_yields_matched_parameters() -> None:
    found = ROUTER.match("POST", "/openai/deployments/gpt-4o/chat/completions")
    assert found == RouteMatch(
        "aoai",
        "ChatCompletions_Create",
        {"deployment-id": "gpt-4o"},
        "/deployments/gpt-4o/chat/completions",
    )


def test_openai_and_anthropic_styles_and_longest_suffix_wins() -> None:
    chat = ROUTER.match("POST", "/llm/chat/completions")
    assert isinstance(chat, RouteMatch) and (chat.api, chat.operation) == (
        "chat",
        "ChatCompletions_Create",
    )
    claude = ROUTER.match("POST", "/llm/anthropic/v1/messages")
    assert isinstance(claude, RouteMatch) and (claude.api, claude.operation) == (
        "claude",
        "Messages_Create",
    )
    models = ROUTER.match("GET", "/llm/models/")
    assert isinstance(models, RouteMatch) and models.operation == "Models_List"


def test_http_api_templates() -> None:
    item = ROUTER.match("GET", "/inventory/items/42")
    assert isinstance(item, RouteMatch)
    assert (item.operation, item.parameters, item.remainder) == (
        "get-item",
        {"id": "42"},
        "/items/42",
    )
    listing = ROUTER.match("GET", "/inventory/items")
    assert isinstance(listing, RouteMatch) and listing.operation == "list"


def test_misses_are_404_for_unknown_api_or_operation_and_405_for_wrong_method() -> None:
    assert ROUTER.match("GET", "/nothing/here") == RouteMiss(404, None)
    assert ROUTER.match("POST", "/openai/deployments/x/unknown") == RouteMiss(404, "aoai")
    assert ROUTER.match("DELETE", "/inventory/items/42") == RouteMiss(
        405, "inventory", ("GET", "PUT")
    )
    assert ROUTER.match("GET", "/openai") == RouteMiss(404, "aoai")
    assert ROUTER.match("GET", "/inventory/items/42/extra") == RouteMiss(404, "inventory")

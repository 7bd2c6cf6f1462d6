"""Routing: API by path suffix, operation by method and template, APIM's 404 and 405; the
path the backend gets, and the 400 for one that climbs above its API."""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.config.styles import BUILT_IN_OPERATIONS
from gateway.proxy.router import (
    _LONGEST_KEPT,
    _MOST_KEPT,
    ApiRoutes,
    RouteMatch,
    RouteMiss,
    Router,
    operation_route,
)
from tests.proxy.processes import fake_provider, free_port, raw_paths_received, serving


def api(
    api_id: str, path: str, style: str, extra: tuple[tuple[str, str, str], ...] = ()
) -> ApiRoutes:
    operations = [
        operation_route(o.id, o.method, o.url_template) for o in BUILT_IN_OPERATIONS[style]
    ]
    operations += [operation_route(*o) for o in extra]
    return ApiRoutes(api_id, path, tuple(operations))


ROUTER_APIS = (
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
)
ROUTER = Router(ROUTER_APIS)


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


PATH_PARTS = [
    "openai",
    "llm",
    "anthropic",
    "inventory",
    "items",
    "42",
    "deployments",
    "gpt",
    "chat",
    "completions",
    "v1",
    "messages",
    "models",
    "..",
    ".",
    "%2e",
    "%2F",
    "a%20b",
    "",
]


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(["GET", "POST", "PUT", "DELETE", "get"]),
    st.lists(st.sampled_from(PATH_PARTS), max_size=6).map(lambda parts: "/" + "/".join(parts)),
)
def test_a_kept_answer_is_the_one_a_fresh_router_gives(method: str, path: str) -> None:
    fresh = Router(ROUTER_APIS)
    first = ROUTER.match(method, path)
    assert first == fresh.match(method, path)
    assert ROUTER.match(method, path) is first  # the second time, the answer kept


def test_the_answers_kept_are_bounded() -> None:
    router = Router(ROUTER_APIS)
    for item in range(_MOST_KEPT + 10):
        router.match("GET", f"/inventory/items/{item}")
    assert len(router._found) <= _MOST_KEPT
    long = "/inventory/items/" + "x" * (_LONGEST_KEPT + 1)
    assert router.match("GET", long) == RouteMatch(
        "inventory", "get-item", {"id": "x" * (_LONGEST_KEPT + 1)}, long[len("/inventory") :]
    )
    assert router.match("GET", long) is not router.match("GET", long)  # not kept: too long


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


def test_the_remainder_is_the_raw_path_and_template_values_are_decoded() -> None:
    item = ROUTER.match("GET", "/inventory/items/a%20b%7e")
    assert isinstance(item, RouteMatch)
    assert (item.parameters, item.remainder) == ({"id": "a b~"}, "/items/a%20b~")
    assert ROUTER.match("GET", "/inventory/items/%2e%2e/%2E%2E/x") == RouteMiss(400, "inventory")


REWRITTEN = """<policies>
    <inbound><base /><rewrite-uri template="/{q}/items" /></inbound>
    <backend><base /></backend>
    <outbound><base /></outbound>
</policies>"""


@pytest.fixture(scope="module")
def paths_gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int]]:
    """A gateway whose backend's base path is /openai/v1, in front of the fake provider."""
    port = free_port()
    root = tmp_path_factory.mktemp("paths")
    (root / "gateway.yaml").write_text(
        f"""
backends:
  fake: {{url: "http://127.0.0.1:{port}/openai/v1", provider: openai}}
apis:
  llm: {{path: llm, style: openai, backend: fake, subscription-required: false}}
  raw:
    path: raw
    style: http
    backend: fake
    subscription-required: false
    operations: [{{id: any, method: GET, url-template: /*}}]
  rewritten:
    path: rewritten
    style: http
    backend: fake
    subscription-required: false
    operations: [{{id: any, method: GET, url-template: /*}}]
"""
    )
    (root / "apis").mkdir()
    (root / "apis" / "rewritten.xml").write_text(REWRITTEN)
    with fake_provider(port), serving(Path(root)) as url:
        yield url, port


def sent_as_is(gateway: str, path: str) -> tuple[int, bytes]:
    """GET `path` exactly as written (httpx would resolve its dot segments itself)."""
    host, port = gateway.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def test_a_double_encoded_slash_reaches_the_backend_encoded_as_the_client_sent_it(
    paths_gateway: tuple[str, int],
) -> None:
    gateway, port = paths_gateway
    raw_paths_received(port)
    sent_as_is(gateway, "/raw/files/a%252fb")  # the backend reads %252f as `%2f`, text
    sent_as_is(gateway, "/raw/files/a%2Fb%7e")  # an unreserved escape is the character
    assert raw_paths_received(port) == ["/openai/v1/files/a%252fb", "/openai/v1/files/a%2Fb~"]


def test_dot_segments_that_stay_inside_the_api_are_resolved_before_the_backend(
    paths_gateway: tuple[str, int],
) -> None:
    gateway, port = paths_gateway
    raw_paths_received(port)
    sent_as_is(gateway, "/raw/files/x/../y/%2e/z")
    assert raw_paths_received(port) == ["/openai/v1/files/y/z"]


@pytest.mark.parametrize(
    "path",
    [
        "/raw/../../admin",
        "/raw/v1/../../admin",
        "/raw/%2e%2e/admin",
        "/raw/%2E%2e/%2e%2E/admin",
        "/raw/..%2fadmin",
        "/raw/x/..%2f..%2fadmin",
        "/raw/..%5cadmin",
        "/raw/..;/admin",
    ],
)
def test_a_path_climbing_above_the_backends_base_path_is_refused(
    paths_gateway: tuple[str, int], path: str
) -> None:
    gateway, port = paths_gateway
    raw_paths_received(port)
    status, _ = sent_as_is(gateway, path)
    assert (status, raw_paths_received(port)) == (400, [])


def test_a_climbing_path_is_refused_in_the_apis_error_shape(
    paths_gateway: tuple[str, int],
) -> None:
    gateway, port = paths_gateway
    raw_paths_received(port)
    status, body = sent_as_is(gateway, "/llm/%2e%2e/%2e%2e/admin")
    assert (status, raw_paths_received(port)) == (400, [])
    error = json.loads(body)["error"]
    assert isinstance(error, dict) and "dot segments" in str(error["message"])


def test_rewrite_uri_sends_its_path_to_the_backend_with_values_encoded(
    paths_gateway: tuple[str, int],
) -> None:
    gateway, port = paths_gateway
    raw_paths_received(port)
    sent_as_is(gateway, "/rewritten/anything?q=a/b")
    assert raw_paths_received(port) == ["/openai/v1/a%2Fb/items"]


@pytest.mark.parametrize("value", ["..", "%2e%2e", "%2E."])
def test_a_rewrite_uri_value_that_climbs_above_the_backends_url_is_refused(
    paths_gateway: tuple[str, int], value: str
) -> None:
    gateway, port = paths_gateway
    raw_paths_received(port)
    status, _ = sent_as_is(gateway, f"/rewritten/anything?q={value}")
    assert (status, raw_paths_received(port)) == (400, [])

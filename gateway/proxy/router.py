"""Match a request to an API (by its path suffix) and an operation (by method and template).

Everything is compiled at load: a dict from path suffix to API, and per API one regular
expression per operation template. A request costs a few dict lookups and one regex match.
APIM's responses when nothing matches: unknown API or operation 404, known path with another
method 405. The path is the one the client sent, still percent-encoded: the backend gets the
part after the API suffix as sent (gateway.common.url_paths: canonical escapes, dot segments
resolved), never decoded and encoded again, and a path whose part after the API suffix
climbs above it (`/openai/v1/../../admin`, `%2e%2e/`, `..%2f`) is a 400.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import unquote

from gateway.common.url_paths import canonical, might_climb, resolved

_PARAMETER = re.compile(r"\{([^{}/]+)\}")
# A percent-encoded remainder decoded for matching templates, once per distinct path (bounded:
# paths come from clients).
_decoded = lru_cache(maxsize=4096)(unquote)
# Routes found, by (method, path as sent): a gateway's clients call a few paths over and over,
# and a look-up costs a request a tenth of a match. Bounded, as methods and paths come from
# clients: at most this many, none longer than _LONGEST_KEPT (a longer path is matched anew).
_MOST_KEPT = 4096
_LONGEST_KEPT = 512


@dataclass(frozen=True, slots=True)
class OperationRoute:
    id: str
    method: str
    template: str
    pattern: re.Pattern[str]
    # Regex group -> template parameter (`deployment-id` is not a valid group name).
    parameter_names: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class ApiRoutes:
    id: str
    path: str  # the suffix, without slashes: "openai", "llm/v2", or "" for the root
    operations: tuple[OperationRoute, ...]


@dataclass(frozen=True, slots=True)
class RouteMatch:
    api: str
    operation: str
    parameters: dict[str, str]  # URL-template values: context.Request.MatchedParameters
    remainder: str  # the path after the API suffix, percent-encoded: the backend URL's end


@dataclass(frozen=True, slots=True)
class RouteMiss:
    status: int  # 404 or 405; 400 for a path that climbs above the API's
    api: str | None  # the API when only the operation is missing
    allowed: tuple[str, ...] = ()  # for 405: the methods the path accepts


def operation_route(operation_id: str, method: str, template: str) -> OperationRoute:
    """Compile `/deployments/{deployment-id}/chat/completions` to a regex, once, at load. A
    template ending in `/*` (APIM's wildcard) takes the path it names and anything below."""
    names: list[tuple[str, str]] = []
    pattern: list[str] = []
    wildcard = template.endswith("/*")
    if wildcard:
        template = template[:-2]
    last = 0
    for match in _PARAMETER.finditer(template):
        pattern.append(re.escape(template[last : match.start()]))
        group = f"p{len(names)}"
        names.append((group, match.group(1)))
        pattern.append(f"(?P<{group}>[^/]+)")
        last = match.end()
    pattern.append(re.escape(template[last:]))
    regex = re.compile("".join(pattern).rstrip("/") + ("(?:/.*)?" if wildcard else "/?"))
    return OperationRoute(
        operation_id, method.upper(), template + "/*" * wildcard, regex, tuple(names)
    )


def _specific_first(operations: tuple[OperationRoute, ...]) -> tuple[OperationRoute, ...]:
    """Wildcard operations after every other, so a known operation wins (as in APIM)."""
    return tuple(sorted(operations, key=lambda operation: operation.template.endswith("/*")))


class Router:
    def __init__(self, apis: Iterable[ApiRoutes]) -> None:
        self._by_path: dict[str, ApiRoutes] = {
            api.path.strip("/"): ApiRoutes(api.id, api.path, _specific_first(api.operations))
            for api in apis
        }
        # Per API and method, its operations in the same order: a request tries only those
        # of its method (an OpenAI-style API has some forty operations).
        self._by_method: dict[str, dict[str, tuple[OperationRoute, ...]]] = {}
        for api in self._by_path.values():
            methods = self._by_method.setdefault(api.id, {})
            for method in dict.fromkeys(operation.method for operation in api.operations):
                methods[method] = tuple(op for op in api.operations if op.method == method)
        # Longest suffix first, so that "llm/v2" wins over "llm".
        self._depths = sorted({p.count("/") + 1 if p else 0 for p in self._by_path}, reverse=True)

        self._found: dict[tuple[str, str], RouteMatch | RouteMiss] = {}

    def match(self, method: str, path: str) -> RouteMatch | RouteMiss:
        """`path` as the client sent it (percent-encoded: the ASGI scope's `raw_path`). The
        answer is the same for the same method and path (the routes are fixed at load): kept.
        Its `parameters` are shared by the requests that get it: read them, never change them
        (the request context has its own copy)."""
        key = (method, path)
        found = self._found.get(key)
        if found is None:
            found = self._match(method, path)
            if len(path) <= _LONGEST_KEPT:
                if len(self._found) >= _MOST_KEPT:
                    self._found.clear()
                self._found[key] = found
        return found

    def _match(self, method: str, path: str) -> RouteMatch | RouteMiss:
        suspect = might_climb(path)
        if suspect:
            path = canonical(path)
        segments = path.strip("/").split("/") if path.strip("/") else []
        for depth in self._depths:
            if depth > len(segments):
                continue
            api = self._by_path.get("/".join(segments[:depth]))
            if api is not None:
                remainder = "/" + "/".join(segments[depth:])
                if not suspect:
                    return self._operation(api, method.upper(), remainder, remainder)
                sent = resolved(remainder)
                if sent is None:
                    return RouteMiss(400, api.id)
                return self._operation(api, method.upper(), _decoded(sent), sent)
        return RouteMiss(404, None)

    def _operation(
        self, api: ApiRoutes, method: str, remainder: str, sent: str
    ) -> RouteMatch | RouteMiss:
        """The operation `remainder` (decoded) names; `sent` is the same, percent-encoded."""
        for operation in self._by_method[api.id].get(method, ()):
            found = operation.pattern.fullmatch(remainder)
            if found is not None:
                names = operation.parameter_names
                parameters = {name: found.group(group) for group, name in names}
                return RouteMatch(api.id, operation.id, parameters, sent)
        allowed = {op.method for op in api.operations if op.pattern.fullmatch(remainder)}
        if allowed:
            return RouteMiss(405, api.id, tuple(sorted(allowed)))
        return RouteMiss(404, api.id)

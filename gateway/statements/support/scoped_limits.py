"""Limits nested by API and operation (rate-limit, quota): `<api>` and `<operation>` elements
inside the statement, each with its own limit, and the counter names they count under.
"""

from __future__ import annotations

from pathlib import PurePath

from gateway.policy.tree import Node
from gateway.runtime.context import RequestContext


def instance_id(node: Node) -> str:
    """Which policy this is, the same on every replica: its scope file and line."""
    path = PurePath(node.location.path)
    return f"{path.parent.name}/{path.name}:{node.location.line}"


def names_of(element: Node) -> tuple[str, ...]:
    """An <api>/<operation> element's id and name: either identifies it."""
    return tuple(n for n in (element.attr_text("id"), element.attr_text("name")) if n)


def matches(request: RequestContext, apis: tuple[str, ...], operations: tuple[str, ...]) -> bool:
    model = request.model
    if apis and model.Api.Id not in apis and model.Api.Name not in apis:
        return False
    return not operations or model.Operation.Id in operations or model.Operation.Name in operations


def scoped_elements(node: Node) -> list[tuple[Node, str, tuple[str, ...], tuple[str, ...]]]:
    """The statement and its nested <api>/<operation> limits: (element, name, apis, ops)."""
    found = [(node, "", (), ())]
    for api in node.children_named("api"):
        apis = names_of(api)
        found.append((api, "api:" + "|".join(apis), apis, ()))
        for operation in api.children_named("operation"):
            ops = names_of(operation)
            found.append((operation, "op:" + "|".join(apis + ops), apis, ops))
    return found

"""A warning where set-backend-service's base-url is computed from the request and no
allowlist applies: a client can then send the request, with whatever the policies add to it,
to any host it names (APIM does the same). gateway.yaml's `set-backend-service.allowed-urls`
limits where a base-url may point; the warning says so.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from gateway.common.diagnostics import Diagnostic, Severity
from gateway.policy.tree import Node

RULE = "base-url-from-request"
# What a client controls: the request itself, and variables (policies fill them from it).
_REQUEST_DATA = re.compile(r"\b(?:Request|OriginalUrl|Variables|GetValueOrDefault)\b")
MESSAGE = (
    "set-backend-service's base-url is computed from the request, so a client can send this "
    "request to any host (as in APIM); list the URLs it may reach under gateway.yaml's "
    "set-backend-service.allowed-urls"
)


def base_url_warnings(roots: Iterable[Node], allowlisted: bool) -> list[Diagnostic]:
    """One warning per base-url computed from request data in `roots`, unless an allowlist
    (`allowlisted`) applies."""
    if allowlisted:
        return []
    found: dict[str, Diagnostic] = {}  # a statement appears in every target it applies to
    for root in roots:
        for node in root.walk():
            attribute = (
                node.attributes.get("base-url") if node.tag == "set-backend-service" else None
            )
            if attribute is None or not attribute.value.is_expression:
                continue
            if _REQUEST_DATA.search(attribute.value.text):
                where = attribute.value.location
                found.setdefault(str(where), Diagnostic(where, Severity.WARNING, RULE, MESSAGE))
    return list(found.values())

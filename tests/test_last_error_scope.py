"""`context.LastError.Scope`: the scope of the policy document the failing statement is in.

One policies directory has a policy at every scope (global, product, API, operation), each
with a statement that fails on demand and an include of the same fragment, whose statement
fails on demand too. The global on-error keeps `context.LastError.Scope` in a variable.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import pytest

from gateway.expressions.model import ContextModel, HeaderDictionary, RequestModel
from gateway.load import load_gateway
from gateway.policy.loader import Target
from gateway.runtime.context import RequestContext
from gateway.runtime.pipeline import run_pipeline

MakeDir = Callable[[dict[str, str]], Path]

SCOPES = ("global", "product", "api", "operation")
TARGET = Target("inventory", "list", "gold")
KEEP_SCOPE = '<on-error><set-variable name="scope" value="@(context.LastError.Scope)" /></on-error>'


def check(header: str, message: str) -> str:
    return (
        f'<check-header name="{header}" failed-check-httpcode="400" '
        f'failed-check-error-message="{message}" ignore-case="true" />'
    )


def scope_policy(scope: str, more: str = "") -> str:
    """Fails without the `x-pass-<scope>` header; then includes the fragment."""
    return f"""
        <policies>
            <inbound>
                {"" if scope == "global" else "<base />"}
                {check(f"x-pass-{scope}", f"{scope} refused")}
                <set-variable name="including" value="{scope}" />
                <include-fragment fragment-id="guard" />
            </inbound>
            {more}
        </policies>
    """


FILES = {
    "gateway.yaml": """
        products:
          gold: {apis: [inventory]}
        apis:
          inventory:
            path: inventory
            operations:
              - {id: list, method: GET, url-template: /items}
    """,
    # No forward-request: the requests here all fail in inbound, and need no backend.
    "global.xml": scope_policy("global", f"<backend />{KEEP_SCOPE}"),
    "products/gold.xml": scope_policy("product"),
    "apis/inventory.xml": scope_policy("api"),
    "apis/inventory/list.xml": scope_policy("operation"),
    # Nested in <choose>: its chain gives the error no scope, the include's does.
    "fragments/guard.xml": f"""
        <fragment>
            <choose>
                <when condition='@(context.Request.Headers.GetValueOrDefault("x-fail-fragment", "") == (string)context.Variables["including"])'>
                    {check("x-never-sent", "fragment refused")}
                </when>
            </choose>
        </fragment>
    """,
}


def failure(root: Path, headers: dict[str, str], target: Target = TARGET) -> tuple[str, str]:
    """(context.LastError.Scope as on-error saw it, the error's message) for one request."""
    policy = load_gateway(root).policies[target]
    context = RequestContext(ContextModel(Request=RequestModel(Headers=HeaderDictionary(headers))))
    assert asyncio.run(run_pipeline(policy, context)) is not None
    last = context.model.LastError
    assert last is not None
    return str(context.variables["scope"]), last.Message


@pytest.mark.parametrize("scope", SCOPES)
def test_a_failing_statement_reports_the_scope_of_its_document(
    make_dir: MakeDir, scope: str
) -> None:
    passes = {f"x-pass-{other}": "yes" for other in SCOPES if other != scope}
    assert failure(make_dir(FILES), passes) == (scope, f"{scope} refused")


@pytest.mark.parametrize("scope", SCOPES)
def test_a_fragments_statement_reports_the_scope_that_includes_it(
    make_dir: MakeDir, scope: str
) -> None:
    # APIM has no fragment scope: an included fragment is part of the including document.
    headers = {f"x-pass-{each}": "yes" for each in SCOPES} | {"x-fail-fragment": scope}
    assert failure(make_dir(FILES), headers) == (scope, "fragment refused")


def test_the_default_global_policys_forward_request_reports_global(make_dir: MakeDir) -> None:
    # No global.xml: APIM's default global policy forwards, which fails here (no transport).
    files = {
        "gateway.yaml": FILES["gateway.yaml"],
        "apis/inventory.xml": f"<policies>{KEEP_SCOPE}</policies>",
    }
    scope, message = failure(make_dir(files), {}, Target("inventory", "list"))
    assert (scope, message) == ("global", "no transport to reach backends")

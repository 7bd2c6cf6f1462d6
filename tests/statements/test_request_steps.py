"""set-query-parameter, rewrite-uri, ip-filter and trace, as APIM documents them."""

from __future__ import annotations

import pytest

from gateway.expressions.model import ContextModel, HeaderDictionary, RequestModel, UrlModel
from gateway.runtime.context import RequestContext
from gateway.runtime.step import PolicyError
from tests.policies import compile_policy, run


def context_for(
    path: str = "/items/42", query: dict[str, str] | None = None, ip: str = "10.0.0.5"
) -> RequestContext:
    url = UrlModel(Path=path, Query=HeaderDictionary(query or {}))
    request = RequestModel(
        Url=url, IpAddress=ip, MatchedParameters={"id": "42", "deployment-id": "gpt 4o"}
    )
    return RequestContext(ContextModel(Request=request))


def test_set_query_parameter_actions() -> None:
    policy = compile_policy(
        """
        <policies><inbound>
            <set-query-parameter name="api-version" exists-action="skip"><value>2025-01-01</value></set-query-parameter>
            <set-query-parameter name="subscription-key" exists-action="delete" />
            <set-query-parameter name="tag" exists-action="append"><value>b</value></set-query-parameter>
        </inbound></policies>
        """
    )
    context = context_for(query={"api-version": "2024-10-21", "subscription-key": "k", "tag": "a"})
    run(policy.inbound, context)
    query = context.model.Request.Url.Query
    assert query.lines() == [("api-version", "2024-10-21"), ("tag", "a"), ("tag", "b")]


def test_rewrite_uri_fills_template_parameters_and_copies_unmatched_query() -> None:
    policy = compile_policy(
        """
        <policies><inbound>
            <rewrite-uri template="/openai/deployments/{deployment-id}/chat?expand=stock" />
        </inbound></policies>
        """
    )
    context = context_for(query={"api-version": "2024-10-21"})
    run(policy.inbound, context)
    url = context.model.Request.Url
    assert url.Path == "/openai/deployments/gpt%204o/chat"
    assert url.Query.lines() == [("expand", "stock"), ("api-version", "2024-10-21")]


def test_rewrite_uri_without_copying_unmatched_parameters() -> None:
    policy = compile_policy(
        '<policies><inbound><rewrite-uri template="/v2/items/{id}" copy-unmatched-params="false" /></inbound></policies>'
    )
    context = context_for(query={"debug": "1"})
    run(policy.inbound, context)
    assert (context.model.Request.Url.Path, context.model.Request.Url.Query.lines()) == (
        "/v2/items/42",
        [],
    )


IP_FILTER = """
<policies><inbound>
    <ip-filter action="{action}">
        <address>10.0.0.5</address>
        <address-range from="192.168.1.10" to="192.168.1.20" />
        <address>2001:db8::/32</address>
    </ip-filter>
</inbound></policies>
"""


@pytest.mark.parametrize(
    ("action", "ip", "reason"),
    [
        ("allow", "10.0.0.5", None),
        ("allow", "192.168.1.15", None),
        ("allow", "2001:db8::1", None),
        ("allow", "192.168.1.21", "CallerIpNotAllowed"),
        ("forbid", "192.168.1.10", "CallerIpBlocked"),
        ("forbid", "8.8.8.8", None),
        ("allow", "not-an-ip", "FailedToParseCallerIP"),
    ],
)
def test_ip_filter(action: str, ip: str, reason: str | None) -> None:
    policy = compile_policy(IP_FILTER.replace("{action}", action))
    if reason is None:
        assert run(policy.inbound, context_for(ip=ip)) is None
        return
    with pytest.raises(PolicyError) as caught:
        run(policy.inbound, context_for(ip=ip))
    assert (caught.value.source, caught.value.reason, caught.value.status) == (
        "ip-filter",
        reason,
        403,
    )


def test_trace_writes_message_and_metadata_to_the_request_trace() -> None:
    policy = compile_policy(
        """
        <policies><inbound>
            <trace source="routing" severity="information">
                <message>@("picked " + context.Request.MatchedParameters["id"])</message>
                <metadata name="region" value="west" />
            </trace>
            <trace source="old-form">plain text</trace>
        </inbound></policies>
        """
    )
    context = context_for()
    run(policy.inbound, context)
    assert context.model.traces == [
        "[information] routing: picked 42 region=west",
        "[verbose] old-form: plain text",
    ]

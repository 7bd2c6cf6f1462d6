"""The header dictionary expressions read: a look-up before the lines are indexed finds what
the index would."""

from __future__ import annotations

from dataclasses import fields

from gateway.expressions.model import (
    ApiModel,
    ContextModel,
    DeploymentModel,
    HeaderDictionary,
    OperationModel,
    ProductModel,
    RequestModel,
    ResponseModel,
    SubscriptionModel,
)

LINES = [("X-Slow", "1"), ("x-fast", "2"), ("X-SLOW", "3"), ("Host", "h"), ("x-slo", "4")]


def test_a_look_up_of_unindexed_lines_finds_what_the_index_finds() -> None:
    for name in ("x-slow", "X-Slow", "x-fast", "host", "x-slo", "x-sl", "absent", ""):
        unindexed = HeaderDictionary.from_lines(LINES, frozenset({"x-fast"}))
        indexed = HeaderDictionary.from_lines(LINES, frozenset({"x-fast"}))
        indexed.set("other", ["o"])  # a write indexes the lines
        assert unindexed.get(name) == indexed.get(name), name
    assert HeaderDictionary.from_lines(LINES).get("x-SLOW") == ["1", "3"]


def test_a_context_of_a_request_is_what_the_dataclass_makes() -> None:
    parts = (
        DeploymentModel(),
        ApiModel(Id="a"),
        OperationModel(Id="o"),
        ProductModel(Id="p"),
        SubscriptionModel(Id="s"),
        RequestModel(),
        ResponseModel(),
    )
    made = ContextModel.of_request(12.5, *parts)
    deployment, api, operation, product, subscription, request, response = parts
    expected = ContextModel(
        started=12.5,
        Deployment=deployment,
        Api=api,
        Operation=operation,
        Product=product,
        Subscription=subscription,
        Request=request,
        Response=response,
    )
    for field in fields(ContextModel):  # one by one: a field of_request forgot fails here
        assert getattr(made, field.name) == getattr(expected, field.name), field.name
    assert made == expected
    # What a request changes is its own: another's Variables and traces stay empty.
    made.Variables["x"] = 1
    made.Trace("seen")
    made.Tracing = True
    other = ContextModel.of_request(1.0, *parts)
    assert (other.Variables, other.traces, other.Tracing) == ({}, [], False)

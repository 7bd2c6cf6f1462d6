"""The request context made the cheaper way (`RequestContext.of_request`): the same context
the dataclass makes, and nothing mutable shared between two requests."""

from __future__ import annotations

from dataclasses import fields

from gateway.expressions.model import ContextModel
from gateway.runtime.context import NO_SERVICES, RequestContext


def test_of_request_makes_what_the_dataclass_makes() -> None:
    model = ContextModel()
    made = RequestContext.of_request(model, "openai", "openai", None, NO_SERVICES, "b", "/x")
    expected = RequestContext(
        model,
        style="openai",
        error_style="openai",
        forward=None,
        services=NO_SERVICES,
        backend="b",
        backend_path="/x",
    )
    # Every field, one by one (a field added with a default_factory and not set by
    # of_request fails here, as its read finds nothing).
    for field in fields(RequestContext):
        assert getattr(made, field.name) == getattr(expected, field.name), field.name
    assert made == expected


def test_two_contexts_share_nothing_mutable() -> None:
    model = ContextModel()
    first, second = (
        RequestContext.of_request(model, "http", None, None, NO_SERVICES, None, "/")
        for _ in range(2)
    )
    first.attempts.append("a:200")
    first.response_headers.append(("x", "y"))
    first.affinity["pool"] = "s"
    first.deferred["done"] = []  # type: ignore[index]
    first.backend_url = "http://elsewhere"
    assert (second.attempts, second.response_headers, second.affinity, second.deferred) == (
        [],
        [],
        {},
        {},
    )
    assert second.backend_url is None and RequestContext.backend_url is None

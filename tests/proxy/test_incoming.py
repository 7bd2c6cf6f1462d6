"""The client's request as the traffic path reads it from the ASGI scope (gateway.proxy.incoming)."""

from __future__ import annotations

import pytest

from gateway.proxy.incoming import Incoming


def incoming(query: bytes) -> Incoming:
    scope = {"type": "http", "method": "GET", "path": "/", "query_string": query, "headers": []}
    return Incoming(scope, None)  # type: ignore[arg-type]


def test_each_query_parameters_first_value() -> None:
    assert incoming(b"a=1&b=&a=2").first_query_values == {"a": "1", "b": ""}


def test_without_a_query_the_values_are_empty_and_shared_by_no_one() -> None:
    values = incoming(b"").first_query_values
    assert values == {}
    with pytest.raises(TypeError):  # read only: every request without a query gets it
        values["a"] = "1"  # type: ignore[index]
    assert incoming(b"").first_query_values == {}

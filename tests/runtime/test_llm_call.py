"""The request's JSON as its readers read it: parsed once per body, and a body written as JSON
read as it was written (write_request_json), the same document a parse of it gives."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.common.fastjson import loads
from gateway.expressions.model import MessageBody
from gateway.runtime.llm_call import request_json, write_request_json
from tests.policies import new_context

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.text(max_size=6), JSON, max_size=5))
def test_a_body_written_as_json_reads_as_its_parse(generated: dict[str, Any]) -> None:
    context = new_context()
    context.model.Request.Body = MessageBody(json.dumps(generated).encode())
    document = request_json(context)  # as a statement has it: parsed (orjson reads an integer
    document["stream_options"] = {"include_usage": True}  # beyond 64 bits as a float), changed
    write_request_json(context, document)
    sent = context.model.Request.Body.read(preserve=True)
    assert sent == json.dumps(document).encode()  # the bytes sent upstream, as before
    assert request_json(context) is document  # not parsed again...
    assert loads(sent) == document  # ...and what a parse would give


def test_a_body_replaced_afterwards_is_parsed_again() -> None:
    context = new_context()
    write_request_json(context, {"model": "a"})
    context.model.Request.Body = MessageBody(b'{"model": "b"}')
    assert request_json(context) == {"model": "b"}

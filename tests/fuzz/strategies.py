"""Hypothesis strategies for the fuzz targets: inputs of each target's kind, near enough to
valid that they reach past the first check (statements the registry declares with their
attributes and children, real documents with a part replaced, expressions of real tokens)."""

from __future__ import annotations

import json
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from hypothesis import strategies as st

from gateway.policy.spec import AttributeSpec, ChildSpec, StatementSpec
from gateway.statements import default_registry

_SPECS: list[StatementSpec] = sorted(default_registry().specs(), key=lambda spec: spec.name)
ODD_TEXT = st.sampled_from(
    ["", " ", "0", "-1", "1e309", "NaN", "true", "{{nv}}", "{{", "@(", "@{", "&amp;", "\\", "[",
     "http://[::1", "%zz", "\u0000", "\ufeff", "a" * 300, "@(context.Request.Method)",
     "@(1 / 0)", '@((string)context.Variables["x"])', "@{ return null; }", "00:00:01"]
)  # fmt: skip
TEXT = st.one_of(ODD_TEXT, st.text(max_size=20))


def _value(spec: AttributeSpec) -> st.SearchStrategy[str]:
    return st.one_of(st.sampled_from(spec.choices), TEXT) if spec.choices else TEXT


def _attributes(specs: tuple[AttributeSpec, ...]) -> st.SearchStrategy[str]:
    names = (
        st.lists(st.sampled_from(specs), unique_by=lambda s: s.name, max_size=5)
        if specs
        else st.just([])
    )
    return names.flatmap(
        lambda chosen: st.tuples(*(_value(spec) for spec in chosen)).map(
            lambda values: "".join(
                f" {spec.name}={quoteattr(value)}"
                for spec, value in zip(chosen, values, strict=True)
            )
        )
    )


def _element(spec: StatementSpec | ChildSpec, depth: int) -> st.SearchStrategy[str]:
    """A statement or one of its configuration elements, with some of its declared attributes,
    children and nested statements (to a small depth), or text."""
    inner: list[st.SearchStrategy[str]] = [st.just(""), TEXT.map(escape)]
    if spec.children and depth < 3:
        children = st.one_of(*(_element(child, depth + 1) for child in spec.children))
        inner.append(st.lists(children, max_size=3).map("".join))
    if spec.holds_statements and depth < 3:
        inner.append(statements(depth + 1))
    return st.tuples(_attributes(spec.attributes), st.one_of(*inner)).map(
        lambda parts: f"<{spec.name}{parts[0]}>{parts[1]}</{spec.name}>"
    )


def statements(depth: int = 0) -> st.SearchStrategy[str]:
    one = st.sampled_from(_SPECS).flatmap(lambda spec: _element(spec, depth))
    return st.lists(st.one_of(one, st.just("<base />")), max_size=3).map("".join)


POLICY_XML = st.tuples(statements(), statements(), statements(), statements()).map(
    lambda s: (
        f"<policies><inbound>{s[0]}</inbound><backend>{s[1]}</backend>"
        f"<outbound>{s[2]}</outbound><on-error>{s[3]}</on-error></policies>"
    )
)
FRAGMENT_XML = statements().map(lambda s: f"<fragment>{s}</fragment>")

JSON_VALUES = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), TEXT),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(TEXT, inner, max_size=3)),
    max_leaves=8,
)


def _paths(document: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(document, dict):
        for key, value in document.items():
            found += _paths(value, (*prefix, key))
    elif isinstance(document, list):
        for index, value in enumerate(document):
            found += _paths(value, (*prefix, index))
    return found


def _replaced(document: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    copy = json.loads(json.dumps(document))
    holder = copy
    for step in path[:-1]:
        holder = holder[step]
    holder[path[-1]] = value
    return copy


def mutated(document: Any, values: st.SearchStrategy[Any] = JSON_VALUES) -> st.SearchStrategy[Any]:
    """`document` with one part (any depth, the whole included) replaced by another value."""
    return st.tuples(st.sampled_from(_paths(document)), values).map(
        lambda chosen: _replaced(document, *chosen)
    )


_TOKENS = (
    'context.Request.Headers.GetValueOrDefault("a", "b") context.Variables["routes"] '
    "context.Request.Body.As<JObject>(preserveContent: true) context.Response.StatusCode "
    'context.Api.Id context.User?.Email ?? "x" Math.Max( DateTime.UtcNow .AddSeconds( '
    "TimeSpan.FromMinutes( new JObject() new[] { 1 } .Select(x => x) .Where( .ToString() "
    ".Substring( .Split( .Length ( ) [ ] { } , ; . ? : ?? ?. => + - * / % == != < > <= >= "
    "&& || ! ~ & | ^ << >> = += ++ -- 0 1 -1 2147483647 9223372036854775807 1.5 1e308 1m 0x1F "
    '\'c\' "s" @"v" $"{1}" null true false var int string return if else while for '
    "foreach in switch case break continue try catch throw new typeof is as (int) (string) "
    "(JArray) Regex.Match( JObject.Parse( Convert.ToBase64String( Encoding.UTF8.GetBytes( "
    "String.Join( Guid.NewGuid() x y"
).split()
EXPRESSIONS = st.tuples(
    st.sampled_from(["@(", "@{"]), st.lists(st.sampled_from(_TOKENS), max_size=16)
).map(lambda parts: parts[0] + " ".join(parts[1]) + (")" if parts[0] == "@(" else "}"))

_SSE_LINES = st.one_of(
    st.sampled_from(
        ["data: {}", "data: [DONE]", "data:x", "data", "event: message_stop", "event:", "id: 1",
         "id: a\x00b", ": ping", "retry: 1", "", "\ufeffdata: a", "data: \u00e9"]
    ),
    st.text(max_size=12),
).map(lambda line: line.encode())  # fmt: skip
SSE_STREAMS = st.tuples(
    st.booleans(),
    st.lists(st.tuples(_SSE_LINES, st.sampled_from([b"\n", b"\r\n", b"\r"])), max_size=12),
).map(lambda s: (b"\xef\xbb\xbf" if s[0] else b"") + b"".join(line + end for line, end in s[1]))

"""The usage readers' fast paths against the readers they replaced.

`from_usage_object` checks a report's figures in one loop and makes its Usage from the tuple
(gateway.tokens.usage); `slow_usage_object` below is the reader it replaced, a call to check
each figure and Usage made by its keywords. For any report, valid or not, both give the same
Usage or refuse it with the same message. `from_reports` reads usage events already parsed
(a stream's reader parses the usage event once, to hide it): the same as `from_events`.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.common.sse import json_of, parse, reports_usage
from gateway.tokens.usage import (
    MOST_TOKENS,
    InvalidUsage,
    Usage,
    from_events,
    from_reports,
    from_usage_object,
)


def _int(value: object) -> int:
    if value is None:
        return 0
    if type(value) is int and 0 <= value <= MOST_TOKENS:
        return value
    raise InvalidUsage(f"a usage figure of {str(value)[:40]!r}")


def _details(value: object) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InvalidUsage(f"usage details of {str(value)[:40]!r}")
    return value


def slow_usage_object(usage: dict[str, Any], model: str = "") -> Usage:
    """from_usage_object as it was before its fast path (commit 928fffe), its two OpenAI
    shapes (chat, Responses) written once."""
    if "prompt_tokens" in usage:
        return _openai(usage, model, "prompt", "completion", audio=True)
    if "cache_read_input_tokens" in usage or "cache_creation_input_tokens" in usage:
        cached = _int(usage.get("cache_read_input_tokens"))
        written = _int(usage.get("cache_creation_input_tokens"))
        return Usage(
            prompt=_int(usage.get("input_tokens")) + cached + written,
            completion=_int(usage.get("output_tokens")),
            cached_prompt=cached,
            cache_write=written,
            model=model,
        )
    return _openai(usage, model, "input", "output", audio=False)


def _openai(usage: dict[str, Any], model: str, inward: str, outward: str, audio: bool) -> Usage:
    details = _details(usage.get(f"{inward}_tokens_details"))
    out_details = _details(usage.get(f"{outward}_tokens_details"))
    prompt = _int(usage.get(f"{inward}_tokens"))
    completion = _int(usage.get(f"{outward}_tokens"))
    cached = _int(details.get("cached_tokens"))
    reasoning = _int(out_details.get("reasoning_tokens"))
    audio_prompt = _int(details.get("audio_tokens")) if audio else 0
    audio_completion = _int(out_details.get("audio_tokens")) if audio else 0
    return Usage(prompt, completion, cached, 0, reasoning, audio_prompt, audio_completion, model)


# Figures as providers send them, and as no provider does (each must be refused alike).
FIGURES = st.one_of(
    st.integers(min_value=0, max_value=5000),
    st.just(MOST_TOKENS),
    st.just(MOST_TOKENS + 1),
    st.integers(min_value=-5, max_value=-1),
    st.none(),
    st.booleans(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=3),
)
FIGURE_NAMES = (
    "prompt_tokens",
    "completion_tokens",
    "input_tokens",
    "output_tokens",
    "cache_read_input_tokens",
    "cache_creation_input_tokens",
    "cached_tokens",
    "reasoning_tokens",
    "audio_tokens",
    "total_tokens",
)
DETAILS = st.one_of(
    st.none(),
    st.dictionaries(st.sampled_from(FIGURE_NAMES), FIGURES, max_size=4),
    st.just([]),
    st.just(0),
    st.just("x"),
)
DETAIL_NAMES = (
    "prompt_tokens_details",
    "completion_tokens_details",
    "input_tokens_details",
    "output_tokens_details",
)
REPORTS = st.dictionaries(
    st.sampled_from(FIGURE_NAMES + DETAIL_NAMES),
    FIGURES,
    max_size=7,
).flatmap(
    lambda figures: st.dictionaries(st.sampled_from(DETAIL_NAMES), DETAILS, max_size=3).map(
        lambda details: {**figures, **details}
    )
)


def _read(reader: Any, usage: dict[str, Any], model: str) -> Usage | str:
    try:
        return reader(usage, model)
    except InvalidUsage as error:
        return f"InvalidUsage: {error}"


@settings(max_examples=600, deadline=None)
@given(REPORTS, st.sampled_from(["", "gpt-4o-mini"]))
def test_a_usage_object_reads_as_the_reader_it_replaced(usage: dict[str, Any], model: str) -> None:
    fast, slow = _read(from_usage_object, usage, model), _read(slow_usage_object, usage, model)
    assert fast == slow
    if isinstance(fast, Usage) and isinstance(slow, Usage):
        assert [type(value) for value in fast] == [type(value) for value in slow]


@pytest.mark.parametrize(
    "usage",
    [
        {"prompt_tokens": 12, "completion_tokens": 9, "total_tokens": 21},
        {
            "prompt_tokens": 120,
            "completion_tokens": 30,
            "prompt_tokens_details": {"cached_tokens": 100, "audio_tokens": 0},
            "completion_tokens_details": {"reasoning_tokens": 12, "audio_tokens": 0},
        },
        {"input_tokens": 7, "output_tokens": 5, "output_tokens_details": {"reasoning_tokens": 2}},
        {"input_tokens": 3, "output_tokens": 2, "cache_read_input_tokens": 100},
    ],
)
def test_the_providers_usual_reports_read_as_before(usage: dict[str, Any]) -> None:
    assert from_usage_object(usage, "m") == slow_usage_object(usage, "m")


def test_a_usage_is_immutable_and_replaced_by_a_copy() -> None:
    usage = from_usage_object({"prompt_tokens": 3, "completion_tokens": 4})
    with pytest.raises(AttributeError):
        usage.prompt = 5  # type: ignore[misc]
    assert usage._replace(completion=9) == Usage(prompt=3, completion=9)
    assert usage.total == 7


STREAMS = [
    # OpenAI: the usage-only chunk last
    'data: {"choices":[{"delta":{"content":"hi"}}],"usage":null}\n\n'
    'data: {"choices":[],"usage":{"prompt_tokens":12,"completion_tokens":9}}\n\ndata: [DONE]\n\n',
    # Anthropic: input in message_start, output in message_delta
    'event: message_start\ndata: {"type":"message_start","message":{"usage":'
    '{"input_tokens":10,"cache_read_input_tokens":4,"output_tokens":1}}}\n\n'
    'event: message_delta\ndata: {"type":"message_delta","usage":{"output_tokens":6}}\n\n'
    'event: message_stop\ndata: {"type":"message_stop"}\n\n',
    # Responses: the usage in the completed response
    'data: {"type":"response.completed","response":{"usage":{"input_tokens":5,'
    '"output_tokens":2}}}\n\n',
    # no usage at all, and a usage event that is not JSON
    'data: {"choices":[]}\n\ndata: {"usage": {oops\n\n',
]


@pytest.mark.parametrize("stream", STREAMS)
def test_usage_events_parsed_already_read_as_the_events_themselves(stream: str) -> None:
    events = parse(stream.encode())
    reports = [json_of(event) for event in events if reports_usage(event)]
    assert from_reports(reports) == from_events(events)
    assert from_reports(iter(reports)) == from_events(events)


@settings(max_examples=200, deadline=None)
@given(REPORTS)
def test_a_usage_event_parsed_already_reads_as_the_event(usage: dict[str, Any]) -> None:
    event = 'data: {"choices":[],"usage":' + json.dumps(usage) + "}\n\n"
    events = parse(event.encode())
    reports = [json_of(e) for e in events if reports_usage(e)]
    fast = _read(lambda _usage, _model: from_reports(reports), usage, "")
    slow = _read(lambda _usage, _model: from_events(events), usage, "")
    assert fast == slow

"""The token counts a provider reports, read from its response: a JSON body or an event stream.

OpenAI and Azure OpenAI report `usage` (chat, completions and embeddings: prompt/completion
tokens; Responses, images and token-billed transcriptions: input/output tokens) with cached and
reasoning details; in a stream, the last chunk
carries it when `stream_options.include_usage` was asked for. Anthropic reports input and
output tokens plus cache reads and writes; in a stream, `message_start` carries the input side
and `message_delta` the output.

A provider's figures are checked before anything counts them: a figure that is there must be
a whole number from 0 to `MOST_TOKENS` (a JSON integer: not a string, a fraction or a float
such as 1e30). Otherwise the whole report is `InvalidUsage`, which its readers treat as no
report at all (the gateway counts the call itself, as for a response without usage): a
negative figure would credit a token or cost limit's counter, and a string one was read as 0.
A figure left out (or null) is 0, as the providers leave out what does not apply.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, NamedTuple

from gateway.common.fastjson import loads
from gateway.common.sse import Event, json_of, parse, reports_usage


class Usage(NamedTuple):
    """(A NamedTuple: one is made for every response, and a frozen dataclass of eight fields
    took eight times as long to make; `_replace` makes a changed copy.)"""

    prompt: int = 0
    completion: int = 0
    cached_prompt: int = 0  # prompt tokens served from the provider's cache (part of prompt)
    cache_write: int = 0  # Anthropic: prompt tokens written to its cache (part of prompt)
    reasoning: int = 0  # part of completion
    audio_prompt: int = 0  # OpenAI: audio input tokens (part of prompt)
    audio_completion: int = 0  # OpenAI: audio output tokens (part of completion)
    model: str = ""  # the model the response names, when it names one

    @property
    def total(self) -> int:
        return self.prompt + self.completion


# More tokens than any call reports (2**31: a context window is a few million at most).
MOST_TOKENS = 2**31


class InvalidUsage(ValueError):
    """A usage report with a figure that is not a whole number from 0 to MOST_TOKENS."""


def _int(value: object) -> int:
    if value is None:  # left out: it does not apply
        return 0
    if type(value) is int and 0 <= value <= MOST_TOKENS:  # not bool, not float, not str
        return value
    raise InvalidUsage(f"a usage figure of {str(value)[:40]!r}")


_EMPTY: dict[str, Any] = {}  # no details (read, never written to)


def _details(value: object) -> dict[str, Any]:
    """A details object (null or left out: none)."""
    if value is None:
        return _EMPTY
    if not isinstance(value, dict):
        raise InvalidUsage(f"usage details of {str(value)[:40]!r}")
    return value


_new = tuple.__new__  # Usage from its fields in order: a fifth of Usage(...)'s keywords' time


def from_usage_object(usage: dict[str, Any], model: str = "") -> Usage:
    """An OpenAI- or Anthropic-shaped `usage` object (of a response naming `model`).

    Raises InvalidUsage when a figure is not a whole number from 0 to MOST_TOKENS."""
    get = usage.get
    if "prompt_tokens" in usage:  # OpenAI chat / completions / embeddings
        details = get("prompt_tokens_details")
        if type(details) is not dict:  # null or left out: none; not an object: invalid
            details = _details(details)
        completion_details = get("completion_tokens_details")
        if type(completion_details) is not dict:
            completion_details = _details(completion_details)
        return _usage(
            (
                get("prompt_tokens", 0),
                get("completion_tokens", 0),
                details.get("cached_tokens", 0),
                0,
                completion_details.get("reasoning_tokens", 0),
                details.get("audio_tokens", 0),
                completion_details.get("audio_tokens", 0),
            ),
            model,
        )
    if "cache_read_input_tokens" in usage or "cache_creation_input_tokens" in usage:
        cached = _int(get("cache_read_input_tokens"))
        written = _int(get("cache_creation_input_tokens"))
        return Usage(  # Anthropic: input_tokens excludes cache reads and writes
            prompt=_int(get("input_tokens")) + cached + written,
            completion=_int(get("output_tokens")),
            cached_prompt=cached,
            cache_write=written,
            model=model,
        )
    details = _details(get("input_tokens_details"))
    output_details = _details(get("output_tokens_details"))
    return _usage(  # OpenAI responses, or Anthropic without cache fields
        (
            get("input_tokens", 0),
            get("output_tokens", 0),
            details.get("cached_tokens", 0),
            0,
            output_details.get("reasoning_tokens", 0),
            0,
            0,
        ),
        model,
    )


def _usage(figures: tuple[object, ...], model: str) -> Usage:
    """Usage of these figures, in Usage's order, each checked as `_int` checks it (a loop
    over the tuple, not a call per figure: most reports are all whole numbers in range)."""
    for value in figures:
        if type(value) is not int or not 0 <= value <= MOST_TOKENS:
            figures = tuple(map(_int, figures))  # null is 0; anything else not whole raises
            break
    return _new(Usage, (*figures, model))


def from_json_body(body: bytes) -> Usage | None:
    """The usage a JSON response body reports (raises InvalidUsage: see from_usage_object)."""
    try:
        document = loads(body)
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(document, dict):
        return None
    usage = document.get("usage")
    if not isinstance(usage, dict) and isinstance(document.get("response"), dict):
        usage = document["response"].get("usage")  # responses API wrapper events
    if not isinstance(usage, dict) or usage.get("type") == "duration":
        return None  # a transcription billed by the second (whisper-1) reports no tokens
    model = document.get("model")
    return from_usage_object(usage, model if isinstance(model, str) else "")


def from_event_stream(body: bytes) -> Usage | None:
    """The usage a server-sent event stream reported, OpenAI- or Anthropic-style (raises
    InvalidUsage: see from_usage_object)."""
    return from_events(parse(body))


def from_events(events: Iterable[Event]) -> Usage | None:
    """The usage these events of a stream reported (the last report wins; Anthropic's input
    side comes from `message_start`, its output from `message_delta`; raises InvalidUsage:
    see from_usage_object)."""
    return from_reports(map(json_of, filter(reports_usage, events)))


def from_reports(reports: Iterable[dict[str, Any] | None]) -> Usage | None:
    """`from_events` of the events that report usage, as `json_of` parsed them (a reader
    that parsed them as they passed need not parse them again)."""
    found: Usage | None = None
    anthropic_input: dict[str, Any] | None = None
    for event in reports:
        if event is None:
            continue
        kind = event.get("type")
        if kind == "message_start" and isinstance(event.get("message"), dict):
            if event["message"].get("usage") is None:
                continue  # no report (not a report of 0 tokens)
            anthropic_input = _details(event["message"]["usage"])
            found = from_usage_object({"output_tokens": 0, **anthropic_input})
        elif kind == "message_delta" and isinstance(event.get("usage"), dict):
            found = from_usage_object({**(anthropic_input or {}), **event["usage"]})
        elif isinstance(event.get("usage"), dict):
            found = from_usage_object(event["usage"])
        elif isinstance(event.get("response"), dict) and isinstance(
            event["response"].get("usage"), dict
        ):
            found = from_usage_object(event["response"]["usage"])
    return found


def from_response(body: bytes, content_type: str) -> Usage | None:
    if content_type.startswith("text/event-stream"):
        return from_event_stream(body)
    return from_json_body(body)

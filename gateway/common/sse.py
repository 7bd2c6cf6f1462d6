"""Server-sent events as the HTML specification defines them: one incremental parser that
every reader of a stream uses (the usage filter, token counting, content safety, the
translators, the caches), and the events that end an LLM stream.

The parser takes bytes in any chunking and gives each event once its blank line has come.
As the specification says: CR, LF and CRLF all end lines (a CRLF split between two reads is
one line end, not two), a first byte-order mark is skipped, `:` lines are comments, several
`data:` lines join with "\\n", `event:` names the event and `id:` sets the last event id
(kept for later events), a field without a colon has an empty value, unknown fields are
ignored, and a block without data dispatches nothing. Lines are split as bytes and decoded
whole, so a UTF-8 character cut between reads is never decoded in halves.

Each event keeps the bytes that carried it (`raw`: any comments and blank lines before it,
its lines, its blank line), so a reader that passes a stream on (the usage filter) can pass
each event exactly as it came, or leave one out, without rewriting the rest.

Pure functions and a small state machine: no I/O.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from gateway.common.fastjson import loads

_EOL = re.compile(rb"\r\n|\r|\n")

_BOM = b"\xef\xbb\xbf"  # UTF-8's byte-order mark

DONE = "[DONE]"  # an OpenAI-style stream's last data


class Event(NamedTuple):
    """One dispatched event (a named tuple: made for every event of every stream, it is made
    in a third of a frozen dataclass's time)."""

    data: str
    name: str = "message"  # the `event:` field ("message" when none was given)
    id: str | None = None  # the last event id when it was dispatched
    raw: bytes = b""  # the bytes that carried it, as they were sent


# An Event from all its fields, `_new(Event, (data, name, id, raw))`: half the time of
# Event(...), whose __new__ is Python's.
_new = tuple.__new__


class SSEParser:
    """Bytes in, in any chunking; events out, each as soon as its blank line has come."""

    def __init__(self) -> None:
        self._line = b""  # the current line so far (it holds no CR or LF)
        self._raw: list[bytes] = []  # the bytes of the event being read, since the last one
        self._raw_size = 0  # their length: a reader bounds what a stream makes it hold
        self._after_cr = False  # the last line ended with a CR: an LF next is its CRLF's
        self._first = True
        self._name = ""
        self._data: list[str] = []
        self._id: str | None = None

    def feed(self, chunk: bytes) -> list[Event]:
        events: list[Event] = []
        if self._first and chunk:
            # The mark may come a byte per read: the first line stays first while the bytes so
            # far could still begin one (taking the line skips it).
            head = (self._line + chunk)[:3]
            if not _BOM.startswith(head) and not head.startswith(_BOM):
                self._first = False
        if not (self._line or self._raw or self._data or self._name or self._first):
            chunk = self._simple_events(chunk, events)
            if not chunk:
                return events
        if self._after_cr and chunk:
            self._after_cr = False
            if chunk.startswith(b"\n"):  # the second half of a CRLF split between reads
                self._raw.append(b"\n")
                self._raw_size += 1
                chunk = chunk[1:]
        scan = len(self._line)  # what was kept holds no line end: scan only the new bytes
        data, start = self._line + chunk, 0
        for match in _EOL.finditer(data, scan):
            self._raw.append(data[start : match.end()])
            self._raw_size += match.end() - start
            self._take(data[start : match.start()], events)
            start = match.end()
            self._after_cr = match.group() == b"\r" and start == len(data)
        self._line = data[start:]
        return events

    def _simple_events(self, chunk: bytes, events: list[Event]) -> bytes:
        """Between events, the usual shape (one `data:` line, LF line ends) read a block at
        a time; the rest of `chunk`, from the first block of any other shape, is left for
        the line-by-line reading, which takes every shape."""
        if self._after_cr or b"\r" in chunk:
            return chunk
        start = 0
        while (end := chunk.find(b"\n\n", start)) >= 0:
            if chunk.startswith(b"data: ", start):
                value = start + 6
            elif chunk.startswith(b"data:", start):
                value = start + 5
            else:
                break
            if chunk.find(b"\n", value, end) >= 0:
                break  # more than one line
            data = chunk[value:end].decode("utf-8", errors="replace")
            events.append(_new(Event, (data, "message", self._id, chunk[start : end + 2])))
            start = end + 2
        return chunk[start:]

    def marked_events(
        self, chunk: bytes, marks: tuple[bytes, ...]
    ) -> list[tuple[int, Event]] | None:
        """For a reader that needs only the events holding one of `marks` (bytes no line end
        is part of): those events of `chunk`, in order, each with the offset of its bytes
        (`raw`) in `chunk`, when it is nothing but whole one-line
        `data:` events with LF line ends read between events (the usual chunk of an LLM
        stream), which leave the parser as it was; else None, and `feed` must read it. The
        others are never decoded nor made: a stream's reading costs a few scans of its
        bytes, not a Python loop over its events."""
        if self._line or self._raw or self._data or self._name or self._after_cr:
            return None
        if not chunk.startswith(b"data:") or not chunk.endswith(b"\n\n") or b"\r" in chunk:
            return None
        # No LF but those of the blank lines each followed by `data:` and of the last: each
        # block is one `data:` line and its blank line (no empty block, other field, comment).
        if chunk.count(b"\n") != 2 * chunk.count(b"\n\ndata:") + 2:
            return None
        self._first = False  # it begins with `data:`, not a byte-order mark
        starts: set[int] = set()
        for mark in marks:
            at = chunk.find(mark)
            while at >= 0:
                before = chunk.rfind(b"\n\n", 0, at)  # the end of the block before
                starts.add(before + 2 if before >= 0 else 0)
                at = chunk.find(mark, at + len(mark))
        events = []
        for start in sorted(starts):
            end = chunk.find(b"\n\n", start)
            value = start + 6 if chunk.startswith(b"data: ", start) else start + 5
            data = chunk[value:end].decode("utf-8", errors="replace")
            events.append((start, _new(Event, (data, "message", self._id, chunk[start : end + 2]))))
        return events

    def close(self) -> list[Event]:
        """The event still pending at the end of the body.

        A last event lacking its blank line is still dispatched (the body has ended), but an
        unterminated last line is not read: it may have been cut in the middle. Its bytes,
        and those of comments no event followed, are `leftover`.
        """
        events: list[Event] = []
        self._take(b"", events)
        return events

    @property
    def held(self) -> int:
        """How many bytes the parser holds for an event not dispatched yet (a line without
        its end, lines without their blank line, comments no event followed): what a reader
        of an untrusted stream bounds."""
        return len(self._line) + self._raw_size

    @property
    def leftover(self) -> bytes:
        """The bytes read but not carried by any event yet (after `close`: never will be)."""
        return b"".join(self._raw) + self._line

    def _take(self, raw: bytes, events: list[Event]) -> None:
        line = raw.decode("utf-8", errors="replace")
        if self._first:
            line, self._first = line.removeprefix("\ufeff"), False
        if not line:
            if self._data:
                name = self._name or "message"
                carried, self._raw, self._raw_size = b"".join(self._raw), [], 0
                events.append(Event("\n".join(self._data), name, self._id, carried))
            self._name, self._data = "", []
            return
        if line.startswith(":"):
            return  # a comment
        field, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if field == "data":
            self._data.append(value)
        elif field == "event":
            self._name = value
        elif field == "id" and "\0" not in value:
            self._id = value
        # `retry:` means nothing to a gateway; unknown fields are ignored (the spec).


def parse(body: bytes) -> list[Event]:
    """Every event of a whole stream."""
    parser = SSEParser()
    return [*parser.feed(body), *parser.close()]


def json_of(event: Event) -> dict | None:
    """The event's data as a JSON object, or None (`[DONE]`, not JSON, not an object)."""
    if event.data == DONE:
        return None
    try:
        parsed = loads(event.data)
    except ValueError:
        return None
    return parsed if isinstance(parsed, dict) else None


# A usage object, as every provider's stream writes one (`"usage": null`, which OpenAI puts in
# every chunk of a stream asked for its usage, does not match). Inside a JSON string a quote
# is escaped, so the pattern cannot match text of the answer.
_USAGE_OBJECT = re.compile(r'"usage"\s*:\s*\{')


def reports_usage(event: Event) -> bool:
    """Can this event carry token usage (a `usage` object, or Anthropic's `message_start`)?
    Decided on the text, so that the other events of a stream are never parsed as JSON."""
    data = event.data
    return ('"usage"' in data and _USAGE_OBJECT.search(data) is not None) or (
        "message_start" in data
    )


# What an event without an `event:` line that reports usage or ends a stream (`reports_usage`,
# `ends_stream`) holds at least one of, in the bytes that carried it: a reader of a stream that
# needs only those events takes them with `SSEParser.marked_events`.
USAGE_OR_END = (b'"usage"', b"message_start", b"[DONE]", b'"type"')

# The Responses API's last event, however the response ended.
RESPONSE_ENDS = frozenset({"response.completed", "response.incomplete", "response.failed"})


def ends_stream(event: Event) -> bool:
    """Does this event end an LLM stream, as its protocol says? `data: [DONE]` (OpenAI chat and
    completions), `message_stop` (Anthropic messages), or the Responses API's last event.
    Nothing after it belongs to the answer."""
    if DONE in event.data and event.data.strip() == DONE:  # no copy of every event's text
        return True
    if event.name == "message_stop" or event.name in RESPONSE_ENDS:
        return True
    if event.name != "message" or '"type"' not in event.data:
        return False
    parsed = json_of(event)  # an event without its `event:` line: its data's type says
    return parsed is not None and (
        parsed.get("type") == "message_stop" or parsed.get("type") in RESPONSE_ENDS
    )

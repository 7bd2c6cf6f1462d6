"""Server-sent events: reading a provider's stream, writing the client's, and the frame of a
stream translator (gateway.providers.from_anthropic / from_openai).

Pure functions and small state machines: no I/O, standard library only.
"""

from __future__ import annotations

import re
from typing import Any

from gateway.providers.common import UNREADABLE, dumps

_EOL = re.compile(rb"\r\n?|\n")


class SSEDecoder:
    """Incremental SSE parsing: bytes in any chunking -> (event name, data) as each event ends.

    As the SSE spec dispatches: CR, LF and CRLF end lines (a CR that ends a chunk waits for the
    next one, as it may be the first half of a CRLF split between chunks), `:` lines are comments,
    several `data:` lines join with "\\n", a blank line ends an event. Lines are split as bytes and
    decoded whole, so a UTF-8 character cut between chunks is never decoded in halves.
    """

    def __init__(self) -> None:
        self._buffer = b""
        self._first = True
        self._name = ""
        self._data: list[str] = []

    def feed(self, data: bytes) -> list[tuple[str, str]]:
        # What was buffered holds no line end, but maybe a last CR that this chunk's LF completes:
        # scanning from there keeps a long line fed in small pieces from being rescanned.
        scan = max(len(self._buffer) - 1, 0)
        self._buffer += data
        events: list[tuple[str, str]] = []
        start = 0
        for match in _EOL.finditer(self._buffer, scan):
            if match.group() == b"\r" and match.end() == len(self._buffer):
                break  # maybe CRLF: decide when the next byte arrives
            self._line(self._buffer[start : match.start()], events)
            start = match.end()
        self._buffer = self._buffer[start:]
        return events

    def close(self) -> list[tuple[str, str]]:
        """Events still pending at the end of the body.

        A last event lacking its blank line is still dispatched (the body has ended), but an
        unterminated last line is dropped: it may have been cut in the middle.
        """
        events: list[tuple[str, str]] = []
        if self._buffer.endswith(b"\r"):  # a line ended by a CR that was held back in feed()
            self._line(self._buffer[:-1], events)
        self._buffer = b""
        self._line(b"", events)
        return events

    def _line(self, raw: bytes, events: list[tuple[str, str]]) -> None:
        line = raw.decode("utf-8", errors="replace")
        if self._first:
            line, self._first = line.removeprefix("\ufeff"), False
        if not line:
            if self._data:
                events.append((self._name or "message", "\n".join(self._data)))
            self._name, self._data = "", []
        elif not line.startswith(":"):
            field, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if field == "event":
                self._name = value
            elif field == "data":
                self._data.append(value)
            # `id:` and `retry:` mean nothing to a translator; unknown fields are ignored (spec).


def openai_sse(chunk: dict[str, Any]) -> str:
    return f"data: {dumps(chunk)}\n\n"


def anthropic_sse(event: dict[str, Any]) -> str:
    # The Anthropic SDK skips events without an `event:` line, so the name is always written.
    return f"event: {event['type']}\ndata: {dumps(event)}\n\n"


class StreamTranslator:
    """A provider's SSE bytes in (any chunking) -> the client's SSE bytes out.

    A subclass translates one event at a time (`_event`, which sets `_done` once the completion
    is complete) and writes a failure as its client's API reports one (`_fail`). This frame
    decodes the events, ignores whatever follows the end, and never raises on upstream
    content: an unreadable event, or a stream that ends before the completion is whole, ends
    the output with the client's error event, because a cut completion must not look complete.
    """

    def __init__(self) -> None:
        self._decoder = SSEDecoder()
        self._done = False

    def feed(self, data: bytes) -> bytes:
        return self._translate(self._decoder.feed(data), end=False)

    def close(self) -> bytes:
        """What is left at the end: nothing after a complete stream, else an error event."""
        return self._translate(self._decoder.close(), end=True)

    def _translate(self, events: list[tuple[str, str]], end: bool) -> bytes:
        out: list[str] = []
        for name, data in events:
            if self._done:
                break  # nothing follows the end or an error
            try:
                self._event(name, data, out)
            except UNREADABLE:  # end the stream visibly rather than fail the proxy
                self._fail(out, {"message": "the upstream stream sent an unreadable event"})
        if end and not self._done:
            self._ended(out)
        return "".join(out).encode()

    def _ended(self, out: list[str]) -> None:
        """The upstream stream ended before the completion was whole."""
        self._fail(out, {"message": "the upstream stream ended before the answer was complete"})

    def _event(self, name: str, data: str, out: list[str]) -> None:
        raise NotImplementedError

    def _fail(self, out: list[str], error: dict[str, Any]) -> None:
        """Write `error` (a provider's error object: `message`, maybe `type`) and end."""
        raise NotImplementedError

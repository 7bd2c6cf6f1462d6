"""Server-sent events: writing the client's stream, and the frame of a stream translator
(gateway.providers.from_anthropic / from_openai); a provider's stream is read by the one SSE
parser (gateway.common.sse).

Pure functions and small state machines: no I/O, standard library only.
"""

from __future__ import annotations

from typing import Any

from gateway.common.sse import Event, SSEParser
from gateway.providers.common import UNREADABLE, dumps


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
        self._decoder = SSEParser()
        self._done = False

    def feed(self, data: bytes) -> bytes:
        return self._translate(self._decoder.feed(data), end=False)

    def close(self) -> bytes:
        """What is left at the end: nothing after a complete stream, else an error event."""
        return self._translate(self._decoder.close(), end=True)

    def _translate(self, events: list[Event], end: bool) -> bytes:
        out: list[str] = []
        for event in events:
            if self._done:
                break  # nothing follows the end or an error
            try:
                self._event(event.name, event.data, out)
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

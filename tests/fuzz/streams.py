"""Fuzz target for the SSE parser (gateway/common/sse.py).

The oracle: the same bytes in any chunking give the same events; whole (the block-at-a-time
fast path wherever the stream allows it) and one byte at a time (never the fast path: a lone
byte holds no blank line) agree; in every chunking the events' `raw` bytes and the
`leftover`, joined, are the input, byte for byte; and without CRs each event's `raw` is the
same in every chunking (a CR ending a read dispatches its event before the LF that may follow
it has come, so that LF goes with the next event: by design).
"""

from __future__ import annotations

import random

from gateway.common.sse import Event, SSEParser


def events_of(chunks: list[bytes]) -> tuple[list[Event], bytes]:
    parser = SSEParser()
    events = [event for chunk in chunks for event in parser.feed(chunk)]
    events += parser.close()
    return events, parser.leftover


def chunkings(data: bytes) -> dict[str, list[bytes]]:
    """The input whole, a byte at a time, and cut at places drawn from its own bytes (so that
    a saved input replays the same cuts)."""
    draw = random.Random(data)
    cuts = sorted(draw.sample(range(1, len(data)), min(len(data) - 1, 8))) if len(data) > 1 else []
    pieces = [data[a:b] for a, b in zip([0, *cuts], [*cuts, len(data)], strict=True)]
    return {
        "whole": [data],
        "bytes": [data[i : i + 1] for i in range(len(data))],
        "cut": pieces,
        "empty reads between": [piece for cut in pieces for piece in (cut, b"")],
    }


def sse(data: bytes) -> None:
    results = {name: events_of(chunks) for name, chunks in chunkings(data).items()}
    whole, _ = results["whole"]
    for name, (events, leftover) in results.items():
        assert _fields(events) == _fields(whole), f"{name} gives other events than the whole"
        assert b"".join(event.raw for event in events) + leftover == data, f"{name} lost bytes"
        if b"\r" not in data:
            assert events == whole, f"{name} gives the events other raw bytes"
    assert all(event.name for event in whole)


def _fields(events: list[Event]) -> list[tuple[str, str, str | None]]:
    return [(event.data, event.name, event.id) for event in events]

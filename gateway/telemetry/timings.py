"""A request's timings, as the access log and the built-in metrics report them.

- total: from the request's arrival to now (its response complete);
- first_byte: to the response's first byte handed to the server (a stream's first chunk);
- upstream: the backend attempts' time, each until its response (whole, or its headers
  when it streams), summed over attempts (a retry, a pool's next member), and for a stream
  the wait for its first chunk;
- gateway: the gateway's own time, `first_byte - upstream`: what the request waited on the
  gateway before its first byte went out, backend calls excluded.
"""

from __future__ import annotations

import time
from typing import NamedTuple

from gateway.runtime.context import RequestContext


class Timings(NamedTuple):
    """(A NamedTuple: made twice a request, for the access log and the metrics; a frozen
    dataclass took twice as long to make.)"""

    total: float
    first_byte: float | None  # None: no response began (the client left first)
    upstream: float
    gateway: float


def timings_of(context: RequestContext) -> Timings:
    started = context.model.started
    total = time.time() - started
    first = context.first_byte
    first_byte = first - started if first is not None else None
    upstream = context.upstream_seconds
    gateway = (first_byte if first_byte is not None else total) - upstream
    # tuple.__new__: a NamedTuple's own __new__ is Python, a call more (twice a request).
    return _new(Timings, (total, first_byte, upstream, gateway if gateway > 0.0 else 0.0))


_new = tuple.__new__

"""The request body's two ends short of its end: too large (413 for a body over
`limits.max-request-body`, however it arrives) or its client gone before it was whole."""

from __future__ import annotations


class BodyTooLarge(Exception):
    """The client's body went past the gateway's limit while it was being read or streamed."""


class ClientGone(ConnectionResetError):
    """The client closed its connection before its body was whole: nobody is left to answer,
    and nothing is the backend's fault (the access log says 499, as nginx does)."""


def caused_by(error: BaseException, kind: type[BaseException]) -> bool:
    """Did an HTTP client's error come from one of ours (`kind`), raised inside its upload?"""
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, kind):
            return True
        seen = seen.__cause__ or seen.__context__
    return False

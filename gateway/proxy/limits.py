"""The request body's two ends short of its end: too large (413 for a body over
`limits.max-request-body`, however it arrives) or its client gone before it was whole."""

from __future__ import annotations


class BodyTooLarge(Exception):
    """The client's body went past the gateway's limit while it was being read or streamed."""


class ClientGone(ConnectionResetError):
    """The client closed its connection before its body was whole: nobody is left to answer,
    and nothing is the backend's fault (the access log says 499, as nginx does)."""

"""The request size limit: 413 for a body over `limits.max-request-body`, however it arrives."""

from __future__ import annotations


class BodyTooLarge(Exception):
    """The client's body went past the gateway's limit while it was being read or streamed."""


def caused_by_too_large(error: BaseException) -> bool:
    """Did an HTTP client's error come from our limit, raised inside its upload?"""
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, BodyTooLarge):
            return True
        seen = seen.__cause__ or seen.__context__
    return False

"""The request size limit: 413 for a body over `limits.max-request-body`, however it arrives."""

from __future__ import annotations

from collections.abc import AsyncIterator


class BodyTooLarge(Exception):
    """The client's body went past the gateway's limit while it was being read or streamed."""


async def limited(chunks: AsyncIterator[bytes], limit: int) -> AsyncIterator[bytes]:
    """The client's body as it arrives, failing once it exceeds `limit` bytes."""
    size = 0
    async for chunk in chunks:
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge
        yield chunk


def caused_by_too_large(error: BaseException) -> bool:
    """Did an HTTP client's error come from our limit, raised inside its upload?"""
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, BodyTooLarge):
            return True
        seen = seen.__cause__ or seen.__context__
    return False

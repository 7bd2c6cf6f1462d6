"""The usage a realtime session reports: summed over its `response.done` events.

OpenAI's (and Azure OpenAI's) realtime API reports each response's usage in its
`response.done` server event (`response.usage`: input and output tokens, cached input tokens
under `input_token_details`); a session's usage is the sum of its responses'. The model is
the one the session names (`session.created` / `session.updated`), else the one the
handshake asked for.
"""

from __future__ import annotations

from typing import Any

from gateway.common.fastjson import loads
from gateway.tokens.usage import InvalidUsage, Usage, from_usage_object

# Only these events are parsed; every other frame (audio deltas above all) is passed by after
# a substring test, without parsing it.
_DONE, _SESSION = b'"response.done"', b'"session.'


class SessionUsage:
    """The running total of one session's usage, fed each text frame the provider sends."""

    __slots__ = ("model", "usage")

    def __init__(self, model: str = "") -> None:
        self.model = model
        self.usage: Usage | None = None  # None until a response reports usage

    def feed(self, frame: str | bytes) -> None:
        data = frame.encode() if isinstance(frame, str) else frame
        if _DONE not in data and _SESSION not in data:
            return
        try:
            event = loads(data)
        except (ValueError, UnicodeDecodeError):
            return
        if not isinstance(event, dict):
            return
        kind = event.get("type")
        if kind in ("session.created", "session.updated"):
            session = event.get("session")
            model = session.get("model") if isinstance(session, dict) else None
            if isinstance(model, str) and model:
                self.model = model
        elif kind == "response.done":
            response = event.get("response")
            usage = response.get("usage") if isinstance(response, dict) else None
            if isinstance(usage, dict):
                try:
                    self._add(_usage_of(usage))
                except InvalidUsage:  # a figure no provider sends: not counted
                    return

    def _add(self, usage: Usage) -> None:
        total = self.usage or Usage()
        self.usage = Usage(
            prompt=total.prompt + usage.prompt,
            completion=total.completion + usage.completion,
            cached_prompt=total.cached_prompt + usage.cached_prompt,
            reasoning=total.reasoning + usage.reasoning,
        )

    def total(self) -> Usage | None:
        """The session's usage so far, naming its model (None: no response reported any)."""
        return self.usage._replace(model=self.model) if self.usage is not None else None


def _usage_of(usage: dict[str, Any]) -> Usage:
    """A realtime `usage` object: the Responses API's shape, but for its details' names."""
    return from_usage_object(
        {
            **usage,
            "input_tokens_details": usage.get("input_token_details") or {},
            "output_tokens_details": usage.get("output_token_details") or {},
        }
    )

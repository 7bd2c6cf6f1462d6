"""A stand-in for the gateway's `backend_calls` service, for steps that call a backend
themselves (llm-content-safety): answers from a function, and keeps every call."""

from __future__ import annotations

import json


class StubTransport:
    """Answers post_json from a function; records the calls."""

    def __init__(self, answer: object) -> None:
        self.answer = answer
        self.calls: list[tuple[str, str, dict]] = []

    async def post_json(
        self, backend_id: str, body: bytes, timeout: float, path: str = ""
    ) -> tuple[int, bytes]:
        self.calls.append((backend_id, path, json.loads(body)))
        if isinstance(self.answer, BaseException):
            raise self.answer
        assert callable(self.answer)
        return self.answer(path, json.loads(body))

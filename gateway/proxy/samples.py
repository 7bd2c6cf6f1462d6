"""Operation examples for `mock-response`: built in for LLM styles, declared for http APIs."""

from __future__ import annotations

from gateway.config.examples import BUILT_IN_EXAMPLES
from gateway.config.settings import GatewayConfig

JSON = "application/json"


class OperationSamples:
    """(api, operation) -> its examples as (status, content type, body), built at load."""

    def __init__(self, config: GatewayConfig) -> None:
        self._examples: dict[tuple[str, str], list[tuple[int, str, bytes]]] = {}
        for api in config.apis.values():
            if api.style == "http":
                for operation in api.operations:
                    self._examples[(api.id, operation.id)] = [
                        (e.status, e.content_type, e.body.encode()) for e in operation.examples
                    ]
            else:
                for operation_id, body in BUILT_IN_EXAMPLES.items():
                    self._examples[(api.id, operation_id)] = [(200, JSON, body)]

    def example(
        self, api: str, operation: str, status: int, content_type: str | None
    ) -> tuple[str, bytes] | None:
        for found_status, found_type, body in self._examples.get((api, operation), ()):
            if found_status == status and content_type in (None, found_type):
                return found_type, body
        return None

"""The built-in operations of the LLM API styles.

Operation IDs are those of APIM's imported Azure OpenAI API (the Azure OpenAI inference
specification's operationIds), whatever the style, so that policies testing
`context.Operation.Id` and operation-scope files (`apis/<api>/ChatCompletions_Create.xml`)
work unchanged. Where APIM has no such API (Anthropic's Messages, the Responses and Models
listings) the IDs follow the same `Noun_Verb` pattern.

URL templates are relative to the API's path suffix. `style: http` APIs declare their own
operations in gateway.yaml.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class OperationTemplate:
    id: str
    method: str
    url_template: str
    name: str


_OPENAI = (
    OperationTemplate(
        "ChatCompletions_Create", "POST", "/chat/completions", "Creates a chat completion"
    ),
    OperationTemplate("Completions_Create", "POST", "/completions", "Creates a completion"),
    OperationTemplate("embeddings_create", "POST", "/embeddings", "Creates embeddings"),
    OperationTemplate("Responses_Create", "POST", "/responses", "Creates a model response"),
    OperationTemplate("Models_List", "GET", "/models", "Lists the available models"),
    OperationTemplate("Realtime_Connect", "GET", "/realtime", "Opens a realtime WebSocket session"),
)

_AZURE_OPENAI = (
    *(
        OperationTemplate(
            op.id,
            op.method,
            op.url_template
            if op.id in ("Models_List", "Realtime_Connect")  # Azure: ?deployment= names the model
            else "/deployments/{deployment-id}" + op.url_template,
            op.name,
        )
        for op in _OPENAI
    ),
    # Azure's v1 API (`/openai/v1/realtime?model=...`, no api-version).
    OperationTemplate("Realtime_Connect", "GET", "/v1/realtime", "Opens a realtime session"),
)

_ANTHROPIC = (
    OperationTemplate("Messages_Create", "POST", "/v1/messages", "Creates a message"),
    OperationTemplate(
        "Messages_CountTokens", "POST", "/v1/messages/count_tokens", "Counts a message's tokens"
    ),
)

BUILT_IN_OPERATIONS: dict[str, tuple[OperationTemplate, ...]] = {
    "openai": _OPENAI,
    "azure-openai": _AZURE_OPENAI,
    "anthropic": _ANTHROPIC,
    "http": (),
}

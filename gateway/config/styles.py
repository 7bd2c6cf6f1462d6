"""The built-in operations of the LLM API styles.

Operation IDs are those of APIM's imported Azure OpenAI API (the Azure OpenAI inference
specification's operationIds: `ChatCompletions_Create`, `embeddings_create`,
`ImageGenerations_Create`, `Transcriptions_Create`, `Files_Upload`, `Batches_Create`, ...),
whatever the style, so that policies testing `context.Operation.Id` and operation-scope files
(`apis/<api>/ChatCompletions_Create.xml`) work unchanged. Where the specification has no such
operation (Anthropic's Messages, the Responses API, uploads, moderations) the IDs follow its
`Noun_Verb` pattern. docs/operations.md lists them all (a test keeps it in step with this file).

An Azure-OpenAI-style API serves each operation at every URL today's clients call it by: the
deployment form (`/deployments/{deployment-id}/chat/completions?api-version=...`), the
`api-version` form without a deployment (`/responses?api-version=...`, as `AzureOpenAI`'s
`responses.create` calls it) and the v1 API (`/v1/...`, no `api-version`). One operation, one
ID, whatever the URL: its policies apply however a client reaches it.

URL templates are relative to the API's path suffix. `style: http` APIs declare their own
operations in gateway.yaml; any API can add APIM's wildcard operations (`wildcard-operations`).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class OperationTemplate:
    id: str
    method: str
    url_template: str
    name: str


def _op(operation_id: str, method: str, template: str, name: str) -> OperationTemplate:
    return OperationTemplate(operation_id, method, template, name)


_OPENAI = (
    _op("Models_List", "GET", "/models", "Lists the available models"),
    _op("Models_Get", "GET", "/models/{model}", "Retrieves a model"),
    _op("ChatCompletions_Create", "POST", "/chat/completions", "Creates a chat completion"),
    _op("Completions_Create", "POST", "/completions", "Creates a completion"),
    _op("embeddings_create", "POST", "/embeddings", "Creates embeddings"),
    _op("Responses_Create", "POST", "/responses", "Creates a model response"),
    _op("Responses_Get", "GET", "/responses/{response_id}", "Retrieves a model response"),
    _op("Responses_Delete", "DELETE", "/responses/{response_id}", "Deletes a model response"),
    _op(
        "Responses_ListInputItems",
        "GET",
        "/responses/{response_id}/input_items",
        "Lists a response's input items",
    ),
    _op("Responses_Cancel", "POST", "/responses/{response_id}/cancel", "Cancels a response"),
    _op("ImageGenerations_Create", "POST", "/images/generations", "Creates images"),
    _op("ImageEdits_Create", "POST", "/images/edits", "Edits an image"),
    _op("ImageVariations_Create", "POST", "/images/variations", "Creates image variations"),
    _op("Speech_Create", "POST", "/audio/speech", "Generates audio from text"),
    _op("Transcriptions_Create", "POST", "/audio/transcriptions", "Transcribes audio"),
    _op("Translations_Create", "POST", "/audio/translations", "Translates audio to English"),
    _op("Moderations_Create", "POST", "/moderations", "Classifies content"),
    _op("Files_Upload", "POST", "/files", "Uploads a file"),
    _op("Files_List", "GET", "/files", "Lists files"),
    _op("Files_Get", "GET", "/files/{file-id}", "Retrieves a file"),
    _op("Files_Delete", "DELETE", "/files/{file-id}", "Deletes a file"),
    _op("Files_GetContent", "GET", "/files/{file-id}/content", "Retrieves a file's content"),
    _op("Uploads_Create", "POST", "/uploads", "Creates an upload"),
    _op("Uploads_AddPart", "POST", "/uploads/{upload-id}/parts", "Adds a part to an upload"),
    _op("Uploads_Complete", "POST", "/uploads/{upload-id}/complete", "Completes an upload"),
    _op("Uploads_Cancel", "POST", "/uploads/{upload-id}/cancel", "Cancels an upload"),
    _op("Batches_Create", "POST", "/batches", "Creates a batch"),
    _op("Batches_List", "GET", "/batches", "Lists batches"),
    _op("Batches_Get", "GET", "/batches/{batch-id}", "Retrieves a batch"),
    _op("Batches_Cancel", "POST", "/batches/{batch-id}/cancel", "Cancels a batch"),
    _op("Realtime_Connect", "GET", "/realtime", "Opens a realtime WebSocket session"),
)

# The paths Azure OpenAI serves under a deployment (the openai SDK's `_deployments_endpoints`:
# `AzureOpenAI` puts `/deployments/{model}` before these, and only these).
DEPLOYMENT_PATHS = frozenset(
    {
        "/chat/completions",
        "/completions",
        "/embeddings",
        "/images/generations",
        "/images/edits",
        "/audio/speech",
        "/audio/transcriptions",
        "/audio/translations",
    }
)


def _azure() -> tuple[OperationTemplate, ...]:
    deployments = tuple(
        _op(op.id, op.method, "/deployments/{deployment-id}" + op.url_template, op.name)
        for op in _OPENAI
        if op.url_template in DEPLOYMENT_PATHS
    )
    plain = tuple(op for op in _OPENAI if op.url_template not in DEPLOYMENT_PATHS)
    v1 = tuple(_op(op.id, op.method, "/v1" + op.url_template, op.name) for op in _OPENAI)
    return deployments + plain + v1


_ANTHROPIC = (
    _op("Messages_Create", "POST", "/v1/messages", "Creates a message"),
    _op("Messages_CountTokens", "POST", "/v1/messages/count_tokens", "Counts a message's tokens"),
)

BUILT_IN_OPERATIONS: dict[str, tuple[OperationTemplate, ...]] = {
    "openai": _OPENAI,
    "azure-openai": _azure(),
    "anthropic": _ANTHROPIC,
    "http": (),
}


def wildcard_operations(methods: tuple[str, ...]) -> tuple[OperationTemplate, ...]:
    """APIM's wildcard operations, `/*` for each of `methods`, as its pass-through import of a
    language model API makes them: any path under the API reaches the backend through the
    policies. Known operations match first."""
    return tuple(
        _op(f"wildcard-{method.lower()}", method, "/*", f"{method} /*") for method in methods
    )

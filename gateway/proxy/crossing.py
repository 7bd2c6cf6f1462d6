"""A call in one API's style served by a backend of another: translated, answered or refused.

The client's API decides the style it speaks (`context.style`: the chat operation of an
OpenAI- or Azure-OpenAI-style API is OpenAI's chat, an Anthropic-style API speaks Anthropic's
messages); the backend's `provider` decides what it speaks (`anthropic`, or the OpenAI API
for every other provider). When they differ, the request is translated on the way out
(gateway.providers.translate) and the response, buffered or streamed, errors included, on the
way back, so the client and every outbound policy see its own style. The backend's
`translation` settings say whether reasoning and sampling fields cross too. The request
itself is left as the client sent it, so another attempt translates it afresh.

Which operations cross how is one table (gateway.providers.crossings): OpenAI chat <->
Anthropic messages, OpenAI's Responses to Anthropic messages (by way of chat) and OpenAI's
model listing are translated; Anthropic's `count_tokens` on a
backend that is not Anthropic is counted here, offline, and never sent (a completion would be
billed for it); every other operation between the two is refused with a 400 in the client's
error shape (reason `OperationNotSupported`), before anything is sent.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from gateway.config.backends import Backend
from gateway.expressions.model import MessageBody
from gateway.providers.common import UNREADABLE
from gateway.providers.crossings import OPERATION_NOT_SUPPORTED, crossing, refusal
from gateway.providers.models import LIMIT, models_to_openai
from gateway.providers.responses import chat_response_to_response, responses_request_to_chat
from gateway.providers.responses_stream import MessagesStreamToResponses
from gateway.providers.translate import (
    ChatStreamToMessages,
    MessagesStreamToChat,
    TranslationError,
    chat_request_to_messages,
    chat_response_to_messages,
    error_to_chat,
    error_to_messages,
    messages_request_to_chat,
    messages_response_to_chat,
    stream_include_usage,
)
from gateway.runtime.context import RequestContext
from gateway.runtime.step import PolicyError

ANTHROPIC_VERSION = "2023-06-01"


def client_style(context: RequestContext) -> str | None:
    """The API a chat call is written in, when the request is one: OpenAI's chat (the chat
    operation of an OpenAI- or Azure-OpenAI-style API) or Anthropic's messages."""
    return _style_of(context.style, context.model.Operation.Id)


def _style_of(style: str, operation: str) -> str | None:
    if style == "anthropic":
        return "anthropic"
    if operation == "ChatCompletions_Create" and style in ("openai", "azure-openai"):
        return "openai"
    return None  # embeddings, models, http APIs: passed as they are


# Operations, API styles and providers are gateway.yaml's: a handful of combinations, each
# decided once rather than on every attempt.
@lru_cache(maxsize=256)
def _how(operation: str, style: str, provider: str) -> tuple[str, str | None]:
    """How a call of `operation` on an API of `style` crosses to `provider`
    (gateway.providers.crossings), and the API it speaks on the way (None: none to translate)."""
    how = crossing(operation, style, provider)
    if operation == "Responses_Create" and how == "translated":
        return how, "openai"
    return how, _style_of(style, operation)


@dataclass
class Crossing:
    """How one attempt's request goes out and its response comes back."""

    path: str | None  # None: the path the client asked for
    body: bytes | None  # None: the body as the client sent it
    headers: list[tuple[str, str]]
    translate_response: Callable[[RequestContext], None] = lambda _: None
    query: list[tuple[str, str]] | None = None  # None: the query the client sent
    answer: bytes | None = None  # the gateway's own JSON answer: the backend is not called
    # A chat request whose tokens are the gateway's own answer (Anthropic's count_tokens), to
    # count then (a large one off the event loop): the backend is not called either.
    counted: dict[str, Any] | None = None


def crossing_for(context: RequestContext, backend: Backend) -> Crossing | None:
    """What this attempt changes on the way: a translation to the backend's API, the gateway's
    own answer, Azure's deployment URLs to or from OpenAI's, or only the model's name (the
    backend's `models`); None when the request goes as it is. Raises the refusal of an
    operation the backend's provider does not serve."""
    operation = context.model.Operation.Id
    how, spoken = _how(operation, context.style, backend.provider)
    if how == "refused":
        message = refusal(operation, backend.id, backend.provider)
        raise PolicyError("forward-request", OPERATION_NOT_SUPPORTED, message, status=400)
    if operation == "Models_List" and how == "translated":
        return _models_to_anthropic()
    if spoken is None or (how == "passed" and backend.provider == "http"):
        return None
    deployment = str(context.model.Request.MatchedParameters.get("deployment-id", ""))
    to_azure = backend.provider == "azure-openai"
    if how == "passed" and not backend.models and bool(deployment) == to_azure:
        return None
    body = context.model.Request.Body
    try:
        request = json.loads(body.read(preserve=True)) if body is not None else None
        if not isinstance(request, dict):
            raise TranslationError("the request body is not a JSON object")
        model = str(request.get("model") or deployment)
        request["model"] = backend.models.get(model, model)
        if how == "answered":
            return _counted(request)
        if how == "passed":
            return _same_api(context, request, deployment, backend)
        if operation == "Responses_Create":  # translated (not passed)
            return _responses_to_anthropic(request, model, backend)
        if spoken == "openai":
            return _to_anthropic(request, model, backend)
        return _to_openai(request, model, backend)
    except TranslationError as error:
        message = f"The request cannot be sent to this backend: {error}"
        raise PolicyError("forward-request", "TranslationFailure", message, status=400) from None
    except (ValueError, RecursionError):  # a client's body: not JSON, or nested past the stack
        message = "The request cannot be sent to this backend: its body is not JSON it can read"
        raise PolicyError("forward-request", "TranslationFailure", message, status=400) from None


def reads_body(context: RequestContext) -> bool:
    """Whether an attempt may need the whole request body (to translate or rename in it)."""
    return client_style(context) is not None or context.model.Operation.Id == "Responses_Create"


def _counted(request: dict[str, Any]) -> Crossing:
    """Anthropic's count_tokens for a backend that is not Anthropic: the prompt the backend
    would be sent (the request translated to its chat, its model the backend's), for the
    upstream to count offline (exactly for OpenAI's models, estimated for others) and answer
    in Anthropic's shape."""
    return Crossing(None, None, [], counted=messages_request_to_chat(request, sampling=False))


def _models_to_anthropic() -> Crossing:
    """OpenAI's models.list() from Anthropic's listing, its largest page (the whole list)."""

    def translate_response(context: RequestContext) -> None:
        if context.response_stream is None:  # a listing is JSON (unbuffered: left as it comes)
            _translate(context, lambda: None, models_to_openai, error_to_chat)

    headers = [("anthropic-version", ANTHROPIC_VERSION)]
    return Crossing("/v1/models", None, headers, translate_response, [("limit", str(LIMIT))])


def _same_api(
    context: RequestContext, request: dict[str, Any], deployment: str, backend: Backend
) -> Crossing:
    """OpenAI chat to OpenAI chat: the model renamed, and Azure's URLs where one side is Azure
    (the deployment is the model; `api-version` is Azure's alone)."""
    query = [(k, v) for k, v in context.model.Request.Url.Query.lines() if k != "api-version"]
    if backend.provider == "azure-openai":
        if deployment and request["model"] == deployment:  # Azure to Azure: only the name
            return Crossing(None, json.dumps(request).encode(), [])
        path = f"/deployments/{request['model']}/chat/completions"
        query.append(("api-version", backend.api_version))
        return Crossing(path, json.dumps(request).encode(), [], query=query)
    if deployment:  # an Azure client, an OpenAI-shaped backend
        return Crossing("/chat/completions", json.dumps(request).encode(), [], query=query)
    return Crossing(None, json.dumps(request).encode(), [])


def _to_anthropic(request: dict[str, Any], model: str, backend: Backend) -> Crossing:
    include_usage = stream_include_usage(request)
    reasoning = backend.translation.reasoning == "map"
    translated = chat_request_to_messages(
        request, reasoning=reasoning, sampling=backend.translation.sampling == "map"
    )

    def translate_response(context: RequestContext) -> None:
        _translate(
            context,
            lambda: MessagesStreamToChat(include_usage, model or None, reasoning=reasoning),
            lambda document: messages_response_to_chat(document, reasoning=reasoning),
            error_to_chat,
        )

    headers = [("anthropic-version", ANTHROPIC_VERSION), ("Content-Type", "application/json")]
    return Crossing("/v1/messages", json.dumps(translated).encode(), headers, translate_response)


def _responses_to_anthropic(request: dict[str, Any], model: str, backend: Backend) -> Crossing:
    """The Responses API by way of Chat Completions (gateway.providers.responses)."""
    original = {**request, "model": model}  # the Response echoes the client's settings
    crossing = _to_anthropic(responses_request_to_chat(request), model, backend)
    reasoning = backend.translation.reasoning == "map"

    def translate_response(context: RequestContext) -> None:
        _translate(
            context,
            lambda: MessagesStreamToResponses(original, model or None),
            lambda document: chat_response_to_response(
                messages_response_to_chat(document, reasoning=reasoning), original
            ),
            error_to_chat,
        )

    crossing.translate_response = translate_response
    return crossing


def _to_openai(request: dict[str, Any], model: str, backend: Backend) -> Crossing:
    reasoning = backend.translation.reasoning == "map"
    translated = messages_request_to_chat(
        request, reasoning=reasoning, sampling=backend.translation.sampling == "map"
    )

    def translate_response(context: RequestContext) -> None:
        _translate(
            context,
            lambda: ChatStreamToMessages(model or None, reasoning=reasoning),
            lambda document: chat_response_to_messages(document, reasoning=reasoning),
            error_to_messages,
        )

    headers = [("Content-Type", "application/json")]
    body = json.dumps(translated).encode()
    if backend.provider == "azure-openai":  # the deployment is the (renamed) model
        path = f"/deployments/{translated.get('model', '')}/chat/completions"
        return Crossing(
            path, body, headers, translate_response, [("api-version", backend.api_version)]
        )
    return Crossing("/chat/completions", body, headers, translate_response)


def _translate(
    context: RequestContext,
    stream_translator: Callable[[], Any],
    document: Callable[[dict[str, Any]], dict[str, Any]],
    error: Callable[[int, bytes], bytes],
) -> None:
    response = context.model.Response
    if context.response_stream is not None and response.StatusCode < 400:
        context.response_stream = _translated_stream(context.response_stream, stream_translator())
        return
    raw = response.Body.read(preserve=True) if response.Body is not None else b""
    if context.response_stream is not None:  # an error sent as a stream: rare, kept whole
        return
    if response.StatusCode >= 400:
        response.Body = MessageBody(error(response.StatusCode, raw))
    else:
        try:
            translated = document(json.loads(raw))
        except (*UNREADABLE, RecursionError):
            # Not JSON, or JSON of another shape than the provider's document (not an object,
            # a field of another type, nested too deep to walk): passed on as it came.
            return
        response.Body = MessageBody(json.dumps(translated).encode())
    response.Headers.set("Content-Type", ["application/json"])
    response.Headers.remove("Content-Length")


async def _translated_stream(chunks: AsyncIterator[bytes], translator: Any) -> AsyncIterator[bytes]:
    try:
        async for chunk in chunks:
            if out := translator.feed(chunk):
                yield out
        if rest := translator.close():
            yield rest
    finally:
        aclose = getattr(chunks, "aclose", None)
        if aclose is not None:
            await aclose()

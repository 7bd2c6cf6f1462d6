"""Fuzz targets for the translators between the providers' APIs (gateway/providers).

The property, as gateway/providers/translate.py documents it: a request translator refuses
what it cannot translate with `TranslationError` (the client's 400) and nothing else; a
response translator given a document of another shape than the provider's raises only what
walking it raises (`UNREADABLE`: the proxy then passes the body on as it came); the error and
stream translators never raise on what a backend sends; whatever comes out is JSON the proxy
can write (`json.dumps`), and a stream translator's output is SSE whose every event's data is
JSON.
"""

from __future__ import annotations

import contextlib
import json
from typing import Any

from gateway.common.fastjson import loads
from gateway.common.sse import DONE, parse
from gateway.providers import translate as chat_and_messages
from gateway.providers.common import UNREADABLE
from gateway.providers.models import models_to_openai
from gateway.providers.responses import chat_response_to_response, responses_request_to_chat
from gateway.providers.responses_stream import ChatStreamToResponses, MessagesStreamToResponses
from gateway.providers.translate import TranslationError
from tests.fuzz.streams import chunkings

_NOT_JSON = object()


def _document(data: bytes) -> Any:
    try:
        return json.loads(data)
    except (ValueError, RecursionError):  # the proxy's own reading refuses these first
        return _NOT_JSON


def _writable(value: Any) -> None:
    json.dumps(value)


def translate_request(data: bytes) -> None:
    """A client's request body, translated for the other API (or refused)."""
    body = _document(data)
    if not isinstance(body, dict):
        return  # the proxy refuses a body that is not a JSON object before translating
    chat_and_messages.stream_include_usage(body)
    translations = (
        lambda: chat_and_messages.chat_request_to_messages(body),
        lambda: chat_and_messages.chat_request_to_messages(
            body, 1024, reasoning=True, sampling=False
        ),
        lambda: chat_and_messages.messages_request_to_chat(body),
        lambda: chat_and_messages.messages_request_to_chat(body, reasoning=True, sampling=False),
        lambda: chat_and_messages.chat_request_to_messages(responses_request_to_chat(body)),
    )
    for translate in translations:
        try:
            _writable(translate())
        except TranslationError as error:
            assert str(error), "a refusal says why"


def translate_response(data: bytes) -> None:
    """A backend's 2xx JSON document, and its error body, translated for the client."""
    for status in (400, 529):
        _writable(loads(chat_and_messages.error_to_chat(status, data)))
        _writable(loads(chat_and_messages.error_to_messages(status, data)))
    document = _document(data)
    if document is _NOT_JSON:
        return  # the proxy passes a body that is not JSON on as it came
    translations = [
        lambda: chat_response_to_response(
            chat_and_messages.messages_response_to_chat(document, reasoning=True),
            {"model": "m", "input": "hi"},
        ),
        lambda: chat_and_messages.messages_response_to_chat(document),
        lambda: chat_and_messages.chat_response_to_messages(document, reasoning=True),
        lambda: chat_and_messages.chat_response_to_messages(document),
        lambda: models_to_openai(document),
    ]
    for translate in translations:
        with contextlib.suppress(*UNREADABLE):  # another shape: the proxy passes it on
            _writable(translate())


def _translators() -> dict[str, Any]:
    request = {"model": "m", "input": "hi", "stream": True}
    return {
        "anthropic -> chat": chat_and_messages.MessagesStreamToChat(True, "m", reasoning=True),
        "chat -> anthropic": chat_and_messages.ChatStreamToMessages("m", reasoning=True),
        "chat -> responses": ChatStreamToResponses(request),
        "anthropic -> responses": MessagesStreamToResponses(request, "m"),
    }


def translate_stream(data: bytes) -> None:
    """A backend's SSE stream, whole and cut in places, through each stream translator (a byte
    at a time is the SSE target's: here it would only slow the search)."""
    cuts = chunkings(data)
    for chunks in (cuts["whole"], cuts["cut"]):
        for name, translator in _translators().items():
            out = b"".join(translator.feed(chunk) for chunk in chunks) + translator.close()
            for event in parse(out):
                if event.data != DONE:
                    _writable(loads(event.data))
            assert out, f"{name}: a stream always ends with its end or an error event"

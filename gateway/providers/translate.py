"""The translation layer between OpenAI Chat Completions and Anthropic Messages, in one place.

Two directions, each a request module and a response module (pure: no I/O, standard library
only), with what they share in `common`, `sse` (streams) and `reasoning`:

* An OpenAI client served by an Anthropic backend: `chat_request_to_messages` for the request
  (`to_anthropic`); `messages_response_to_chat` for a JSON response, `MessagesStreamToChat` for a
  streamed one, `error_to_chat` for an error body (`from_anthropic`).
* An Anthropic client served by an OpenAI(-compatible) backend: `messages_request_to_chat`
  (`to_openai`); `chat_response_to_messages`, `ChatStreamToMessages`, `error_to_messages`
  (`from_openai`).

OpenAI's Responses API for an Anthropic backend goes by way of chat (`responses`,
`responses_stream`); OpenAI's model list from Anthropic's is `models`.

Request translators raise `TranslationError` (a ValueError) for a malformed request and for
what the backend cannot express without changing the request's meaning; the caller responds 400
with its message, in the client's error shape. Fields with no counterpart that do not change the
meaning are dropped; each module lists them. Two keywords follow the backend's `translation`
setting: `reasoning` (reasoning_effort <-> thinking, and the completion's reasoning text back; off
by default) and `sampling` (temperature and top_p; on by default). The response translators take
the provider's success document (a 2xx body; errors go to error_to_chat / error_to_messages)
and translate what they know, leaving the rest out; JSON of another shape (not an object, a
field of another type) raises what walking it raises (`common.UNREADABLE`), and the proxy
passes that body on as it came, as it does a body that is not JSON. The stream translators
never raise on upstream content: an upstream error, an unreadable event or a stream cut short
ends the output with the client's error event.
"""

from __future__ import annotations

from gateway.providers.common import TranslationError
from gateway.providers.from_anthropic import (
    MessagesStreamToChat,
    error_to_chat,
    messages_response_to_chat,
)
from gateway.providers.from_openai import (
    ChatStreamToMessages,
    chat_response_to_messages,
    error_to_messages,
)
from gateway.providers.to_anthropic import chat_request_to_messages, stream_include_usage
from gateway.providers.to_openai import messages_request_to_chat

__all__ = [
    "ChatStreamToMessages",
    "MessagesStreamToChat",
    "TranslationError",
    "chat_request_to_messages",
    "chat_response_to_messages",
    "error_to_chat",
    "error_to_messages",
    "messages_request_to_chat",
    "messages_response_to_chat",
    "stream_include_usage",
]

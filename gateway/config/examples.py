"""Example responses of the built-in LLM operations, for `mock-response`.

APIM's `mock-response` responds with the example the operation's definition holds; the
imported Azure OpenAI API has examples, so ours do too. Each is a small, valid response of its
provider's shape (the official SDKs parse it), clearly marked as a mock.
"""

from __future__ import annotations

import json

MOCK_TEXT = "This is a mock response from aigw."

_USAGE = {"prompt_tokens": 9, "completion_tokens": 8, "total_tokens": 17}

_CHAT = {
    "id": "chatcmpl-mock",
    "object": "chat.completion",
    "created": 1700000000,
    "model": "mock",
    "choices": [
        {
            "index": 0,
            "message": {"role": "assistant", "content": MOCK_TEXT},
            "finish_reason": "stop",
        }
    ],
    "usage": _USAGE,
}
_COMPLETION = {
    "id": "cmpl-mock",
    "object": "text_completion",
    "created": 1700000000,
    "model": "mock",
    "choices": [{"index": 0, "text": MOCK_TEXT, "finish_reason": "stop", "logprobs": None}],
    "usage": _USAGE,
}
_EMBEDDINGS = {
    "object": "list",
    "model": "mock",
    "data": [{"object": "embedding", "index": 0, "embedding": [0.0, 0.6, 0.8]}],
    "usage": {"prompt_tokens": 4, "total_tokens": 4},
}
_RESPONSE = {
    "id": "resp-mock",
    "object": "response",
    "created_at": 1700000000,
    "status": "completed",
    "model": "mock",
    "output": [
        {
            "type": "message",
            "id": "msg-mock",
            "status": "completed",
            "role": "assistant",
            "content": [{"type": "output_text", "text": MOCK_TEXT, "annotations": []}],
        }
    ],
    "usage": {"input_tokens": 9, "output_tokens": 8, "total_tokens": 17},
}
_MODELS = {
    "object": "list",
    "data": [{"id": "mock", "object": "model", "created": 1700000000, "owned_by": "aigw"}],
}
_MESSAGE = {
    "id": "msg_mock",
    "type": "message",
    "role": "assistant",
    "model": "mock",
    "content": [{"type": "text", "text": MOCK_TEXT}],
    "stop_reason": "end_turn",
    "stop_sequence": None,
    "usage": {"input_tokens": 9, "output_tokens": 8},
}

# Operation ID -> its 200 example, as JSON bytes.
BUILT_IN_EXAMPLES: dict[str, bytes] = {
    op: json.dumps(body).encode()
    for op, body in {
        "ChatCompletions_Create": _CHAT,
        "Completions_Create": _COMPLETION,
        "embeddings_create": _EMBEDDINGS,
        "Responses_Create": _RESPONSE,
        "Models_List": _MODELS,
        "Messages_Create": _MESSAGE,
        "Messages_CountTokens": {"input_tokens": 9},
    }.items()
}

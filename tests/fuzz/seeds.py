"""Where each fuzz target starts from: the repository's own inputs of its kind (the APIM
corpus, the sample and shipped policies directories, every expression the suite holds) and a
few hand-written requests, responses and streams of each provider. `tools/fuzz.py` writes
them into its working folder; the saved corpus (tests/fuzz/corpus/) is read beside them."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

from tests.conftest import REPO, corpus_files
from tests.expressions.expression_sources import HAND_WRITTEN, corpus_expressions
from tests.fuzz.loading import bundle

_DIRECTORIES = [REPO / "policies", *sorted(p for p in (REPO / "samples").iterdir() if p.is_dir())]

CHAT_REQUEST = {
    "model": "gpt-4o",
    "messages": [
        {"role": "system", "content": "be brief"},
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "hi"},
                {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}},
            ],
        },
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {"id": "c1", "type": "function", "function": {"name": "f", "arguments": '{"a":1}'}}
            ],
        },
        {"role": "tool", "tool_call_id": "c1", "content": "42"},
    ],
    "tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}],
    "tool_choice": "auto",
    "stream": True,
    "stream_options": {"include_usage": True},
    "reasoning_effort": "low",
    "max_tokens": 100,
    "temperature": 0.5,
    "response_format": {"type": "json_schema", "json_schema": {"schema": {"type": "object"}}},
}
MESSAGES_REQUEST = {
    "model": "claude-sonnet-4",
    "system": [{"type": "text", "text": "be brief"}],
    "max_tokens": 100,
    "thinking": {"type": "enabled", "budget_tokens": 1024},
    "messages": [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "hi"},
                {
                    "type": "image",
                    "source": {"type": "base64", "media_type": "image/png", "data": "AAAA"},
                },
            ],
        },
        {
            "role": "assistant",
            "content": [{"type": "tool_use", "id": "t1", "name": "f", "input": {"a": 1}}],
        },
        {
            "role": "user",
            "content": [
                {
                    "type": "tool_result",
                    "tool_use_id": "t1",
                    "content": [{"type": "text", "text": "42"}],
                }
            ],
        },
    ],
    "tools": [{"name": "f", "input_schema": {"type": "object"}}],
    "tool_choice": {"type": "any"},
}
RESPONSES_REQUEST = {
    "model": "gpt-4o",
    "instructions": "be brief",
    "input": [
        {"role": "user", "content": [{"type": "input_text", "text": "hi"}]},
        {"type": "function_call_output", "call_id": "c1", "output": "42"},
    ],
    "tools": [{"type": "function", "name": "f", "parameters": {}}],
    "tool_choice": {"type": "function", "name": "f"},
}
CHAT_RESPONSE = {
    "id": "chatcmpl-1",
    "object": "chat.completion",
    "created": 1,
    "model": "gpt-4o",
    "choices": [
        {
            "index": 0,
            "finish_reason": "tool_calls",
            "message": {
                "role": "assistant",
                "content": "hi",
                "reasoning_content": "hm",
                "tool_calls": [
                    {"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}
                ],
            },
        }
    ],
    "usage": {
        "prompt_tokens": 3,
        "completion_tokens": 4,
        "total_tokens": 7,
        "prompt_tokens_details": {"cached_tokens": 1},
    },
}
MESSAGES_RESPONSE = {
    "id": "msg_1",
    "type": "message",
    "role": "assistant",
    "model": "claude-sonnet-4",
    "stop_reason": "tool_use",
    "content": [
        {"type": "thinking", "thinking": "hm", "signature": "s"},
        {"type": "text", "text": "hi"},
        {"type": "tool_use", "id": "t1", "name": "f", "input": {"a": 1}},
    ],
    "usage": {"input_tokens": 3, "output_tokens": 4, "cache_read_input_tokens": 1},
}
MODELS = {
    "data": [
        {
            "type": "model",
            "id": "claude-sonnet-4",
            "display_name": "Sonnet",
            "created_at": "2025-05-14T00:00:00Z",
        }
    ],
    "has_more": False,
}
ERRORS = [
    b'{"type":"error","error":{"type":"overloaded_error","message":"busy"}}',
    b'{"error":{"message":"no","type":"invalid_request_error","code":null}}',
    b"<html>bad gateway</html>",
]

CHAT_STREAM = (
    b'data: {"id":"c","object":"chat.completion.chunk","model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":"h","reasoning_content":"r"}}]}\n\n'
    b'data: {"id":"c","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"c1","type":"function","function":{"name":"f","arguments":"{\\"a\\""}}]}}]}\n\n'
    b'data: {"id":"c","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":":1}"}}]},"finish_reason":"tool_calls"}]}\n\n'
    b'data: {"id":"c","choices":[],"usage":{"prompt_tokens":3,"completion_tokens":4,"total_tokens":7}}\n\n'
    b"data: [DONE]\n\n"
)
MESSAGES_STREAM = (
    b'event: message_start\r\ndata: {"type":"message_start","message":{"id":"msg_1","model":"m","usage":{"input_tokens":3,"output_tokens":1}}}\r\n\r\n'
    b": ping\r\n\r\n"
    b'event: content_block_start\ndata: {"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":""}}\n\n'
    b'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"hm"}}\n\n'
    b'event: content_block_start\ndata: {"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"t1","name":"f","input":{}}}\n\n'
    b'event: content_block_delta\ndata: {"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\\"a\\":1}"}}\n\n'
    b'event: content_block_stop\ndata: {"type":"content_block_stop","index":1}\n\n'
    b'event: message_delta\ndata: {"type":"message_delta","delta":{"stop_reason":"tool_use"},"usage":{"output_tokens":4}}\n\n'
    b'event: message_stop\ndata: {"type":"message_stop"}\n\n'
)
ERROR_STREAM = (
    b'event: error\ndata: {"type":"error","error":{"type":"overloaded_error","message":"busy"}}\n\n'
)


def _json(*documents: object) -> Iterator[bytes]:
    return (json.dumps(document).encode() for document in documents)


def _policy_files(suffixes: tuple[str, ...]) -> Iterator[bytes]:
    for folder in _DIRECTORIES:
        for path in sorted(folder.rglob("*")):
            if path.suffix in suffixes and path.name != "gateway.yaml":
                yield path.read_bytes()


def _directories() -> Iterator[bytes]:
    for folder in _DIRECTORIES:
        files = {
            path.relative_to(folder).as_posix(): path.read_bytes()
            for path in sorted(folder.rglob("*"))
            if path.is_file()
        }
        yield bundle(files)


SEEDS: dict[str, Callable[[], Iterator[bytes]]] = {
    "policy_xml": lambda: (
        *_policy_files((".xml",)),
        *(path.read_bytes() for path in corpus_files()),
    ).__iter__(),
    "policy_yaml": lambda: _policy_files((".yaml", ".yml")),
    "gateway_yaml": lambda: (
        folder.joinpath("gateway.yaml").read_bytes() for folder in _DIRECTORIES
    ),
    "directory": _directories,
    "expression": lambda: (
        source.encode() for source in dict.fromkeys([*HAND_WRITTEN, *corpus_expressions()])
    ),
    "sse": lambda: iter([CHAT_STREAM, MESSAGES_STREAM, ERROR_STREAM]),
    "translate_request": lambda: _json(CHAT_REQUEST, MESSAGES_REQUEST, RESPONSES_REQUEST),
    "translate_response": lambda: iter([*_json(CHAT_RESPONSE, MESSAGES_RESPONSE, MODELS), *ERRORS]),
    "translate_stream": lambda: iter([CHAT_STREAM, MESSAGES_STREAM, ERROR_STREAM]),
}


def write_seeds(target: str, folder: Path) -> int:
    """Write the target's seeds into `folder`, one file each; how many."""
    folder.mkdir(parents=True, exist_ok=True)
    count = 0
    for count, data in enumerate(SEEDS[target](), start=1):
        (folder / f"seed-{count:04d}").write_bytes(data)
    return count

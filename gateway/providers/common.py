"""What both translation directions share: tool calls, stop reasons, usage, errors, ids, media.

Pure functions: no I/O, standard library only.
"""

from __future__ import annotations

import base64
import functools
import json
import time
import urllib.parse
import uuid
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar


class TranslationError(ValueError):
    """A request is malformed, or uses what the other API cannot express: respond 400 with it."""


def dumps(value: Any) -> str:
    """Compact JSON as the providers write it (and non-ASCII text kept readable)."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def now() -> int:
    return int(time.time())


def with_prefix(value: Any, prefix: str) -> str:
    """The provider's id, prefixed as the client's API spells ids; a fresh one if there is none."""
    if not isinstance(value, str) or not value:
        return fresh_id(prefix)
    return value if value.startswith(prefix) else prefix + value


def fresh_id(prefix: str) -> str:
    return prefix + uuid.uuid4().hex[:24]


# Upstream JSON of an unexpected shape surfaces as one of these while it is walked.
UNREADABLE = (ValueError, TypeError, LookupError, AttributeError)


_P = ParamSpec("_P")
_R = TypeVar("_R")


def refuses_malformed(function: Callable[_P, _R]) -> Callable[_P, _R]:
    """A request translator that reports a malformed request as TranslationError (a 400), not
    as whatever exception walking the wrong JSON shape happened to raise (a 500)."""

    @functools.wraps(function)
    def translate(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        try:
            return function(*args, **kwargs)
        except TranslationError:
            raise
        except UNREADABLE as error:
            message = f"malformed request ({type(error).__name__}: {error})"
            raise TranslationError(message) from error

    return translate


def nonnull(value: Any) -> dict[str, Any]:
    """A usage object's set fields: later (cumulative) counts overwrite, nulls never erase."""
    if not isinstance(value, dict):
        return {}
    return {k: v for k, v in value.items() if v is not None}


def arguments_object(text: Any) -> dict[str, Any]:
    """OpenAI's tool-call arguments (a JSON text) as the object Anthropic's `input` must be.

    Models sometimes write arguments that are not a JSON object. The response must still translate,
    so they become {}: the client's own schema check then reports the problem to the model, which
    is what would happen with the provider's own API.
    """
    if isinstance(text, dict):
        return text
    if not isinstance(text, str) or not text.strip():
        return {}
    try:
        value = json.loads(text)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def tool_use_block(call: dict[str, Any], block_id: str) -> dict[str, Any]:
    """An OpenAI tool call (of a request's history or of a response) as Anthropic's block."""
    function = call.get("function") or {}
    return {
        "type": "tool_use",
        "id": block_id,
        "name": function.get("name") or "",
        "input": arguments_object(function.get("arguments")),
    }


def chat_tool_call(
    block: dict[str, Any], call_id: Any, arguments: str | None = None
) -> dict[str, Any]:
    """An Anthropic tool_use block (of a request's history or of a response) as OpenAI's call;
    its arguments are the block's input as JSON unless given (a stream's first piece)."""
    if arguments is None:
        arguments = dumps(block.get("input") or {})
    function = {"name": block.get("name") or "", "arguments": arguments}
    return {"id": call_id, "type": "function", "function": function}


# --- Stop reasons and usage --------------------------------------------------------------------

# pause_turn (a server tool paused a long turn) has no OpenAI counterpart: the server tools are
# not translated, so the turn simply ends. model_context_window_exceeded is a length stop.
STOP_TO_FINISH = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "pause_turn": "stop",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "tool_use": "tool_calls",
    "refusal": "content_filter",
}
# OpenAI does not say which stop sequence matched, so "stop" is always end_turn.
FINISH_TO_STOP = {
    "stop": "end_turn",
    "length": "max_tokens",
    "tool_calls": "tool_use",
    "function_call": "tool_use",
    "content_filter": "refusal",
}


def finish_reason(stop_reason: Any) -> str:
    return STOP_TO_FINISH.get(stop_reason, "stop") if isinstance(stop_reason, str) else "stop"


def stop_reason(finish: Any, has_calls: bool, refused: bool) -> str:
    if refused:
        return "refusal"
    reason = FINISH_TO_STOP.get(finish, "end_turn") if isinstance(finish, str) else "end_turn"
    # Some OpenAI-compatible servers end a tool-calling turn with "stop"; Anthropic clients run
    # tools on stop_reason "tool_use", so the calls decide.
    return "tool_use" if has_calls and reason == "end_turn" else reason


def usage_to_chat(usage: dict[str, Any]) -> dict[str, Any]:
    """Anthropic usage -> OpenAI's: prompt_tokens counts the whole prompt, cached parts included."""
    read = _count(usage.get("cache_read_input_tokens"))
    written = _count(usage.get("cache_creation_input_tokens"))
    prompt = _count(usage.get("input_tokens")) + read + written
    completion = _count(usage.get("output_tokens"))
    out: dict[str, Any] = {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "prompt_tokens_details": {"cached_tokens": read},
    }
    thinking = (usage.get("output_tokens_details") or {}).get("thinking_tokens")
    if isinstance(thinking, int):
        out["completion_tokens_details"] = {"reasoning_tokens": thinking}
    return out


def usage_to_messages(usage: dict[str, Any]) -> dict[str, Any]:
    """OpenAI usage -> Anthropic's: input_tokens excludes the cached part, as Anthropic counts."""
    cached = _count((usage.get("prompt_tokens_details") or {}).get("cached_tokens"))
    prompt = _count(usage.get("prompt_tokens"))
    out: dict[str, Any] = {
        "input_tokens": max(prompt - cached, 0),
        # OpenAI caches implicitly and reports no cache writes.
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": cached,
        "output_tokens": _count(usage.get("completion_tokens")),
    }
    reasoning = (usage.get("completion_tokens_details") or {}).get("reasoning_tokens")
    if isinstance(reasoning, int):
        out["output_tokens_details"] = {"thinking_tokens": reasoning}
    return out


def _count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


# --- Errors ------------------------------------------------------------------------------------

# Anthropic error type -> (OpenAI type, OpenAI code). OpenAI's own codes where one exists;
# otherwise the Anthropic type is kept as the code, so nothing about the cause is lost.
_TO_OPENAI_ERROR = {
    "authentication_error": ("invalid_request_error", "invalid_api_key"),
    "rate_limit_error": ("requests", "rate_limit_exceeded"),
    "billing_error": ("insufficient_quota", "insufficient_quota"),
    "api_error": ("server_error", None),
    "overloaded_error": ("server_error", "overloaded_error"),
    "timeout_error": ("server_error", "timeout_error"),
}
# The SDKs choose the exception by HTTP status, so the status is the surest guide to the type.
_STATUS_TO_ANTHROPIC = {
    400: "invalid_request_error",
    401: "authentication_error",
    402: "billing_error",
    403: "permission_error",
    404: "not_found_error",
    429: "rate_limit_error",
    500: "api_error",
    503: "overloaded_error",
    504: "timeout_error",
    529: "overloaded_error",
}
_OPENAI_CODE_TO_ANTHROPIC = {
    "invalid_api_key": "authentication_error",
    "rate_limit_exceeded": "rate_limit_error",
    "insufficient_quota": "billing_error",
    "model_not_found": "not_found_error",
}
_OPENAI_TYPE_TO_ANTHROPIC = {
    "invalid_request_error": "invalid_request_error",
    "authentication_error": "authentication_error",
    "permission_error": "permission_error",
    "not_found_error": "not_found_error",
    "requests": "rate_limit_error",
    "tokens": "rate_limit_error",
    "insufficient_quota": "billing_error",
    "server_error": "api_error",
}


def chat_error(kind: Any, message: Any, status: int | None) -> dict[str, Any]:
    """OpenAI's error document for an Anthropic error type and message."""
    if not isinstance(kind, str) or not kind:
        kind = _STATUS_TO_ANTHROPIC.get(status or 500) or (
            "invalid_request_error" if status and 400 <= status < 500 else "api_error"
        )
    openai_type, code = _TO_OPENAI_ERROR.get(kind, ("invalid_request_error", kind))
    if kind == "invalid_request_error":
        code = None
    text = message if isinstance(message, str) and message else _default_message(status)
    return {"error": {"message": text, "type": openai_type, "param": None, "code": code}}


def messages_error(error: Any, status: int | None) -> dict[str, Any]:
    """Anthropic's error document for an OpenAI error (object, string, or anything else)."""
    message, kind, code = None, None, None
    if isinstance(error, dict):
        message, kind, code = error.get("message"), error.get("type"), error.get("code")
    elif isinstance(error, str):
        message = error
    anthropic_type = (
        _OPENAI_CODE_TO_ANTHROPIC.get(code if isinstance(code, str) else "")
        or (_STATUS_TO_ANTHROPIC.get(status) if status else None)
        or _OPENAI_TYPE_TO_ANTHROPIC.get(kind if isinstance(kind, str) else "")
    )
    if anthropic_type is None:
        anthropic_type = "invalid_request_error" if status and 400 <= status < 500 else "api_error"
    text = message if isinstance(message, str) and message else _default_message(status)
    return {"type": "error", "error": {"type": anthropic_type, "message": text}}


def error_body(body: bytes) -> tuple[Any, str]:
    """(parsed JSON or None, the body as text) of an upstream error response."""
    text = body.decode("utf-8", errors="replace").strip()
    try:
        return json.loads(text), text
    except ValueError:
        return None, text


def _default_message(status: int | None) -> str:
    return f"upstream error (HTTP {status})" if status else "upstream error"


# --- Media -------------------------------------------------------------------------------------

IMAGE_TYPES = frozenset({"image/jpeg", "image/png", "image/gif", "image/webp"})


def parse_data_url(url: str) -> tuple[str, str]:
    """(media type, base64 data) of a `data:` URL; a percent-encoded one is re-encoded as base64."""
    head, comma, data = url[len("data:") :].partition(",")
    if not comma:
        raise TranslationError("malformed data: URL (no comma)")
    params = [p.strip().lower() for p in head.split(";")]
    media = params[0] or "text/plain"
    if "base64" not in params[1:]:
        data = base64.b64encode(urllib.parse.unquote_to_bytes(data)).decode("ascii")
    return ("image/jpeg" if media == "image/jpg" else media), data


def data_url(media_type: str, data: str) -> str:
    return f"data:{media_type};base64,{data}"


def joined_text(content: Any) -> str:
    """A string, or the text of a list of text blocks/parts joined by blank lines."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n\n".join(p["text"] for p in content if isinstance(p, dict) and p.get("text"))
    return ""

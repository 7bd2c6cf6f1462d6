"""An OpenAI Chat Completions request for an Anthropic Messages backend.

What Anthropic cannot express is dropped where the completion stays meaningful without it
(sampling knobs, logprobs ...) and refused with TranslationError where dropping it would
silently change what the client asked for (n > 1, audio input, the legacy functions API). The
response comes back through gateway.providers.from_anthropic.
"""

from __future__ import annotations

import re
from typing import Any

from gateway.providers.common import (
    IMAGE_TYPES,
    TranslationError,
    fresh_id,
    joined_text,
    parse_data_url,
    refuses_malformed,
    tool_use_block,
)
from gateway.providers.reasoning import thinking_for_effort

# Request fields with no Anthropic equivalent, dropped on purpose (anything unknown is dropped
# too, as the Anthropic API rejects unknown fields):
#   frequency_penalty, presence_penalty, logit_bias, seed - no such sampling controls;
#   logprobs, top_logprobs - Anthropic does not report token probabilities;
#   response_format json_object - no "any JSON" mode (json_schema IS mapped to output_config);
#   reasoning_effort - unless `reasoning` (see gateway.providers.reasoning): whether a model
#       thinks differs from model to model, and a model without thinking fails the request;
#   verbosity - Anthropic's output_config.effort is not the same setting;
#   store, metadata (OpenAI's stored-completions tags), service_tier, prompt_cache_key,
#       prompt_cache_retention, modalities, audio, prediction, web_search_options, moderation -
#       OpenAI platform features;
#   stream_options - Anthropic always reports usage; pass stream_include_usage(body) to
#       MessagesStreamToChat instead;
#   image_url.detail - Anthropic sizes images itself; message `name` - no participant names;
#   reasoning_content in the history - a thinking block cannot go back without its signature.

_TOOL_ID = re.compile(r"[^a-zA-Z0-9_-]")


@refuses_malformed
def chat_request_to_messages(
    body: dict[str, Any],
    default_max_tokens: int = 4096,
    *,
    reasoning: bool = False,
    sampling: bool = True,
) -> dict[str, Any]:
    """An OpenAI chat.completions request body -> an Anthropic messages request body.

    `reasoning=True` maps reasoning_effort to thinking where Anthropic can take it (see
    _think). `sampling=False` drops temperature and top_p, for models that reject them (some
    refuse both together, and API version 2026-10-21 refuses them at all); they are
    dropped with thinking too, which Anthropic refuses them with.
    """
    if not isinstance(body, dict) or not isinstance(body.get("messages"), list):
        raise TranslationError("the request needs a `messages` array")
    if body.get("functions") or body.get("function_call"):
        raise TranslationError("the legacy `functions` API is not supported here; use `tools`")
    if body.get("n") not in (None, 1):
        raise TranslationError("`n` greater than 1 is not supported by this backend")

    system: list[str] = []
    turns: list[dict[str, Any]] = []
    for message in body["messages"]:
        role = message.get("role") if isinstance(message, dict) else None
        if role in ("system", "developer"):
            # Anthropic has one top-level system prompt; system messages placed later in the
            # conversation join it (their position is lost).
            if text := joined_text(message.get("content")):
                system.append(text)
        elif role == "user":
            _append(turns, "user", _user_blocks(message.get("content")))
        elif role == "assistant":
            _append(turns, "assistant", _assistant_blocks(message))
        elif role == "tool":
            # Tool results are user content in Anthropic; consecutive ones merge into one turn.
            _append(turns, "user", [_tool_result(message)])
        else:
            raise TranslationError(f"unsupported message role {role!r}")

    out: dict[str, Any] = {"model": body.get("model"), "messages": [_compact(t) for t in turns]}
    limit = body.get("max_completion_tokens")
    limit = body.get("max_tokens") if limit is None else limit
    out["max_tokens"] = default_max_tokens if limit is None else limit  # required by Anthropic
    if system:
        out["system"] = "\n\n".join(system)
    stop = body.get("stop")
    if isinstance(stop, str):
        out["stop_sequences"] = [stop]
    elif isinstance(stop, list) and stop:
        out["stop_sequences"] = list(stop)
    if body.get("stream"):
        out["stream"] = True
    user = body.get("user") or body.get("safety_identifier")  # the newer name for `user`
    if isinstance(user, str) and user:
        out["metadata"] = {"user_id": user}
    tools = [_tool(t) for t in _array(body.get("tools"), "tools") if _is_function_tool(t)]
    if tools:
        out["tools"] = tools
        choice = _tool_choice(body.get("tool_choice"), body.get("parallel_tool_calls"))
        if choice:
            out["tool_choice"] = choice
    schema = _json_schema(body.get("response_format"))
    if schema is not None:
        out["output_config"] = {"format": {"type": "json_schema", "schema": schema}}
    if reasoning:
        _think(out, body.get("reasoning_effort"), limit, default_max_tokens)
    if sampling and "thinking" not in out:
        if body.get("temperature") is not None:  # OpenAI's range is 0-2, Anthropic's 0-1
            out["temperature"] = min(body["temperature"], 1.0)
        if body.get("top_p") is not None:
            out["top_p"] = body["top_p"]
    return out


def _think(out: dict[str, Any], effort: Any, limit: Any, default_limit: int) -> None:
    """Thinking for a reasoning_effort (gateway.providers.reasoning), unless Anthropic would
    refuse it: with a forced tool (tool_choice any or tool), or in the middle of a tool loop,
    where the assistant turn with the calls must start with its signed thinking block, which
    an OpenAI history cannot carry."""
    mapped = thinking_for_effort(effort, limit, default_limit)
    if mapped is None or (out.get("tool_choice") or {}).get("type") in ("any", "tool"):
        return
    turns = (t["content"] for t in reversed(out["messages"]) if t["role"] == "assistant")
    last = next(turns, "")  # a list of blocks, or one text
    if isinstance(last, list) and any(block["type"] == "tool_use" for block in last):
        return
    out["thinking"], out["max_tokens"] = mapped


def _array(value: Any, name: str) -> list[Any]:
    if value is not None and not isinstance(value, list):
        raise TranslationError(f"`{name}` must be an array")
    return value or []


def stream_include_usage(body: dict[str, Any]) -> bool:
    """Whether an OpenAI client asked for the usage chunk (`stream_options.include_usage`)."""
    options = body.get("stream_options") if isinstance(body, dict) else None
    return isinstance(options, dict) and options.get("include_usage") is True


def _append(turns: list[dict[str, Any]], role: str, blocks: list[dict[str, Any]]) -> None:
    # Anthropic needs user/assistant alternation: same-role neighbours merge, and an empty turn
    # (rejected by Anthropic) is skipped so that its neighbours can merge.
    if not blocks:
        return
    if turns and turns[-1]["role"] == role:
        turns[-1]["content"].extend(blocks)
    else:
        turns.append({"role": role, "content": list(blocks)})


def _compact(turn: dict[str, Any]) -> dict[str, Any]:
    content = turn["content"]
    if len(content) == 1 and content[0].keys() == {"type", "text"}:
        return {"role": turn["role"], "content": content[0]["text"]}  # as clients usually write
    return turn


def _user_blocks(content: Any) -> list[dict[str, Any]]:
    if isinstance(content, str):
        return [{"type": "text", "text": content}] if content else []  # empty text is rejected
    blocks = []
    for part in content or []:
        kind = part.get("type") if isinstance(part, dict) else None
        if kind == "text":
            if part.get("text"):
                blocks.append({"type": "text", "text": part["text"]})
        elif kind == "image_url":
            image = part.get("image_url")
            blocks.append(_image(image.get("url") if isinstance(image, dict) else image))
        elif kind == "file":
            blocks.append(_document(part.get("file") or {}))
        else:  # input_audio, and whatever comes next: dropping it would change the question
            raise TranslationError(f"content part {kind!r} is not supported by this backend")
    return blocks


def _image(url: Any) -> dict[str, Any]:
    if not isinstance(url, str):
        raise TranslationError("image_url needs a url")
    if url.startswith("data:"):
        media, data = parse_data_url(url)
        if media not in IMAGE_TYPES:
            raise TranslationError(f"image type {media!r} is not supported by this backend")
        source = {"type": "base64", "media_type": media, "data": data}
    elif url.startswith(("http://", "https://")):
        source = {"type": "url", "url": url}
    else:
        raise TranslationError("image_url must be an http(s) or data: URL")
    return {"type": "image", "source": source}


def _document(file: dict[str, Any]) -> dict[str, Any]:
    # Only inline PDFs have an Anthropic counterpart; uploaded file ids belong to OpenAI.
    data = file.get("file_data")
    if isinstance(data, str) and data.startswith("data:"):
        media, payload = parse_data_url(data)
        if media == "application/pdf":
            block: dict[str, Any] = {
                "type": "document",
                "source": {"type": "base64", "media_type": media, "data": payload},
            }
            if file.get("filename"):
                block["title"] = file["filename"]
            return block
    raise TranslationError("only inline PDF files (file_data data: URLs) are supported here")


def _assistant_blocks(message: dict[str, Any]) -> list[dict[str, Any]]:
    if message.get("function_call"):
        raise TranslationError("the legacy `function_call` message is not supported; use tools")
    blocks: list[dict[str, Any]] = []
    content = message.get("content")
    parts = [{"text": content}] if isinstance(content, str) else content or []
    for part in parts:  # text and refusal parts: both were said by the assistant
        text = part.get("text") or part.get("refusal") if isinstance(part, dict) else None
        if text:
            blocks.append({"type": "text", "text": text})
    if isinstance(message.get("refusal"), str) and message["refusal"] and not blocks:
        blocks.append({"type": "text", "text": message["refusal"]})
    for call in message.get("tool_calls") or []:
        if call.get("type", "function") != "function":
            raise TranslationError(f"tool call type {call.get('type')!r} is not supported here")
        blocks.append(tool_use_block(call, _tool_id(call.get("id"))))
    return blocks


def _tool_result(message: dict[str, Any]) -> dict[str, Any]:
    block: dict[str, Any] = {
        "type": "tool_result",
        "tool_use_id": _tool_id(message.get("tool_call_id")),
    }
    content = message.get("content")
    if isinstance(content, list):
        texts = [{"type": "text", "text": p["text"]} for p in content if p.get("text")]
        if texts:
            block["content"] = texts
    elif isinstance(content, str) and content:
        block["content"] = content
    return block


def _tool_id(value: Any) -> str:
    # Anthropic accepts only [a-zA-Z0-9_-] in tool ids; a history from another provider may hold
    # others. The same substitution applies to calls and results, so pairs still match.
    return _TOOL_ID.sub("_", value) if isinstance(value, str) and value else fresh_id("toolu_")


def _is_function_tool(tool: Any) -> bool:
    # Custom (free-text grammar) tools have no Anthropic form: the model is simply not offered
    # them, rather than failing the whole request.
    return tool.get("type", "function") == "function"


def _tool(tool: dict[str, Any]) -> dict[str, Any]:
    function = tool.get("function") or {}
    if not function.get("name"):
        raise TranslationError("a function tool needs a name")
    schema = function.get("parameters")
    # input_schema is required and must be an object schema; OpenAI allows omitting parameters.
    schema = dict(schema) if isinstance(schema, dict) and schema else {"properties": {}}
    schema.setdefault("type", "object")
    out = {"name": function["name"], "input_schema": schema}
    if function.get("description"):
        out["description"] = function["description"]
    return out  # `strict` is dropped: Anthropic's strict tools are not on every model


def _tool_choice(choice: Any, parallel: Any) -> dict[str, Any] | None:
    out: dict[str, Any] | None
    if choice == "none":
        return {"type": "none"}  # takes no disable_parallel_tool_use
    if choice == "required":
        out = {"type": "any"}
    elif isinstance(choice, dict) and (choice.get("function") or {}).get("name"):
        out = {"type": "tool", "name": choice["function"]["name"]}
    elif choice in (None, "auto"):
        out = {"type": "auto"} if choice == "auto" or parallel is False else None
    else:  # allowed_tools, custom: no Anthropic counterpart that keeps their meaning
        raise TranslationError(f"tool_choice {choice!r} is not supported by this backend")
    if out is not None and parallel is False:
        out["disable_parallel_tool_use"] = True
    return out


def _json_schema(response_format: Any) -> dict[str, Any] | None:
    if isinstance(response_format, dict) and response_format.get("type") == "json_schema":
        schema = (response_format.get("json_schema") or {}).get("schema")
        return schema if isinstance(schema, dict) else None
    return None

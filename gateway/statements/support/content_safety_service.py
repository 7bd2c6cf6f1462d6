"""What `llm-content-safety` sends to Azure AI Content Safety, and how it reads its results.

Pure functions (the prompt's texts, chunking, windows, request bodies, verdicts) plus
`call_service`, the one place that reaches the Content Safety backend (through the gateway's
`backend_calls` service, since steps never import an HTTP client), and `screen`, which runs a
text's calls and turns their results into a 403 or a 500.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import zip_longest
from typing import Any

from gateway.runtime.context import RequestContext
from gateway.runtime.step import PolicyError
from gateway.tokens.stream_text import content_text

SOURCE = "llm-content-safety"
API_VERSION = "2024-09-01"
ANALYZE_PATH = f"/contentsafety/text:analyze?api-version={API_VERSION}"
SHIELD_PATH = f"/contentsafety/text:shieldPrompt?api-version={API_VERSION}"
# The service's limits: text:analyze takes 10,000 characters; text:shieldPrompt a user prompt
# of 10,000 and at most five documents of 10,000 together. Characters are .NET's: UTF-16 units.
MAX_CHARACTERS = 10_000
MAX_DOCUMENTS = 5
TIMEOUT = 30.0  # seconds per call to the service
CONCURRENT_CALLS = 4  # calls to the service in flight per text screened
FOUR_LEVELS = "FourSeverityLevels"

# Reasons in context.LastError (APIM documents none for this policy; these follow its style).
CATEGORY_REASON = "ContentSafetyViolation"
BLOCKLIST_REASON = "BlocklistMatch"
SHIELD_REASON = "PromptShieldViolation"
SERVICE_REASON = "ContentSafetyServiceError"


# ---------------------------------------------------------------- the prompt's texts


@dataclass(frozen=True, slots=True)
class PromptTexts:
    """The texts of a request's prompt, in order; `user` indexes the last user message."""

    texts: tuple[str, ...]
    user: int | None

    @property
    def whole(self) -> str:
        """What text:analyze reads: every text, one after the other."""
        return "\n".join(text for text in self.texts if text)

    @property
    def user_prompt(self) -> str:
        return self.texts[self.user] if self.user is not None else ""

    @property
    def documents(self) -> list[str]:
        return [text for i, text in enumerate(self.texts) if i != self.user and text]


def prompt_texts(body: dict[str, Any]) -> PromptTexts | None:
    """The prompt of a chat completions, Anthropic messages, legacy completions or responses
    request; None when the body has none (then there is nothing to check)."""
    texts: list[str] = []
    user: int | None = None
    messages = body.get("messages")
    if isinstance(messages, list):
        if "system" in body:  # Anthropic's system prompt is a field, not a message
            texts.append(content_text(body["system"]))
        for message in messages:
            if not isinstance(message, dict):
                continue
            if message.get("role") == "user":
                user = len(texts)
            texts.append(content_text(message.get("content")))
        return PromptTexts(tuple(texts), user)
    prompt = body.get("prompt")
    if isinstance(prompt, str):
        return PromptTexts((prompt,), 0)
    if isinstance(prompt, list) and all(isinstance(p, str) for p in prompt):
        return PromptTexts(("\n".join(prompt),), 0)
    given = body.get("input")  # the Responses API
    if isinstance(given, str | list):
        if isinstance(body.get("instructions"), str):
            texts.append(body["instructions"])
        items = [{"role": "user", "content": given}] if isinstance(given, str) else given
        for item in items:
            if not isinstance(item, dict):
                continue
            if item.get("role") == "user":
                user = len(texts)
            texts.append(content_text(item.get("content")))
        return PromptTexts(tuple(texts), user)
    return None


# ---------------------------------------------------------------- chunks within the limits


def units(text: str) -> int:
    """Length as the service counts it (UTF-16 code units)."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def chunks(text: str, limit: int = MAX_CHARACTERS) -> list[str]:
    """`text` in pieces of at most `limit` units, cut at whitespace where there is some.

    The whitespace a cut falls on is dropped; nothing else is lost or repeated.
    """
    if units(text) <= limit:
        return [text] if text.strip() else []
    pieces: list[str] = []
    start = 0
    while start < len(text):
        window = text[start : start + limit]
        if units(window) > limit:  # characters outside the BMP count twice
            window = window[: _fitting(window, limit)]
        end = start + len(window)
        if end >= len(text):
            piece, start = text[start:], len(text)
        else:
            cut = _last_space(text, start, end)
            if cut is None:
                piece, start = text[start:end], end
            else:
                piece, start = text[start:cut], cut + 1
        if piece.strip():
            pieces.append(piece)
    return pieces


def _fitting(window: str, limit: int) -> int:
    """How many of the window's first characters fit in `limit` units (at least one)."""
    count = 0
    for i, character in enumerate(window):
        count += 2 if ord(character) > 0xFFFF else 1
        if count > limit:
            return max(i, 1)
    return len(window)


def _last_space(text: str, start: int, end: int) -> int | None:
    """The last whitespace at or before `end` (the first character left out), past `start`."""
    for i in range(end, start, -1):
        if text[i].isspace():
            return i
    return None


def _batches(documents: list[str]) -> Iterator[list[str]]:
    """Documents (each within the limit) grouped as one shieldPrompt call takes them."""
    batch: list[str] = []
    size = 0
    for document in documents:
        length = units(document)
        if batch and (len(batch) == MAX_DOCUMENTS or size + length > MAX_CHARACTERS):
            yield batch
            batch, size = [], 0
        batch.append(document)
        size += length
    if batch:
        yield batch


def windows(text: str, size: int, overlap: int) -> list[str]:
    """`text` in windows of `size` new characters, each after the `overlap` characters before
    it (so a phrase cut by a window's end is whole in the next one). A streamed
    completion's windows (gateway.statements.support.completion_screening) are exactly these."""
    return [text[max(start - overlap, 0) : start + size] for start in range(0, len(text), size)]


# ---------------------------------------------------------------- requests and verdicts


@dataclass(frozen=True, slots=True)
class Settings:
    """One request's evaluated configuration."""

    backend: str
    shield: bool
    output_type: str
    categories: tuple[tuple[str, int], ...]  # (name, threshold), in the policy's order
    blocklists: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Call:
    path: str
    payload: dict[str, Any]


def calls_for(prompt: PromptTexts, settings: Settings) -> list[Call]:
    """Every call this prompt needs: text:analyze per chunk, text:shieldPrompt per batch."""
    found = analyze_calls(prompt.whole, settings)
    if settings.shield:
        prompts = chunks(prompt.user_prompt)
        documents = [piece for text in prompt.documents for piece in chunks(text)]
        for user_prompt, batch in zip_longest(prompts, _batches(documents)):
            payload = {"userPrompt": user_prompt or "", "documents": batch or []}
            found.append(Call(SHIELD_PATH, payload))
    return found


def analyze_calls(text: str, settings: Settings) -> list[Call]:
    """text:analyze for each chunk of `text` (none without categories or blocklists)."""
    if not (settings.categories or settings.blocklists):
        return []
    found = []
    for piece in chunks(text):
        payload: dict[str, Any] = {"text": piece, "outputType": settings.output_type}
        if settings.categories:
            payload["categories"] = [name for name, _ in settings.categories]
        if settings.blocklists:
            payload["blocklistNames"] = list(settings.blocklists)
            payload["haltOnBlocklistHit"] = True
        found.append(Call(ANALYZE_PATH, payload))
    return found


@dataclass(frozen=True, slots=True)
class Verdict:
    """Why a text is blocked: the reason for context.LastError and the caller's message."""

    reason: str
    message: str


def verdict(
    call: Call, result: dict[str, Any], settings: Settings, subject: str = "request"
) -> Verdict | None:
    """What one result of the service says about the text (None: nothing found); `subject`
    names what was checked in the message: the request, or the model's completion. Raises
    ValueError when the result is not what the service sends."""
    if call.path == SHIELD_PATH:
        user = result.get("userPromptAnalysis") or {}
        documents = result.get("documentsAnalysis") or []
        if not isinstance(user, dict) or not isinstance(documents, list):
            raise ValueError("unexpected shieldPrompt result")
        if user.get("attackDetected") is True:
            return Verdict(SHIELD_REASON, "Prompt Shields detected an attack in the user prompt.")
        if any(isinstance(d, dict) and d.get("attackDetected") is True for d in documents):
            return Verdict(SHIELD_REASON, "Prompt Shields detected an attack in a message.")
        return None
    matches = result.get("blocklistsMatch") or []
    analysis = result.get("categoriesAnalysis") or []
    if not isinstance(matches, list) or not isinstance(analysis, list):
        raise ValueError("unexpected text:analyze result")
    for match in matches:
        if isinstance(match, dict):
            name = str(match.get("blocklistName", ""))
            item = str(match.get("blocklistItemId", ""))
            return Verdict(
                BLOCKLIST_REASON,
                f"The {subject} matched blocklist '{name}' (item '{item}').",
            )
    severities = {
        str(entry.get("category")): int(entry.get("severity") or 0)
        for entry in analysis
        if isinstance(entry, dict)
    }
    for name, threshold in settings.categories:
        severity = severities.get(name)
        if severity is not None and severity >= threshold:
            return Verdict(
                CATEGORY_REASON,
                f"The {subject} was blocked by content safety: category {name} has severity "
                f"{severity}, at or above the threshold {threshold} ({settings.output_type}).",
            )
    return None


# ---------------------------------------------------------------- the calls


async def screen(
    request: RequestContext,
    settings: Settings,
    calls: list[Call],
    policy_id: str | None,
    subject: str = "request",
) -> None:
    """Run `calls` (at most CONCURRENT_CALLS at a time); raise the 403 PolicyError of the first
    finding, else the 500 of a failed call. A finding wins over a failure: a text found harmful
    in one chunk is blocked even when another chunk could not be checked."""
    if not calls:
        return
    gate = asyncio.Semaphore(CONCURRENT_CALLS)

    async def check(call: Call) -> Verdict | None:
        async with gate:
            result = await call_service(request, settings.backend, call, policy_id)
        try:
            return verdict(call, result, settings, subject)
        except (ValueError, TypeError):
            raise PolicyError(
                SOURCE,
                SERVICE_REASON,
                f"Content Safety ({settings.backend}) sent an unexpected answer.",
                status=500,
                policy_id=policy_id,
            ) from None

    outcomes = await asyncio.gather(*(check(c) for c in calls), return_exceptions=True)
    for outcome in outcomes:
        if isinstance(outcome, Verdict):
            raise PolicyError(
                SOURCE, outcome.reason, outcome.message, status=403, policy_id=policy_id
            )
    for outcome in outcomes:
        if isinstance(outcome, BaseException):
            raise outcome


async def call_service(
    request: RequestContext, backend: str, call: Call, policy_id: str | None
) -> dict[str, Any]:
    """POST one call to the Content Safety backend; its JSON result, or a 500 PolicyError."""

    def failure(reason: str, message: str) -> PolicyError:
        return PolicyError(SOURCE, reason, message, status=500, policy_id=policy_id)

    calls = request.services.backend_calls
    if calls is None:
        raise failure(
            "BackendConnectionFailure",
            "llm-content-safety cannot call Content Safety: this gateway has no transport",
        )
    operation = call.path.split("?")[0].rsplit("/", 1)[-1]
    body = json.dumps(call.payload).encode()
    try:
        status, raw = await calls.post_json(backend, body, TIMEOUT, path=call.path)
    except PolicyError as error:  # the transport's: no such backend, an unset secret
        raise failure(error.reason, error.message) from None
    except TimeoutError:
        raise failure(
            "Timeout",
            f"Content Safety ({backend}) did not answer {operation} within {TIMEOUT:g} s.",
        ) from None
    except Exception as error:  # the HTTP client's errors: refused, reset, DNS, TLS
        raise failure(
            "BackendConnectionFailure",
            f"Content Safety ({backend}) could not be reached for {operation}: "
            f"{error or type(error).__name__}",
        ) from None
    if status != 200:
        raise failure(
            SERVICE_REASON,
            f"Content Safety ({backend}) answered {operation} with {status}{_code(raw)}.",
        )
    try:
        result = json.loads(raw)
    except ValueError:
        result = None
    if not isinstance(result, dict):
        raise failure(SERVICE_REASON, f"Content Safety ({backend}) sent an unreadable answer.")
    return result


def _code(raw: bytes) -> str:
    """The service's error code (`InvalidRequestBody`, ...), never its message."""
    try:
        error = json.loads(raw).get("error") or {}
        code = error.get("code")
    except (ValueError, AttributeError):
        return ""
    return f" ({code})" if isinstance(code, str) and code.isidentifier() else ""

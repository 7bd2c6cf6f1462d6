"""`llm-content-safety enforce-on-completions="true"`: screening the model's completion.

The inbound statement defers a `CompletionPlan`'s check to `Phase.RESPONSE`: it runs as soon as
the backend has responded (after the usage was accounted, before outbound). Only
a 200 response is screened, and only its text: chat completions' `choices[].message.content`
(tool-call arguments are not text), legacy completions' `choices[].text`, Anthropic's `text`
content blocks (not `tool_use`, not `thinking`), the Responses API's `output_text` parts.

- A whole response (JSON) is analysed at once, as a prompt is (in chunks of the service's
  10,000 characters), or in windows when `window-size` is set. A finding raises the same
  403 PolicyError a prompt's would (so on-error runs, and the caller gets APIM's envelope);
  the backend's headers go with its response.
- A streamed response (text/event-stream) is screened as it arrives: its text is gathered, and
  each time `window-size` new characters have come, the window (with the `overlap`
  characters before it) is analysed; the rest at the stream's end (its protocol's last event,
  `[DONE]` or `message_stop`, or the body's end). An event is held back until every
  window its text falls in has passed, so no unscreened text reaches the client; events
  without text (the role, the usage, `[DONE]`) wait for the text before them. A finding
  raises PolicyError out of the stream, which gateway.proxy.streaming turns into the
  client's error event (the status, 200, went out with the first event).
- A response `buffer-response="false"` streams that is not an event stream is read whole
  first, then screened as a whole response: it has no text before its end.

A blocked completion's tokens still count: a whole response's usage is read before it is replaced;
a stream's is the provider's when it came before the block, else the prompt and the text
produced so far, counted offline (gateway.tokens.stream_text), since the stream is cut there.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass

from gateway.common.sse import Event, SSEParser, ends_stream
from gateway.expressions.model import HeaderDictionary, MessageBody
from gateway.runtime.context import RequestContext
from gateway.runtime.forwarding import StreamBroken
from gateway.runtime.llm_call import count_cut_stream, response_usage
from gateway.runtime.step import PolicyError
from gateway.statements.support.content_safety_service import (
    SERVICE_REASON,
    SOURCE,
    Settings,
    analyze_calls,
    screen,
    windows,
)
from gateway.tokens.stream_text import DeltaText, content_text

# A streamed completion's windows when the policy sets none (APIM's are not documented): about
# a paragraph, so the client sees the completion in paragraph-sized steps; the overlap, when not
# set, is a tenth of the window.
STREAM_WINDOW = 1000
SUBJECT = "answer"  # what the refusal's message calls the blocked completion (clients read it)


@dataclass(frozen=True, slots=True)
class CompletionPlan:
    """What the inbound statement evaluated for screening this request's completion (made
    only when the settings have categories or blocklists: a completion gets no Prompt Shields)."""

    settings: Settings
    window: int | None  # window-size; None: not set
    overlap: int | None  # window-overlap-size; None: not set
    policy_id: str | None

    def sizes(self, streamed: bool) -> tuple[int, int] | None:
        """(window, overlap) to cut the completion's text in; None: the whole text at once."""
        window = self.window or (STREAM_WINDOW if streamed else None)
        if window is None:
            return None
        return window, self.overlap if self.overlap is not None else window // 10

    async def check(self, request: RequestContext) -> None:
        """Screen the response forward-request just got (a `Phase.RESPONSE` action)."""
        response = request.model.Response
        if response.StatusCode != 200:
            return
        try:
            await self._check(request)
        except PolicyError:
            # The refusal is the gateway's: none of the backend's headers (its encoding, its
            # request ids) describe it, as none describe a refused prompt's.
            response.Headers = HeaderDictionary()
            raise

    async def _check(self, request: RequestContext) -> None:
        response = request.model.Response
        encoding = (response.Headers.joined("content-encoding") or "identity").strip().lower()
        if encoding != "identity":  # the inbound statement asked for none: fail closed
            raise self._failure(
                f"The backend's answer is encoded ({encoding}): it cannot be screened."
            )
        stream = request.response_stream
        content_type = response.Headers.joined("content-type") or ""
        if stream is not None and content_type.startswith("text/event-stream"):
            request.response_stream = screened(stream, request, self)
            return
        if stream is not None:  # buffer-response="false" on a plain response: read it whole
            request.response_stream = None
            try:
                response.Body = MessageBody(b"".join([chunk async for chunk in stream]))
            except StreamBroken as error:
                raise PolicyError(
                    "forward-request",
                    "BackendConnectionFailure",
                    f"The backend's answer broke off: {error}",
                    policy_id=self.policy_id,
                ) from None
        body = response.Body.read(preserve=True) if response.Body is not None else b""
        try:
            text = completion_text(json.loads(body))
        except (ValueError, UnicodeDecodeError):
            return  # not JSON: not a model's completion, which has no text to check
        sizes = self.sizes(streamed=False)
        pieces = windows(text, *sizes) if sizes is not None else [text]
        calls = [call for piece in pieces for call in analyze_calls(piece, self.settings)]
        if not calls:
            return
        response_usage(request)  # read now: a refusal replaces the response
        await screen(request, self.settings, calls, self.policy_id, SUBJECT)

    async def screen_window(self, request: RequestContext, window: str) -> None:
        calls = analyze_calls(window, self.settings)
        await screen(request, self.settings, calls, self.policy_id, SUBJECT)

    def _failure(self, message: str) -> PolicyError:
        return PolicyError(SOURCE, SERVICE_REASON, message, status=500, policy_id=self.policy_id)


# ---------------------------------------------------------------- a whole response's text


def completion_text(document: object) -> str:
    """The text of a chat completion, a legacy completion, a Responses API response or an
    Anthropic message: the completion a whole response carries."""
    if not isinstance(document, dict):
        return ""
    texts: list[str] = []
    choices = document.get("choices")
    if isinstance(choices, list):  # chat completions, legacy completions
        for choice in choices:
            if not isinstance(choice, dict):
                continue
            message = choice.get("message")
            if isinstance(message, dict):
                texts.append(content_text(message.get("content")))
            elif isinstance(choice.get("text"), str):
                texts.append(choice["text"])
    elif isinstance(document.get("output"), list):  # the Responses API
        for item in document["output"]:
            if isinstance(item, dict) and item.get("type") == "message":
                texts.append(content_text(item.get("content")))
    elif isinstance(document.get("content"), list):  # Anthropic's messages
        texts.append(content_text(document["content"]))
    return "\n".join(text for text in texts if text)


class Windows:
    """A streamed text cut, as it grows, into the windows `windows()` cuts from it whole."""

    def __init__(self, size: int, overlap: int) -> None:
        self.size, self.overlap = size, overlap
        self.pending: list[str] = []  # text not in a window yet
        self.pending_length = 0
        self.carry = ""  # the end of the last window, which the next one starts with
        self.screened = 0  # characters in the windows handed out

    def add(self, piece: str) -> list[str]:
        """The windows `piece` completes (usually none)."""
        self.pending.append(piece)
        self.pending_length += len(piece)
        if self.pending_length < self.size:
            return []
        text = "".join(self.pending)
        due = []
        while len(text) >= self.size:
            due.append(self._window(text[: self.size]))
            text = text[self.size :]
        self.pending, self.pending_length = ([text] if text else []), len(text)
        return due

    def rest(self) -> str:
        """The last window: whatever came after the last full one ("" when nothing did)."""
        text = "".join(self.pending)
        self.pending, self.pending_length = [], 0
        return self._window(text) if text else ""

    def _window(self, new: str) -> str:
        window = self.carry + new
        self.carry = window[max(len(window) - self.overlap, 0) :] if self.overlap else ""
        self.screened += len(new)
        return window


# The most of a screened stream kept to count its tokens if a window is blocked (as
# limits.max-stream-retained bounds the proxy's copy): past it, the count grows in proportion.
RECEIVED_KEPT = 8 * 1024 * 1024


async def screened(
    chunks: AsyncIterator[bytes], request: RequestContext, plan: CompletionPlan
) -> AsyncIterator[bytes]:
    """`chunks` as the client may see them: each event once the text up to its end passed."""
    sizes = plan.sizes(streamed=True)
    assert sizes is not None
    parser, deltas, text = SSEParser(), DeltaText(), Windows(*sizes)
    held: deque[tuple[int, bytes]] = deque()  # (the text's length at the event's end, event)
    received: list[bytes] = []  # for the usage, if a window is blocked: its first part only
    size = length = 0

    def take(event: Event) -> list[str]:
        """Hold the event back; the windows its text completes."""
        nonlocal length
        piece = deltas.of(event)
        length += len(piece)
        held.append((length, event.raw))
        return text.add(piece) if piece else []

    def passed() -> bytes:
        out = []
        while held and held[0][0] <= text.screened:
            out.append(held.popleft()[1])
        return b"".join(out)

    async def last_window() -> bytes:
        """The answer is whole: its last window is screened, and all that was held passes."""
        if last := text.rest():
            await plan.screen_window(request, last)
        return passed()

    try:
        async for chunk in chunks:
            size += len(chunk)
            if size <= RECEIVED_KEPT:  # an upstream decides how long a stream is
                received.append(chunk)
            for event in parser.feed(chunk):
                for window in take(event):  # each window's events go as soon as it passed
                    await plan.screen_window(request, window)
                    if out := passed():
                        yield out
                # The protocol's end: the answer is whole now, whenever the body ends (an
                # upstream may keep it open a while; the client waits for this event).
                if ends_stream(event) and (out := await last_window()):
                    yield out
            if out := passed():  # events without text after text that passed
                yield out
        for event in parser.close():
            for window in take(event):
                await plan.screen_window(request, window)
        if out := await last_window():
            yield out
        if rest := parser.leftover:  # bytes that carried no event: no text to screen
            yield rest
    except PolicyError:
        kept = b"".join(received)
        count_cut_stream(request, kept, scale=size / max(len(kept), 1))
        raise
    finally:  # a client gone, or a block: the upstream response is closed at once
        aclose = getattr(chunks, "aclose", None)
        if aclose is not None:
            await aclose()

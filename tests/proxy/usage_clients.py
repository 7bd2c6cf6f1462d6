"""One chat call through the gateway with each client library users run, and what it saw.

Each driver makes one call, whole or streamed, and returns the usage the client got (and the
response's headers where the library shows them), so a test can hold the gateway's counters,
metrics and log to the figures the client has. OpenAI-style streams ask for their usage
(`stream_options.include_usage`), so the client has it to compare.

The routes are those of tests/proxy/test_usage_final.py's gateway: `chat` (openai style),
`azure` (azure-openai), `claude` (anthropic).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import anthropic
import httpx
import openai
from pydantic import BaseModel

PROMPT = [{"role": "user", "content": "hi"}]
MODEL, CLAUDE = "m", "c"  # the models the fake provider is asked for
AZURE_VERSION = "2024-10-21"
ASK_USAGE = {"include_usage": True}


@dataclass(frozen=True)
class Seen:
    """What the client got: the usage it reports, and the response's headers if it shows them."""

    prompt: int
    completion: int
    headers: Mapping[str, str] | None = None


def _chat(completions: Any, streamed: bool) -> Seen:
    if not streamed:
        raw = completions.with_raw_response.create(model=MODEL, messages=PROMPT)
        usage = raw.parse().usage
        return Seen(usage.prompt_tokens, usage.completion_tokens, raw.headers)
    chunks = list(
        completions.create(model=MODEL, messages=PROMPT, stream=True, stream_options=ASK_USAGE)
    )
    usage = chunks[-1].usage
    return Seen(usage.prompt_tokens, usage.completion_tokens)


def openai_sdk(base: str, headers: dict[str, str], streamed: bool) -> Seen:
    client = openai.OpenAI(
        base_url=f"{base}/chat", api_key="-", max_retries=0, default_headers=headers
    )
    return _chat(client.chat.completions, streamed)


def azure_openai_sdk(base: str, headers: dict[str, str], streamed: bool) -> Seen:
    client = openai.AzureOpenAI(
        azure_endpoint=f"{base}/azure",
        api_key="-",
        api_version=AZURE_VERSION,
        max_retries=0,
        default_headers=headers,
    )
    return _chat(client.chat.completions, streamed)


def async_openai_sdk(base: str, headers: dict[str, str], streamed: bool) -> Seen:
    async def call() -> Seen:
        client = openai.AsyncOpenAI(
            base_url=f"{base}/chat", api_key="-", max_retries=0, default_headers=headers
        )
        completions = client.chat.completions
        try:
            if not streamed:
                raw = await completions.with_raw_response.create(model=MODEL, messages=PROMPT)
                usage = raw.parse().usage
                return Seen(usage.prompt_tokens, usage.completion_tokens, raw.headers)
            stream = await completions.create(
                model=MODEL, messages=PROMPT, stream=True, stream_options=ASK_USAGE
            )
            chunks = [chunk async for chunk in stream]
            return Seen(chunks[-1].usage.prompt_tokens, chunks[-1].usage.completion_tokens)
        finally:
            await client.close()

    return asyncio.run(call())


def anthropic_sdk(base: str, headers: dict[str, str], streamed: bool) -> Seen:
    client = anthropic.Anthropic(
        base_url=f"{base}/claude", api_key="-", max_retries=0, default_headers=headers
    )
    if not streamed:
        raw = client.messages.with_raw_response.create(model=CLAUDE, max_tokens=64, messages=PROMPT)
        message = raw.parse()
        return Seen(message.usage.input_tokens, message.usage.output_tokens, raw.headers)
    with client.messages.stream(model=CLAUDE, max_tokens=64, messages=PROMPT) as stream:
        message = stream.get_final_message()
    return Seen(message.usage.input_tokens, message.usage.output_tokens)


def langchain_openai(base: str, headers: dict[str, str], streamed: bool) -> Seen:
    from langchain_openai import ChatOpenAI

    chat = ChatOpenAI(
        model=MODEL,
        base_url=f"{base}/chat",
        api_key="-",
        max_retries=0,
        default_headers=headers,
        stream_usage=True,
        include_response_headers=True,
    )
    if not streamed:
        message = chat.invoke("hi")
        usage = message.usage_metadata
        assert usage is not None
        return Seen(
            usage["input_tokens"], usage["output_tokens"], message.response_metadata["headers"]
        )
    whole: Any = None
    for chunk in chat.stream("hi"):
        whole = chunk if whole is None else whole + chunk
    usage = whole.usage_metadata
    return Seen(usage["input_tokens"], usage["output_tokens"])


def langchain_anthropic(base: str, headers: dict[str, str], streamed: bool) -> Seen:
    from langchain_anthropic import ChatAnthropic

    chat = ChatAnthropic(  # type: ignore[call-arg]
        model=CLAUDE,
        base_url=f"{base}/claude",
        api_key="-",
        max_retries=0,
        max_tokens=64,
        default_headers=headers,
    )
    if not streamed:
        message = chat.invoke("hi")
    else:
        message = None
        for chunk in chat.stream("hi"):
            message = chunk if message is None else message + chunk
    usage = message.usage_metadata if message is not None else None
    assert usage is not None
    return Seen(usage["input_tokens"], usage["output_tokens"])


class Echo(BaseModel):
    """The fake provider's answer (what it received), as instructor's response model."""

    method: str
    path: str


class _Tee(httpx.HTTPTransport):
    """The bytes the client received, kept as they pass (instructor's streams show no usage)."""

    def __init__(self) -> None:
        super().__init__()
        self.received = bytearray()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = super().handle_request(request)
        tee = self.received

        class Stream(httpx.SyncByteStream):
            def __iter__(self) -> Iterator[bytes]:
                for piece in response.stream:  # type: ignore[union-attr]
                    tee.extend(piece)
                    yield piece

            def close(self) -> None:
                response.close()

        return httpx.Response(
            response.status_code, headers=response.headers, stream=Stream(), request=request
        )


def instructor_sdk(base: str, headers: dict[str, str], streamed: bool) -> Seen:
    import instructor

    tee = _Tee()
    client = instructor.from_openai(
        openai.OpenAI(
            base_url=f"{base}/chat",
            api_key="-",
            max_retries=0,
            default_headers=headers,
            http_client=httpx.Client(transport=tee),
        ),
        mode=instructor.Mode.JSON,
    )
    if not streamed:
        echo, completion = client.chat.completions.create_with_completion(
            model=MODEL, messages=PROMPT, response_model=Echo, max_retries=0
        )
        assert echo.method == "POST"
        return Seen(completion.usage.prompt_tokens, completion.usage.completion_tokens)
    partials = list(
        client.chat.completions.create_partial(
            model=MODEL,
            messages=PROMPT,
            response_model=Echo,
            max_retries=0,
            stream_options=ASK_USAGE,
            # The fake streams plain words; this is the JSON it streams instead.
            extra_headers={"x-fake-answer": '{"method": "POST", "path": "/chat"}'},
        )
    )
    assert partials and partials[-1].method == "POST"
    events = [line[6:] for line in tee.received.decode().splitlines() if line.startswith("data: {")]
    usage = [json.loads(event)["usage"] for event in events if '"usage"' in event][-1]
    return Seen(usage["prompt_tokens"], usage["completion_tokens"])


def litellm_sdk(base: str, headers: dict[str, str], streamed: bool) -> Seen:
    import litellm

    call = {
        "model": f"openai/{MODEL}",
        "api_base": f"{base}/chat",
        "api_key": "-",
        "messages": PROMPT,
        "extra_headers": headers,
        "max_retries": 0,
    }
    if not streamed:
        usage = litellm.completion(**call).usage
        return Seen(usage.prompt_tokens, usage.completion_tokens)
    chunks = list(litellm.completion(**call, stream=True, stream_options=ASK_USAGE))
    usage = [chunk.usage for chunk in chunks if getattr(chunk, "usage", None)][-1]
    return Seen(usage.prompt_tokens, usage.completion_tokens)


Driver = Callable[[str, dict[str, str], bool], Seen]
# name -> (the driver, the API it calls, the model it asks for)
CLIENTS: dict[str, tuple[Driver, str, str]] = {
    "openai": (openai_sdk, "chat", MODEL),
    "async-openai": (async_openai_sdk, "chat", MODEL),
    "azure-openai": (azure_openai_sdk, "azure", MODEL),
    "anthropic": (anthropic_sdk, "claude", CLAUDE),
    "langchain-openai": (langchain_openai, "chat", MODEL),
    "litellm": (litellm_sdk, "chat", MODEL),
    "langchain-anthropic": (langchain_anthropic, "claude", CLAUDE),
    "instructor": (instructor_sdk, "chat", MODEL),
}


def plain_call(api: str) -> tuple[str, dict[str, object]]:
    """The path and body of one whole call to `api` (for a second call made with httpx)."""
    if api == "claude":
        return "/claude/v1/messages", {"model": CLAUDE, "max_tokens": 64, "messages": PROMPT}
    body: dict[str, object] = {"model": MODEL, "messages": PROMPT}
    if api == "azure":
        return (
            f"/azure/openai/deployments/{MODEL}/chat/completions?api-version={AZURE_VERSION}",
            body,
        )
    return f"/{api}/chat/completions", body

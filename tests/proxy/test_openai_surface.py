"""The whole OpenAI API through a running gateway, called with the official openai SDK: models,
Responses, images, audio, moderations, files, uploads and batches on an OpenAI-style API; the
same through `AzureOpenAI` and Azure's v1 base URL on an Azure-OpenAI-style API; APIM's
wildcard operations for the paths no operation names. A policy puts `context.Operation.Id`
and the usage it read on every response, so each test sees which operation served it.
"""

from __future__ import annotations

import io
import json
import os
import threading
import time
from collections.abc import Iterator

import httpx
import openai
import pytest

from tests.fakes.openai_surface import SPEECH
from tests.proxy.processes import fake_provider, free_port, serving

POLICY = """<policies>
    <inbound><base /></inbound>
    <backend><forward-request timeout="30" /></backend>
    <outbound>
        <set-header name="x-operation" exists-action="override">
            <value>@(context.Operation.Id)</value>
        </set-header>
        <set-header name="x-usage" exists-action="override">
            <value>@(context.Variables.GetValueOrDefault("llm-prompt-tokens", "none").ToString() + "/" + context.Variables.GetValueOrDefault("llm-completion-tokens", "none").ToString())</value>
        </set-header>
    </outbound>
</policies>"""


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int]]:
    root = tmp_path_factory.mktemp("surface")
    port = free_port()
    (root / "gateway.yaml").write_text(
        f"""
backends:
  oai: {{url: "http://127.0.0.1:{port}/v1", provider: openai}}
  azure: {{url: "http://127.0.0.1:{port}/openai", provider: azure-openai}}
apis:
  oai: {{path: oai, style: openai, backend: oai, subscription-required: false,
        wildcard-operations: [GET, POST, DELETE]}}
  azure: {{path: openai, style: azure-openai, backend: azure}}
  azure-on-openai: {{path: on-openai/openai, style: azure-openai, backend: oai,
                    subscription-required: false}}
subscriptions:
  team: {{scope: all-apis, primary-key: team-key}}
"""
    )
    (root / "global.xml").write_text(POLICY)
    with fake_provider(port), serving(root, os.environ) as url:
        yield url, port


def client(url: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{url}/oai", api_key="-", max_retries=0)


def test_models_retrieve(gateway: tuple[str, int]) -> None:
    raw = client(gateway[0]).models.with_raw_response.retrieve("gpt-4o")
    assert raw.parse().id == "gpt-4o"
    assert raw.headers["x-operation"] == "Models_Get"


def test_images_generate_with_usage(gateway: tuple[str, int]) -> None:
    raw = client(gateway[0]).images.with_raw_response.generate(model="gpt-image-1", prompt="a cat")
    image = raw.parse()
    assert image.data is not None and image.data[0].b64_json
    assert (raw.headers["x-operation"], raw.headers["x-usage"]) == (
        "ImageGenerations_Create",
        "10/20",
    )


def test_image_edit_is_multipart(gateway: tuple[str, int]) -> None:
    picture = ("cat.png", b"\x89PNG" + b"x" * 100_000, "image/png")
    raw = client(gateway[0]).images.with_raw_response.edit(
        model="gpt-image-1", image=picture, prompt="a hat"
    )
    assert json.loads(raw.text)["received"] == 100_004
    assert raw.headers["x-operation"] == "ImageEdits_Create"


def test_audio_speech_bytes_pass_through_untouched(gateway: tuple[str, int]) -> None:
    raw = client(gateway[0]).audio.speech.with_raw_response.create(
        model="tts-1", voice="alloy", input="hello"
    )
    assert raw.content == SPEECH + b"hello" * 50
    assert raw.headers["content-type"] == "audio/mpeg"
    assert raw.headers["x-operation"] == "Speech_Create"


def test_audio_transcription_of_a_few_megabytes(gateway: tuple[str, int]) -> None:
    audio = ("talk.mp3", os.urandom(3 * 1024 * 1024), "audio/mpeg")
    raw = client(gateway[0]).audio.transcriptions.with_raw_response.create(
        model="gpt-4o-transcribe", file=audio
    )
    assert raw.parse().text == f"received {3 * 1024 * 1024} bytes"
    assert (raw.headers["x-operation"], raw.headers["x-usage"]) == ("Transcriptions_Create", "7/5")


def test_a_multipart_body_streams_to_the_provider(gateway: tuple[str, int]) -> None:
    """Half the body is sent, then the client waits until the provider has some of it: a
    gateway that read the body whole before calling the provider would never get there."""
    url, port = gateway
    boundary = "surface-boundary"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="model"\r\n\r\nwhisper-1\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.mp3"\r\n'
        "Content-Type: audio/mpeg\r\n\r\n"
    ).encode()
    half = b"a" * (1024 * 1024)
    tail = f"\r\n--{boundary}--\r\n".encode()
    arrived = threading.Event()

    def body() -> Iterator[bytes]:
        yield head + half
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            progress = httpx.get(f"http://127.0.0.1:{port}/-/surface").json()
            if progress["in_flight"] > 0:
                arrived.set()
                break
            time.sleep(0.05)
        yield half + tail

    size = len(head) + 2 * len(half) + len(tail)
    headers = {
        "Content-Type": f"multipart/form-data; boundary={boundary}",
        "Content-Length": str(size),
    }
    answer = httpx.post(
        f"{url}/oai/audio/transcriptions", content=body(), headers=headers, timeout=30
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["text"] == f"received {2 * len(half)} bytes"
    assert arrived.is_set(), "the provider got nothing before the client had sent it all"


def test_moderations(gateway: tuple[str, int]) -> None:
    raw = client(gateway[0]).moderations.with_raw_response.create(input="hello")
    assert raw.parse().results[0].flagged is False
    assert raw.headers["x-operation"] == "Moderations_Create"


def test_files_batches_and_uploads(gateway: tuple[str, int]) -> None:
    sdk = client(gateway[0])
    lines = b'{"custom_id": "1", "method": "POST", "url": "/v1/chat/completions"}\n'
    created = sdk.files.create(file=("batch.jsonl", io.BytesIO(lines)), purpose="batch")
    assert (created.bytes, created.purpose) == (len(lines), "batch")
    assert sdk.files.retrieve(created.id).id == created.id
    assert sdk.files.content(created.id).read() == lines
    assert created.id in [f.id for f in sdk.files.list()]
    batch = sdk.batches.create(
        input_file_id=created.id, endpoint="/v1/chat/completions", completion_window="24h"
    )
    assert sdk.batches.retrieve(batch.id).input_file_id == created.id
    assert sdk.batches.cancel(batch.id).status == "cancelling"
    assert batch.id in [b.id for b in sdk.batches.list()]
    assert sdk.files.delete(created.id).deleted
    upload = sdk.uploads.create(bytes=6, filename="a.txt", mime_type="text/plain", purpose="batch")
    part = sdk.uploads.parts.create(upload.id, data=b"abcdef")
    done = sdk.uploads.complete(upload.id, part_ids=[part.id])
    assert done.file is not None and done.file.bytes == 6
    raw = sdk.batches.with_raw_response.list()
    assert raw.headers["x-operation"] == "Batches_List"


def test_responses_create_retrieve_input_items_delete(gateway: tuple[str, int]) -> None:
    sdk = client(gateway[0])
    raw = sdk.responses.with_raw_response.create(model="gpt-4o", input="hi")
    created = raw.parse()
    assert json.loads(created.output_text)["path"] == "/v1/responses"
    assert created.usage is not None and created.usage.output_tokens_details.reasoning_tokens == 3
    assert (raw.headers["x-operation"], raw.headers["x-usage"]) == ("Responses_Create", "12/9")
    assert sdk.responses.retrieve(created.id).id == created.id
    items = sdk.responses.input_items.with_raw_response.list(created.id)
    assert items.headers["x-operation"] == "Responses_ListInputItems"
    deleted = sdk.responses.with_raw_response.delete(created.id)
    assert deleted.headers["x-operation"] == "Responses_Delete"


def test_embeddings_usage_is_read(gateway: tuple[str, int]) -> None:
    raw = client(gateway[0]).embeddings.with_raw_response.create(
        model="text-embedding-3-small", input="three short words"
    )
    assert (raw.headers["x-operation"], raw.headers["x-usage"]) == ("embeddings_create", "3/0")


def test_a_wildcard_operation_passes_any_path_through_the_policies(
    gateway: tuple[str, int],
) -> None:
    answer = httpx.post(f"{gateway[0]}/oai/passthrough/vector_stores?x=1", json={"a": 1})
    assert answer.status_code == 200
    assert (answer.json()["path"], answer.json()["query"]) == (
        "/v1/passthrough/vector_stores",
        {"x": "1"},
    )
    assert answer.headers["x-operation"] == "wildcard-post"
    # A known operation still wins; a method with no wildcard still gets APIM's 405.
    assert httpx.get(f"{gateway[0]}/oai/models/m").headers["x-operation"] == "Models_Get"
    assert httpx.put(f"{gateway[0]}/oai/passthrough/x").status_code == 405


def test_azure_openai_client_responses_create(gateway: tuple[str, int]) -> None:
    azure = openai.AzureOpenAI(
        azure_endpoint=gateway[0],
        api_key="team-key",
        api_version="2025-04-01-preview",
        max_retries=0,
    )
    raw = azure.responses.with_raw_response.create(model="gpt-4o", input="hi")
    seen = json.loads(raw.parse().output_text)
    assert (seen["path"], seen["query"]) == (
        "/openai/responses",
        {"api-version": "2025-04-01-preview"},
    )
    assert seen["headers"]["api-key"] is None  # the subscription key stays at the gateway
    assert raw.headers["x-operation"] == "Responses_Create"
    assert azure.responses.retrieve(raw.parse().id).status == "completed"


def test_azure_openai_deployment_operations(gateway: tuple[str, int]) -> None:
    azure = openai.AzureOpenAI(
        azure_endpoint=gateway[0], api_key="team-key", api_version="2024-10-21", max_retries=0
    )
    raw = azure.images.with_raw_response.generate(model="dall-e-3", prompt="a cat")
    assert raw.headers["x-operation"] == "ImageGenerations_Create"
    speech = azure.audio.speech.with_raw_response.create(model="tts", voice="alloy", input="hi")
    assert speech.content.startswith(SPEECH)
    assert speech.headers["x-operation"] == "Speech_Create"
    audio = ("a.wav", b"RIFF" + b"\0" * 200_000, "audio/wav")
    text = azure.audio.translations.with_raw_response.create(model="whisper", file=audio)
    assert (text.parse().text, text.headers["x-operation"]) == (
        "received 200004 bytes",
        "Translations_Create",
    )


def test_azure_v1_base_url_chat_and_responses(gateway: tuple[str, int]) -> None:
    """`OpenAI(base_url=".../openai/v1/")`, as Azure documents its v1 API: no api-version,
    the key as a bearer token."""
    v1 = openai.OpenAI(base_url=f"{gateway[0]}/openai/v1/", api_key="team-key", max_retries=0)
    chat = v1.chat.completions.with_raw_response.create(
        model="gpt-4o", messages=[{"role": "user", "content": "hi"}]
    )
    assert chat.headers["x-operation"] == "ChatCompletions_Create"
    assert chat.parse().choices[0].message.content
    raw = v1.responses.with_raw_response.create(model="gpt-4o", input="hi")
    seen = json.loads(raw.parse().output_text)
    assert (seen["path"], seen["query"]) == ("/openai/v1/responses", {})
    assert seen["headers"]["authorization"] is None  # the subscription key stays at the gateway
    assert raw.headers["x-operation"] == "Responses_Create"
    assert v1.models.retrieve("gpt-4o").id == "gpt-4o"
    embedded = v1.embeddings.with_raw_response.create(model="emb", input="two words")
    assert embedded.headers["x-usage"] == "2/0"


def test_azure_v1_without_a_key_is_refused(gateway: tuple[str, int]) -> None:
    v1 = openai.OpenAI(base_url=f"{gateway[0]}/openai/v1/", api_key="wrong", max_retries=0)
    with pytest.raises(openai.AuthenticationError):
        v1.responses.create(model="gpt-4o", input="hi")


def test_azure_clients_on_an_openai_backend_reach_openais_paths(gateway: tuple[str, int]) -> None:
    """An Azure-OpenAI-style API whose backend speaks OpenAI's API: every URL form of Azure's
    reaches the backend at OpenAI's path, without api-version."""
    url = f"{gateway[0]}/on-openai"
    azure = openai.AzureOpenAI(
        azure_endpoint=url, api_key="-", api_version="2025-04-01-preview", max_retries=0
    )
    seen = json.loads(azure.responses.create(model="gpt-4o", input="hi").output_text)
    assert (seen["path"], seen["query"]) == ("/v1/responses", {})
    image = azure.images.with_raw_response.generate(model="dall-e-3", prompt="a cat")
    assert (image.status_code, image.headers["x-operation"]) == (200, "ImageGenerations_Create")
    v1 = openai.OpenAI(base_url=f"{url}/openai/v1/", api_key="-", max_retries=0)
    chat = v1.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "hi"}])
    seen = json.loads(chat.choices[0].message.content or "{}")
    assert (seen["path"], seen["query"]) == ("/v1/chat/completions", {})
    assert (
        v1.embeddings.with_raw_response.create(model="e", input="a b").headers["x-usage"] == "2/0"
    )

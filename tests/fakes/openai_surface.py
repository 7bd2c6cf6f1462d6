"""The rest of OpenAI's API on the fake provider: models, Responses, images, audio, moderations,
files, uploads and batches, at OpenAI's paths (`/v1/...`), Azure's (`/openai/...` with
`api-version`, `/openai/v1/...`) and Azure's deployment paths. A Response's text is the
request's `x-fake-answer` header when it has one.

Answers have OpenAI's shapes, with usage where OpenAI reports it; files, uploads, batches and
responses live in memory. Multipart uploads (transcriptions, translations, image edits, files,
upload parts) are read as they arrive: `GET /-/surface` tells how many bytes of the upload in
flight have arrived so far, so a test can prove the gateway streams a body rather than reading
it whole first. `/v1/passthrough/...` echoes any method and path (for wildcard operations).
"""

from __future__ import annotations

import base64
import email.parser
import email.policy
import itertools
import json
import time
from collections.abc import Awaitable, Callable

from aiohttp import web

from tests.fakes.responses_events import stream_response

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

# Bytes of the multipart body being received now, and of the last one received whole.
RECEIVED = {"in_flight": 0, "last": 0}
FILES: dict[str, dict] = {}
CONTENTS: dict[str, bytes] = {}
UPLOADS: dict[str, dict] = {}
PARTS: dict[str, bytes] = {}
BATCHES: dict[str, dict] = {}
RESPONSES: dict[str, dict] = {}
_IDS = itertools.count(1)
SPEECH = b"ID3\x04fake-mp3\xff\xfb"  # the audio prefix every speech answer starts with

# Responses usage as OpenAI reports it, cached and reasoning details included.
RESPONSE_USAGE = {
    "input_tokens": 12,
    "input_tokens_details": {"cached_tokens": 4},
    "output_tokens": 9,
    "output_tokens_details": {"reasoning_tokens": 3},
    "total_tokens": 21,
}
IMAGE_USAGE = {
    "input_tokens": 10,
    "input_tokens_details": {"text_tokens": 10, "image_tokens": 0},
    "output_tokens": 20,
    "total_tokens": 30,
}


def _new_id(prefix: str) -> str:
    return f"{prefix}_{next(_IDS)}"


def _seen(request: web.Request) -> dict:
    """What the gateway sent: method, path, query and the headers tests look at."""
    names = ("authorization", "api-key", "x-operation", "content-type", "transfer-encoding")
    return {
        "method": request.method,
        "path": request.path,
        "query": dict(request.query),
        "headers": {name: request.headers.get(name) for name in names},
    }


def _answer(request: web.Request) -> str:
    """A Response's text: the `x-fake-answer` header when the request has one (as chat's),
    else what the gateway sent."""
    return request.headers.get("x-fake-answer") or json.dumps(_seen(request))


async def _multipart(request: web.Request) -> dict[str, bytes]:
    """A multipart/form-data body's fields, read chunk by chunk (RECEIVED shows progress)."""
    RECEIVED["in_flight"] = 0
    chunks = []
    async for chunk in request.content.iter_any():
        chunks.append(chunk)
        RECEIVED["in_flight"] += len(chunk)
    body = b"".join(chunks)
    RECEIVED["last"], RECEIVED["in_flight"] = len(body), 0
    head = f"Content-Type: {request.headers['Content-Type']}\r\n\r\n".encode()
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
    fields: dict[str, bytes] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True)
        if isinstance(name, str) and isinstance(payload, bytes):
            fields[name] = payload
    return fields


async def surface(request: web.Request) -> web.Response:
    return web.json_response(RECEIVED)


async def model(request: web.Request) -> web.Response:
    name = request.match_info["model"]
    return web.json_response({"id": name, "object": "model", "created": 0, "owned_by": "fake"})


def _response(body: dict, request: web.Request) -> dict:
    return {
        "id": _new_id("resp"),
        "object": "response",
        "created_at": int(time.time()),
        "status": "completed",
        "model": body.get("model", "fake"),
        "output": [
            {
                "type": "message",
                "id": _new_id("msg"),
                "status": "completed",
                "role": "assistant",
                "content": [{"type": "output_text", "text": _answer(request), "annotations": []}],
            }
        ],
        "parallel_tool_calls": True,
        "tool_choice": "auto",
        "tools": [],
        "usage": RESPONSE_USAGE,
    }


async def responses_create(request: web.Request) -> web.StreamResponse:
    body = await request.json()
    answer = _response(body, request)
    RESPONSES[answer["id"]] = {"response": answer, "input": body.get("input", "")}
    if body.get("stream"):
        return await stream_response(request, answer)
    return web.json_response(answer)


def _stored(request: web.Request) -> dict:
    found = RESPONSES.get(request.match_info["id"])
    if found is None:
        raise web.HTTPNotFound(text='{"error": {"message": "no such response"}}')
    return found


async def responses_get(request: web.Request) -> web.Response:
    return web.json_response(_stored(request)["response"])


async def responses_delete(request: web.Request) -> web.Response:
    _stored(request)
    del RESPONSES[request.match_info["id"]]
    deleted = {"id": request.match_info["id"], "object": "response", "deleted": True}
    return web.json_response(deleted)


async def responses_input_items(request: web.Request) -> web.Response:
    given = _stored(request)["input"]
    content = [{"type": "input_text", "text": given if isinstance(given, str) else ""}]
    item = {"id": "msg_in", "type": "message", "role": "user", "content": content}
    page = {"object": "list", "data": [item], "first_id": "msg_in", "last_id": "msg_in"}
    return web.json_response({**page, "has_more": False})


async def responses_cancel(request: web.Request) -> web.Response:
    answer = dict(_stored(request)["response"], status="cancelled")
    return web.json_response(answer)


def _images(response_format: object) -> dict:
    picture = {"url": "https://images.example/fake.png"}
    if response_format != "url":
        picture = {"b64_json": base64.b64encode(b"\x89PNG fake").decode()}
    return {"created": int(time.time()), "data": [picture], "usage": IMAGE_USAGE}


async def images_generations(request: web.Request) -> web.Response:
    body = await request.json()
    return web.json_response(_images(body.get("response_format")))


async def images_multipart(request: web.Request) -> web.Response:
    """Image edits and variations: multipart, with the image's size in `received`."""
    fields = await _multipart(request)
    answer = _images(fields.get("response_format", b"").decode())
    return web.json_response({**answer, "received": len(fields.get("image", b""))})


async def speech(request: web.Request) -> web.Response:
    body = await request.json()
    audio = SPEECH + str(body.get("input", "")).encode() * 50
    return web.Response(body=audio, content_type="audio/mpeg")


async def transcriptions(request: web.Request) -> web.Response:
    """Transcriptions and translations: the text says how many bytes of audio arrived."""
    fields = await _multipart(request)
    size = len(fields.get("file", b""))
    usage = {"type": "tokens", "input_tokens": 7, "output_tokens": 5, "total_tokens": 12}
    return web.json_response({"text": f"received {size} bytes", "usage": usage})


async def moderations(request: web.Request) -> web.Response:
    body = await request.json()
    result = {"flagged": False, "categories": {"violence": False}}
    result["category_scores"] = {"violence": 0.01}
    answer = {"id": _new_id("modr"), "model": body.get("model", "omni-moderation-latest")}
    return web.json_response({**answer, "results": [result]})


def _created(table: dict[str, dict], prefix: str, kind: str, **fields: object) -> dict:
    """A new object of `kind` kept in `table`, with OpenAI's id, object and created_at."""
    new_id = _new_id(prefix)
    table[new_id] = {"id": new_id, "object": kind, "created_at": int(time.time()), **fields}
    return table[new_id]


def _file(name: str, purpose: str, content: bytes) -> dict:
    file = _created(FILES, "file", "file", bytes=len(content), filename=name, purpose=purpose)
    file["status"] = "processed"
    CONTENTS[file["id"]] = content
    return file


def _found(table: dict[str, dict], request: web.Request) -> dict:
    found = table.get(request.match_info["id"])
    if found is None:
        raise web.HTTPNotFound(text='{"error": {"message": "not found"}}')
    return found


async def files_upload(request: web.Request) -> web.Response:
    fields = await _multipart(request)
    purpose = fields.get("purpose", b"").decode()
    return web.json_response(_file("upload", purpose, fields.get("file", b"")))


async def files_list(request: web.Request) -> web.Response:
    return web.json_response({"object": "list", "data": list(FILES.values()), "has_more": False})


async def files_get(request: web.Request) -> web.Response:
    return web.json_response(_found(FILES, request))


async def files_delete(request: web.Request) -> web.Response:
    _found(FILES, request)
    del FILES[request.match_info["id"]]
    return web.json_response({"id": request.match_info["id"], "object": "file", "deleted": True})


async def files_content(request: web.Request) -> web.Response:
    _found(FILES, request)
    content = CONTENTS[request.match_info["id"]]
    return web.Response(body=content, content_type="application/octet-stream")


async def uploads_create(request: web.Request) -> web.Response:
    body = await request.json()
    upload = _created(
        UPLOADS,
        "upload",
        "upload",
        bytes=body.get("bytes", 0),
        expires_at=int(time.time()) + 3600,
        filename=body.get("filename", ""),
        purpose=body.get("purpose", ""),
        status="pending",
    )
    return web.json_response(upload)


async def uploads_part(request: web.Request) -> web.Response:
    upload = _found(UPLOADS, request)
    part_id = _new_id("part")
    PARTS[part_id] = (await _multipart(request)).get("data", b"")
    part = {"id": part_id, "object": "upload.part", "created_at": int(time.time())}
    return web.json_response({**part, "upload_id": upload["id"]})


async def uploads_complete(request: web.Request) -> web.Response:
    upload = _found(UPLOADS, request)
    body = await request.json()
    content = b"".join(PARTS.pop(part, b"") for part in body.get("part_ids", []))
    upload.update(status="completed", file=_file(upload["filename"], upload["purpose"], content))
    return web.json_response(upload)


async def uploads_cancel(request: web.Request) -> web.Response:
    upload = _found(UPLOADS, request)
    upload["status"] = "cancelled"
    return web.json_response(upload)


async def batches_create(request: web.Request) -> web.Response:
    body = await request.json()
    batch = _created(
        BATCHES,
        "batch",
        "batch",
        endpoint=body.get("endpoint", ""),
        input_file_id=body.get("input_file_id", ""),
        completion_window=body.get("completion_window", "24h"),
        status="validating",
    )
    return web.json_response(batch)


async def batches_list(request: web.Request) -> web.Response:
    listed = list(BATCHES.values())
    return web.json_response({"object": "list", "data": listed, "has_more": False})


async def batches_get(request: web.Request) -> web.Response:
    return web.json_response(_found(BATCHES, request))


async def batches_cancel(request: web.Request) -> web.Response:
    batch = _found(BATCHES, request)
    batch["status"] = "cancelling"
    return web.json_response(batch)


async def passthrough(request: web.Request) -> web.Response:
    await request.read()
    return web.json_response(_seen(request))


# (method, path under an API root, handler); each is served under every prefix below.
ROUTES: tuple[tuple[str, str, Handler], ...] = (
    ("GET", "/models/{model}", model),
    ("POST", "/responses", responses_create),
    ("GET", "/responses/{id}", responses_get),
    ("DELETE", "/responses/{id}", responses_delete),
    ("GET", "/responses/{id}/input_items", responses_input_items),
    ("POST", "/responses/{id}/cancel", responses_cancel),
    ("POST", "/images/generations", images_generations),
    ("POST", "/images/edits", images_multipart),
    ("POST", "/images/variations", images_multipart),
    ("POST", "/audio/speech", speech),
    ("POST", "/audio/transcriptions", transcriptions),
    ("POST", "/audio/translations", transcriptions),
    ("POST", "/moderations", moderations),
    ("POST", "/files", files_upload),
    ("GET", "/files", files_list),
    ("GET", "/files/{id}", files_get),
    ("DELETE", "/files/{id}", files_delete),
    ("GET", "/files/{id}/content", files_content),
    ("POST", "/uploads", uploads_create),
    ("POST", "/uploads/{id}/parts", uploads_part),
    ("POST", "/uploads/{id}/complete", uploads_complete),
    ("POST", "/uploads/{id}/cancel", uploads_cancel),
    ("POST", "/batches", batches_create),
    ("GET", "/batches", batches_list),
    ("GET", "/batches/{id}", batches_get),
    ("POST", "/batches/{id}/cancel", batches_cancel),
)
PREFIXES = ("/v1", "/openai", "/openai/v1", "/openai/deployments/{deployment}")
# Azure serves these without a deployment too (its v1 API; files, batches... at /openai).
_DEPLOYMENT_PATHS = ("/images/", "/audio/")


def add_surface(app: web.Application) -> None:
    """Adds these routes to the fake provider (a route another module added first is kept)."""
    taken = {
        (route.method, route.resource.canonical)
        for route in app.router.routes()
        if route.resource is not None
    }
    for prefix in PREFIXES:
        for method, path, handler in ROUTES:
            deployment_only = prefix.endswith("{deployment}")
            if deployment_only and not path.startswith(_DEPLOYMENT_PATHS):
                continue
            if (method, prefix + path) not in taken:
                app.router.add_route(method, prefix + path, handler)
    # Azure's v1 API and its model list serve what OpenAI's paths do.
    handlers = {
        (route.method, route.resource.canonical): route.handler
        for route in app.router.routes()
        if route.resource is not None
    }
    for method, path in (
        ("POST", "/chat/completions"),
        ("POST", "/embeddings"),
        ("GET", "/models"),
    ):
        handler = handlers.get((method, "/v1" + path))
        for prefix in ("/openai/v1", "/openai"):
            if handler is not None and (method, prefix + path) not in taken:
                app.router.add_route(method, prefix + path, handler)
    app.router.add_get("/-/surface", surface)
    app.router.add_route("*", "/v1/passthrough/{tail:.*}", passthrough)

"""The fake provider's streamed Responses (`POST /responses` with `stream: true`): the events
OpenAI sends, in its order, each with its `sequence_number`, ending with `response.completed`
carrying the whole Response and its usage. The text arrives in pieces of a few characters."""

from __future__ import annotations

import json
from itertools import count

from aiohttp import web


async def stream_response(request: web.Request, answer: dict) -> web.StreamResponse:
    """`answer` (a whole, completed Response of message items) as OpenAI streams it."""
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
    await response.prepare(request)
    numbers = count()

    async def send(kind: str, **fields: object) -> None:
        event = {"type": kind, "sequence_number": next(numbers), **fields}
        await response.write(f"event: {kind}\ndata: {json.dumps(event)}\n\n".encode())

    opening = {**answer, "status": "in_progress", "output": [], "usage": None}
    await send("response.created", response=opening)
    await send("response.in_progress", response=opening)
    for index, item in enumerate(answer["output"]):
        await send("response.output_item.added", output_index=index, item={**item, "content": []})
        for number, part in enumerate(item["content"]):
            where = {"item_id": item["id"], "output_index": index, "content_index": number}
            await send("response.content_part.added", **where, part={**part, "text": ""})
            text = part["text"]
            for start in range(0, len(text), 7):
                await send("response.output_text.delta", **where, delta=text[start : start + 7])
            await send("response.output_text.done", **where, text=text)
            await send("response.content_part.done", **where, part=part)
        await send("response.output_item.done", output_index=index, item=item)
    await send("response.completed", response=answer)
    await response.write_eof()
    return response

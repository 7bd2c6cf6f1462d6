"""A fake OpenTelemetry collector for tests: OTLP over HTTP (protobuf or JSON), kept in memory.

    python -m tests.fakes.otlp_collector PORT

`POST /v1/traces`, `/v1/metrics` and `/v1/logs` take an export request as the OTLP/HTTP
exporters send it (`application/x-protobuf`, gzip or not, or `application/json`) and answer
200 with an empty response of the signal's type. `GET /-/received/{signal}` returns, as JSON,
every request received so far for that signal, each decoded to OTLP's JSON mapping (the
field names of the protobuf messages, as `MessageToDict` writes them: bytes such as trace
and span ids in base64), and
`GET /-/raw/{signal}` the concatenated request bodies, for tests that grep everything a sink
wrote. `DELETE /-/received` forgets all; `POST /-/down` makes every
export answer 503 until `POST /-/up`.
"""

from __future__ import annotations

import gzip
import sys

from aiohttp import web
from google.protobuf.json_format import MessageToDict, Parse
from google.protobuf.message import Message
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2

# signal -> (request message type, response message type)
SIGNALS: dict[str, tuple[type[Message], type[Message]]] = {
    "traces": (
        trace_service_pb2.ExportTraceServiceRequest,
        trace_service_pb2.ExportTraceServiceResponse,
    ),
    "metrics": (
        metrics_service_pb2.ExportMetricsServiceRequest,
        metrics_service_pb2.ExportMetricsServiceResponse,
    ),
    "logs": (
        logs_service_pb2.ExportLogsServiceRequest,
        logs_service_pb2.ExportLogsServiceResponse,
    ),
}

RECEIVED: dict[str, list[dict[str, object]]] = {signal: [] for signal in SIGNALS}
RAW: dict[str, list[bytes]] = {signal: [] for signal in SIGNALS}
STATE = {"down": False}


async def export(request: web.Request) -> web.Response:
    signal = request.match_info["signal"]
    if signal not in SIGNALS:
        return web.Response(status=404)
    if STATE["down"]:
        return web.Response(status=503, text="collector down (test)")
    body = await request.read()
    if request.headers.get("Content-Encoding") == "gzip":
        body = gzip.decompress(body)
    message_type, response_type = SIGNALS[signal]
    message = message_type()
    if request.content_type == "application/json":
        Parse(body.decode(), message)
    else:
        message.ParseFromString(body)
    RAW[signal].append(body)
    RECEIVED[signal].append(MessageToDict(message))
    return web.Response(
        body=response_type().SerializeToString(), content_type="application/x-protobuf"
    )


async def received(request: web.Request) -> web.Response:
    return web.json_response(RECEIVED.get(request.match_info["signal"], []))


async def raw(request: web.Request) -> web.Response:
    return web.Response(body=b"".join(RAW.get(request.match_info["signal"], [])))


async def forget(request: web.Request) -> web.Response:
    for signal in SIGNALS:
        RECEIVED[signal].clear()
        RAW[signal].clear()
    return web.json_response({})


async def set_down(request: web.Request) -> web.Response:
    STATE["down"] = request.path.endswith("/down")
    return web.json_response(STATE)


async def alive(request: web.Request) -> web.Response:
    return web.json_response({"signals": sorted(SIGNALS)})


def make_app() -> web.Application:
    app = web.Application(client_max_size=64 * 1024 * 1024)
    app.router.add_get("/", alive)
    app.router.add_post("/v1/{signal}", export)
    app.router.add_get("/-/received/{signal}", received)
    app.router.add_get("/-/raw/{signal}", raw)
    app.router.add_delete("/-/received", forget)
    app.router.add_post("/-/down", set_down)
    app.router.add_post("/-/up", set_down)
    return app


if __name__ == "__main__":
    web.run_app(make_app(), host="127.0.0.1", port=int(sys.argv[1]), print=None)

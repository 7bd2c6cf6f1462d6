"""What each request's context has of its own, though the router keeps its answer for a path
(gateway.proxy.router): an expression that changes `context.Request.MatchedParameters` changes
only its own request's; and a request that fails in the gateway gets the JSON envelope it got
from Starlette's JSONResponse."""

from __future__ import annotations

import uuid
from pathlib import Path

from starlette.responses import JSONResponse

from gateway.load import load_gateway
from gateway.proxy.app import create_app
from gateway.proxy.live import Live
from gateway.proxy.traffic import _JSON, _failed
from gateway.proxy.whole import whole
from tests.proxy.asgi_calls import body_of

POLICY = """<policies>
    <inbound>
        <set-variable name="had" value="@(context.Request.MatchedParameters.GetValueOrDefault(&quot;id&quot;, &quot;none&quot;))" />
        <set-variable name="gone" value="@(context.Request.MatchedParameters.Remove(&quot;id&quot;))" />
        <return-response>
            <set-status code="200" reason="OK" />
            <set-body>@((string)context.Variables["had"])</set-body>
        </return-response>
    </inbound>
</policies>"""


def test_a_change_to_one_requests_matched_parameters_is_its_own(tmp_path: Path) -> None:
    (tmp_path / "gateway.yaml").write_text(
        'backends: {b: {url: "http://127.0.0.1:9/v1"}}\n'
        "apis:\n"
        "  shop:\n"
        "    path: shop\n"
        "    backend: b\n"
        "    subscription-required: false\n"
        '    operations: [{id: get-item, method: GET, url-template: "/items/{id}"}]\n'
    )
    (tmp_path / "global.xml").write_text(POLICY)
    app = create_app(Live(load_gateway(tmp_path)))

    def answer() -> str:
        return body_of(app, "GET", "/shop/items/42", [(b"host", b"gateway")])

    # The second request to the same path gets the router's kept answer: its parameters are
    # still whole, whatever the first request's policy removed from its own.
    assert [answer() for _ in range(3)] == ["42", "42", "42"]


def test_a_failed_requests_envelope_is_what_jsonresponse_sent() -> None:
    activity = uuid.uuid4()
    content = {"statusCode": 500, "message": "Internal server error", "activityId": str(activity)}
    starlette = JSONResponse(content, status_code=500)
    assert whole(500, [_JSON], _failed(activity)) == (starlette.raw_headers, starlette.body)

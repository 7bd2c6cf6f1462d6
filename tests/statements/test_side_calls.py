"""send-request, send-one-way-request and wait, against a real HTTP server on loopback."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import pytest
from aiohttp import web

from gateway.config.settings import GatewayConfig, SendRequest
from gateway.expressions.model import HeaderDictionary, MessageBody, ResponseModel
from gateway.proxy.side_calls import AiohttpSideCalls
from gateway.runtime.context import RequestContext
from gateway.runtime.services import Services
from gateway.runtime.step import PolicyError
from tests.fakes.loopback import serve_app
from tests.policies import compile_policy, new_context


@dataclass
class Partner:
    """A loopback service that policies call; it records what it saw."""

    url: str = ""
    seen: list[dict[str, object]] = field(default_factory=list)
    running: int = 0
    most_at_once: int = 0


@asynccontextmanager
async def partner() -> AsyncIterator[Partner]:
    state = Partner()

    async def handle(request: web.Request) -> web.Response:
        state.running += 1
        state.most_at_once = max(state.most_at_once, state.running)
        try:
            await asyncio.sleep(float(request.query.get("delay", "0")))
            record = {
                "method": request.method,
                "path": request.path,
                "raw_path": request.raw_path,
                "headers": dict(request.headers),
                "body": (await request.read()).decode(),
            }
            state.seen.append(record)
            return web.json_response(record, headers={"x-partner": "yes"})
        finally:
            state.running -= 1

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handle)
    async with serve_app(app) as url:
        state.url = url
        yield state


def with_side_calls(context: RequestContext, allowed: tuple[str, ...] = ()) -> AiohttpSideCalls:
    side_calls = AiohttpSideCalls(GatewayConfig(send_request=SendRequest(allowed_urls=allowed)))
    context.services = Services(side_calls=side_calls)
    return side_calls


def test_send_request_builds_the_request_and_stores_the_response() -> None:
    async def scenario() -> None:
        async with partner() as service:
            policy = compile_policy(
                f"""
                <policies><inbound>
                    <send-request mode="new" response-variable-name="check" timeout="5">
                        <set-url>{service.url}/moderate</set-url>
                        <set-method>POST</set-method>
                        <set-header name="x-caller" exists-action="override"><value>@(context.Request.Headers.GetValueOrDefault("x-team", ""))</value></set-header>
                        <set-body>@("{{\\"text\\": \\"" + context.Request.Headers.GetValueOrDefault("x-team", "") + "\\"}}")</set-body>
                    </send-request>
                    <return-response response-variable-name="check">
                        <set-header name="x-checked" exists-action="override"><value>@(((IResponse)context.Variables["check"]).StatusCode.ToString())</value></set-header>
                    </return-response>
                </inbound></policies>
                """
            )
            context = new_context({"x-team": "blue", "Authorization": "Bearer client-secret"})
            side_calls = with_side_calls(context)
            reply = await policy.inbound.run(context)
            await side_calls.close()
        assert reply is not None and reply.status == 200
        assert ("x-checked", "200") in reply.headers
        assert ("x-partner", "yes") in reply.headers
        seen = json.loads(reply.body)
        assert (seen["method"], seen["path"]) == ("POST", "/moderate")
        assert seen["headers"]["x-caller"] == "blue"
        assert json.loads(seen["body"]) == {"text": "blue"}
        assert "Authorization" not in seen["headers"]  # mode="new": nothing of the client's

    asyncio.run(scenario())


def test_copy_mode_starts_from_the_incoming_request() -> None:
    async def scenario() -> Partner:
        async with partner() as service:
            policy = compile_policy(
                f"""
                <policies><inbound>
                    <send-request mode="copy" response-variable-name="copy">
                        <set-url>{service.url}/audit</set-url>
                    </send-request>
                </inbound></policies>
                """
            )
            context = new_context({"x-team": "red"})
            context.model.Request.Body = MessageBody(b'{"prompt": "hi"}')
            side_calls = with_side_calls(context)
            assert await policy.inbound.run(context) is None
            await side_calls.close()
            stored = context.variables["copy"]
            assert isinstance(stored, ResponseModel) and stored.StatusCode == 200
            return service

    service = asyncio.run(scenario())
    assert service.seen[0]["method"] == "POST"
    assert service.seen[0]["body"] == '{"prompt": "hi"}'
    assert service.seen[0]["headers"]["x-team"] == "red"  # type: ignore[index]


COMPUTED_URL = """
<policies><inbound>
    <send-request response-variable-name="answer" timeout="5">
        <set-url>@(context.Request.Headers.GetValueOrDefault("x-target", ""))</set-url>
    </send-request>
</inbound></policies>
"""


@pytest.mark.parametrize(
    ("target", "allowed"),
    [
        ("{url}/hooks/a", True),
        ("{url}/hooks", True),
        ("{url}/hooksevil", False),  # a prefix matches whole path segments only
        ("{url}/other", False),
        ("http://127.0.0.1:1/hooks/a", False),  # another port is another origin
    ],
)
def test_a_computed_url_must_be_under_an_allowed_prefix(target: str, allowed: bool) -> None:
    async def scenario() -> None:
        async with partner() as service:
            policy = compile_policy(COMPUTED_URL)
            context = new_context({"x-target": target.format(url=service.url)})
            side_calls = with_side_calls(context, allowed=(f"{service.url}/hooks/",))
            try:
                if allowed:
                    await policy.inbound.run(context)
                    assert isinstance(context.variables["answer"], ResponseModel)
                else:
                    with pytest.raises(PolicyError) as caught:
                        await policy.inbound.run(context)
                    assert caught.value.reason == "UrlNotAllowed"
                    assert "send-request.allowed-urls" in caught.value.message
                    assert service.seen == []
            finally:
                await side_calls.close()

    asyncio.run(scenario())


@pytest.mark.parametrize(
    "target",
    [
        "{url}/hooks/../admin",
        "{url}/hooks/a/../../admin",
        "{url}/hooks/%2e%2e/admin",
        "{url}/hooks/%2E%2E/admin",
        "{url}/hooks/..%2fadmin",
        "{url}/hooks/..%5Cadmin",
        "{url}/../admin",
        "http://[::1/hooks/a",  # unreadable: an unclosed [
        "{url}:99999/hooks/a",  # unreadable: a port out of range
    ],
)
def test_a_computed_url_climbing_out_of_an_allowed_prefix_is_refused(target: str) -> None:
    async def scenario() -> None:
        async with partner() as service:
            policy = compile_policy(COMPUTED_URL)
            url = service.url if ":99999" not in target else service.url.rpartition(":")[0]
            context = new_context({"x-target": target.format(url=url)})
            side_calls = with_side_calls(context, allowed=(f"{service.url}/hooks/",))
            try:
                with pytest.raises(PolicyError) as caught:
                    await policy.inbound.run(context)
                assert caught.value.reason == "UrlNotAllowed"
                assert service.seen == []
            finally:
                await side_calls.close()

    asyncio.run(scenario())


def test_an_allowed_url_is_sent_exactly_as_normalised_and_checked() -> None:
    async def scenario() -> None:
        async with partner() as service:
            policy = compile_policy(COMPUTED_URL)
            shouted = service.url.replace("http://", "HTTP://")
            target = f"{shouted}/hooks/a/../b/%2e/c%7e%252f?x=1"
            context = new_context({"x-target": target})
            side_calls = with_side_calls(context, allowed=(f"{service.url}/hooks/",))
            try:
                await policy.inbound.run(context)
            finally:
                await side_calls.close()
            assert [seen["raw_path"] for seen in service.seen] == ["/hooks/b/c~%252f?x=1"]

    asyncio.run(scenario())


def test_timeout_fails_the_request_unless_errors_are_ignored() -> None:
    async def scenario() -> None:
        async with partner() as service:
            strict = compile_policy(
                f"""<policies><inbound><send-request response-variable-name="r" timeout="1">
                    <set-url>{service.url}/slow?delay=3</set-url>
                </send-request></inbound></policies>"""
            )
            lenient = compile_policy(
                f"""<policies><inbound><send-request response-variable-name="r" timeout="1" ignore-error="true">
                    <set-url>{service.url}/slow?delay=3</set-url>
                </send-request></inbound></policies>"""
            )
            context = new_context()
            side_calls = with_side_calls(context)
            with pytest.raises(PolicyError) as caught:
                await strict.inbound.run(context)
            assert (caught.value.source, caught.value.reason) == ("send-request", "Timeout")
            await lenient.inbound.run(context)
            assert context.variables["r"] is None
            await side_calls.close()

    asyncio.run(scenario())


def test_an_unreachable_service_is_a_backend_connection_failure() -> None:
    policy = compile_policy(
        """<policies><inbound><send-request response-variable-name="r">
            <set-url>http://127.0.0.1:1/nothing</set-url>
        </send-request></inbound></policies>"""
    )

    async def scenario() -> None:
        context = new_context()
        side_calls = with_side_calls(context)
        with pytest.raises(PolicyError) as caught:
            await policy.inbound.run(context)
        assert caught.value.reason == "BackendConnectionFailure"
        await side_calls.close()

    asyncio.run(scenario())


def test_send_one_way_request_does_not_wait_for_the_answer() -> None:
    async def scenario() -> None:
        async with partner() as service:
            policy = compile_policy(
                f"""<policies><inbound>
                    <send-one-way-request mode="new">
                        <set-url>{service.url}/events?delay=0.5</set-url>
                        <set-method>PUT</set-method>
                        <set-body>fired</set-body>
                    </send-one-way-request>
                    <set-variable name="after" value="yes" />
                </inbound></policies>"""
            )
            context = new_context()
            side_calls = with_side_calls(context)
            await policy.inbound.run(context)
            assert context.variables["after"] == "yes"
            assert service.seen == []  # the call is still in flight: the request went on
            for _ in range(50):
                if service.seen:
                    break
                await asyncio.sleep(0.05)
            assert service.seen[0]["method"] == "PUT" and service.seen[0]["body"] == "fired"
            await side_calls.close()

    asyncio.run(scenario())


def test_wait_runs_its_children_side_by_side() -> None:
    async def scenario() -> None:
        async with partner() as service:
            policy = compile_policy(
                f"""<policies><inbound><wait for="all">
                    <send-request response-variable-name="a"><set-url>{service.url}/a?delay=0.3</set-url></send-request>
                    <send-request response-variable-name="b"><set-url>{service.url}/b?delay=0.3</set-url></send-request>
                </wait></inbound></policies>"""
            )
            context = new_context()
            side_calls = with_side_calls(context)
            await policy.inbound.run(context)
            await side_calls.close()
            assert service.most_at_once == 2
            assert {"a", "b"} <= set(context.variables)

    asyncio.run(scenario())


def test_wait_for_any_ends_with_the_first_and_cancels_the_rest() -> None:
    async def scenario() -> None:
        async with partner() as service:
            policy = compile_policy(
                f"""<policies><inbound><wait for="any">
                    <send-request response-variable-name="slow"><set-url>{service.url}/s?delay=5</set-url></send-request>
                    <send-request response-variable-name="fast"><set-url>{service.url}/f</set-url></send-request>
                </wait></inbound></policies>"""
            )
            context = new_context()
            side_calls = with_side_calls(context)
            await asyncio.wait_for(policy.inbound.run(context), timeout=3)
            await side_calls.close()
            assert "fast" in context.variables and "slow" not in context.variables

    asyncio.run(scenario())


def test_headers_of_a_stored_response_are_readable() -> None:
    stored = ResponseModel(StatusCode=201, Headers=HeaderDictionary({"x": "1"}))
    assert stored.Headers.joined("X") == "1"

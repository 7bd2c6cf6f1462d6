"""validate-jwt and validate-azure-ad-token: keys inline, as PEM, and from a JWKS URL."""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import jwt
import pytest
from aiohttp import web
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from gateway.config.settings import GatewayConfig, Identity
from gateway.expressions.strings import Jwt
from gateway.proxy.jwks import JwksKeys
from gateway.runtime.pipeline import run_pipeline
from gateway.runtime.services import Services
from gateway.runtime.step import PolicyError
from tests.fakes.loopback import serve_app
from tests.policies import compile_policy, new_context

SECRET = b"a-shared-secret-of-32-bytes-long!"
SECRET_B64 = base64.b64encode(SECRET).decode()
RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
EC_KEY = ec.generate_private_key(ec.SECP256R1())
RSA_JWK = json.loads(RSAAlgorithm.to_jwk(RSA_KEY.public_key()))
PEM = (
    RSA_KEY.public_key()
    .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    .decode()
)


def claims(**extra: Any) -> dict[str, Any]:
    return {
        "iss": "https://issuer.example",
        "aud": "api://gateway",
        # A day: parametrized tokens are made when the suite is collected, and a loaded
        # machine's suite has run past ten minutes before the last of them is checked.
        "exp": time.time() + 86400,
    } | extra


def hs(**extra: Any) -> str:
    return jwt.encode(claims(**extra), SECRET, algorithm="HS256")


def check(policy_text: str, headers: dict[str, str], keys: Any = None) -> Any:
    policy = compile_policy(policy_text)
    context = new_context(headers)
    if keys is not None:
        context.services = Services(signing_keys=keys)
    asyncio.run(policy.inbound.run(context))
    return context


HS_POLICY = f"""
<policies><inbound>
    <validate-jwt header-name="Authorization" output-token-variable-name="jwt" clock-skew="5">
        <issuer-signing-keys><key>{SECRET_B64}</key></issuer-signing-keys>
        <audiences><audience>api://gateway</audience></audiences>
        <issuers><issuer>https://issuer.example</issuer></issuers>
        <required-claims>
            <claim name="roles" match="any"><value>admin</value><value>reader</value></claim>
            <claim name="scp" separator=" "><value>chat</value><value>embed</value></claim>
        </required-claims>
    </validate-jwt>
</inbound></policies>
"""


def test_a_valid_token_passes_and_is_kept_in_the_variable() -> None:
    token = hs(roles=["reader"], scp="embed chat", sub="user-1", email="a@example.com")
    context = check(HS_POLICY, {"Authorization": f"Bearer {token}"})
    stored = context.variables["jwt"]
    assert isinstance(stored, Jwt) and stored.Subject == "user-1"
    assert context.model.User.Email == "a@example.com"


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ({}, "TokenNotPresent"),
        ({"Authorization": "Bearer not.a.jwt"}, "JwtInvalid"),
        (
            {
                "Authorization": "Bearer "
                + hs(roles="admin", scp="chat embed", exp=time.time() - 60)
            },
            "TokenExpired",
        ),
        (
            {"Authorization": "Bearer " + hs(roles="admin", scp="chat embed", aud="other")},
            "TokenAudienceNotAllowed",
        ),
        (
            {"Authorization": "Bearer " + hs(roles="admin", scp="chat embed", iss="https://evil")},
            "TokenIssuerNotAllowed",
        ),
        ({"Authorization": "Bearer " + hs(scp="chat embed")}, "TokenClaimNotFound"),
        ({"Authorization": "Bearer " + hs(roles="admin", scp="chat")}, "TokenClaimValueNotAllowed"),
        (
            {
                "Authorization": "Bearer "
                + jwt.encode(claims(roles="admin", scp="chat embed"), b"x" * 32, algorithm="HS256")
            },
            "TokenSignatureInvalid",
        ),
        (
            {"Authorization": "Bearer " + jwt.encode(claims(), None, algorithm="none")},
            "TokenSignatureInvalid",
        ),
    ],
)
def test_each_failure_has_apims_reason_and_401(headers: dict[str, str], reason: str) -> None:
    with pytest.raises(PolicyError) as caught:
        check(HS_POLICY, headers)
    assert (caught.value.source, caught.value.reason, caught.value.status) == (
        "validate-jwt",
        reason,
        401,
    )


def test_clock_skew_and_expiration_requirement() -> None:
    policy = f"""<policies><inbound>
        <validate-jwt header-name="x-token" require-expiration-time="false">
            <issuer-signing-keys><key>{SECRET_B64}</key></issuer-signing-keys>
        </validate-jwt></inbound></policies>"""
    no_expiry = jwt.encode({"sub": "s"}, SECRET, algorithm="HS256")
    check(policy, {"x-token": no_expiry})  # no "Bearer": the header holds the token alone
    within_skew = hs(exp=time.time() - 3, roles="admin", scp="chat embed")
    check(HS_POLICY, {"Authorization": f"Bearer {within_skew}"})  # clock-skew="5"


def test_failed_validation_status_and_message_go_to_on_error() -> None:
    policy = compile_policy(
        f"""<policies><inbound>
            <validate-jwt query-parameter-name="token" failed-validation-httpcode="403"
                failed-validation-error-message="Sign in first.">
                <issuer-signing-keys><key>{SECRET_B64}</key></issuer-signing-keys>
            </validate-jwt>
        </inbound><on-error>
            <set-header name="x-source" exists-action="override"><value>@(context.LastError.Source + "/" + context.LastError.Reason)</value></set-header>
        </on-error></policies>"""
    )
    context = new_context()
    reply = asyncio.run(run_pipeline(policy, context))
    assert reply is not None and reply.status == 403
    assert json.loads(reply.body) == {"statusCode": 403, "message": "Sign in first."}
    assert ("x-source", "validate-jwt/TokenNotPresent") in reply.headers


def test_require_scheme() -> None:
    policy = f"""<policies><inbound>
        <validate-jwt header-name="Authorization" require-scheme="Bearer">
            <issuer-signing-keys><key>{SECRET_B64}</key></issuer-signing-keys>
        </validate-jwt></inbound></policies>"""
    check(policy, {"Authorization": f"Bearer {hs()}"})
    with pytest.raises(PolicyError) as caught:
        check(policy, {"Authorization": f"Token {hs()}"})
    assert caught.value.reason == "TokenNotPresent"


def test_rsa_keys_inline_by_modulus_and_exponent_and_as_pem() -> None:
    token = jwt.encode(claims(), RSA_KEY, algorithm="RS256")
    by_parts = f"""<policies><inbound><validate-jwt header-name="Authorization">
        <issuer-signing-keys><key n="{RSA_JWK["n"]}" e="{RSA_JWK["e"]}" /></issuer-signing-keys>
    </validate-jwt></inbound></policies>"""
    as_pem = f"""<policies><inbound><validate-jwt header-name="Authorization">
        <issuer-signing-keys><key>{PEM}</key></issuer-signing-keys>
    </validate-jwt></inbound></policies>"""
    check(by_parts, {"Authorization": f"Bearer {token}"})
    check(as_pem, {"Authorization": f"Bearer {token}"})
    # An HS token signed with the RSA public key as its secret must not pass (key confusion).
    forged = jwt.encode(claims(), PEM.encode()[:64], algorithm="HS256")
    with pytest.raises(PolicyError):
        check(as_pem, {"Authorization": f"Bearer {forged}"})


@asynccontextmanager
async def provider(
    jwks: list[dict[str, Any]], tenant: str = "contoso"
) -> AsyncIterator[tuple[str, list[int]]]:
    """An OpenID provider on loopback: configuration, JWKS, and a count of JWKS fetches."""
    fetches = [0]

    async def configuration(request: web.Request) -> web.Response:
        base = f"http://{request.host}"
        return web.json_response({"issuer": f"{base}/{tenant}/v2.0", "jwks_uri": f"{base}/keys"})

    async def keys(request: web.Request) -> web.Response:
        fetches[0] += 1
        return web.json_response({"keys": jwks})

    app = web.Application()
    app.router.add_get(f"/{tenant}/v2.0/.well-known/openid-configuration", configuration)
    app.router.add_get("/keys", keys)
    async with serve_app(app) as url:
        yield url, fetches


def ec_jwk(kid: str) -> dict[str, Any]:
    return json.loads(ECAlgorithm.to_jwk(EC_KEY.public_key())) | {"kid": kid, "use": "sig"}


def test_es_keys_from_an_openid_configuration_are_fetched_once() -> None:
    async def scenario() -> None:
        async with provider([ec_jwk("k1")]) as (url, fetches):
            keys = JwksKeys(GatewayConfig())
            policy = compile_policy(
                f"""<policies><inbound><validate-jwt header-name="Authorization">
                    <openid-config url="{url}/contoso/v2.0/.well-known/openid-configuration" />
                </validate-jwt></inbound></policies>"""
            )
            token = jwt.encode(claims(), EC_KEY, algorithm="ES256", headers={"kid": "k1"})
            for _ in range(3):
                context = new_context({"Authorization": f"Bearer {token}"})
                context.services = Services(signing_keys=keys)
                await policy.inbound.run(context)
            assert fetches[0] == 1  # cached
            unknown = jwt.encode(claims(), EC_KEY, algorithm="ES256", headers={"kid": "k9"})
            context = new_context({"Authorization": f"Bearer {unknown}"})
            context.services = Services(signing_keys=keys)
            with pytest.raises(PolicyError) as caught:
                await policy.inbound.run(context)
            assert caught.value.reason == "TokenSignatureKeyNotFound"
            await keys.close()

    asyncio.run(scenario())


AAD_POLICY = """<policies><inbound>
    <validate-azure-ad-token tenant-id="contoso" output-token-variable-name="jwt">
        <client-application-ids><application-id>app-1</application-id></client-application-ids>
        <audiences><audience>api://gateway</audience></audiences>
    </validate-azure-ad-token>
</inbound></policies>"""


@pytest.mark.parametrize(
    ("extra", "reason"),
    [
        ({"azp": "app-1"}, None),
        ({"appid": "app-1", "v1": True}, None),
        ({"azp": "app-2"}, "TokenClaimValueNotAllowed"),
        ({"azp": "app-1", "aud": "api://other"}, "TokenAudienceNotAllowed"),
        ({"azp": "app-1", "iss": "https://login.example/other/v2.0"}, "TokenIssuerNotAllowed"),
    ],
)
def test_validate_azure_ad_token(extra: dict[str, Any], reason: str | None) -> None:
    async def scenario() -> None:
        async with provider([RSA_JWK | {"kid": "entra-1"}]) as (url, _):
            keys = JwksKeys(GatewayConfig(identity=Identity(authority_host=url)))
            issuer = (
                "https://sts.windows.net/contoso/"
                if extra.pop("v1", False)
                else f"{url}/contoso/v2.0"
            )
            body = claims(iss=issuer) | extra
            token = jwt.encode(body, RSA_KEY, algorithm="RS256", headers={"kid": "entra-1"})
            context = new_context({"Authorization": f"Bearer {token}"})
            context.services = Services(signing_keys=keys)
            policy = compile_policy(AAD_POLICY)
            try:
                if reason is None:
                    await policy.inbound.run(context)
                    assert isinstance(context.variables["jwt"], Jwt)
                else:
                    with pytest.raises(PolicyError) as caught:
                        await policy.inbound.run(context)
                    assert (caught.value.source, caught.value.reason) == (
                        "validate-azure-ad-token",
                        reason,
                    )
            finally:
                await keys.close()

    asyncio.run(scenario())

"""What validate-jwt and validate-azure-ad-token share: find the token, check it, fail as APIM.

`TokenRules` is compiled once per statement; `validate` runs per request. Signatures are
checked by PyJWT with keys given inline (a base64 HMAC secret, an RSA `n`/`e` pair, or a PEM
public key, which a `{{named value}}` may read from a file) or published at an OpenID
configuration / JWKS URL (fetched by the gateway's `Keys` service, cached).
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import jwt
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from gateway.expressions.model import UserModel
from gateway.expressions.strings import Jwt
from gateway.expressions.values import to_text
from gateway.policy.compiling import UNRESOLVED_REFERENCE, CompileContext, CompileFailure
from gateway.policy.tree import Node
from gateway.runtime.context import RequestContext
from gateway.runtime.step import PolicyError
from gateway.statements.support.declarations import child_texts

ASYMMETRIC = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512"]
SYMMETRIC = ["HS256", "HS384", "HS512"]


@dataclass(frozen=True, slots=True)
class ClaimRule:
    name: str
    values: tuple[str, ...]
    match_any: bool
    separator: str | None

    def holds(self, claims: dict[str, Any]) -> bool | None:
        """None: the claim is missing; False: its values do not match."""
        if self.name not in claims:
            return None
        if not self.values:
            return True
        raw = claims[self.name]
        found = [str(v) for v in raw] if isinstance(raw, list) else [str(raw)]
        if self.separator:
            found = [part for value in found for part in value.split(self.separator)]
        hits = [v in found for v in self.values]
        return any(hits) if self.match_any else all(hits)


@dataclass
class TokenRules:
    source: str  # the statement's name: LastError.Source
    token: Callable[[RequestContext], str | None]
    keys: list[Any] = field(default_factory=list)  # inline keys
    key_urls: list[str] = field(default_factory=list)  # OpenID configuration / JWKS URLs
    audiences: tuple[str, ...] = ()
    issuers: tuple[str, ...] = ()
    claims: tuple[ClaimRule, ...] = ()
    require_expiration: bool = True
    require_signed: bool = True
    clock_skew: int = 0
    status: int = 401
    message: str | None = None
    variable: str | None = None
    policy_id: str | None = None

    def fail(self, reason: str, detail: str) -> PolicyError:
        return PolicyError(
            self.source,
            reason,
            self.message or detail,
            status=self.status,
            policy_id=self.policy_id,
        )

    async def validate(self, request: RequestContext) -> dict[str, Any]:
        token = self.token(request)
        if not token:
            raise self.fail("TokenNotPresent", "JWT not present.")
        try:
            header = jwt.get_unverified_header(token)
        except jwt.InvalidTokenError:
            raise self.fail("JwtInvalid", "JWT is not well formed.") from None
        algorithm = str(header.get("alg", "none"))
        if algorithm == "none":
            if self.require_signed:
                raise self.fail("TokenSignatureInvalid", "JWT is not signed.")
            claims = jwt.decode(token, options={"verify_signature": False})
        else:
            candidates = await self._keys_for(request, header)
            if not candidates:
                raise self.fail("TokenSignatureKeyNotFound", "Signature key was not found.")
            claims = self._decode(token, algorithm, candidates)
        self._check_claims(claims)
        self._accept(request, header, claims)
        return claims

    async def _keys_for(self, request: RequestContext, header: dict[str, Any]) -> list[Any]:
        candidates = list(self.keys)
        service = request.services.signing_keys
        if service is None:
            return candidates
        kid = header.get("kid")
        for url in self.key_urls:
            published = await service.signing_keys(url)
            if kid and not any(k.get("kid") == kid for k in published):
                published = await service.signing_keys(url, refresh=True)  # keys rolled over
            candidates += [_jwk(k) for k in published if not kid or k.get("kid") == kid]
        return [c for c in candidates if c is not None]

    def _decode(self, token: str, algorithm: str, candidates: list[Any]) -> dict[str, Any]:
        allowed = SYMMETRIC if algorithm.startswith("HS") else ASYMMETRIC
        options = {"require": ["exp"] if self.require_expiration else [], "verify_aud": False}
        last: Exception | None = None
        for key in candidates:
            if isinstance(key, bytes) != algorithm.startswith("HS"):
                continue  # an HMAC secret never checks an RS/ES signature, nor the reverse
            try:
                return jwt.decode(
                    token, key, algorithms=allowed, options=options, leeway=self.clock_skew
                )
            except jwt.InvalidSignatureError as error:
                last = error
            except jwt.ExpiredSignatureError:
                raise self.fail(
                    "TokenExpired", "Lifetime validation failed. The token is expired."
                ) from None
            except jwt.ImmatureSignatureError:
                raise self.fail(
                    "TokenNotYetValid", "Lifetime validation failed. The token is not yet valid."
                ) from None
            except jwt.MissingRequiredClaimError:
                raise self.fail(
                    "TokenExpired",
                    "Lifetime validation failed. The token is missing an Expiration Time.",
                ) from None
            except jwt.InvalidTokenError as error:
                raise self.fail("JwtInvalid", f"JWT is invalid: {error}") from None
        if last is None:
            raise self.fail("TokenSignatureKeyNotFound", "Signature key was not found.")
        raise self.fail("TokenSignatureInvalid", "Signature validation failed.")

    def _check_claims(self, claims: dict[str, Any]) -> None:
        if self.audiences:
            audience = claims.get("aud")
            given = audience if isinstance(audience, list) else [audience]
            if not any(a in self.audiences for a in given):
                raise self.fail("TokenAudienceNotAllowed", "Audience validation failed.")
        if self.issuers and claims.get("iss") not in self.issuers:
            raise self.fail("TokenIssuerNotAllowed", "Issuer validation failed.")
        for rule in self.claims:
            verdict = rule.holds(claims)
            if verdict is None:
                raise self.fail("TokenClaimNotFound", f"Claim '{rule.name}' was not found.")
            if not verdict:
                raise self.fail(
                    "TokenClaimValueNotAllowed", f"Claim '{rule.name}' has a value not allowed."
                )

    def _accept(
        self, request: RequestContext, header: dict[str, Any], claims: dict[str, Any]
    ) -> None:
        """After validation: the token in its variable, and `context.User` from its claims."""
        if self.variable:
            request.variables[self.variable] = Jwt(header, claims)
        model = request.model
        if model.User is None:
            model.User = UserModel(
                Id=str(claims.get("oid") or claims.get("sub") or ""),
                Email=str(claims.get("email") or claims.get("preferred_username") or ""),
                FirstName=str(claims.get("given_name") or ""),
                LastName=str(claims.get("family_name") or ""),
            )


def _jwk(key: dict[str, Any]) -> Any:
    try:
        if key.get("kty") == "RSA":
            return RSAAlgorithm.from_jwk(key)
        if key.get("kty") == "EC":
            return ECAlgorithm.from_jwk(key)
    except (jwt.InvalidKeyError, ValueError, KeyError):
        return None
    return None


def inline_key(node: Node, context: CompileContext) -> Any:
    """One `<issuer-signing-keys><key>`: a base64 secret, `n`+`e`, or a PEM public key."""
    modulus, exponent = context.literal(node.attr("n")), context.literal(node.attr("e"))
    if modulus and exponent:
        return RSAAlgorithm.from_jwk({"kty": "RSA", "n": modulus, "e": exponent})
    if node.attr("certificate-id") is not None:
        raise CompileFailure(
            node.location,
            "not-implemented",
            "certificate-id keys need APIM's certificate store; give the key's PEM "
            "(a {{named value}} may read it from a file) or its n and e",
        )
    text = (context.literal(node.text) or "").strip()
    if text.startswith("-----BEGIN"):
        return text  # PyJWT loads a PEM public key itself, for RS and ES algorithms
    try:
        return base64.b64decode(text, validate=True)
    except ValueError:
        if "{{" in text:  # a named value the linter could not resolve; reported there
            raise CompileFailure(node.location, UNRESOLVED_REFERENCE, text) from None
        raise CompileFailure(
            node.location,
            "invalid-value",
            "a signing key must be base64 text, a PEM key, or n and e",
        ) from None


def token_source(
    node: Node, context: CompileContext, default_header: str | None
) -> Callable[[RequestContext], str | None]:
    """Where the token is: a header (its scheme stripped), a query parameter, or a value."""
    header = context.literal(node.attr("header-name"), None)
    query = context.literal(node.attr("query-parameter-name"), None)
    value = node.attr("token-value")
    scheme = context.literal(node.attr("require-scheme"), None)
    if value is not None:
        evaluate = context.value(value, "")
        return lambda request: to_text(evaluate(request)) or None
    if query is not None:
        return lambda request: request.model.Request.Url.Query.joined(query)
    name = header or default_header or "Authorization"

    def from_header(request: RequestContext) -> str | None:
        raw = request.model.Request.Headers.joined(name)
        if raw is None:
            return None
        given_scheme, _, rest = raw.strip().partition(" ")
        if rest:
            if scheme is not None and given_scheme.lower() != scheme.lower():
                return None
            return rest.strip()
        return None if scheme is not None else raw.strip()

    return from_header


def failure_settings(node: Node, context: CompileContext) -> dict[str, object]:
    """The failed-validation-* and output attributes both validate statements share."""
    return {
        "status": context.integer(node.attr("failed-validation-httpcode"), 401),
        "message": context.literal(node.attr("failed-validation-error-message")),
        "variable": context.literal(node.attr("output-token-variable-name")),
        "policy_id": node.attr_text("id"),
    }


def reject_decryption_keys(node: Node) -> None:
    keys = node.child("decryption-keys")
    if keys is not None:
        raise CompileFailure(
            keys.location,
            "not-implemented",
            "encrypted tokens (decryption-keys) are not supported yet",
        )


def claim_rules(node: Node | None, context: CompileContext) -> tuple[ClaimRule, ...]:
    if node is None:
        return ()
    return tuple(
        ClaimRule(
            name=context.literal(claim.attr("name")) or "",
            values=child_texts(claim, "value", context),
            match_any=context.literal(claim.attr("match"), "all") == "any",
            separator=context.literal(claim.attr("separator")),
        )
        for claim in node.children_named("claim")
    )

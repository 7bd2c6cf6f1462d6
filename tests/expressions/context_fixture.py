"""A prepared APIM context that the expression tests evaluate against."""

from __future__ import annotations

import base64
import json

from gateway.expressions.model import (
    ApiModel,
    ContextModel,
    DeploymentModel,
    HeaderDictionary,
    LastErrorModel,
    MessageBody,
    OperationModel,
    ProductModel,
    RequestModel,
    ResponseModel,
    SubscriptionModel,
    UrlModel,
)
from gateway.expressions.values import parse_json


def _jwt(claims: dict[str, object]) -> str:
    def part(data: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")

    return f"{part({'alg': 'RS256', 'typ': 'JWT'})}.{part(claims)}.signature"


TOKEN = _jwt({"oid": "user-42", "aud": "api://aigw", "roles": ["reader", "writer"]})

REQUEST_BODY = {
    "model": "gpt-4o",
    "messages": [{"role": "system", "content": "be brief"}, {"role": "user", "content": "hi"}],
    "stream": True,
    "max_tokens": 100,
}
RESPONSE_BODY = {"usage": {"prompt_tokens": 10, "completion_tokens": 20, "total_tokens": 30}}
ROUTES = [
    {"name": "east", "location": "eastus", "backend-id": "aoai-east"},
    {"name": "west", "location": "westeurope", "backend-id": "aoai-west"},
]


def prepared_context() -> ContextModel:
    return ContextModel(
        Api=ApiModel(Id="azure-openai", Name="Azure OpenAI", Path="openai"),
        Operation=OperationModel(Id="ChatCompletions_Create", Name="Creates a completion"),
        Product=ProductModel(Id="gold", Name="Gold"),
        Subscription=SubscriptionModel(Id="sub-1", Name="Team A", Key="k1"),
        Deployment=DeploymentModel(Region="West Europe"),
        LastError=LastErrorModel(Source="rate-limit", Reason="RateLimitExceeded"),
        Request=RequestModel(
            Method="POST",
            Url=UrlModel(
                Host="gw.example.com",
                Path="/openai/deployments/gpt-4o/chat/completions",
                Query=HeaderDictionary({"api-version": "2024-10-21"}),
            ),
            Headers=HeaderDictionary(
                {
                    "User-Agent": "sdk/1.0",
                    "Authorization": f"Bearer {TOKEN}",
                    "x-tier": ["gold", "silver"],
                    "Content-Type": "application/json",
                }
            ),
            IpAddress="10.1.2.3",
            MatchedParameters={"deployment-id": "gpt-4o"},
            Body=MessageBody(json.dumps(REQUEST_BODY)),
        ),
        Response=ResponseModel(
            StatusCode=429,
            StatusReason="Too Many Requests",
            Headers=HeaderDictionary({"Retry-After": "7", "x-ratelimit-reset-requests": "12"}),
            Body=MessageBody(json.dumps(RESPONSE_BODY)),
        ),
        Variables={
            "routes": parse_json(json.dumps(ROUTES)),
            "routeIndex": 1,
            "backend-counter": 2,
            "remaining-tokens": 500,
            "low-priority-tpm-threshold": 1000,
            "isStream": "TRUE",
            "tier": "gold",
            "accessToken": "abc",
            "selected-deployment-id": "gpt-4o",
            "modelMappings": parse_json('{"gpt-4o": "aoai-east", "gpt-4o-mini": "aoai-west"}'),
            "cosmosClientResponse": ResponseModel(StatusCode=200),
        },
    )

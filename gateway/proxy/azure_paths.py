"""An Azure-OpenAI-style API's call to an OpenAI-shaped backend, at OpenAI's path.

Azure's clients name an operation three ways (`/deployments/{deployment-id}/embeddings` and
`/responses` with `api-version`, or `/v1/responses`); a backend that speaks OpenAI's API (its URL
ends in `/v1`) serves each at OpenAI's own path (`/embeddings`, `/responses`), without
Azure's `api-version`. The body goes as the client sent it: the openai SDK's Azure client
names the model there too. Chat is translated whole by gateway.proxy.crossing instead.
"""

from __future__ import annotations

from urllib.parse import quote

from gateway.config.backends import Backend
from gateway.providers.crossings import provider_api
from gateway.runtime.context import RequestContext


def openai_path(
    context: RequestContext, backend: Backend
) -> tuple[str | None, list[tuple[str, str]] | None]:
    """The path and query for `backend`, or (None, None) where the client's go as they are."""
    if context.style != "azure-openai" or backend.provider == "azure-openai":
        return None, None
    if provider_api(backend.provider) != "openai":
        return None, None
    path = context.backend_path  # percent-encoded, as the client sent it
    deployment = context.model.Request.MatchedParameters.get("deployment-id")  # decoded
    if deployment:
        path = path.removeprefix("/deployments/" + quote(deployment, safe="!$&'()*+,;=:@"))
    elif path.startswith("/v1/"):
        path = path.removeprefix("/v1")
    request_query = context.model.Request.Url.Query.lines()
    return path, [(name, value) for name, value in request_query if name != "api-version"]

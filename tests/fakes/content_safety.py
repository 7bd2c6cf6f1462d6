"""A fake Azure AI Content Safety for tests: keyword scores, one blocklist, a prompt shield.

    python -m tests.fakes.content_safety PORT

`POST /contentsafety/text:analyze` rates each requested category (all four when none is
named) by the keywords in `KEYWORDS`: EightSeverityLevels returns the raw level (0-7),
FourSeverityLevels rounds it down to 0, 2, 4 or 6. Blocklists it knows are in `BLOCKLISTS`;
an unknown one is a 404, as the service answers. `POST /contentsafety/text:shieldPrompt` flags
"ignore all previous instructions" in the user prompt or a document. Both check `api-version`
(400) and the `Ocp-Apim-Subscription-Key` header (401 when missing or not `KEY`, which the
environment variable CONTENT_SAFETY_KEY sets; "k" by default), and refuse text over the
service's limits with 400.

`GET /-/calls` says how many analyze and shield calls were answered (200 or not), and
`GET /-/requests` what each carried (text lengths, categories, output type, blocklists), so
tests can check what the gateway sent without the fake keeping prompts.
"""

from __future__ import annotations

import os
import sys

from aiohttp import web

KEY = os.environ.get("CONTENT_SAFETY_KEY", "k")
API_VERSIONS = ("2024-09-01", "2023-10-01")
MAX_CHARACTERS = 10_000
MAX_DOCUMENTS = 5
CATEGORIES = ("Hate", "SelfHarm", "Sexual", "Violence")

# word -> (category, raw severity 0-7)
KEYWORDS = {
    "hateword": ("Hate", 6),
    "slurword": ("Hate", 3),
    "hurtmyself": ("SelfHarm", 4),
    "explicitword": ("Sexual", 7),
    "punch": ("Violence", 2),
    "stab": ("Violence", 5),
}
BLOCKLISTS = {"banned-terms": {"item-1": "forbiddenterm"}, "empty-list": {}}
ATTACK = "ignore all previous instructions"

CALLS = {"analyze": 0, "shield": 0}
REQUESTS: list[dict[str, object]] = []


def error(status: int, code: str, message: str) -> web.Response:
    return web.json_response({"error": {"code": code, "message": message}}, status=status)


def refused(request: web.Request) -> web.Response | None:
    """The service's checks before the body: the key, then the API version."""
    if request.headers.get("Ocp-Apim-Subscription-Key") != KEY:
        return error(401, "401", "Access denied due to invalid subscription key.")
    if request.query.get("api-version") not in API_VERSIONS:
        return error(400, "InvalidApiVersion", "The API version is not supported.")
    return None


def severity(level: int, output_type: str) -> int:
    return level if output_type == "EightSeverityLevels" else level // 2 * 2


async def analyze(request: web.Request) -> web.Response:
    CALLS["analyze"] += 1
    if (answer := refused(request)) is not None:
        return answer
    body = await request.json()
    text = body.get("text")
    output_type = body.get("outputType", "FourSeverityLevels")
    names = body.get("categories") or list(CATEGORIES)
    blocklists = body.get("blocklistNames") or []
    REQUESTS.append(
        {
            "operation": "analyze",
            "length": len(text) if isinstance(text, str) else None,
            "categories": body.get("categories"),
            "outputType": body.get("outputType"),
            "blocklistNames": body.get("blocklistNames"),
            "haltOnBlocklistHit": body.get("haltOnBlocklistHit"),
        }
    )
    if not isinstance(text, str) or not text:
        return error(400, "InvalidRequestBody", "text is required.")
    if len(text) > MAX_CHARACTERS:
        return error(400, "InvalidRequestBody", "The text is over 10,000 characters.")
    if output_type not in ("FourSeverityLevels", "EightSeverityLevels"):
        return error(400, "InvalidRequestBody", "outputType is not valid.")
    if any(name not in CATEGORIES for name in names):
        return error(400, "InvalidRequestBody", "A category is not valid.")
    unknown = [name for name in blocklists if name not in BLOCKLISTS]
    if unknown:
        return error(404, "NotFound", "A blocklist was not found.")
    lowered = text.lower()
    matches = [
        {"blocklistName": name, "blocklistItemId": item, "blocklistItemText": term}
        for name in blocklists
        for item, term in BLOCKLISTS[name].items()
        if term in lowered
    ]
    if matches and body.get("haltOnBlocklistHit"):
        return web.json_response({"blocklistsMatch": matches, "categoriesAnalysis": []})
    levels = dict.fromkeys(names, 0)
    for word, (category, level) in KEYWORDS.items():
        if category in levels and word in lowered:
            levels[category] = max(levels[category], level)
    analysis = [
        {"category": name, "severity": severity(level, output_type)}
        for name, level in levels.items()
    ]
    return web.json_response({"blocklistsMatch": matches, "categoriesAnalysis": analysis})


async def shield(request: web.Request) -> web.Response:
    CALLS["shield"] += 1
    if (answer := refused(request)) is not None:
        return answer
    body = await request.json()
    prompt = body.get("userPrompt", "")
    documents = body.get("documents") or []
    REQUESTS.append(
        {
            "operation": "shield",
            "length": len(prompt) if isinstance(prompt, str) else None,
            "documents": [len(d) for d in documents if isinstance(d, str)],
        }
    )
    if not isinstance(prompt, str) or not all(isinstance(d, str) for d in documents):
        return error(400, "InvalidRequestBody", "userPrompt and documents must be text.")
    if len(prompt) > MAX_CHARACTERS or sum(len(d) for d in documents) > MAX_CHARACTERS:
        return error(400, "InvalidRequestBody", "The text is over 10,000 characters.")
    if len(documents) > MAX_DOCUMENTS:
        return error(400, "InvalidRequestBody", "At most five documents.")
    return web.json_response(
        {
            "userPromptAnalysis": {"attackDetected": ATTACK in prompt.lower()},
            "documentsAnalysis": [{"attackDetected": ATTACK in d.lower()} for d in documents],
        }
    )


async def calls(request: web.Request) -> web.Response:
    return web.json_response(CALLS)


async def requests(request: web.Request) -> web.Response:
    return web.json_response(REQUESTS)


async def root(request: web.Request) -> web.Response:
    return web.json_response({"service": "fake content safety"})


def make_app() -> web.Application:
    app = web.Application(client_max_size=16 * 1024 * 1024)
    app.router.add_post("/contentsafety/text:analyze", analyze)
    app.router.add_post("/contentsafety/text:shieldPrompt", shield)
    app.router.add_get("/-/calls", calls)
    app.router.add_get("/-/requests", requests)
    app.router.add_get("/", root)
    return app


if __name__ == "__main__":
    web.run_app(make_app(), host="127.0.0.1", port=int(sys.argv[1]), print=None)

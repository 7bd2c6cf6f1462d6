"""`llm-content-safety`: screen prompts with Azure AI Content Safety before they are forwarded.

    <llm-content-safety backend-id="content-safety" shield-prompt="true">
        <categories output-type="EightSeverityLevels">
            <category name="Hate" threshold="4" />
            <category name="Violence" threshold="4" />
        </categories>
        <blocklists><id>banned-terms</id></blocklists>
    </llm-content-safety>

`backend-id` names a gateway.yaml backend whose URL is the Content Safety endpoint
(`https://<name>.cognitiveservices.azure.com`) with its credentials (an
`Ocp-Apim-Subscription-Key` header, or managed identity for `https://cognitiveservices.azure.com`).

Inbound only. The text analysed is the request's prompt: for chat completions the text of every
message (string contents and text parts), for Anthropic messages the `system` prompt and the
messages' text, for legacy completions `prompt`, for the Responses API `instructions` and
`input`. As APIM does, the texts are concatenated (one per line) and sent to
`text:analyze?api-version=2024-09-01` with the configured categories, `outputType` and
`blocklistNames` (`haltOnBlocklistHit: true`). The service takes 10,000 characters per call, so
longer text is cut into chunks of at most 10,000 (at whitespace where there is some) and each
is analysed; the calls run concurrently, and a finding in any chunk blocks. With
`shield-prompt` true, `text:shieldPrompt` also gets the last user message as `userPrompt` and
the other messages as `documents` (in more calls, when they exceed its limits).

A category blocks when its severity is at or above its threshold (FourSeverityLevels severities
are 0, 2, 4, 6; EightSeverityLevels 0 to 7). A blocked request gets 403 and never reaches the
backend; `context.LastError.Source` is `llm-content-safety` and `Reason` one of (our names, in
APIM's style, since APIM documents none):

- `ContentSafetyViolation`: a category at or above its threshold (the message names the
  category, its severity and the threshold, never the prompt's text);
- `BlocklistMatch`: a blocklist item matched (the message names the blocklist and item id);
- `PromptShieldViolation`: Prompt Shields detected an attack.

A finding wins over a failed call of the same request. When Content Safety cannot give an
answer the request fails with 500, as APIM's does: `Timeout` (30 s per call),
`BackendConnectionFailure` (nothing listens, no such backend, no transport), or
`ContentSafetyServiceError` (a non-200 answer such as a 401 for a wrong key, or an unreadable
one). `backend-id`, `shield-prompt`, `output-type`, the categories and the blocklist ids may be
expressions, evaluated per request. A request without a prompt (no messages) passes at once.

`enforce-on-completions="true"` (checking the answers too) is not supported yet: the gateway
refuses to load a policy that asks for it, rather than silently not checking.
"""

from __future__ import annotations

import asyncio

from gateway.expressions.values import to_text
from gateway.policy.tree import Node
from gateway.runtime.context import RequestContext
from gateway.runtime.step import LocalReply, PolicyError, Step
from gateway.statements.common import INBOUND
from gateway.statements.compiling import CompileContext, CompileFailure
from gateway.statements.content_safety_checks import (
    FOUR_LEVELS,
    SERVICE_REASON,
    SOURCE,
    Call,
    Settings,
    Verdict,
    call_service,
    calls_for,
    prompt_texts,
    verdict,
)
from gateway.statements.llm_token_limit import request_json
from gateway.statements.spec import (
    POLICY_ID,
    AttributeSpec,
    ChildSpec,
    Kind,
    StatementSpec,
    TextSpec,
)

CATEGORY_NAMES = ("Hate", "SelfHarm", "Sexual", "Violence")
OUTPUT_TYPES = (FOUR_LEVELS, "EightSeverityLevels")
CONCURRENT_CALLS = 4  # calls to the service in flight per request


def compile_llm_content_safety(node: Node, context: CompileContext) -> Step:
    enforce = node.attr("enforce-on-completions")
    if enforce is not None and enforce.text.strip().lower() != "false":
        raise CompileFailure(
            enforce.location,
            "not-implemented",
            "llm-content-safety checks prompts only; enforce-on-completions is not supported yet",
        )
    backend_id = context.value(node.attr("backend-id"), "")
    shield_prompt = context.condition(node.attr("shield-prompt"), False)
    categories_node = node.child("categories")
    output_type = context.value(
        categories_node.attr("output-type") if categories_node is not None else None, FOUR_LEVELS
    )
    categories = [
        (context.value(child.attr("name"), ""), context.value(child.attr("threshold"), ""))
        for child in (
            categories_node.children_named("category") if categories_node is not None else []
        )
    ]
    blocklists_node = node.child("blocklists")
    blocklists = [
        context.value(child.text, "")
        for child in (blocklists_node.children_named("id") if blocklists_node is not None else [])
    ]
    policy_id = node.attr_text("id")

    def invalid(message: str) -> PolicyError:
        return PolicyError(
            SOURCE, "ExpressionValueEvaluationFailure", message, status=500, policy_id=policy_id
        )

    def settings_of(request: RequestContext) -> Settings:
        backend = to_text(backend_id(request)).strip()
        if not backend:
            raise invalid("llm-content-safety: backend-id is empty")
        kind = to_text(output_type(request)).strip()
        if kind not in OUTPUT_TYPES:
            raise invalid(f"output-type must be one of {', '.join(OUTPUT_TYPES)}, not '{kind}'")
        chosen: list[tuple[str, int]] = []
        for name_of, threshold_of in categories:
            name = to_text(name_of(request)).strip()
            if name not in CATEGORY_NAMES:
                raise invalid(f"category name must be one of {', '.join(CATEGORY_NAMES)}")
            text = to_text(threshold_of(request)).strip()
            if not (text.isascii() and text.isdigit()) or int(text) > 7:
                raise invalid(f"the threshold of {name} must be a whole number 0-7, not '{text}'")
            chosen.append((name, int(text)))
        ids = tuple(i for i in (to_text(b(request)).strip() for b in blocklists) if i)
        return Settings(backend, shield_prompt(request), kind, tuple(chosen), ids)

    async def llm_content_safety(request: RequestContext) -> LocalReply | None:
        prompt = prompt_texts(request_json(request))
        if prompt is None or not any(text.strip() for text in prompt.texts):
            return None
        settings = settings_of(request)
        calls = calls_for(prompt, settings)
        if not calls:
            return None
        gate = asyncio.Semaphore(CONCURRENT_CALLS)

        async def check(call: Call) -> Verdict | None:
            async with gate:
                answer = await call_service(request, settings.backend, call, policy_id)
            try:
                return verdict(call, answer, settings)
            except (ValueError, TypeError):
                raise PolicyError(
                    SOURCE,
                    SERVICE_REASON,
                    f"Content Safety ({settings.backend}) sent an unexpected answer.",
                    status=500,
                    policy_id=policy_id,
                ) from None

        outcomes = await asyncio.gather(*(check(c) for c in calls), return_exceptions=True)
        for outcome in outcomes:
            if isinstance(outcome, Verdict):
                raise PolicyError(
                    SOURCE, outcome.reason, outcome.message, status=403, policy_id=policy_id
                )
        for outcome in outcomes:
            if isinstance(outcome, BaseException):
                raise outcome
        return None

    return llm_content_safety


CATEGORY = ChildSpec(
    "category",
    attributes=(
        AttributeSpec("name", Kind.ENUM, required=True, choices=CATEGORY_NAMES),
        AttributeSpec("threshold", Kind.INT, required=True, minimum=0, maximum=7),
    ),
)

SPEC = StatementSpec(
    names=("llm-content-safety",),
    summary="Blocks (403) prompts that Content Safety rates at or above the thresholds.",
    sections=INBOUND,
    attributes=(
        POLICY_ID,
        AttributeSpec("backend-id", required=True),
        AttributeSpec("shield-prompt", Kind.BOOL, default="false"),
        AttributeSpec(
            "enforce-on-completions",
            Kind.BOOL,
            default="false",
            doc="Checking the answers too is not supported yet: only false is accepted.",
        ),
    ),
    children=(
        ChildSpec(
            "categories",
            max_count=1,
            attributes=(
                AttributeSpec(
                    "output-type",
                    Kind.ENUM,
                    default=FOUR_LEVELS,
                    choices=OUTPUT_TYPES,
                ),
            ),
            children=(CATEGORY,),
        ),
        ChildSpec("blocklists", max_count=1, children=(ChildSpec("id", text=TextSpec()),)),
    ),
    compile=compile_llm_content_safety,
    reads_request_body=True,  # the prompt is what is checked
)

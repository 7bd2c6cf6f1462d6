"""`llm-content-safety`: screen prompts, and optionally the model's completions, with Azure AI
Content Safety.

    <llm-content-safety backend-id="content-safety" shield-prompt="true"
            enforce-on-completions="true" window-size="1000" window-overlap-size="100">
        <categories output-type="EightSeverityLevels">
            <category name="Hate" threshold="4" />
        </categories>
        <blocklists><id>banned-terms</id></blocklists>
    </llm-content-safety>

Inbound. The prompt's text goes to `text:analyze` (and `text:shieldPrompt` with
`shield-prompt`) before the request is forwarded; a finding is a 403 with reason
`ContentSafetyViolation`, `BlocklistMatch` or `PromptShieldViolation`, a service failure a 500.
With `enforce-on-completions`, the statement also registers a check of the backend's response
(gateway.statements.support.completion_screening): a whole response is replaced by the same 403, a
stream is screened window by window and ends with an error event when a window is refused.
What is analysed, how text is cut, and the unverified parts of APIM's completion checks are in
docs/content-safety.md; the service calls are gateway.statements.support.content_safety_service.
"""

from __future__ import annotations

from gateway.common.diagnostics import Report
from gateway.expressions.values import to_text
from gateway.policy.compiling import CompileContext
from gateway.policy.spec import POLICY_ID, AttributeSpec, ChildSpec, Kind, StatementSpec, TextSpec
from gateway.policy.tree import Node
from gateway.runtime.context import Phase, RequestContext
from gateway.runtime.llm_call import request_json
from gateway.runtime.step import LocalReply, PolicyError, Step
from gateway.statements.support.completion_screening import CompletionPlan
from gateway.statements.support.content_safety_service import (
    FOUR_LEVELS,
    MAX_CHARACTERS,
    SOURCE,
    Settings,
    calls_for,
    prompt_texts,
    screen,
)
from gateway.statements.support.declarations import INBOUND

CATEGORY_NAMES = ("Hate", "SelfHarm", "Sexual", "Violence")
OUTPUT_TYPES = (FOUR_LEVELS, "EightSeverityLevels")


def check(node: Node, report: Report) -> None:
    """A literal overlap must be less than a literal window (expressions: per request)."""
    window, overlap = node.attr("window-size"), node.attr("window-overlap-size")
    if window is None or overlap is None or window.is_expression or overlap.is_expression:
        return
    size, over = window.text.strip(), overlap.text.strip()
    if size.isdigit() and over.isdigit() and int(over) >= int(size):
        report.error(
            node.attributes["window-overlap-size"].location,
            "invalid-value",
            f"window-overlap-size ({over}) must be less than window-size ({size})",
        )


def compile_llm_content_safety(node: Node, context: CompileContext) -> Step:
    backend_id = context.value(node.attr("backend-id"), "")
    shield_prompt = context.condition(node.attr("shield-prompt"), False)
    enforce = context.condition(node.attr("enforce-on-completions"), False)
    window_size = context.value(node.attr("window-size"), None)
    overlap_size = context.value(node.attr("window-overlap-size"), None)
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

    def size_of(request: RequestContext, name: str, value: object, least: int) -> int | None:
        if value is None:
            return None
        text = to_text(value).strip()
        if not (text.isascii() and text.isdigit()) or not least <= int(text) <= MAX_CHARACTERS:
            raise invalid(f"{name} must be a whole number {least}-{MAX_CHARACTERS}, not '{text}'")
        return int(text)

    def plan_of(request: RequestContext, settings: Settings) -> CompletionPlan:
        window = size_of(request, "window-size", window_size(request), 1)
        overlap = size_of(request, "window-overlap-size", overlap_size(request), 0)
        if window is not None and overlap is not None and overlap >= window:
            raise invalid(
                f"window-overlap-size ({overlap}) must be less than window-size ({window})"
            )
        return CompletionPlan(settings, window, overlap, policy_id)

    async def llm_content_safety(request: RequestContext) -> LocalReply | None:
        settings: Settings | None = None
        if enforce(request):
            settings = settings_of(request)
            if settings.categories or settings.blocklists:  # what a completion is analysed for
                request.defer(Phase.RESPONSE, plan_of(request, settings).check)
                # A compressed response could not be read: ask for a plain one.
                request.model.Request.Headers.set("Accept-Encoding", ["identity"])
        prompt = prompt_texts(request_json(request))
        if prompt is None or not any(text.strip() for text in prompt.texts):
            return None
        settings = settings or settings_of(request)
        await screen(request, settings, calls_for(prompt, settings), policy_id)
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
    summary="Blocks (403) prompts, and completions with enforce-on-completions, that Content "
    "Safety rates at or above the thresholds.",
    sections=INBOUND,
    attributes=(
        POLICY_ID,
        AttributeSpec("backend-id", required=True),
        AttributeSpec("shield-prompt", Kind.BOOL, default="false"),
        AttributeSpec(
            "enforce-on-completions",
            Kind.BOOL,
            default="false",
            doc="Also analyse the model's completions (streamed ones in windows).",
        ),
        AttributeSpec(
            "window-size",
            Kind.INT,
            minimum=1,
            maximum=MAX_CHARACTERS,
            doc="Characters of completion text per analysis; unset: a whole completion at once, "
            "a streamed one in windows of 1000.",
        ),
        AttributeSpec(
            "window-overlap-size",
            Kind.INT,
            minimum=0,
            maximum=MAX_CHARACTERS - 1,
            doc="Characters of the previous window each window also holds; unset: a tenth "
            "of the window.",
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
    check=check,
    compile=compile_llm_content_safety,
    reads_request_body=True,  # the prompt is what is checked
)

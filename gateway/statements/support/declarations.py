"""Section, attribute and child declarations that several statements share, written once,
with the checks and readers that go with them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from gateway.common.diagnostics import Report
from gateway.policy.spec import AttributeSpec, CheckFunction, ChildSpec, Kind, Section, TextSpec
from gateway.policy.tree import Node

if TYPE_CHECKING:
    from gateway.policy.compiling import CompileContext, Evaluator

INBOUND = frozenset({Section.INBOUND})
OUTBOUND = frozenset({Section.OUTBOUND})
BACKEND = frozenset({Section.BACKEND})
INBOUND_BACKEND = frozenset({Section.INBOUND, Section.BACKEND})
NOT_ON_ERROR = frozenset({Section.INBOUND, Section.BACKEND, Section.OUTBOUND})
CONVERSION_SECTIONS = frozenset({Section.INBOUND, Section.OUTBOUND, Section.ON_ERROR})


def name_only(name: str, doc: str = "") -> AttributeSpec:
    """An output header or variable name: APIM allows no expression there."""
    return AttributeSpec(name, expression=False, doc=doc)


EXISTS_ACTION = AttributeSpec(
    "exists-action",
    Kind.ENUM,
    default="override",
    choices=("override", "skip", "append", "delete"),
    doc="What to do when it already exists.",
)

VALUE_CHILD = ChildSpec("value", text=TextSpec(doc="One value; several are joined."))

CACHING_TYPE = AttributeSpec(
    "caching-type",
    Kind.ENUM,
    default="prefer-external",
    choices=("prefer-external", "external", "internal"),
    expression=False,
)

DURATION_SECONDS = AttributeSpec(
    "duration", Kind.INT, required=True, minimum=0, doc="Time to live, in seconds."
)

COUNTER_KEY = AttributeSpec("counter-key", required=True, doc="Counter identity.")

RETRY_AFTER_HEADER = AttributeSpec(
    "retry-after-header-name", expression=False, default="Retry-After"
)

ON_STORE_FAILURE = AttributeSpec(
    "on-store-failure",
    Kind.ENUM,
    choices=("open", "closed"),
    expression=False,
    doc="Beyond APIM: when the counter store is unreachable, let calls through (open) or "
    "respond 503 (closed). Default: gateway.yaml limits.on-store-failure (open).",
)

# quota and quota-by-key: calls, kilobytes, or both (`calls_or_bandwidth`).
CALLS = AttributeSpec("calls", Kind.INT, minimum=1, expression=False)
BANDWIDTH = AttributeSpec("bandwidth", Kind.INT, minimum=1, expression=False, doc="Kilobytes.")

LIMIT_OUTPUTS = (
    RETRY_AFTER_HEADER,
    name_only("retry-after-variable-name"),
    name_only("remaining-calls-header-name"),
    name_only("remaining-calls-variable-name"),
    name_only("total-calls-header-name"),
)

FAILED_VALIDATION = (
    AttributeSpec("failed-validation-httpcode", Kind.INT, default="401", minimum=100, maximum=599),
    AttributeSpec("failed-validation-error-message"),
    name_only("output-token-variable-name"),
)

AUDIENCES = ChildSpec("audiences", max_count=1, children=(ChildSpec("audience", text=TextSpec()),))
ISSUERS = ChildSpec("issuers", max_count=1, children=(ChildSpec("issuer", text=TextSpec()),))
REQUIRED_CLAIMS = ChildSpec(
    "required-claims",
    max_count=1,
    children=(
        ChildSpec(
            "claim",
            attributes=(
                AttributeSpec("name", required=True),
                AttributeSpec("match", Kind.ENUM, default="all", choices=("all", "any")),
                AttributeSpec("separator"),
            ),
            children=(VALUE_CHILD,),
        ),
    ),
)

DIMENSION = ChildSpec(
    "dimension",
    attributes=(AttributeSpec("name", required=True), AttributeSpec("value")),
    doc="A metric dimension; value may be omitted for the built-in dimension names.",
)


def rate_and_quota_check(rate: str, quota: str, period: str) -> CheckFunction:
    """The check of a limit with a per-minute rate, a quota with its period, or both."""

    def check(node: Node, report: Report) -> None:
        if rate not in node.attributes and quota not in node.attributes:
            report.error(
                node.location,
                "missing-attribute",
                f"{node.tag} needs '{rate}', '{quota}' (with '{period}'), or both",
            )
        if (quota in node.attributes) != (period in node.attributes):
            report.error(
                node.location,
                "missing-attribute",
                f"{node.tag}: '{quota}' and '{period}' go together; give both",
            )

    return check


def calls_or_bandwidth(node: Node, report: Report) -> None:
    """The check of quota and quota-by-key: a quota of calls, of kilobytes, or both."""
    if "calls" not in node.attributes and "bandwidth" not in node.attributes:
        report.error(
            node.location,
            "missing-attribute",
            f"{node.tag} needs 'calls', 'bandwidth' (kilobytes), or both",
        )


def optional_integer(element: Node, name: str, context: CompileContext) -> int | None:
    """A literal whole number, or None when the attribute is not given."""
    return context.integer(element.attr(name), 0) if element.attr(name) is not None else None


def child_texts(node: Node | None, item: str, context: CompileContext) -> tuple[str, ...]:
    """The trimmed literal texts of `node`'s `<item>` children (`<audiences><audience>`...)."""
    if node is None:
        return ()
    return tuple((context.literal(c.text) or "").strip() for c in node.children_named(item))


def attribute_or_child(*names: str) -> tuple[tuple[ChildSpec, ...], CheckFunction]:
    """Values real files give either as attributes or as child elements (`<key>@{...}</key>`).

    Returns the child declarations and a check that each value is given exactly once.
    """
    children = tuple(ChildSpec(name, max_count=1, text=TextSpec(required=True)) for name in names)

    def check(node: Node, report: Report) -> None:
        for name in names:
            as_attribute = name in node.attributes
            as_child = node.child(name) is not None
            if as_attribute and as_child:
                report.error(
                    node.location,
                    "conflicting-attributes",
                    f"{node.tag} gives '{name}' both as an attribute and as a <{name}> child; "
                    "keep one",
                )
            elif not as_attribute and not as_child:
                report.error(
                    node.location, "missing-attribute", f"{node.tag} needs the attribute '{name}'"
                )

    return children, check


def attribute_or_child_value(node: Node, name: str, context: CompileContext) -> Evaluator:
    """A value `attribute_or_child` declares: the attribute, or the child element's text."""
    child = node.child(name)
    return context.value(node.attr(name) if child is None else child.text, "")

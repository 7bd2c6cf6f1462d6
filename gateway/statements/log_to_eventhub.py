"""`log-to-eventhub`: send a message to a logger that gateway.yaml's `loggers` names.

The message is queued, never waited for (gateway.telemetry.loggers): a sink that is slow or
down never slows or fails the request. As in APIM, a message over 200 KB is cut to 200 KB.
`partition-id` picks a Kafka partition, `partition-key` is the Kafka key (Event Hubs hashes
it to a partition); other sinks keep them beside the message. An unknown `logger-id` is a
load error (gateway.policy.loader's reference checks).
"""

from __future__ import annotations

from gateway.expressions.values import to_text
from gateway.policy.compiling import CompileContext
from gateway.policy.spec import POLICY_ID, AttributeSpec, StatementSpec, TextSpec
from gateway.policy.tree import Node
from gateway.runtime.context import RequestContext
from gateway.runtime.step import LocalReply, PolicyError, Step

MAX_BYTES = 200 * 1024


def compile_log_to_eventhub(node: Node, context: CompileContext) -> Step:
    logger = context.literal(node.attr("logger-id")) or ""
    text = context.value(node.text, "")
    partition_id = context.value(node.attr("partition-id"))
    partition_key = context.value(node.attr("partition-key"))
    source, policy_id = context.statement, context.policy_id

    def partition(request: RequestContext) -> int | None:
        value = partition_id(request)
        if value is None:
            return None
        written = to_text(value).strip()
        if not written.isdigit():
            raise PolicyError(
                source,
                "ExpressionValueEvaluationFailure",
                f"partition-id must be a partition number, not '{written}'",
                status=500,
                policy_id=policy_id,
            )
        return int(written)

    async def log_to_eventhub(request: RequestContext) -> LocalReply | None:
        loggers = request.services.loggers
        if loggers is None:  # a chain run outside a serving gateway (lint, explain, tests)
            return None
        message = to_text(text(request))
        if len(message) > MAX_BYTES // 4 and len(data := message.encode()) > MAX_BYTES:
            message = data[:MAX_BYTES].decode(errors="ignore")
        key = partition_key(request)
        loggers.send(logger, message, partition(request), None if key is None else to_text(key))
        return None

    return log_to_eventhub


SPEC = StatementSpec(
    names=("log-to-eventhub",),
    summary="Sends its text (up to 200 KB) to the named logger.",
    attributes=(
        POLICY_ID,
        AttributeSpec(
            "logger-id",
            required=True,
            expression=False,
            doc="A logger that gateway.yaml's `loggers` names.",
        ),
        AttributeSpec("partition-id", doc="The partition (a number) a Kafka sink writes to."),
        AttributeSpec("partition-key", doc="The key a Kafka sink gives the message."),
    ),
    text=TextSpec(required=True),
    compile=compile_log_to_eventhub,
)

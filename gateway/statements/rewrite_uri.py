"""`rewrite-uri`: rewrite the backend path and query from a template.

As in APIM, the template is the path under the backend's URL: the backend gets it in place of
the path after the API suffix. Template values are percent-encoded (a `/` in one is `%2F`),
and the path is resolved as gateway.common.url_paths reads paths; one that climbs above the
backend's URL (a `{param}` whose value is `..`) fails the request with a 400.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, quote

from gateway.common.literals import parse_bool
from gateway.common.url_paths import resolved
from gateway.expressions.model import HeaderDictionary
from gateway.expressions.values import to_text
from gateway.policy.compiling import CompileContext
from gateway.policy.spec import POLICY_ID, AttributeSpec, Kind, StatementSpec
from gateway.policy.tree import Node
from gateway.runtime.context import RequestContext
from gateway.runtime.step import LocalReply, PolicyError, Step
from gateway.statements.support.declarations import INBOUND

_PARAMETER = re.compile(r"\{([^{}]+)\}")


def compile_rewrite_uri(node: Node, context: CompileContext) -> Step:
    template = context.value(node.attr("template"), "/")
    copy_unmatched = parse_bool(context.literal(node.attr("copy-unmatched-params")) or "true")
    policy_id = node.attr_text("id")

    async def rewrite_uri(request: RequestContext) -> LocalReply | None:
        url = request.model.Request.Url
        matched = request.model.Request.MatchedParameters
        used: set[str] = set()

        def fill(match: re.Match[str]) -> str:
            name = match.group(1)
            used.add(name.lower())
            value = matched.get(name) or url.Query.joined(name) or ""
            return quote(value, safe="")

        path, _, query = _PARAMETER.sub(fill, to_text(template(request))).partition("?")
        rewritten = HeaderDictionary()
        for key, value in parse_qsl(query, keep_blank_values=True):
            rewritten.append(key, [value])
        if copy_unmatched is not False:
            for key in url.Query.Keys:
                if rewritten.get(key) is None and key.lower() not in used:
                    rewritten.set(key, url.Query.get(key) or [])
        sent = resolved(path or "/")
        if sent is None:
            raise PolicyError(
                "rewrite-uri",
                "PathNotAllowed",
                f"The rewritten path '{path}' climbs above the backend's URL ('..', '%2e%2e', "
                "'..%2f'); a template value must not be a dot segment.",
                status=400,
                policy_id=policy_id,
            )
        url.Path, url.Query = path or "/", rewritten
        request.backend_path = sent
        return None

    return rewrite_uri


SPEC = StatementSpec(
    names=("rewrite-uri",),
    summary="Rewrites the backend URL's path and query; {param} takes URL-template values.",
    sections=INBOUND,
    attributes=(
        POLICY_ID,
        AttributeSpec("template", required=True),
        AttributeSpec("copy-unmatched-params", Kind.BOOL, default="true", expression=False),
    ),
    compile=compile_rewrite_uri,
)

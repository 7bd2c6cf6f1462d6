"""Operations of a `style: http` API imported from an OpenAPI (3.x) or Swagger (2.0) file.

As APIM's import does: each path and method is an operation, its `operationId` the
operation's ID (or one made from the method and path when the file has none), and the
responses' examples become what `mock-response` returns.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml

from gateway.common.yaml_loader import safe_load
from gateway.config.apis import Example, Operation

METHODS = ("get", "put", "post", "delete", "options", "head", "patch")


class OpenApiError(Exception):
    """The file cannot be read or is not an OpenAPI document; the message says which."""


def import_operations(path: Path) -> tuple[Operation, ...]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) else "it is not UTF-8 text"
        raise OpenApiError(f"cannot read {path}: {reason}") from None
    try:
        document = json.loads(text) if path.suffix == ".json" else safe_load(text)
    except (ValueError, yaml.YAMLError) as error:
        raise OpenApiError(f"{path} is not valid JSON or YAML: {error}") from None
    if not isinstance(document, dict) or not isinstance(document.get("paths"), dict):
        raise OpenApiError(f"{path} has no 'paths': is it an OpenAPI document?")
    operations = []
    for template, item in document["paths"].items():
        if not isinstance(item, dict):
            continue
        for method in METHODS:
            spec = item.get(method)
            if isinstance(spec, dict):
                operations.append(_operation(str(template), method, spec))
    if not operations:
        raise OpenApiError(f"{path} declares no operations under 'paths'")
    return tuple(operations)


def _operation(template: str, method: str, spec: dict[str, Any]) -> Operation:
    made_up = method + re.sub(r"[^A-Za-z0-9]+", "-", template).rstrip("-")
    operation_id = str(spec.get("operationId") or made_up)
    return Operation(
        id=operation_id,
        method=method.upper(),
        url_template=template,
        name=str(spec.get("summary") or operation_id),
        examples=tuple(_examples(spec.get("responses"))),
    )


def _examples(responses: object) -> list[Example]:
    found: list[Example] = []
    if not isinstance(responses, dict):
        return found
    for status, response in responses.items():
        if not str(status).isdigit() or not isinstance(response, dict):
            continue
        content = response.get("content")
        if isinstance(content, dict):  # OpenAPI 3
            for content_type, media in content.items():
                value = _example_of(media)
                if value is not None:
                    found.append(_example(value, status, content_type))
        elif isinstance(response.get("examples"), dict):  # Swagger 2: content type -> value
            for content_type, value in response["examples"].items():
                found.append(_example(value, status, content_type))
    return found


def _example(value: object, status: object, content_type: object) -> Example:
    return Example(status=int(str(status)), content_type=str(content_type), body=_text(value))


def _example_of(media: object) -> object:
    if not isinstance(media, dict):
        return None
    if "example" in media:
        return media["example"]
    examples = media.get("examples")
    if isinstance(examples, dict):
        for example in examples.values():
            if isinstance(example, dict) and "value" in example:
                return example["value"]
    return None


def _text(value: object) -> str:
    return value if isinstance(value, str) else json.dumps(value)

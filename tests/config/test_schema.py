"""The generated JSON Schema for gateway.yaml agrees with the loader."""

from __future__ import annotations

import yaml

from gateway.config.json_schema import json_schema
from tests.config.valid_gateway import VALID

jsonschema = __import__("jsonschema")


def test_schema_accepts_the_valid_example_and_rejects_unknown_keys() -> None:
    schema = json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    assert list(validator.iter_errors(yaml.safe_load(VALID))) == []
    broken = yaml.safe_load(VALID)
    broken["apis"]["azure-openai"]["backnd"] = "x"
    assert list(validator.iter_errors(broken))

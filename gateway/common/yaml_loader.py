"""The YAML loader every reader of YAML uses (gateway.yaml and policy YAML)."""

from __future__ import annotations

import yaml

# libyaml's parser when PyYAML was built with it (10x faster); both keep line and column.
LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

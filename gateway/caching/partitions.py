"""How many prompts a semantic-cache partition holds, and how many partitions are kept.

Apart from the vector search, which needs numpy: gateway.yaml's declaration names the default
(`cache.partition-max-entries`) without loading numpy for `aigw lint`.
"""

from __future__ import annotations

DEFAULT_MAX_ENTRIES = 10_000  # per partition
DEFAULT_MAX_PARTITIONS = 1_000  # the least recently searched go first

"""Database URLs as they may be shown: in log lines, errors and `aigw` output."""

from __future__ import annotations

import re


def redact(url: str) -> str:
    """The URL without its password (`postgresql://user:***@host/db`)."""
    return re.sub(r"(://[^:/@]*):[^@/]*@", r"\1:***@", url)

"""Values of gateway.yaml that may name a secret: `${env:NAME}` or `${file:PATH}`.

They stay `ConfigValue`s until the gateway uses them: linting on a machine without the
environment variables works, and nothing secret is resolved early.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

SECRET_REFERENCE = re.compile(r"\$\{(env|file):([^}]*)\}")


class SecretUnavailable(Exception):
    """A `${env:...}`/`${file:...}` reference could not be resolved; names it, not its value."""


@dataclass(frozen=True, slots=True)
class ConfigValue:
    """A string from gateway.yaml that may contain `${env:NAME}` or `${file:PATH}`."""

    raw: str
    base: Path = Path(".")  # the folder of gateway.yaml: where relative `${file:...}` paths start

    @property
    def is_reference(self) -> bool:
        return bool(SECRET_REFERENCE.search(self.raw))

    def resolve(self) -> str:
        def value_of(match: re.Match[str]) -> str:
            kind, name = match.group(1), match.group(2).strip()
            if kind == "env":
                if name not in os.environ:
                    raise SecretUnavailable(f"the environment variable {name} is not set")
                return os.environ[name]
            path = Path(name) if Path(name).is_absolute() else self.base / name
            try:
                return path.read_text(encoding="utf-8").removesuffix("\n")
            except OSError as error:
                raise SecretUnavailable(
                    f"cannot read the secret file {path}: {error.strerror}"
                ) from None

        return SECRET_REFERENCE.sub(value_of, self.raw)

    def __repr__(self) -> str:  # never print a resolved secret; the raw text is a reference
        return f"ConfigValue({self.raw if self.is_reference else '***'!r})"

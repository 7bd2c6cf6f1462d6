"""A subscription made through the admin API, as it is stored: keys as SHA-256 digests only.

The fields follow APIM's management API (display name, scope, state, expiration date); keys are
made here, shown once to whoever created or regenerated them, and never stored in plain text.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import time
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from typing import Any

from gateway.config.apis import Subscription
from gateway.config.secrets import ConfigValue

# What a subscription made at run time may be: APIM's states a gateway can act on (submitted
# and rejected belong to an approval workflow the gateway does not run). `expired` is not
# stored: it is what an active subscription past its expiration date shows.
STATES = ("active", "suspended", "cancelled")


def new_key() -> str:
    """A fresh subscription key: 32 hex characters, as APIM's."""
    return secrets.token_hex(16)


def digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


@dataclass(frozen=True, slots=True, kw_only=True)
class Tenant:
    id: str
    name: str
    scope: str  # all-apis, product/<id> or api/<id>
    state: str  # one of STATES
    primary: str  # SHA-256 hex digest of the primary key
    secondary: str
    expires: float | None = None  # epoch seconds; past it the keys open nothing
    created: float = 0.0
    updated: float = 0.0

    def expired(self, now: float) -> bool:
        return self.expires is not None and now >= self.expires

    def shown_state(self, now: float) -> str:
        return "expired" if self.state == "active" and self.expired(now) else self.state

    def subscription(self) -> Subscription:
        """The subscription admission knows (its keys as `sha256:` digests)."""
        return Subscription(
            id=self.id,
            scope=self.scope,
            primary_key=ConfigValue(f"sha256:{self.primary}"),
            secondary_key=ConfigValue(f"sha256:{self.secondary}"),
            state="active" if self.state == "active" else "suspended",
            name=self.name,
        )

    def changed(self, **fields: Any) -> Tenant:
        return replace(self, updated=time.time(), **fields)

    def encode(self) -> str:
        return json.dumps(asdict(self), sort_keys=True, separators=(",", ":"))

    @staticmethod
    def decode(text: str | bytes) -> Tenant:
        return Tenant(**json.loads(text))

    def public(self, now: float | None = None) -> dict[str, object]:
        """What the admin API shows (never a key, nor a key's digest)."""
        return {
            "id": self.id,
            "displayName": self.name,
            "scope": self.scope,
            "state": self.shown_state(time.time() if now is None else now),
            "expirationDate": iso(self.expires),
            "createdDate": iso(self.created),
            "updatedDate": iso(self.updated),
            "source": "admin",
        }


def iso(moment: float | None) -> str | None:
    if moment is None:
        return None
    return datetime.fromtimestamp(moment, UTC).isoformat().replace("+00:00", "Z")


def parse_moment(text: str) -> float:
    """An ISO 8601 date or time (UTC when it names no zone), as epoch seconds."""
    moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()

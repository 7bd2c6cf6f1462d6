"""Every change the admin API makes to a run-time subscription: checked against gateway.yaml
(scopes must name what exists; its own subscriptions stay read-only), written to the store by
compare-and-swap (two admins at once: one wins, the other's change is re-applied on what won),
read back into this process's index at once, and written to the audit log.

A refusal is a `Refused` with the HTTP status and a message that says how to fix the request.
Keys are returned to the caller once and never appear in the audit log.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from gateway.config.settings import GatewayConfig
from gateway.tenants.index import Tenants
from gateway.tenants.record import Tenant, digest, iso, new_key, parse_moment

audit_log = logging.getLogger("aigw.audit")

ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$")
ATTEMPTS = 5  # compare-and-swap retries before a change gives up as a conflict
# action -> (states it may start from, the state it leaves)
TRANSITIONS = {
    "suspend": (("active",), "suspended"),
    "reactivate": (("suspended",), "active"),
    "cancel": (("active", "suspended"), "cancelled"),
}
KEYS = ("primary", "secondary")


class Refused(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


@dataclass(frozen=True, slots=True)
class Created:
    tenant: Tenant
    primary_key: str
    secondary_key: str


class Changes:
    """The admin API's changes, for one configuration and one actor (who, for the audit)."""

    def __init__(self, tenants: Tenants, config: GatewayConfig, actor: str) -> None:
        self.tenants = tenants
        self.config = config
        self.actor = actor

    async def create(self, fields: Mapping[str, object]) -> Created:
        _only(fields, {"id", "displayName", "scope", "state", "expirationDate"})
        id = _text(fields, "id") or secrets.token_hex(8)
        if not ID.match(id):
            raise Refused(400, "invalid_id", f"id {id!r}: letters, digits, '.', '_', '-' only")
        if id in self.config.subscriptions:
            raise Refused(409, "read_only", f"{id} is defined in gateway.yaml; choose another id")
        state = _text(fields, "state") or "active"
        if state not in ("active", "suspended"):
            raise Refused(400, "invalid_state", "a new subscription is active or suspended")
        primary, secondary = new_key(), new_key()
        now = time.time()
        tenant = Tenant(
            id=id,
            name=_text(fields, "displayName") or id,
            scope=self._scope(_text(fields, "scope")),
            state=state,
            primary=digest(primary),
            secondary=digest(secondary),
            expires=_expiry(fields),
            created=now,
            updated=now,
        )
        if not await self.tenants.store.swap(id, None, tenant):
            raise Refused(409, "exists", f"subscription {id} exists already")
        await self._done("create", tenant, _shown(fields))
        return Created(tenant, primary, secondary)

    async def update(self, id: str, fields: Mapping[str, object]) -> Tenant:
        _only(fields, {"displayName", "scope", "expirationDate"})
        changes: dict[str, object] = {}
        if "displayName" in fields:
            changes["name"] = _text(fields, "displayName") or id
        if "scope" in fields:
            changes["scope"] = self._scope(_text(fields, "scope"))
        if "expirationDate" in fields:
            changes["expires"] = _expiry(fields)
        tenant = await self._change(id, lambda old: old.changed(**changes))
        await self._done("update", tenant, _shown(fields))
        return tenant

    async def transition(self, id: str, action: str) -> Tenant:
        sources, target = TRANSITIONS[action]

        def moved(old: Tenant) -> Tenant:
            if old.state not in sources:
                raise Refused(409, "invalid_state", f"{id} is {old.state}: cannot {action} it")
            return old.changed(state=target)

        tenant = await self._change(id, moved)
        await self._done(action, tenant, {"state": target})
        return tenant

    async def regenerate(self, id: str, which: str) -> tuple[Tenant, str]:
        if which not in KEYS:
            raise Refused(404, "not_found", "regenerate the primary or the secondary key")
        key = new_key()
        tenant = await self._change(id, lambda old: old.changed(**{which: digest(key)}))
        await self._done(f"regenerate-{which}-key", tenant, {})
        return tenant, key

    async def delete(self, id: str) -> None:
        self._writable(id)
        for _ in range(ATTEMPTS):
            old = (await self.tenants.store.load()).get(id)
            if old is None:
                raise Refused(404, "not_found", f"no subscription {id}")
            if await self.tenants.store.swap(id, old, None):
                await self._done("delete", old, {})
                return
        raise Refused(409, "conflict", f"{id} kept changing; try again")

    async def _change(self, id: str, change: Callable[[Tenant], Tenant]) -> Tenant:
        self._writable(id)
        for _ in range(ATTEMPTS):
            old = (await self.tenants.store.load()).get(id)
            if old is None:
                raise Refused(404, "not_found", f"no subscription {id}")
            new = change(old)
            if await self.tenants.store.swap(id, old, new):
                return new
        raise Refused(409, "conflict", f"{id} kept changing; try again")

    def _writable(self, id: str) -> None:
        if id in self.config.subscriptions:
            raise Refused(
                409, "read_only", f"{id} is defined in gateway.yaml: change it there and reload"
            )

    def _scope(self, scope: str) -> str:
        kind, _, target = scope.partition("/")
        if scope == "all-apis":
            return scope
        if kind == "product" and target in self.config.products:
            return scope
        if kind == "api" and target in self.config.apis:
            return scope
        known = [f"product/{p}" for p in self.config.products] + [
            f"api/{a}" for a in self.config.apis
        ]
        raise Refused(
            400,
            "invalid_scope",
            f"scope {scope!r}: use all-apis, or one of {', '.join(sorted(known)) or 'none'}",
        )

    async def _done(self, action: str, tenant: Tenant, changes: dict[str, object]) -> None:
        """Make the change visible here at once, and write it to the audit log."""
        await self.tenants.refreshed()
        entry = {
            "time": iso(time.time()),
            "action": action,
            "subscription": tenant.id,
            "actor": self.actor,
            "changes": changes,
        }
        text = json.dumps(entry, separators=(",", ":"))
        audit_log.info("%s", text)
        await self.tenants.store.audit(text)


def _only(fields: Mapping[str, object], allowed: set[str]) -> None:
    unknown = sorted(set(fields) - allowed)
    if unknown:
        raise Refused(
            400,
            "invalid_field",
            f"unknown field {', '.join(unknown)}; allowed: {', '.join(sorted(allowed))}",
        )


def _text(fields: Mapping[str, object], name: str) -> str:
    value = fields.get(name)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise Refused(400, "invalid_field", f"{name} must be a string")
    return value.strip()


def _expiry(fields: Mapping[str, object]) -> float | None:
    text = _text(fields, "expirationDate")
    if not text:
        return None
    try:
        return parse_moment(text)
    except ValueError:
        raise Refused(
            400, "invalid_field", f"expirationDate {text!r}: an ISO 8601 date or time"
        ) from None


def _shown(fields: Mapping[str, object]) -> dict[str, object]:
    """The request's fields for the audit log (nothing secret is among them)."""
    return {name: value for name, value in fields.items() if name != "id"}

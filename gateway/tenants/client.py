"""The admin API's subscriptions, called over HTTP (what `aigw subscriptions` uses).

Standard library only: the command line stays quick to start and needs no event loop. The
admin key travels in the Authorization header and is never printed.
"""

from __future__ import annotations

import getpass
import json
import socket
import urllib.error
import urllib.request
from typing import Any

PREFIX = "/-/api"


class AdminError(Exception):
    """The admin API refused, or could not be reached; the message says which and why."""


class AdminClient:
    def __init__(self, admin_url: str, admin_key: str, timeout: float = 10.0) -> None:
        self.base = admin_url.rstrip("/")
        self._key = admin_key
        self.timeout = timeout
        # Who made a change, for the audit log: the user and host, never the key.
        self.actor = f"{getpass.getuser()}@{socket.gethostname()} (aigw subscriptions)"

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.base + PREFIX + path, data=data, method=method)
        request.add_header("authorization", f"Bearer {self._key}")
        request.add_header("x-aigw-actor", self.actor)
        if data is not None:
            request.add_header("content-type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as answer:
                text = answer.read()
        except urllib.error.HTTPError as error:
            raise AdminError(f"{error.code}: {_message(error.read())}") from None
        except (urllib.error.URLError, OSError) as error:
            reason = getattr(error, "reason", error)
            raise AdminError(f"cannot reach the admin listener at {self.base}: {reason}") from None
        return json.loads(text) if text else None


def _message(body: bytes) -> str:
    try:
        return str(json.loads(body)["error"]["message"])
    except (ValueError, KeyError, TypeError):
        return body.decode("utf-8", "replace")[:300]

"""Cached HTTP responses: how `cache-lookup` names them and how they are kept as bytes.

An entry is one JSON line (status, reason, headers) followed by the body. Headers that belong
to one connection or one client (hop-by-hop headers, Set-Cookie, Date) are not kept.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

NOT_KEPT = frozenset(
    {
        "connection",
        "keep-alive",
        "transfer-encoding",
        "content-length",
        "date",
        "set-cookie",
        "server",
        "upgrade",
        "trailer",
        "proxy-authenticate",
    }
)


@dataclass(frozen=True, slots=True)
class CachedResponse:
    status: int
    reason: str
    headers: list[tuple[str, str]]
    body: bytes

    def encode(self) -> bytes:
        kept = [[n, v] for n, v in self.headers if n.lower() not in NOT_KEPT]
        head = {"status": self.status, "reason": self.reason, "headers": kept}
        return json.dumps(head, separators=(",", ":")).encode() + b"\n" + self.body

    @classmethod
    def decode(cls, data: bytes) -> CachedResponse:
        head, _, body = data.partition(b"\n")
        fields = json.loads(head)
        headers = [(str(n), str(v)) for n, v in fields["headers"]]
        return cls(int(fields["status"]), str(fields["reason"]), headers, body)


def response_key(parts: list[str]) -> str:
    """A fixed-length key for the parts that identify a cached response (order matters)."""
    digest = hashlib.sha256("\x1f".join(parts).encode("utf-8", "surrogatepass")).hexdigest()
    return "response:" + digest

"""APIM's `context` object, read-only, as policy expressions see it.

Plain classes with PascalCase members, like the C# model they mirror. An expression may read
only members declared as dataclass fields or listed in `EXTRA_MEMBERS`; nothing else of the
Python object is reachable. The proxy subclasses these (or fills them) from the live request;
tests build them from plain values.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import ClassVar

from gateway.common.request_ids import new_request_id
from gateway.expressions.values import ExpressionError, utc_now


class ModelObject:
    """Base of the model: declares which members expressions may read."""

    EXTRA_MEMBERS: ClassVar[frozenset[str]] = frozenset()

    @classmethod
    @cache
    def expression_members(cls) -> frozenset[str]:
        declared = {f.name for f in fields(cls)} if hasattr(cls, "__dataclass_fields__") else set()
        return frozenset(n for n in declared if n[:1].isupper()) | cls.EXTRA_MEMBERS


class HeaderDictionary(ModelObject):
    """Case-insensitive `IReadOnlyDictionary<string, string[]>` with APIM's helpers."""

    EXTRA_MEMBERS = frozenset({"Keys", "Values", "Count"})

    def __init__(self, values: Mapping[str, str | Iterable[str]] | None = None) -> None:
        self._built: dict[str, tuple[str, list[str]]] = {}
        # Lines not yet indexed by name (from_lines): most requests' headers are only passed
        # on, never looked up, so the index is made on first use.
        self._pending: tuple[list[tuple[str, str]], frozenset[str]] | None = None
        if values:  # most are made empty (from_lines, a response's): three a request
            for name, value in values.items():
                listed = [value] if isinstance(value, str) else list(value)
                self._built[name.lower()] = (name, listed)

    @classmethod
    def from_lines(
        cls, lines: Iterable[tuple[str, str]], dropped: frozenset[str] = frozenset()
    ) -> HeaderDictionary:
        """From (name, value) pairs in order, leaving out the lower-case names in `dropped`."""
        headers = cls()
        headers._pending = (list(lines), dropped)
        return headers

    def _index(self) -> dict[str, tuple[str, list[str]]]:
        """The index by lower-case name, made now if the lines are still pending."""
        pending = self._pending
        if pending is None:
            return self._built
        lines, dropped = pending
        self._pending = None
        items = self._built
        # The fewest steps a line (one per line of every request and response): `in` rather
        # than a `get` call, and a kept name is never in `dropped`.
        for name, value in lines:
            key = name.lower()
            if key in items:
                items[key][1].append(value)
            elif key not in dropped:
                items[key] = (name, [value])
        return items

    def get(self, name: str) -> list[str] | None:
        key = name.lower()
        if self._pending is not None:  # a look-up or two need no index
            lines, dropped = self._pending
            if key in dropped:
                return None
            # Lengths first: most names differ in length from the one sought, and comparing
            # lengths makes no lower-case copy of each name. (Here and below a loop, not a
            # comprehension: for a few lines the comprehension's own call costs more.)
            size = len(key)
            values = None
            for line, value in lines:
                if len(line) == size and line.lower() == key:
                    if values is None:
                        values = [value]
                    else:
                        values.append(value)
            return values
        found = self._built.get(key)
        return found[1] if found else None

    def joined(self, name: str) -> str | None:
        values = self.get(name)
        return ",".join(values) if values is not None else None

    # Writers, for statements (set-header) and the proxy; expressions cannot reach them.

    def set(self, name: str, values: list[str]) -> None:
        items = self._built if self._pending is None else self._index()
        items[name.lower()] = (name, list(values))

    def append(self, name: str, values: list[str]) -> None:
        items, key = self._index(), name.lower()
        spelling, current = items.get(key, (name, []))
        items[key] = (spelling, [*current, *values])

    def remove(self, name: str) -> None:
        self._index().pop(name.lower(), None)

    def lines(self) -> list[tuple[str, str]]:
        """(name, value) pairs, one per value: what goes on the wire."""
        found = []
        if self._pending is not None:  # not indexed yet: the lines as they came, in order
            lines, dropped = self._pending
            for line in lines:
                if line[0].lower() not in dropped:
                    found.append(line)
            return found
        for name, values in self._built.values():
            for value in values:
                found.append((name, value))
        return found

    @property
    def Keys(self) -> list[str]:
        return [name for name, _ in self._index().values()]

    @property
    def Values(self) -> list[list[str]]:
        return [values for _, values in self._index().values()]

    @property
    def Count(self) -> int:
        return len(self._index())


class MessageBody(ModelObject):
    """A request or response body, read at most once unless `preserveContent: true`.

    `source` is called the first time the body is needed, so a policy that never reads the
    body never pays for it.
    """

    def __init__(self, source: bytes | str | Callable[[], bytes] = b"") -> None:
        self._source = source
        self._content: bytes | None = None
        self.consumed = False

    def read(self, preserve: bool) -> bytes:
        if self.consumed:
            raise ExpressionError(
                "the body was already read without preserveContent: true; read it with "
                "As<T>(preserveContent: true) the first time"
            )
        if self._content is None:
            source = self._source
            raw = source() if callable(source) else source
            self._content = raw.encode() if isinstance(raw, str) else raw
        if not preserve:
            self.consumed = True
        return self._content


@dataclass
class UrlModel(ModelObject):
    Scheme: str = "https"
    Host: str = "localhost"
    Port: int = 443
    Path: str = "/"
    Query: HeaderDictionary = field(default_factory=HeaderDictionary)
    EXTRA_MEMBERS = frozenset({"QueryString"})

    @property
    def QueryString(self) -> str:
        pairs = [f"{k}={v}" for k in self.Query.Keys for v in self.Query.get(k) or []]
        return ("?" + "&".join(pairs)) if pairs else ""

    def __str__(self) -> str:
        port = "" if (self.Scheme, self.Port) in (("https", 443), ("http", 80)) else f":{self.Port}"
        return f"{self.Scheme}://{self.Host}{port}{self.Path}{self.QueryString}"


@dataclass
class RequestModel(ModelObject):
    Method: str = "GET"
    Url: UrlModel = field(default_factory=UrlModel)
    OriginalUrl: UrlModel = field(default_factory=UrlModel)
    Headers: HeaderDictionary = field(default_factory=HeaderDictionary)
    IpAddress: str = "127.0.0.1"
    MatchedParameters: dict[str, str] = field(default_factory=dict)
    Body: MessageBody | None = None
    Certificate: object = None


@dataclass
class ResponseModel(ModelObject):
    StatusCode: int = 200
    StatusReason: str = "OK"
    Headers: HeaderDictionary = field(default_factory=HeaderDictionary)
    Body: MessageBody | None = None


@dataclass
class ApiModel(ModelObject):
    Id: str = ""
    Name: str = ""
    Path: str = ""
    Protocols: list[str] = field(default_factory=lambda: ["https"])
    ServiceUrl: UrlModel | None = None
    IsCurrentRevision: bool = True
    Revision: str = "1"
    Version: str = ""
    SubscriptionKeyParameterNames: dict[str, str] = field(default_factory=dict)


@dataclass
class OperationModel(ModelObject):
    Id: str = ""
    Method: str = "GET"
    Name: str = ""
    UrlTemplate: str = "/"


@dataclass
class ProductModel(ModelObject):
    Id: str = ""
    Name: str = ""
    State: str = "Published"
    ApprovalRequired: bool = False
    SubscriptionRequired: bool = True
    SubscriptionsLimit: int | None = None
    Groups: list[object] = field(default_factory=list)
    Apis: list[object] = field(default_factory=list)


@dataclass
class SubscriptionModel(ModelObject):
    Id: str = ""
    Key: str = ""
    Name: str = ""
    PrimaryKey: str = ""
    SecondaryKey: str = ""
    CreatedDate: datetime = field(default_factory=utc_now)
    StartDate: datetime | None = None
    EndDate: datetime | None = None


@dataclass
class UserModel(ModelObject):
    Id: str = ""
    Email: str = ""
    FirstName: str = ""
    LastName: str = ""
    Note: str = ""
    RegistrationDate: datetime = field(default_factory=utc_now)
    Groups: list[object] = field(default_factory=list)
    Identities: list[object] = field(default_factory=list)


@dataclass
class GatewayModel(ModelObject):
    Id: str = "managed"
    InstanceId: str = ""
    IsManaged: bool = False


@dataclass
class DeploymentModel(ModelObject):
    GatewayId: str = "managed"
    Gateway: GatewayModel = field(default_factory=GatewayModel)
    Region: str = "local"
    ServiceId: str = ""
    ServiceName: str = "aigw"
    Certificates: dict[str, object] = field(default_factory=dict)


@dataclass
class LastErrorModel(ModelObject):
    Source: str = ""
    Reason: str = ""
    Message: str = ""
    Scope: str = ""
    Section: str = ""
    Path: str = ""
    PolicyId: str = ""


@dataclass
class WorkspaceModel(ModelObject):
    Id: str = ""
    Name: str = ""


@dataclass
class ContextModel(ModelObject):
    """APIM's `context`. `Variables` is the one member that statements write."""

    Api: ApiModel = field(default_factory=ApiModel)
    Deployment: DeploymentModel = field(default_factory=DeploymentModel)
    LastError: LastErrorModel | None = None
    Operation: OperationModel = field(default_factory=OperationModel)
    Product: ProductModel | None = None
    Request: RequestModel = field(default_factory=RequestModel)
    Response: ResponseModel = field(default_factory=ResponseModel)
    Subscription: SubscriptionModel | None = None
    Tracing: bool = False
    User: UserModel | None = None
    Variables: dict[str, object] = field(default_factory=dict)
    Workspace: WorkspaceModel | None = None
    traces: list[str] = field(default_factory=list)
    # RequestId and Timestamp are made when first read: most requests never read them, and a
    # UUID and a datetime per request are measurable on the hot path.
    started: float = field(default_factory=time.time)
    # The id as text (logs, headers, the ledger read it so): the UUID object only when an
    # expression reads `context.RequestId`.
    request_id: str | None = None
    request_uuid: uuid.UUID | None = None
    EXTRA_MEMBERS = frozenset({"Elapsed", "Trace", "RequestId", "Timestamp"})

    @property
    def RequestId(self) -> uuid.UUID:
        if self.request_uuid is None:
            self.request_uuid = uuid.UUID(self.request_id_text)
        return self.request_uuid

    @property
    def request_id_text(self) -> str:
        """`RequestId` as text (`str(context.RequestId)`), made when first read."""
        if self.request_id is None:
            self.request_id = new_request_id()
        return self.request_id

    @property
    def Timestamp(self) -> datetime:
        return datetime.fromtimestamp(self.started, UTC).replace(tzinfo=None)

    @property
    def Elapsed(self) -> timedelta:
        return timedelta(seconds=time.time() - self.started)

    def Trace(self, message: object) -> None:
        self.traces.append(str(message))

"""Paths and URLs read once, the way the server they go to will read them.

A path is kept percent-encoded as the client sent it (never decoded and encoded again: a
client's `%252f` must reach the backend as `%252f`, not `%2f`). Escapes of unreserved
characters (RFC 3986: letters, digits, `-._~`) are decoded, since every server reads them as
the character (`%2e` is a dot); every other escape stays, in upper case, and a stray `%`
becomes `%25`. Dot segments are then resolved, and a path is said to escape when, read as a
lenient server might (`%2F`, `%5C` and `\\` as separators, `;params` dropped from a segment),
its `..` segments climb above its root.
"""

from __future__ import annotations

import re
from functools import lru_cache
from urllib.parse import quote, urlsplit

_HEX = frozenset("0123456789abcdefABCDEF")
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
# What a lenient server reads as a separator, once escapes are canonical (upper case).
_SEPARATORS = re.compile(r"%2F|%5C|\\")
_SEGMENT_PARAMETERS = re.compile(r";[^/]*")
# What a path keeps as it is when quoted: RFC 3986's pchar and `/`, and escapes (`%`).
_PATH_SAFE = "/%:@!$&'()*+,;=-._~"
_DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}


# Paths repeat (one operation's requests share theirs): each is read once. Bounded, as paths
# come from clients.
@lru_cache(maxsize=4096)
def canonical(raw: str) -> str:
    """`raw` with unreserved escapes decoded, the others in upper case, a stray `%` as `%25`."""
    if "%" not in raw:
        return raw
    first, *rest = raw.split("%")
    out = [first]
    for part in rest:
        code = part[:2]
        if len(code) == 2 and code[0] in _HEX and code[1] in _HEX:
            char = chr(int(code, 16))
            out.append((char if char in _UNRESERVED else "%" + code.upper()) + part[2:])
        else:
            out.append("%25" + part)
    return "".join(out)


def without_dot_segments(path: str) -> tuple[str, bool]:
    """`path` (starting with `/`) with its `.` and `..` segments resolved (RFC 3986 5.2.4),
    and whether a `..` climbed above the root (where RFC 3986 would stop silently)."""
    parts = path.split("/")[1:]
    out: list[str] = []
    climbed = False
    for index, segment in enumerate(parts):
        if segment not in (".", ".."):
            out.append(segment)
            continue
        if segment == "..":
            if out:
                out.pop()
            else:
                climbed = True
        if index == len(parts) - 1:  # a last dot segment leaves its directory's slash
            out.append("")
    return "/" + "/".join(out), climbed


def might_climb(raw: str) -> bool:
    """Cheap: could `raw` hold a dot segment or an escape? (False for most requests' paths.)"""
    return "%" in raw or "/." in raw or "\\" in raw or raw.startswith(".")


@lru_cache(maxsize=4096)
def resolved(raw: str) -> str | None:
    """The path (percent-encoded, starting with `/`) to send: canonical, dot segments
    resolved; None when it escapes its root, read strictly or as a lenient server might."""
    path, climbed = without_dot_segments(canonical(raw if raw.startswith("/") else "/" + raw))
    if climbed or leniently(path) is None:
        return None
    return path


def leniently(path: str) -> str | None:
    """`path` (resolved) as a lenient server reads it: `%2F`, `%5C` and `\\` as separators,
    `;params` dropped, dot segments resolved again; None when that climbs above the root."""
    lenient = _SEGMENT_PARAMETERS.sub("", _SEPARATORS.sub("/", path))
    if lenient == path:
        return path
    read, climbed = without_dot_segments(lenient)
    return None if climbed else read


class UrlError(ValueError):
    """A URL that cannot be read (an unclosed `[`, a port that is no number or out of range)."""


def origin(url: str) -> tuple[str, str, int | None, str]:
    """Scheme and host in lower case, the port (the scheme's default when none is written),
    and the rest (path, query and fragment, as written); UrlError when it cannot be read."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
        host = parts.hostname or ""
    except ValueError as error:
        raise UrlError(f"{error} in '{url}'") from None
    scheme = parts.scheme.lower()
    rest = url.strip()[len(parts.scheme) + 3 + len(parts.netloc) :] if parts.netloc else ""
    return scheme, host, port if port is not None else _DEFAULT_PORTS.get(scheme), rest


def _userinfo(url: str) -> str:
    """`user:password@` when `url` carries one, else ''."""
    netloc = urlsplit(url.strip()).netloc
    return netloc.rpartition("@")[0] + "@" if "@" in netloc else ""


def url_problem(url: str, schemes: tuple[str, ...]) -> str | None:
    """What is wrong with `url` as an absolute URL of one of `schemes`, saying how to fix it;
    None when nothing is. (For load-time checks: never raises.)"""
    kinds = sorted({scheme.removesuffix("s") + "(s)" for scheme in schemes})  # http(s), ws(s)
    written = f"{kinds[0] if len(kinds) == 1 else 'scheme'}://host[:port]/path"
    try:
        scheme, host, _, _ = origin(url)
    except UrlError as error:
        return f"'{url}' cannot be read ({str(error).partition(' in ')[0]}); write {written}"
    if scheme not in schemes or not host:
        return f"'{url}' is not an absolute {' or '.join(kinds)} URL; write {written}"
    return None


def normalised_url(url: str) -> tuple[str, str] | None:
    """`url` normalised (scheme and host in lower case, the default port dropped, its path
    resolved as `resolved` does), and its path alone; None when the path escapes its root.
    UrlError when it cannot be read."""
    scheme, host, port, rest = origin(url)
    if not scheme or not host:
        raise UrlError(f"'{url}' is not an absolute URL (scheme://host/path)")
    path, mark, tail = _split_path(rest)
    path_resolved = resolved(quote(path or "/", safe=_PATH_SAFE))
    if path_resolved is None:
        return None
    tail = quote(tail.partition("#")[0], safe=_PATH_SAFE + "?") if mark == "?" else ""
    mark = mark if mark == "?" else ""  # a fragment never goes to a server
    netloc = _userinfo(url) + (f"[{host}]" if ":" in host else host)
    if port is not None and port != _DEFAULT_PORTS.get(scheme):
        netloc += f":{port}"
    return f"{scheme}://{netloc}{path_resolved}{mark}{tail}", path_resolved


Origin = tuple[str, str, int | None]


def _prefix(url: str) -> tuple[Origin, str] | None:
    """A URL's origin and its normalised path without a trailing slash (None: unreadable)."""
    try:
        normal = normalised_url(url)
    except UrlError:
        return None
    if normal is None:
        return None
    scheme, host, port, _ = origin(normal[0])
    return (scheme, host, port), normal[1].rstrip("/")


def _under(path: str, prefix: str) -> bool:
    return path == prefix or path.startswith(prefix + "/")


class AllowedUrls:
    """URL prefixes (gateway.yaml's `allowed-urls` lists, backends' URLs): a URL is under one
    when scheme, host and port are the same (the scheme's default port when none is written)
    and its normalised path is the prefix's or below it by whole segments, read strictly and
    as a lenient server would (`.../allowed/..%2fadmin` is not under `.../allowed`)."""

    def __init__(self, prefixes: list[str]) -> None:
        self.prefixes = [found for found in map(_prefix, prefixes) if found is not None]

    def allows(self, url: str) -> bool:
        found = _prefix(url)
        if found is None:
            return False
        origin_, path = found
        lenient = (leniently(path) or "").rstrip("/")
        return any(
            origin_ == allowed and _under(path, prefix) and _under(lenient, prefix)
            for allowed, prefix in self.prefixes
        )


def _split_path(rest: str) -> tuple[str, str, str]:
    """The path, and the `?` or `#` that ends it with what follows."""
    cut = min((i for i in (rest.find("?"), rest.find("#")) if i >= 0), default=len(rest))
    return rest[:cut], rest[cut : cut + 1], rest[cut + 1 :]

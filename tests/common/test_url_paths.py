"""Paths and URLs read as the server they go to reads them (gateway.common.url_paths)."""

from __future__ import annotations

import pytest

from gateway.common.url_paths import (
    AllowedUrls,
    UrlError,
    canonical,
    normalised_url,
    resolved,
    url_problem,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("/a%7eb%2Dc", "/a~b-c"),  # unreserved escapes are the characters
        ("/a%2fb%5c", "/a%2Fb%5C"),  # others stay, in upper case
        ("/a%252fb", "/a%252fb"),  # %25 stays %25: never decoded twice
        ("/a%zz%", "/a%25zz%25"),  # a stray % is a literal one
        ("/plain", "/plain"),
    ],
)
def test_canonical_decodes_only_unreserved_escapes(raw: str, expected: str) -> None:
    assert canonical(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("/a/./b/../c", "/a/c"),
        ("/a/b/..", "/a/"),
        ("/a/%2e%2E/b", "/b"),
        ("/a/..%2fb", "/a/..%2Fb"),  # stays inside read either way: sent as is
        ("a/b", "/a/b"),
        ("/../x", None),
        ("/%2e%2e/x", None),
        ("/..%2fx", None),
        ("/a/..%2F..%2Fx", None),
        ("/..%5cx", None),
        ("/..\\x", None),
        ("/..;/x", None),
    ],
)
def test_resolved_paths_and_those_that_climb(raw: str, expected: str | None) -> None:
    assert resolved(raw) == expected


def test_normalised_urls_lower_case_drop_default_ports_and_fragments() -> None:
    assert normalised_url("HTTPS://Api.Example.COM:443/a/./b/%7e?x=1 2#frag") == (
        "https://api.example.com/a/b/~?x=1%202",
        "/a/b/~",
    )
    assert normalised_url("http://u:p@[::1]:8080/x") == ("http://u:p@[::1]:8080/x", "/x")
    assert normalised_url("http://h/a/../../x") is None


@pytest.mark.parametrize("url", ["http://[::1/x", "http://h:99999/", "http://h:port/", "/relative"])
def test_unreadable_urls_raise_url_error(url: str) -> None:
    with pytest.raises(UrlError):
        normalised_url(url)
    assert url_problem(url, ("http", "https")) is not None


def test_allowed_urls_compare_origins_and_whole_segments_once_normalised() -> None:
    allowed = AllowedUrls(["https://hooks.example.com/aigw/", "http://h:8080/x"])
    assert allowed.allows("https://HOOKS.example.com:443/aigw/a")
    assert allowed.allows("https://hooks.example.com/aigw")
    assert not allowed.allows("https://hooks.example.com/aigwx")
    assert not allowed.allows("https://hooks.example.com/aigw/../admin")
    assert not allowed.allows("https://hooks.example.com/aigw/..%2Fadmin")
    assert not allowed.allows("http://hooks.example.com/aigw/a")  # another scheme
    assert not allowed.allows("http://h/x")  # another port
    assert not allowed.allows("http://[::1/x")

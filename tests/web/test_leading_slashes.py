"""A path that begins with several slashes gets the 308 a doubled slash inside it gets.

Werkzeug strips a path's leading slashes before routing, so ``//privacy``, ``//api/config`` and
``//metrics`` were answered 200 as if asked for with one slash, while ``/api//config`` got a 308 to
``/api/config``: a proxy rule or cache keyed on the path saw one path and moodtape served another.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from raw_http import Target, serving_raw


@pytest.fixture
def port(app: Flask) -> Iterator[Target]:
    with serving_raw(app, None) as target:
        yield target


def _head(port: Target, method: bytes, target: bytes, extra: bytes = b"") -> list[bytes]:
    with port.connect(5.0) as sock:
        sock.sendall(
            method + b" " + target + b" HTTP/1.1\r\nHost: evil.example\r\n" + extra + b"Connection: close\r\n\r\n"
        )
        data = b""
        while more := sock.recv(65536):
            data += more
    return data.partition(b"\r\n\r\n")[0].split(b"\r\n")


def _location(head: list[bytes]) -> bytes | None:
    found = [line.split(b":", 1)[1].strip() for line in head if line.lower().startswith(b"location:")]
    return found[0] if found else None


@pytest.mark.parametrize(
    ("target", "moved_to"),
    [
        (b"//privacy", b"/privacy"),
        (b"///privacy", b"/privacy"),
        (b"//api/config?kind=x", b"/api/config?kind=x"),
        (b"//healthz", b"/healthz"),
        (b"//metrics", b"/metrics"),
        (b"//static/style.css", b"/static/style.css"),
    ],
)
def test_leading_slashes_are_redirected_to_the_one_slash_path(port: Target, target: bytes, moved_to: bytes) -> None:
    """Before: 200, the page or answer of the one-slash path."""
    head = _head(port, b"GET", target)
    assert head[0].startswith(b"HTTP/1.1 308"), head
    assert _location(head) == moved_to
    assert any(line.lower() == b"content-type: application/json" for line in head)


def test_a_post_with_leading_slashes_keeps_its_method_through_a_308(port: Target) -> None:
    head = _head(port, b"POST", b"//api/analyze", b"Content-Length: 0\r\n")
    assert head[0].startswith(b"HTTP/1.1 308") and _location(head) == b"/api/analyze", head


# ``//%2Fprivacy``: an encoded slash is no slash (web/hosts.py), so no path of this server.
@pytest.mark.parametrize("target", [b"//evil.example/privacy", b"//evil.example", b"//nothing-here", b"//%2Fprivacy"])
def test_leading_slashes_that_route_nowhere_stay_a_404_and_never_name_a_host(port: Target, target: bytes) -> None:
    head = _head(port, b"GET", target)
    assert head[0].startswith(b"HTTP/1.1 404"), head
    assert _location(head) is None


def test_the_one_slash_paths_are_served_as_before(port: Target) -> None:
    assert _head(port, b"GET", b"/privacy")[0].startswith(b"HTTP/1.1 200")
    assert _head(port, b"GET", b"/")[0].startswith(b"HTTP/1.1 200")

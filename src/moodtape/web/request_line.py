"""The request line read as RFC 9112 asks, where waitress reads it otherwise.

- **A later HTTP/1.x is HTTP/1.1.** RFC 9110 §2.5 has a server treat a request of a higher minor
  version of a major it speaks as that major's highest minor version it speaks, and answer in it.
  waitress answered ``GET / HTTP/1.2`` as HTTP/1.0: ``Connection: close`` after every answer, and
  a ``Transfer-Encoding: chunked`` body or ``Expect: 100-continue`` not read as HTTP/1.1's.
- **An absolute-form target names the host** (``GET http://example.org/api/config HTTP/1.1``, as
  a forward proxy sends it). RFC 9112 §3.2.2: its authority is the host, and ``Host`` is ignored.
  waitress took the path from the target and the host from ``Host``, so ``/metrics``'s loopback
  check (``hosts.loopback_host``) judged a host the request did not ask for. Its scheme must be
  ``http`` or ``https``, its authority present and without user information (RFC 9110 §4.2.1,
  §4.2.4), else the request is a 400 whose message is :func:`target_authority_problem`'s. A ``Host``
  that is itself bad (two of them, ``Host: a b``) is not replaced: it stays for the 400 that
  web/hosts.py gives it, as for any other target.
"""

from __future__ import annotations

from typing import Final

#: The version waitress is handed for any ``HTTP/1.x`` later than 1.1.
HIGHEST_MINOR: Final[bytes] = b"HTTP/1.1"
#: The schemes an absolute-form target may have.
WEB_SCHEMES: Final[frozenset[str]] = frozenset({"http", "https"})


def as_highest_minor(header_plus: bytes) -> bytes:
    """``header_plus`` (request line, headers) with a request line's ``HTTP/1.2`` … ``HTTP/1.9`` made ``HTTP/1.1``.

    Anything else is returned as it is: versions other than 1.x are for the caller to refuse.
    """
    line, crlf, rest = header_plus.partition(b"\r\n")
    stripped = line.rstrip()  # waitress strips the line's end the same way
    version = stripped[-len(HIGHEST_MINOR) :]
    if not (stripped[: -len(HIGHEST_MINOR)].endswith(b" ") and _later_minor(version)):
        return header_plus
    return stripped[: -len(HIGHEST_MINOR)] + HIGHEST_MINOR + crlf + rest


def _later_minor(version: bytes) -> bool:
    """True for ``HTTP/1.2`` to ``HTTP/1.9`` (RFC 9112 §2.3: one digit each side of the dot)."""
    return version.startswith(b"HTTP/1.") and version[-1:].isdigit() and version[-1:] not in (b"0", b"1")


def target_authority_problem(scheme: str, authority: str) -> str:
    """Why an absolute-form target with ``scheme`` and ``authority`` is refused ("" when it is not).

    ``scheme`` and ``authority`` are waitress's ``proxy_scheme`` and ``proxy_netloc``: both empty
    for an origin-form target (``/api/config``), which has nothing to check.
    """
    if not scheme and not authority:
        return ""
    if scheme.lower() not in WEB_SCHEMES:
        return "an absolute request target must be an http or https URI"
    if not authority:
        return "an absolute request target must name a host"
    if "@" in authority:
        return "an absolute request target may not carry user information"
    return ""

"""Why the HTTP server refused a request, in words a client's author can act on.

Every 400 of the server itself (``buffered_server``) said the same sentence, "the request is not
valid HTTP/1.1 (its request line, a header, or the body's framing ...)", whatever was wrong: a
client that sent ``get`` in lower case, a space before a header's colon or a folded header line
was left to guess which. waitress knows which, but its texts are not for clients: some hold what
the client sent (``Malformed header line "..."``), which an answer must never echo. Here each of
its fixed texts, and each refusal of our own, becomes one fixed sentence of ours.
"""

from __future__ import annotations

from typing import Final

#: What every more precise reason begins with, so that a client matching the general one still does.
PREFIX: Final[str] = "the request is not valid HTTP/1.1: "

#: waitress's texts (``waitress.parser``, ``waitress.receiver``) that hold nothing the client sent.
_WAITRESS_EXACT: Final[dict[str, str]] = {
    "Invalid header": "a header line is not 'Name: value' (a name of letters, digits and !#$%&'*+-.^_`|~ only, "
    "with no space before the colon, and a value without control characters such as NUL)",
    "Content-Length is invalid": "Content-Length must be one decimal number, digits only, sent once",
    "Start line is invalid": "the request line must be 'METHOD /path HTTP/1.1', one space between each part",
    "Bad URI": "the request target is not a valid URI",
    "HTTP message header invalid": "the request line must end with CR LF",
    "Bare CR or LF found in HTTP message": "the request line holds a CR or LF of its own; lines end with CR LF",
    "Invalid chunk size": "a chunk size must be hexadecimal digits only (no sign, space or 0x)",
    "Invalid chunk extension": "a chunk extension must be ';name' or ';name=value' after the chunk size",
    "Chunk not properly terminated": "a chunk's data must be as long as its size says, then CR LF",
}
#: waitress's texts that go on with what the client sent: matched by their fixed beginning only.
_WAITRESS_PREFIXES: Final[dict[str, str]] = {
    "Malformed HTTP method": "the method must be a token in capitals (GET, not get): methods are case-sensitive",
    "Bare CR or LF found in header line": "a header line holds a CR or LF of its own; lines end with CR LF",
}


def explained(why: str) -> str:
    """The message for a refusal of our own whose reason is ``why`` (a fixed text of ours)."""
    return PREFIX + why


def client_reason(waitress_text: str) -> str | None:
    """The message for waitress's refusal text ``waitress_text``, or None when it is not one we know
    (then the status's general message is said, never waitress's text)."""
    known = _WAITRESS_EXACT.get(waitress_text)
    if known is not None:
        return explained(known)
    for start, reason in _WAITRESS_PREFIXES.items():
        if waitress_text.startswith(start):
            return explained(reason)
    return None

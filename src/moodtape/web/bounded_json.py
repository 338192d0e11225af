"""JSON from clients, parsed with bounds: size, nesting depth, number size, no NaN or infinity.

Python's ``json`` would happily build a 400-digit integer (which later overflows ``float``), recurse
until ``RecursionError`` on ``[[[[…`` 3,000 deep, and accept ``NaN``. Every JSON text a client sends
(a body, or the ``probabilities`` query parameter) goes through :func:`loads_bounded` instead, so
the rest of the code only ever sees small, finite values.

The rule for fields nobody asked for is one for the whole API: unknown JSON fields and query
parameters are ignored (a newer page may send more than this server knows).

JSON sent as bytes is read as UTF-8, as RFC 8259 asks of JSON exchanged between systems; UTF-16
and UTF-32 (which RFC 7159 allowed, and some clients still send) are told from the bytes
themselves, as Python's own ``json.loads`` tells them, and so is a leading byte order mark, which
RFC 8259 lets a parser ignore. A ``charset`` in the ``Content-Type`` is not looked at: RFC 8259
defines none for JSON, and the bytes cannot lie about which of the three they are.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any, Final

import numpy as np

from moodtape.errors import DataError

#: Deepest nesting of arrays and objects accepted (the API's bodies are at most 2 deep).
MAX_DEPTH: Final[int] = 8
#: Digits in an integer: enough for any count or seed, far from float overflow.
MAX_INT_DIGITS: Final[int] = 19
#: A JSON string, escapes included, or an unterminated one to the end of the text (as the old
#: character loop read it). Possessive, and never failing once begun: a text of escaped quotes
#: (``"\\"\\"…``) cost a rescan from every quote with a pattern that could fail (20 KB took 2 s).
JSON_STRING_PATTERN: Final = r'"[^"\\]*+(?:\\.[^"\\]*+)*+(?:"|\\?\Z)'
_STRINGS: Final = re.compile(JSON_STRING_PATTERN, re.DOTALL)
_NOT_BRACKETS: Final = re.compile(r"[^\[\]{}]+")
_OPENING: Final = np.frombuffer(b"[{", dtype=np.uint8)


def loads_bounded(text: str | bytes, *, max_chars: int, what: str) -> Any:
    """Parse ``text`` as JSON within the bounds above; ``what`` names it in error messages.

    Raises:
        DataError: too long, too deep, a number too big or not finite, a lone surrogate or NUL, a key
            given twice in one object, or not JSON.
    """
    if isinstance(text, bytes):
        text = json_text(text, what)
    if len(text) > max_chars:
        raise DataError(f"{what} is too long: at most {max_chars} characters")
    check_depth(text, what)
    try:
        value = json.loads(
            text,
            parse_int=_integer,
            parse_float=_float,
            parse_constant=_constant,
            object_pairs_hook=_object_without_repeats,
        )
    except (_NumberError, _RepeatedKeyError) as exc:
        raise DataError(f"{what}: {exc}") from None
    except (ValueError, RecursionError):
        raise DataError(f"{what} is not valid JSON") from None
    _check_strings(value, what)
    return value


def check_depth(text: str, what: str) -> None:
    """A :class:`DataError` when ``text`` nests arrays and objects deeper than :data:`MAX_DEPTH`.

    Alone, for JSON that is read no further: a picture endpoint takes no array, and answered 100
    nested ``[`` with the 415 for text holding no picture, where every other JSON endpoint says 400
    "nested too deeply" (session 32).
    """
    if _depth(text) > MAX_DEPTH:
        raise DataError(f"{what} is nested too deeply: at most {MAX_DEPTH} levels")


def json_text(data: bytes, what: str) -> str:
    """The text of JSON sent as ``data``: UTF-8, UTF-16 or UTF-32, with or without a byte order mark
    (see the module's notes); a :class:`DataError` that says to send UTF-8 for anything else.

    Before, UTF-16 JSON (``Content-Type: application/json; charset=utf-16``, as .NET and PowerShell
    clients can send it) was "not UTF-8", and UTF-8 with a byte order mark "not valid JSON".
    """
    encoding = json.detect_encoding(data)
    try:
        return data.decode(encoding)
    except UnicodeDecodeError:
        raise DataError(f"{what} is not UTF-8 (nor UTF-16 or UTF-32): send JSON as UTF-8") from None


class _NumberError(ValueError):
    pass


class _RepeatedKeyError(ValueError):
    pass


def _object_without_repeats(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """An object whose keys are all different: ``{"action": "like", "action": "dislike"}`` is refused.

    JSON leaves repeated keys undefined; Python keeps the last, some proxies and filters read the
    first, so the two could disagree about what a request asks for.
    """
    value: dict[str, Any] = {}
    for key, item in pairs:
        if key in value:
            raise _RepeatedKeyError(f"the key {json.dumps(key)[:40]} is given twice in one object")
        value[key] = item
    return value


def _integer(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise _NumberError(f"the number {text[:24]}… is too large")
    return int(text)


def _float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _NumberError("numbers must be finite")
    return value


def _constant(text: str) -> float:
    raise _NumberError(f"{text} is not allowed; numbers must be finite")


def _depth(text: str) -> int:
    """Deepest bracket nesting outside strings, found without recursion and without a Python loop
    over the characters: a 10 MB body (a picture as base64 in JSON) took 0.6 s that way, and 10 MB
    of ``{`` 2.5 s. Strings are cut out with one regular expression, and the brackets left are
    summed by NumPy in one byte per bracket."""
    structure = _STRINGS.sub("", text)
    brackets = np.frombuffer(_NOT_BRACKETS.sub("", structure).encode("ascii"), dtype=np.uint8)
    if brackets.size == 0:
        return 0
    steps = (np.isin(brackets, _OPENING).astype(np.int8) * 2 - 1).astype(np.int8)
    return int(max(np.cumsum(steps, dtype=np.int32).max(), 0))


def _check_strings(value: Any, what: str) -> None:
    """Refuse lone surrogates (``"\\ud800"``) and NUL characters: valid JSON, but PostgreSQL's text
    cannot hold NUL and nothing can encode a lone surrogate, so both would fail only when stored."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                raise DataError(f"{what} holds text that is not valid Unicode (a lone surrogate)") from None
            if "\x00" in item:
                raise DataError(f"{what} holds a NUL character (\\u0000), which text may not contain")
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)

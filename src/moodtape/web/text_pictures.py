"""Pictures sent as text: JSON ``{"image": "<base64>"}``, a ``data:`` URL, or bare base64.

Clients written for other emotion APIs, and pages that post a canvas's ``toDataURL()``, send the
picture this way rather than as its own bytes. Reading it costs a third more bytes on the wire and
one base64 decode (about 20 ms for the largest body the server takes); the bytes that come out go
through every check an upload of the picture itself goes through. Text that holds no picture is
still refused, with what to send instead.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from typing import Any, Final, NamedTuple

from moodtape.errors import DataError
from moodtape.web.bounded_json import JSON_STRING_PATTERN, loads_bounded

#: ``data:image/jpeg;base64,`` and the like: any media type and parameters, then base64.
_DATA_URL: Final = re.compile(rb"data:[^,]{0,200};base64,", re.IGNORECASE)
#: Base64 may be broken into lines; one translation drops the white space and maps the URL-safe
#: alphabet onto the standard one (a copy of the text, where a regular expression's pieces cost 90×).
_TO_STANDARD: Final = bytes.maketrans(b"-_", b"+/")
_WHITE_SPACE: Final = b" \t\r\n\v\f"
#: A JSON string (possessive, never failing once begun: see ``bounded_json``), in bytes.
_JSON_STRING: Final = re.compile(JSON_STRING_PATTERN.encode("ascii"), re.DOTALL)
#: A JSON body with a picture is a small object of strings: at most this many strings, and this
#: many bytes outside them. Checked before parsing, so a 10 MB body of brackets or of empty strings
#: is refused for what it is (parsing and walking it took half a gigabyte and seconds).
MAX_JSON_STRINGS: Final = 64
MAX_JSON_STRUCTURE: Final = 4096
#: The JSON fields a picture may be in: ``image`` as this API names it elsewhere, and what other
#: services' clients call it.
JSON_FIELDS: Final = ("image", "photo", "file", "picture", "data")


class TextPicture(NamedTuple):
    """What a text body carries: the picture's bytes (``None``: none), and the fields asked for."""

    picture: bytes | None
    #: The fields named by the caller that a JSON object holds beside the picture, as query values.
    fields: dict[str, str]


def picture_in_text(text: bytes, *, max_chars: int, names: tuple[str, ...] = ()) -> TextPicture:
    """The picture's bytes carried by ``text``, and the fields ``names`` beside it.

    ``text`` may be a JSON object (the picture in one of :data:`JSON_FIELDS`), a JSON string, a
    ``data:`` URL or bare base64 (standard or URL-safe alphabet, padding optional, line breaks
    allowed). Whether the bytes are a picture is for the caller to check. Clients of other services
    send parameters beside the picture (``{"image": "…", "emotion": "happy"}``): they are taken from
    the object parsed for the picture, so neither a second parse nor a kept copy of the body is needed.

    Raises:
        DataError: JSON that is not a small object of strings, not valid, or breaks the bounds of
            :func:`loads_bounded`; a named field that holds neither a string nor a whole number.
    """
    stripped = as_utf8(text).strip()
    fields: dict[str, str] = {}
    if stripped[:1] in (b"{", b'"'):
        _check_small_structure(stripped)
        value = loads_bounded(stripped, max_chars=max_chars, what="the JSON body")
        if isinstance(value, dict):
            fields = _named_fields(value, names)
            value = _picture_field(value)
        if not isinstance(value, str):
            return TextPicture(None, fields)
        stripped = value.encode("utf-8").strip()
    url = _DATA_URL.match(stripped)
    return TextPicture(_decoded(stripped[url.end() :] if url else stripped), fields)


def as_utf8(text: bytes) -> bytes:
    """``text`` in UTF-8: as it is, unless it begins with a byte order mark or is UTF-16 or UTF-32
    (told as :func:`~moodtape.web.bounded_json.json_text` tells them); text of those that does not
    decode is left as it is (it carries no picture, which the caller says)."""
    encoding = json.detect_encoding(text[:4])
    if encoding == "utf-8":
        return text
    try:
        return text.decode(encoding).encode("utf-8")
    except UnicodeDecodeError:
        return text


def _picture_field(value: dict[str, Any]) -> str | None:
    """The first of :data:`JSON_FIELDS` that holds a non-empty string; ``None`` when none is given.

    A picture field given, but only with something else in it (``{"image": 5}``, ``null``, a list,
    ``""``, white space alone), is the client's mistake in a field this API names: a 400 that names
    the field and its kind. Until session 28 it was the 415 for text with no picture in it, which
    named neither.

    Raises:
        DataError: every picture field given holds something other than a non-empty string.
    """
    given = [name for name in JSON_FIELDS if name in value]
    for name in given:
        field = value[name]
        if isinstance(field, str) and field.strip():
            return field
    if not given:
        return None
    name = given[0]
    raise DataError(
        f"the JSON field {name!r} holds {_json_kind(value[name])}: send the picture in it as a string, "
        "in base64 or as a data: URL"
    )


def _json_kind(value: object) -> str:
    """What a parsed JSON value is, in words: ``a number``, ``null``, ``an empty string``…"""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return "only white space" if value else "an empty string"


def _named_fields(value: dict[str, Any], names: tuple[str, ...]) -> dict[str, str]:
    """The fields ``names`` of a JSON object, as query values: a string as it is, a whole number as
    its digits, ``null`` as absent; a :class:`DataError` for anything else (an object, a list, a
    fraction, true/false)."""
    fields: dict[str, str] = {}
    for name in names:
        field = value.get(name)
        if isinstance(field, str) or (isinstance(field, int) and not isinstance(field, bool)):
            fields[name] = str(field)
        elif field is not None:
            raise DataError(f"the JSON field {name!r} must be a string or a whole number")
    return fields


def _check_small_structure(text: bytes) -> None:
    """Refuse JSON that is not a small object of strings (see :data:`MAX_JSON_STRINGS`)."""
    in_strings = 0
    for count, string in enumerate(_JSON_STRING.finditer(text), 1):
        if count > MAX_JSON_STRINGS:
            break
        in_strings += string.end() - string.start()
    else:
        if len(text) - in_strings <= MAX_JSON_STRUCTURE:
            return
    raise DataError(
        f"a JSON body with a picture must be an object of at most {MAX_JSON_STRINGS} strings, such as "
        '{"image": "<the picture in base64>"}'
    )


def _decoded(text: bytes) -> bytes | None:
    """Base64 in either alphabet, with or without padding; ``None`` for anything else."""
    compact = text.translate(_TO_STANDARD, _WHITE_SPACE)
    compact += b"=" * (-len(compact) % 4)
    try:
        return base64.b64decode(compact, validate=True) or None
    except (binascii.Error, ValueError):
        return None

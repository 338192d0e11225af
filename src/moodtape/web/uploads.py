"""Getting an uploaded image out of a request: in memory only, typed by its content.

Privacy promise: frames and photos are never written anywhere. Werkzeug spools multipart file
parts over 500 KB into a temporary file by default; :class:`InMemoryRequest` keeps every part in
a ``BytesIO`` instead. That is safe for memory because the app's ``MAX_CONTENT_LENGTH`` bounds the
whole body before any of it is read (a form's, that plus :data:`FORM_FRAMING`, for that request alone).

The type is decided by the first bytes (the "magic number"), never by the file name or the
``Content-Type`` header, which the client controls.
"""

from __future__ import annotations

import codecs
import io
import json
import logging
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO, Final
from urllib.parse import unquote_plus

import numpy as np
import numpy.typing as npt
from flask import Request
from werkzeug.datastructures import FileStorage
from werkzeug.exceptions import RequestEntityTooLarge, UnsupportedMediaType
from werkzeug.sansio.multipart import BLANK_LINE_RE, Data, Epilogue, Field, File, MultipartDecoder, NeedData

from moodtape.errors import CorruptImageError, DataError, ImageError, MoodtapeError, UnsupportedImageError, shown
from moodtape.vision.decode_cost import check_decode_cost
from moodtape.vision.heif import can_read, check_heif_header, heic_installed, unreadable_message
from moodtape.vision.heif_structure import heif_kind
from moodtape.vision.images import decode_image
from moodtape.vision.not_pictures import upload_refusal
from moodtape.web.bounded_json import check_depth, json_text
from moodtape.web.buffered_server import BODY_HEADROOM
from moodtape.web.large_pictures import LargePictureGate, declared_pixels
from moodtape.web.owners import client_owner
from moodtape.web.picture_parts import NO_NAME_MESSAGE, form_parser_class, sniff_image_type
from moodtape.web.text_pictures import JSON_FIELDS, as_utf8, picture_in_text

#: Form parts accepted in one upload: the page sends one; Werkzeug's default is 1,000.
MAX_FORM_PARTS: Final[int] = 16
#: Bytes of the body given to the multipart decoder at once when a part is read again (Werkzeug's own size).
RAW_FIELD_CHUNK: Final[int] = 64 * 1024
#: How many field names, and how much of each, a form without a picture names in its message.
FIELDS_SAID: Final[int] = 8
FIELD_NAME_SHOWN: Final[int] = 32
#: Bytes of one form part's header lines: a browser sends about 150 (Content-Disposition and
#: Content-Type). Werkzeug bounds neither their size nor their number, and parsed 1.2 million
#: header lines in one 10 MB part for 2.8 s of a request thread (four such uploads: 12 s, every
#: thread held, ``/healthz`` unanswered for 11 s).
MAX_PART_HEADER_BYTES: Final[int] = 8 * 1024
#: The longest boundary read. RFC 2046 (section 5.1.1) allows 70 characters, and some clients write
#: a few more: Werkzeug's own test client 64 to 72 (0.3 % of its forms over 70). A boundary as long
#: as the headers allow (64 KiB) was read, and Werkzeug's pattern for it is tried at every byte
#: before the first part, each try comparing up to its length (see :data:`MAX_PREAMBLE_BYTES`).
MAX_BOUNDARY_CHARS: Final = 200
LONG_BOUNDARY_MESSAGE: Final = (
    f"the Content-Type multipart/form-data has a boundary of over {MAX_BOUNDARY_CHARS} characters: RFC 2046 "
    "allows 70 ASCII letters, digits and punctuation, as HTTP clients write it"
)
#: Bytes of a form within which its first boundary line, line break included, must end. Browsers,
#: curl and requests send none before it; RFC 2046 allows a preamble there, and Werkzeug's pattern
#: for the first boundary (which need not begin a line) is tried at every byte of it, each try
#: comparing up to the boundary's length: 10 MB of dashes under a boundary of 69 dashes and an
#: ``a`` held a request thread 8.3 s, and the interpreter with it (``/healthz`` waited 3.2 s);
#: under a 2,000-character boundary 1 MB took 15 s.
MAX_PREAMBLE_BYTES: Final[int] = 1024
#: Bytes of a form that one search for a delimiter after a part goes over (Werkzeug's pattern, in C,
#: holds the interpreter while it runs; other threads run between two searches).
DELIMITER_WINDOW_BYTES: Final[int] = 64 * 1024
#: The largest JSON array or object body whose nesting is measured (:func:`_check_json_depth`): what
#: every other JSON endpoint reads at most (a bigger body is their 413), so the same body gets the
#: same 400 "nested too deeply" everywhere, while a bigger one (up to the 10 MB a picture may be) is
#: refused for what it is (an array as text with no picture) without being scanned.
MAX_MEASURED_ARRAY_BYTES: Final[int] = 64 * 1024
#: The most padding (spaces and tabs: Werkzeug's ``[^\S\n\r]*``) read after a delimiter's
#: ``--boundary``, before its line break: clients send none (RFC 2046 allows some).
MAX_DELIMITER_PADDING: Final[int] = 64 * 1024
_PADDING: Final = re.compile(rb"[^\S\n\r]*")
#: The most a delimiter's line can span with its padding within bounds: line break, dashes,
#: boundary (at most MAX_BOUNDARY_CHARS), closing dashes, padding, line break.
_DELIMITER_LINE_BYTES: Final[int] = 2 + 2 + MAX_BOUNDARY_CHARS + 2 + MAX_DELIMITER_PADDING + 2
LONG_DELIMITER_MESSAGE: Final = (
    f"a boundary line in the form is followed by over {MAX_DELIMITER_PADDING // 1024} KiB of spaces or tabs: end "
    "each boundary line right after the boundary, as HTTP clients write a form"
)
LATE_FIRST_BOUNDARY_MESSAGE: Final = (
    f"the form's first boundary line does not end within its first {MAX_PREAMBLE_BYTES} bytes: begin the "
    "body with --<boundary>, as HTTP clients write a form, or check that the boundary matches the Content-Type's"
)
#: Bytes of a form's file part read as a text field's value (``emotion=happy`` sent as a file).
MAX_FILE_FIELD_BYTES: Final[int] = 256
#: What a client is told about a picture the decoder could not read, whatever the decoder said.
DAMAGED: Final[str] = "the picture is damaged and cannot be read"
_log = logging.getLogger(__name__)
ACCEPTED_TYPES: Final[tuple[str, ...]] = ("image/jpeg", "image/png", "image/webp", "image/gif")
#: The Pillow decoders an upload may reach: never AVIF's (see :data:`AVIF_REFUSED`), even for a file
#: that passes for another format (an AVIF with a HEIF container brand was decoded by libavif).
UPLOAD_FORMATS: Final[tuple[str, ...]] = ("JPEG", "PNG", "WEBP", "GIF", "HEIF")
#: Named to a client that sent something else.
_FORMATS: Final = "a JPEG, PNG, WebP, GIF or HEIC picture"
#: For a body of text (JSON, a data: URL, base64) that carries no picture.
TEXT_NOT_A_PICTURE: Final = (
    'the request holds text with no picture in it: send JSON {"image": "<the picture in base64, or a '
    "data: URL>\"}, the picture's own bytes as the body (Content-Type: image/jpeg, image/png…) or a file "
    "in a form field named 'image'"
)
#: For a form field of text that carries no picture (``{name}``: the field's name, quoted).
TEXT_FIELD_NOT_A_PICTURE: Final = (
    "the form field {name} holds text, not a file: send the picture as a file (or as a data: URL)"
)
#: Why an AVIF upload is refused: its decoder cannot be held to the declared size (vision/heif.py).
AVIF_REFUSED: Final = (
    "an AVIF picture, which this server does not take: its decoder can be made to use far more memory "
    "than the picture declares; send it as JPEG or PNG"
)


#: The escapes a data: URL or base64 may carry in a URL-encoded form, and what they stand for.
_FORM_ESCAPES: Final = {
    b"%2B": b"+",
    b"%2F": b"/",
    b"%3D": b"=",
    b"%3A": b":",
    b"%3B": b";",
    b"%2C": b",",
    b"%0A": b"\n",
    b"%0D": b"\r",
}
#: How a text body that carries a picture begins (see :func:`_looks_like_text`): byte order marks
#: (UTF-8's, and UTF-16's, which UTF-32's begin with too) before text in those encodings.
_TEXT_HEADS: Final = (
    b"{",
    b"[",
    b'"',
    b"data:",
    b"/9j/",
    b"_9j_",
    b"iVBOR",
    b"R0lGOD",
    b"UklGR",
    b"AAAA",
    codecs.BOM_UTF8,
    codecs.BOM_UTF16_LE,
    codecs.BOM_UTF16_BE,
    codecs.BOM_UTF32_BE,
)


#: Bytes a form's body may hold beyond the upload limit: its delimiters and part headers (the
#: server's own headroom for them, which bounds what reaches the app).
FORM_FRAMING: Final[int] = BODY_HEADROOM


class InMemoryRequest(Request):
    """A Flask request whose multipart file parts stay in memory (never a temporary file), and whose
    pictures sent as text parts stay bytes (:mod:`moodtape.web.picture_parts`)."""

    form_data_parser_class = form_parser_class()

    def _get_file_stream(
        self,
        total_content_length: int | None,
        content_type: str | None,
        filename: str | None = None,
        content_length: int | None = None,
    ) -> IO[bytes]:
        return io.BytesIO()


@dataclass(frozen=True)
class Upload:
    """A request's picture, and the text fields its endpoint asked for that came beside it."""

    picture: bytes
    #: Each field asked for that the body gave, as a query value (a form's given once, see
    #: :func:`read_upload`); a picture sent as its own bytes carries none.
    fields: dict[str, str]


def read_image_bytes(request: Request) -> bytes:
    """The uploaded image: the multipart field ``image``, or else the raw body (see :func:`read_upload`)."""
    return read_upload(request).picture


def read_upload(request: Request, names: tuple[str, ...] = ()) -> Upload:
    """The uploaded image, and the fields ``names`` sent beside it.

    Clients written elsewhere send an endpoint's parameters in the body rather than the query: a
    JSON object's fields, a form's fields (multipart or URL-encoded). They are read in the pass that
    finds the picture, while the body is still at hand: the body is never kept past this call (a
    9.4 MB JSON body kept for a second look cost every upload one more copy of it).

    Raises:
        DataError: no image in the request (400); a field of ``names`` given twice in a form, or a
            JSON field that is not a string or number.
        UnsupportedImageError: the bytes are not JPEG, PNG, WebP, GIF or HEIC (415); an AVIF
            picture is refused with why (:data:`AVIF_REFUSED`); a HEIC
            photo without pillow-heif installed is named as such, with the fix and what to send instead.
        werkzeug.exceptions.RequestEntityTooLarge: the body is over ``MAX_CONTENT_LENGTH`` (413).
        werkzeug.exceptions.UnsupportedMediaType: a multipart body other than a form
            (``multipart/mixed``, ``multipart/related``) that is no picture itself (415).
    """
    given: dict[str, list[str]] = {}
    if request.mimetype == "multipart/form-data":
        limit = _allow_form_framing(request)
        parts = _check_part_headers(request)
        try:
            uploads = request.files.getlist("image")
        except RequestEntityTooLarge:
            # Werkzeug says "too large" for too many parts as well (the body's size was checked
            # when it was read, and a text part over MAX_FORM_MEMORY_SIZE is "too large" indeed).
            if parts > MAX_FORM_PARTS:
                raise DataError(
                    f"the form has too many fields (at most {MAX_FORM_PARTS}); send the picture alone in "
                    "a field named 'image'"
                ) from None
            raise
        data = _one_upload(request, uploads, names)
        if limit is not None and len(data) > limit:
            raise RequestEntityTooLarge()
        given = _multipart_fields(request, names)
    else:
        data = request.get_data(cache=False)
        if request.mimetype.startswith("multipart/") and sniff_image_type(data) is None:
            raise UnsupportedMediaType(
                f"a {shown(request.mimetype, 40)} body is not read: send the picture in a multipart/form-data "
                "form (a file field named 'image'), or as the body itself"
            )
        if (
            request.mimetype == "application/x-www-form-urlencoded"
            and sniff_image_type(data) is None
            and not _starts_like_text(data)
        ):
            # curl --data-binary @me.jpg sends the picture itself with this type, and curl -d
            # @body.json its JSON: only a body that is neither is read as a form
            # (image=data:image/jpeg;base64,...).
            data, given = _form_text_picture(data, names)
    fields = _given_once(given)
    if not data:
        raise DataError(f"the request holds no image: send {_FORMATS}")
    if sniff_image_type(data) is None:
        if not _looks_like_text(request, data):
            raise UnsupportedImageError(upload_refusal(data, "that file", _FORMATS))
        if request.is_json:
            data = _json_in_utf8(data)
        in_form = request.mimetype == "multipart/form-data"
        _check_json_depth(data, "the JSON in the form's file" if in_form else "the JSON body")
        # A form's file of text: the fields are the form's, not those of JSON in the file.
        in_text = () if in_form else names
        data, text_fields = _picture_from_text(data, missing=UnsupportedImageError(TEXT_NOT_A_PICTURE), names=in_text)
        fields |= text_fields
    heif = heif_kind(data)
    if heif == "avif":
        raise UnsupportedImageError(f"that file is {AVIF_REFUSED}")
    if heif is not None and not can_read(heif):  # an iPhone's photo: the fix, and what to send instead
        raise UnsupportedImageError(f"that file is {unreadable_message(heif)}")
    return Upload(data, fields)


def _allow_form_framing(request: Request) -> int | None:
    """Let a form's body be :data:`FORM_FRAMING` bytes over the upload limit, which then bounds its
    picture alone; the limit (None: none) is returned for that check.

    ``limits.max_upload_bytes`` (``/api/config``) is the largest picture: one that size sent as the
    body itself is read, but sent in a form (``curl -F image=@photo.jpg``) it was a 413, since the
    part's delimiters and headers (about 190 bytes from curl 7.88) counted toward the limit as well. The server in
    front lets as much framing through (web/buffered_server.py).
    """
    limit = request.max_content_length
    if limit is not None:
        request.max_content_length = limit + FORM_FRAMING
    return limit


def _json_in_utf8(data: bytes) -> bytes:
    """A JSON body in UTF-8: as it is when it is UTF-8 (read as such later), decoded from UTF-16 or
    UTF-32 (or with its byte order mark dropped) otherwise.

    Such JSON that does not decode (an odd length, a code point past U+10FFFF) is the 400 every other
    JSON endpoint gives (:func:`~moodtape.web.bounded_json.json_text`): here it was a 415 "text with
    no picture in it", which sent the client looking for a picture it had sent.
    """
    if json.detect_encoding(data[:4]) == "utf-8":
        return data
    return json_text(data, "the JSON body").encode("utf-8")


def _check_json_depth(data: bytes, what: str) -> None:
    """A :class:`DataError` (400) for a body that is a JSON array or object nested deeper than the
    bound of every JSON endpoint (:func:`~moodtape.web.bounded_json.check_depth`); ``what`` names
    the text.

    An array carries no picture, so it is read no further (a shallow one is the 415 for text with
    no picture); 100 nested ``[`` were that 415 too, where the same body sent to any other JSON
    endpoint is a 400 "nested too deeply", as the API documents (session 32). An object is measured
    before :mod:`moodtape.web.text_pictures` counts its strings: 100 nested ``{"a":`` were the 400
    "an object of at most 64 strings", where the other endpoints say "nested too deeply" (session
    33). Only a body of at most :data:`MAX_MEASURED_ARRAY_BYTES` is measured: measured whole, 9 MB of
    ``[`` took 0.7 s (one thread holding the interpreter up to 0.48 s) to be refused, where its size
    alone refuses it.
    """
    if len(data) > MAX_MEASURED_ARRAY_BYTES:
        return  # refused for what it is, as other JSON endpoints' 413 is no "too deep" either
    text = as_utf8(data)
    if text.lstrip()[:1] in (b"[", b"{"):
        check_depth(text.decode("utf-8", "replace"), what)


def _given_once(given: dict[str, list[str]]) -> dict[str, str]:
    """A form's fields as query values; a :class:`DataError` for one given more than once."""
    for name, values in given.items():
        if len(values) > 1:
            raise DataError(f"the form gives {name} {len(values)} times: give it once")
    return {name: values[0] for name, values in given.items() if values}


def _multipart_fields(request: Request, names: tuple[str, ...]) -> dict[str, list[str]]:
    """The values of a multipart form's fields ``names``, from Werkzeug's parse that found the picture.

    A part sent as a file is read as the field too: ``requests.post(files={"emotion": "happy"})``
    sends one so, and ignoring it stored the frame as neutral.
    """
    given: dict[str, list[str]] = {}
    for name in names:
        given[name] = request.form.getlist(name) + [_file_field(name, part) for part in request.files.getlist(name)]
    return given


def _file_field(name: str, part: FileStorage) -> str:
    """The text of the file part ``name``, read as a field's value (a :class:`DataError` when too long for one).

    A part without a file name here is a text field that held a picture's bytes
    (:mod:`moodtape.web.picture_parts`): its refusal says so, not "send it as a text field", which
    the client did.
    """
    value = part.stream.read(MAX_FILE_FIELD_BYTES + 1)
    if len(value) > MAX_FILE_FIELD_BYTES:
        if part.filename is None:
            raise DataError(
                f"the form's text field {name} holds a picture's bytes, not text: send its value as text, "
                "and the picture in the field 'image'"
            )
        raise DataError(f"the form's {name} is a file of over {MAX_FILE_FIELD_BYTES} bytes: send it as a text field")
    return value.decode("utf-8", "replace")


def _picture_from_text(
    text: bytes, *, missing: MoodtapeError, names: tuple[str, ...] = ()
) -> tuple[bytes, dict[str, str]]:
    """The picture that text carries (JSON, a data: URL, base64: :mod:`moodtape.web.text_pictures`),
    from a body or a form field, and the JSON fields ``names`` beside it.

    Raises:
        MoodtapeError: ``missing``, when the text carries no picture.
        UnsupportedImageError: the text carries bytes that are not a picture (415).
    """
    picture, fields = picture_in_text(text, max_chars=len(text), names=names)
    if picture is None:
        raise missing
    if sniff_image_type(picture) is None:
        raise UnsupportedImageError(f"the text holds base64 of a file that is not {_FORMATS}")
    return picture, fields


def _form_text_picture(body: bytes, names: tuple[str, ...]) -> tuple[bytes, dict[str, list[str]]]:
    """The picture in a URL-encoded form's ``image`` field (a data: URL or base64), and the values
    of its fields ``names``.

    Read by hand rather than by a general form parser: a body of 10 MB of ``%41`` took 800 MB and
    5 s in ``parse_qsl``. A picture's base64 needs only a few escapes (:data:`_FORM_ESCAPES`), so
    those are undone with ``bytes.replace`` and a field with any other escape is refused; a body
    that is not text at all (a BMP or PDF sent by ``curl --data-binary``) is named as no picture.
    """
    field, given = _form_fields(body, names)
    if field is None and not body.isascii():
        raise UnsupportedImageError(upload_refusal(body, "that file", _FORMATS))
    if field is None or not field.isascii():
        raise DataError(f"send {_FORMATS} as the body, or a form whose field 'image' holds it as a data: URL or base64")
    # A "+" stays a "+": an escaped one is base64's, and an unescaped one (curl -d "image=...") is
    # too, for base64 holds no spaces a form encoder could have written as "+".
    value = field
    for escape, character in _FORM_ESCAPES.items():
        value = value.replace(escape, character).replace(escape.lower(), character)
    if b"%" in value:
        raise DataError("the form's image field holds escapes that a picture's base64 or data: URL never needs")
    return _text_field_picture(value), given


def _form_fields(body: bytes, names: tuple[str, ...]) -> tuple[bytes | None, dict[str, list[str]]]:
    """One scan of a URL-encoded form: the non-empty value of its field ``image`` (else ``photo``,
    ``file``, ``picture``, ``data``, in that order), still escaped, and the values of its fields
    ``names``, unescaped.

    A name is read as a form parser reads it, escapes undone (``emo%74ion`` is ``emotion``). Only
    the first fields so named are looked at, as a form parser would refuse more (:data:`MAX_FORM_PARTS`).
    """
    pictures: dict[str, bytes] = {}
    given: dict[str, list[str]] = {name: [] for name in names}
    for _, match in zip(range(MAX_FORM_PARTS), _fields_named(body, names), strict=False):
        name = unquote_plus(match.group(1).decode("utf-8", "replace"))
        if name in given:
            given[name].append(unquote_plus(match.group(2).decode("utf-8", "replace")))
        elif name in JSON_FIELDS and match.group(2):
            pictures.setdefault(name, match.group(2))
    return next((pictures[name] for name in JSON_FIELDS if name in pictures), None), given


def _fields_named(body: bytes, names: tuple[str, ...]) -> Iterator[re.Match[bytes]]:
    """The fields of a URL-encoded form named as a picture may be, or one of ``names``, or with an
    escape in their name (read by :func:`_form_fields`): group 1 the name, group 2 the value.

    The first field, then each after an ``&``: a pattern that begins with a plain ``&`` is searched
    for as fast as a plain string (10 MB without ``&``: 55 ms, where a look-behind for field starts
    took 102 ms), and the possessive repeats never retry, whatever the body holds.
    """
    literal = b"|".join(re.escape(name.encode("ascii")) for name in (*JSON_FIELDS, *names))
    field = rb"(" + literal + rb"|[^&=%]*+%[^&=]*+)=([^&]*+)"
    first = re.match(field, body)
    if first is not None:
        yield first
    yield from re.finditer(b"&" + field, body)


def _text_field_picture(text: bytes) -> bytes:
    """The picture a URL-encoded form field holds as text: a data: URL or base64 (a page's form
    with a canvas's ``toDataURL()``). Such a field cannot carry a picture's own bytes."""
    return _picture_from_text(text, missing=DataError(TEXT_FIELD_NOT_A_PICTURE.format(name=repr("image"))))[0]


def _looks_like_text(request: Request, data: bytes) -> bool:
    """Whether the body is text a client meant as a picture: typed JSON or text, or starting like
    JSON, a data: URL or the base64 of a picture (of a JPEG ``/9j/`` or ``_9j_``, PNG ``iVBOR``, GIF
    ``R0lGOD``, WebP ``UklGR``, HEIC ``AAAA``, the size of its first box)."""
    typed = request.mimetype in ("application/json", "text/plain") or request.mimetype.endswith("+json")
    return typed or _starts_like_text(data)


def _starts_like_text(data: bytes) -> bool:
    """Whether ``data`` begins as JSON, a data: URL or a picture's base64 do (:data:`_TEXT_HEADS`):
    never as a URL-encoded form's first field name does."""
    return data[:16].lstrip().startswith(_TEXT_HEADS)


def accepted_upload_types() -> tuple[str, ...]:
    """The types the page's file input offers: HEIC only where this server reads it (never AVIF).

    A phone's browser converts a HEIC photo to JPEG when the input does not list HEIC, so listing
    it on a server without pillow-heif would turn a working upload into a refused one.
    """
    heic: tuple[str, ...] = ("image/heic", "image/heif", ".heic", ".heif") if heic_installed() else ()
    return ACCEPTED_TYPES + heic


def _check_part_headers(request: Request) -> int:
    """Refuse a form whose part headers are over :data:`MAX_PART_HEADER_BYTES`, before Werkzeug parses
    them; the number of parts found is returned (at most one more than :data:`MAX_FORM_PARTS`).

    Parts are found with the patterns of Werkzeug's own parser (its ``MultipartDecoder``), searched
    from where it searches (:func:`_headers_end`), so every part Werkzeug would read is checked: a
    first delimiter that does not begin a line, a blank line straight after a delimiter, or a
    delimiter straight after a part's blank line (an empty part), once hid a part's headers. Only the
    first parts are looked at (one more than :data:`MAX_FORM_PARTS`: past that Werkzeug refuses the
    form anyway); each search is bounded, so the check is linear in the body. The body is read once
    and cached: Werkzeug then parses that copy.

    The count tells which of Werkzeug's two refusals came: too many parts, and a text part over
    ``MAX_FORM_MEMORY_SIZE``, are both a ``RequestEntityTooLarge``. Told apart by the body's length,
    a form a little over the upload limit (within :data:`FORM_FRAMING`) with 17 small fields was a
    413 "too large" instead of a 400 "too many fields".
    """
    boundary = request.mimetype_params.get("boundary")
    if not boundary:
        return 0  # Werkzeug finds no part; _one_upload says what is wrong
    if len(boundary) > MAX_BOUNDARY_CHARS:
        raise DataError(LONG_BOUNDARY_MESSAGE)  # before any search; Werkzeug has no such limit
    data = request.get_data(cache=True)
    decoder = MultipartDecoder(boundary.encode("latin-1", "replace"))
    delimiter = _first_delimiter(decoder, data)
    for found in range(MAX_FORM_PARTS + 1):
        if delimiter is None or delimiter.group(1).startswith(b"--"):
            return found  # no more parts, or the closing delimiter
        headers_start = delimiter.end()  # the delimiter's line break included, as Werkzeug takes it
        blank = BLANK_LINE_RE.search(data, headers_start, headers_start + MAX_PART_HEADER_BYTES + 4)
        if blank is None:
            if len(data) - headers_start > MAX_PART_HEADER_BYTES:
                raise DataError(
                    f"a part of the form has over {MAX_PART_HEADER_BYTES // 1024} KiB of headers; send the "
                    "picture in a field named 'image' with its usual headers"
                )
            return found  # a short, unfinished part: Werkzeug says what is wrong
        delimiter = _next_delimiter(decoder, data, _headers_end(blank))
    return MAX_FORM_PARTS + 1


def _headers_end(blank: re.Match[bytes]) -> int:
    """Where Werkzeug's decoder ends a part's headers: after the first of the two line breaks of the
    ``blank`` line that closes them (CR LF, LF or CR each), as its ``headers_end``.

    The next delimiter is searched for from there, so the blank line's second line break can begin
    it: an empty part is its headers, the blank line and the next ``--boundary`` at once. Searched
    for from the blank line's end, that delimiter was missed and the next part's headers were never
    checked (8.8 MB of them were parsed, 1.4 s of a request thread), and 17 empty parts were counted
    as 9 (a 413 "too large" for 1 KB, not a 400 "too many fields").
    """
    first_line_break = len(blank.group()) // 2  # the blank line is two equal line breaks
    return blank.start() + first_line_break


def _first_delimiter(decoder: MultipartDecoder, data: bytes) -> re.Match[bytes] | None:
    """The form's first delimiter, as the decoder's ``preamble_re`` finds it; a :class:`DataError`
    when a body longer than :data:`MAX_PREAMBLE_BYTES` has none that ends within its first
    :data:`MAX_PREAMBLE_BYTES` bytes, its line break included.

    The search is bounded because the pattern is tried at every byte (see :data:`MAX_PREAMBLE_BYTES`).
    A match found in that window starts where the whole body's first one does: one that began
    earlier and ended past the window would have had to run on past it without a line break, where
    no other delimiter can stand. It is matched again from that start without the window, for its
    whole line break: cut at the window, a CR LF whose LF is the window's next byte read as a lone
    CR, and was let in though its line ended one byte past it.
    """
    found = decoder.preamble_re.search(data, 0, MAX_PREAMBLE_BYTES)
    if found is not None:
        found = decoder.preamble_re.match(data, found.start())
    ends_in_window = found is not None and found.end() <= MAX_PREAMBLE_BYTES
    if not ends_in_window and len(data) > MAX_PREAMBLE_BYTES:
        raise DataError(LATE_FIRST_BOUNDARY_MESSAGE)
    return found  # None: a short body with no delimiter, which Werkzeug reads and names as cut short


def _next_delimiter(decoder: MultipartDecoder, data: bytes, start: int) -> re.Match[bytes] | None:
    """The first match of the decoder's ``boundary_re`` in ``data`` from ``start``, as its ``search`` finds it.

    A delimiter begins with a line break (CR LF, LF or CR) before its ``--boundary``, so the pattern
    is tried only in windows of :data:`DELIMITER_WINDOW_BYTES` that hold such a place (found by
    ``bytes.find``), from the first one. Searched from ``start``, it was tried at every line break:
    a 10 MiB part of CR LFs alone took 0.3 s. Tried at every ``--boundary`` one by one, as until
    session 31, a part of dashes under a boundary of dashes was 10 million tries in Python, 9 s of a
    request thread. Searched over the rest of the body in one call, 9 MB of lines of ``--B``, 1,000
    spaces and an ``x`` held the interpreter 0.7 s (``/healthz`` waited 0.37 s on the server).

    A match found in a window that ends before the window's end is the first one in the body. One
    that reaches the end, or none at all, leaves a delimiter whose line may run on past the window
    (in spaces, the one place a delimiter's line can grow): the next window begins where that line
    does. Such a line whose padding is over :data:`MAX_DELIMITER_PADDING` is refused (:data:`LONG_DELIMITER_MESSAGE`):
    matched at once, 9 MB of spaces after one ``--boundary`` held a request thread, and the
    interpreter, 0.3 s in one call (session 32); RFC 2046 forbids the boundary inside a part, and no
    client pads a delimiter with more than a few spaces.
    """
    needle = b"--" + decoder.boundary
    at = start
    while at < len(data):
        end = at + DELIMITER_WINDOW_BYTES
        first = _first_place(data, needle, at, end)
        if first < 0:
            at = end
            continue
        found = decoder.boundary_re.search(data, first, end)
        if found is not None and found.end() < end:
            return found  # the window's end took no part in it
        last = found.start() if found is not None else _last_place(data, needle, first, end)
        if last > at:
            at = last  # its line, in the next window
            continue
        _refuse_long_padding(data, needle, last)  # its line is over a window long
        found = decoder.boundary_re.match(data, last, last + _DELIMITER_LINE_BYTES)
        if found is not None:
            return found
        at = last + 1
    return None


def _refuse_long_padding(data: bytes, needle: bytes, place: int) -> None:
    """A :class:`DataError` when the ``needle`` (``--boundary``) after the line break at ``place`` is
    followed by over :data:`MAX_DELIMITER_PADDING` of padding (spaces and tabs, which Werkzeug's
    pattern allows at a delimiter's end), found by a search bounded to that many bytes."""
    after = place + (2 if data.startswith(b"\r\n", place) else 1) + len(needle)
    if data.startswith(b"--", after):
        after += 2  # the closing delimiter's own dashes, which its padding follows
    padding = _PADDING.match(data, after, after + MAX_DELIMITER_PADDING + 1)
    if padding is not None and padding.end() - after > MAX_DELIMITER_PADDING:
        raise DataError(LONG_DELIMITER_MESSAGE)


def _first_place(data: bytes, needle: bytes, start: int, end: int) -> int:
    """The first place in ``data[start:end]`` where a delimiter can begin: a CR or LF just before
    ``needle`` (``--boundary``), the CR of a CR LF there; -1 where there is none."""
    return min(_places(data, needle, start, end, data.find), default=-1)


def _last_place(data: bytes, needle: bytes, start: int, end: int) -> int:
    """The last place in ``data[start:end]`` where a delimiter can begin (see :func:`_first_place`);
    -1 where there is none."""
    return max(_places(data, needle, start, end, data.rfind), default=-1)


def _places(data: bytes, needle: bytes, start: int, end: int, find: Callable[[bytes, int, int], int]) -> list[int]:
    """The places in ``data[start:end]`` of a line break before ``needle`` that ``find`` reports: a
    CR's, an LF's (its CR's for a CR LF), and a CR LF's whose LF is at ``end``."""
    after_cr = find(b"\r" + needle, start, end + len(needle))
    after_lf = find(b"\n" + needle, start, end + len(needle))
    if after_lf > start and data[after_lf - 1 : after_lf] == b"\r":
        after_lf -= 1  # a CR LF begins at its CR
    places = [place for place in (after_cr, after_lf) if place >= 0]
    if end - 1 >= start and data.startswith(b"\r\n" + needle, end - 1):
        places.append(end - 1)
    return places


def _one_upload(request: Request, uploads: list[FileStorage], names: tuple[str, ...]) -> bytes:
    """The bytes of the form's one ``image`` file; a clear 400 for each way a form gets it wrong.

    A form without an ``image`` field but with exactly one file is read too, whatever the field is
    called: clients written elsewhere name it ``file``, ``photo`` or ``upload`` (``curl -F
    file=@me.jpg``), and there is no doubt which picture they mean. A file part named as one of the
    fields ``names`` is that field's value, never the picture.

    Only parts sent with a file name count as files here. A picture sent as a text part (``curl -F
    'file=<me.jpg'``, no file name) is kept as bytes by :mod:`moodtape.web.picture_parts`, but it is
    read as the text field it was sent as (:func:`_text_fields`): ``file=@me.jpg`` beside a
    ``thumb=<me.jpg`` is one file and a field, as it always was, not "2 files".
    """
    uploads = [part for part in uploads if part.filename is not None]
    if len(uploads) > 1:
        raise DataError(f"the form has {len(uploads)} files named 'image': send one picture")
    if uploads:
        return uploads[0].stream.read()
    text_fields = _text_fields(request)
    if "image" in text_fields:
        return _field_picture(request, "image")
    files = [
        (name, part)
        for name, part in request.files.items(multi=True)
        if name not in names and part.filename is not None
    ]
    if len(files) == 1:
        return files[0][1].stream.read()
    if files:
        listed = ", ".join(sorted({repr(name) for name, _ in files}))
        raise DataError(f"the form has {len(files)} files ({listed}) and none named 'image': send one picture")
    named = next((name for name in JSON_FIELDS if name in text_fields), None)
    if named is not None:
        return _field_picture(request, named)
    lone = _lone_field_picture(request, text_fields, names)
    if lone is not None:
        return lone
    if not request.form and not request.files and request.content_length:
        raise DataError("the form could not be read: it is cut short or its boundary does not match")
    if _has_a_nameless_part(request):
        raise DataError(NO_NAME_MESSAGE)
    raise DataError(
        f"send the picture in a form field named 'image' (or as the raw request body){_fields_said(request)}"
    )


def _has_a_nameless_part(request: Request) -> bool:
    """Whether the form has a part sent with no ``name`` (``curl -F '=x'``): with no picture found,
    the likeliest reason is that it was meant to be the picture. Kept under ``""`` by
    :mod:`moodtape.web.picture_parts`, under ``None`` by Werkzeug's own parser."""
    return any(not name for name in (*request.form, *request.files))


def _text_fields(request: Request) -> set[str]:
    """The names of the form's text parts (no ``filename=``): Werkzeug's text fields, and those
    :mod:`moodtape.web.picture_parts` kept as bytes because they hold a picture."""
    kept = {name for name, part in request.files.items(multi=True) if part.filename is None}
    return set(request.form) | kept


def _text_part_picture(request: Request, name: str) -> bytes | None:
    """The bytes of the first text part ``name`` kept as bytes (a picture's); None when there is none."""
    part = next((part for part in request.files.getlist(name) if part.filename is None), None)
    return None if part is None else part.stream.read()


def _lone_field_picture(request: Request, text_fields: set[str], names: tuple[str, ...]) -> bytes | None:
    """The bytes of a form's only text field (not one of ``names``) when they are a picture
    (``curl -F 'upload=<me.jpg'``); None otherwise: text under a name of its own is not read as base64."""
    others = {name for name in text_fields if name not in names}
    if len(others) != 1:
        return None
    name = others.pop()
    raw = _text_part_picture(request, name)
    if raw is None:
        raw = _field_bytes(request, name)
    return raw if sniff_image_type(raw) is not None else None


def _fields_said(request: Request) -> str:
    """The text fields a form without a picture holds, for its message ("" when it has none).

    At most :data:`FIELDS_SAID` names, each cut to :data:`FIELD_NAME_SHOWN` characters: a form of
    eight 3,000-character names came back as a 24 KB message.
    """
    fields = sorted(set(request.form))
    if not fields:
        return ""
    said = ", ".join(shown(name, FIELD_NAME_SHOWN) for name in fields[:FIELDS_SAID])
    more = f" and {len(fields) - FIELDS_SAID} more" if len(fields) > FIELDS_SAID else ""
    return f"; the form holds only text fields ({said}{more})"


def _field_picture(request: Request, name: str) -> bytes:
    """The picture in the form's text field ``name``: the part's own bytes when they are a picture,
    else a data: URL or base64 in its text.

    A part without ``filename=`` is a text field to Werkzeug, which decodes it (as UTF-8 unless the
    part names another charset) with every invalid byte replaced, so a picture sent that way
    (``curl -F 'image=<me.jpg'``, a part with only ``name=``) could not be read from it: "holds
    text, not a file" came back for a picture. Its bytes are found again in the body (kept by
    :func:`_check_part_headers`) only when the text could have lost some (:func:`_field_bytes`).

    Raises:
        UnsupportedImageError: the part holds bytes that are neither text nor a picture (415).
        DataError: text that carries no picture (400).
    """
    raw = _text_part_picture(request, name)
    if raw is not None:
        return raw  # a picture's bytes, kept as sent (web/picture_parts.py)
    raw = _field_bytes(request, name)
    if sniff_image_type(raw) is not None:
        return raw
    text = as_utf8(raw)  # text in UTF-16 or UTF-32 (a part that says charset=utf-16), as UTF-8
    if b"\x00" in text or not _is_utf8(text):  # bytes that no text holds
        raise UnsupportedImageError(upload_refusal(raw, f"the form field {name!r} holds a file that", _FORMATS))
    return _picture_from_text(text, missing=DataError(TEXT_FIELD_NOT_A_PICTURE.format(name=repr(name))))[0]


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _field_bytes(request: Request, name: str) -> bytes:
    """The bytes of the form's text field ``name``: its text, unless that text could have lost some.

    Werkzeug decodes a text part with every invalid byte replaced by U+FFFD, so only text holding
    one (a picture's bytes: a JPEG's first byte is no UTF-8) is read again from the body, and so is
    text holding a NUL (UTF-16 sent without its charset, bytes no text holds). Anything else is read
    from its text, in UTF-8: a canvas's ``toDataURL()`` in a ``FormData``, the usual way, was parsed
    a second time for nothing (0.05 s → 0.17 s for 10 MiB).
    """
    text = request.form[name]
    if "\ufffd" in text or "\x00" in text:
        raw = _raw_field(request, name)
        if raw is not None:
            return raw
    return text.encode("utf-8")


def _raw_field(request: Request, name: str) -> bytes | None:
    """The bytes of the multipart body's first text part (no ``filename=``) named ``name``, as sent;
    None when Werkzeug's own decoder finds none in the body (a form that is not multipart).

    The body is given to the decoder :data:`RAW_FIELD_CHUNK` bytes at a time, as Werkzeug's own form
    parser gives it: given whole, the decoder copied it whole and searched all of it for a boundary
    at each line break (a 10 MiB part of CR LFs alone took 0.3 to 0.5 s).
    """
    boundary = request.mimetype_params.get("boundary")
    if not boundary:
        return None
    decoder = MultipartDecoder(boundary.encode("latin-1", "replace"), max_parts=MAX_FORM_PARTS)
    body = memoryview(request.get_data(cache=True))
    found = _FieldBytes(name)
    try:
        for start in range(0, len(body), RAW_FIELD_CHUNK):
            decoder.receive_data(body[start : start + RAW_FIELD_CHUNK])  # type: ignore[arg-type]
            if (part := found.take_events(decoder)) is not None:
                return part
        decoder.receive_data(None)
        return found.take_events(decoder)
    except (ValueError, RequestEntityTooLarge):
        return None  # Werkzeug read the form already: what it made of it stands


class _FieldBytes:
    """The data of the first text part named ``name``, gathered from a decoder's events."""

    def __init__(self, name: str) -> None:
        self.name = name
        #: The part's data so far; None while the decoder is in another part.
        self.chunks: list[bytes] | None = None

    def take_events(self, decoder: MultipartDecoder) -> bytes | None:
        """Take the events ``decoder`` can give now: the part's bytes once it was read to its end."""
        event = decoder.next_event()
        while not isinstance(event, (Epilogue, NeedData)):
            if isinstance(event, (Field, File)):
                self.chunks = [] if isinstance(event, Field) and event.name == self.name else None
            elif isinstance(event, Data) and self.chunks is not None:
                self.chunks.append(event.data)
                if not event.more_data:
                    return b"".join(self.chunks)
            event = decoder.next_event()
        return None


@contextmanager
def gray_upload(request: Request, max_pixels: int, gate: LargePictureGate) -> Iterator[npt.NDArray[np.uint8]]:
    """The uploaded picture of ``request`` as a gray image, decoded in memory (never stored).

    A large picture holds one of ``gate``'s slots while the block runs (decoding it and the
    analysis after): see :mod:`moodtape.web.large_pictures`.

    Raises:
        ServerBusyError: a large picture while every slot is taken (503, with ``Retry-After``).
    """
    with gray_picture(read_image_bytes(request), max_pixels, gate) as gray:
        yield gray


@contextmanager
def gray_picture(data: bytes, max_pixels: int, gate: LargePictureGate) -> Iterator[npt.NDArray[np.uint8]]:
    """An upload's picture (``data``, from :func:`read_upload`) as a gray image: see :func:`gray_upload`."""
    check_decode_cost(data)  # before the header is read for the gate: that read alone can be slow
    check_heif_header(data, max_pixels, "the picture")  # a HEIC's sizes, before libheif reads its header
    with gate.admit(declared_pixels(data, UPLOAD_FORMATS), client_owner()):
        try:
            gray = decode_image(
                data, gray=True, max_pixels=max_pixels, cost_checked=True, shrink_jpeg=True, formats=UPLOAD_FORMATS
            )
        except (UnsupportedImageError, CorruptImageError) as exc:
            # The leading bytes said "image", so the rest is damaged rather than of the wrong type;
            # the decoder's own words go to the log, the client gets one plain sentence.
            _log.info("damaged upload: %s", exc)
            raise ImageError(DAMAGED) from None
        yield gray

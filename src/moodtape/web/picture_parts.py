"""A multipart form parser that keeps a picture sent without a file name as bytes, not text.

``curl -F 'image=<me.jpg'`` (and any part with ``name=`` but no ``filename=``) sends a picture as a
text field. Werkzeug's parser gathers such a part in a list, joins it, and decodes it as UTF-8 with
every invalid byte replaced by U+FFFD: a 10 MiB JPEG became a 20 MiB string of mostly U+FFFD, and
the upload code then parsed the body a second time to get the bytes back. Reading one such upload
peaked at 90 MiB of Python memory, where the same picture sent with a file name took 31 MiB.

Here a text part whose bytes are no text in its charset (they fail to decode) and begin as a
picture's do (:func:`sniff_image_type`: JPEG, PNG, GIF, WebP, HEIF) is kept as a file part without
a file name, its bytes as sent; every other part is read as Werkzeug reads it. Both tests are
needed: some pictures' magic is plain ASCII (``GIF89a``, ``RIFF....WEBP``, HEIF's ``ftyp``), so a
caption such as ``GIF89a is my fave`` begins as a picture does, but it decodes, and stays text. A
real picture's bytes hold some that no UTF-8 or ASCII text does (a JPEG's first byte already), so
the failed decode costs nothing. The same picture now peaks at about the file's 31 MiB.

A form that cannot be read for a reason the client can fix is a 400 that names it, where Werkzeug
reads it as an empty form: a ``multipart/form-data`` type with no ``boundary`` (what a client that
sets the header by hand sends), one whose ``boundary`` parameter is not valid (``boundary = xyz``)
or not ASCII, and a part with no ``Content-Disposition``. Until session 28 each was "the form could
not be read: it is cut short or its boundary does not match", true of none of them. A part with no
``name`` (``curl -F '=x'``) is kept under the name ``""``, where Werkzeug kept it under ``None``: a
picture beside it is read as ever, and a form whose only picture-less part is such a one is told
that its part has no name (``moodtape.web.uploads``).

A part's headers that are not UTF-8 (a file name in Latin-1, as a client on a system with that
file-name encoding sends it raw) are read as Latin-1, byte for byte, as a request's own headers
are. Werkzeug's decoder raised ``UnicodeDecodeError`` for them, its form parser read the form as
empty, and the picture beside such a name was refused as "cut short or its boundary does not match"
(session 33). A name in Windows-1252 is read the same way, so its bytes 0x80-0x9F (``€``, curly
quotes) become Latin-1's control characters U+0080-U+009F: the name is not as the client wrote it,
but its picture is read.
"""

from __future__ import annotations

import codecs
import inspect
import io
import logging
import re
from collections.abc import Iterator
from typing import IO, Any, Final

from flask import has_request_context, request
from werkzeug.datastructures import FileStorage, Headers, MultiDict
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.formparser import FormDataParser, MultiPartParser
from werkzeug.sansio.multipart import Data, Epilogue, Field, File, MultipartDecoder, NeedData

from moodtape.errors import DataError
from moodtape.vision.heif_structure import heif_kind

#: Leading bytes of each accepted format → the format's name.
_MAGIC: Final[tuple[tuple[bytes, str], ...]] = (
    (b"\xff\xd8\xff", "jpeg"),
    (b"\x89PNG\r\n\x1a\n", "png"),
    (b"GIF87a", "gif"),
    (b"GIF89a", "gif"),
)
#: Bytes of a text part that sniffs as a picture decoded alone first (see :func:`_decodes`).
_PREFIX_CHECKED: Final[int] = 4096
#: Werkzeug's methods this module overrides or calls, with their parameters in Werkzeug 3.1 (the
#: release pyproject.toml pins). ``_parse_multipart`` is private: another release may change it.
_WERKZEUG_HOOKS: Final[tuple[tuple[type, str, tuple[str, ...]], ...]] = (
    (FormDataParser, "_parse_multipart", ("self", "stream", "mimetype", "content_length", "options")),
    (MultiPartParser, "start_file_streaming", ("self", "event", "total_content_length")),
    (MultiPartParser, "get_part_charset", ("self", "headers")),
    (MultipartDecoder, "_parse_headers", ("self", "data")),
)

#: Werkzeug's decoder's words for a part without the header that names it.
_NO_DISPOSITION: Final = "Missing Content-Disposition header"
NO_BOUNDARY_MESSAGE: Final = (
    "the Content-Type multipart/form-data has no boundary, so the form's parts cannot be found: let the "
    "HTTP client write that header (curl -F, a browser's FormData) rather than setting it by hand"
)
NO_DISPOSITION_MESSAGE: Final = (
    "a part of the form has no Content-Disposition header: send the picture in a part with "
    'Content-Disposition: form-data; name="image"'
)
NO_NAME_MESSAGE: Final = (
    'a part of the form has no name: send the picture in a part with Content-Disposition: form-data; name="image"'
)
BAD_BOUNDARY_MESSAGE: Final = (
    "the Content-Type multipart/form-data has a boundary parameter that is not valid: write it as "
    "boundary=<value>, with no spaces around '=', or let the HTTP client write that header"
)
NON_ASCII_BOUNDARY_MESSAGE: Final = (
    "the Content-Type multipart/form-data has a boundary that is not ASCII: a boundary is at most 70 ASCII "
    "letters, digits and punctuation (RFC 2046)"
)
#: A ``boundary`` parameter in a Content-Type that Werkzeug could not read as one (``boundary = xyz``).
_A_BOUNDARY_PARAMETER: Final = re.compile(r";\s*boundary\s*(?:=|;|$)", re.IGNORECASE)
#: ``boundary=`` with nothing after it: no boundary, said as such.
_AN_EMPTY_BOUNDARY: Final = re.compile(r";\s*boundary=\s*(?:;|$)", re.IGNORECASE)

_log = logging.getLogger(__name__)


def sniff_image_type(data: bytes) -> str | None:
    """``"jpeg"``, ``"png"``, ``"webp"``, ``"gif"``, ``"avif"`` or ``"heic"`` from the leading bytes
    (12 suffice); None for anything else.

    Decided by the bytes (the "magic number"), never by a file name or a ``Content-Type``, which
    the client controls.
    """
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    heif = heif_kind(data)
    if heif is not None:
        return heif
    for magic, name in _MAGIC:
        if data.startswith(magic):
            return name
    return None


def werkzeug_hooks_match() -> bool:
    """Whether this Werkzeug has the methods :class:`PictureFormDataParser` overrides and calls,
    with the parameters it gives them."""
    for owner, name, parameters in _WERKZEUG_HOOKS:
        method = getattr(owner, name, None)
        if method is None or tuple(inspect.signature(method).parameters) != parameters:
            return False
    return True


def form_parser_class() -> type[FormDataParser]:
    """:class:`PictureFormDataParser`, or Werkzeug's own parser when this Werkzeug's hooks differ.

    A release whose ``_parse_multipart`` took other arguments would fail every form upload with a
    500; Werkzeug's own parser reads every form correctly, only a picture sent as a text part costs
    more memory again (see the module's docstring), and the upload code reads both.
    """
    if werkzeug_hooks_match():
        return PictureFormDataParser
    _log.warning("this Werkzeug's form parser hooks differ from 3.1's: forms are read by Werkzeug's own parser")
    return FormDataParser


class PictureFormDataParser(FormDataParser):
    """Werkzeug's form parser, with multipart bodies read by :class:`PicturePartsParser`."""

    def _parse_multipart(
        self, stream: IO[bytes], mimetype: str, content_length: int | None, options: dict[str, str]
    ) -> tuple[IO[bytes], MultiDict[str, str], MultiDict[str, FileStorage]]:
        boundary = _boundary(options)
        parser = PicturePartsParser(
            stream_factory=self.stream_factory,
            max_form_memory_size=self.max_form_memory_size,
            max_form_parts=self.max_form_parts,
            cls=self.cls,
        )
        form, files = parser.parse(stream, boundary, content_length)
        return stream, form, files


def _boundary(options: dict[str, str]) -> bytes:
    """The form's boundary; a :class:`DataError` that says what is wrong with it when it cannot be one.

    Werkzeug's ``ValueError`` (and the ``UnicodeEncodeError`` of a boundary such as ``"é"``) read
    the form as empty, which came back as "cut short".
    """
    given = options.get("boundary")
    if given is None and _a_boundary_werkzeug_could_not_read(_content_type()):
        raise DataError(BAD_BOUNDARY_MESSAGE)
    try:
        boundary = (given or "").encode("ascii")
    except UnicodeEncodeError:
        raise DataError(NON_ASCII_BOUNDARY_MESSAGE) from None
    if not boundary:
        raise DataError(NO_BOUNDARY_MESSAGE)
    return boundary


def _a_boundary_werkzeug_could_not_read(content_type: str) -> bool:
    """Whether ``content_type`` has a ``boundary`` parameter other than an empty ``boundary=``."""
    return bool(_A_BOUNDARY_PARAMETER.search(content_type)) and not _AN_EMPTY_BOUNDARY.search(content_type)


def _content_type() -> str:
    """The request's ``Content-Type`` as sent ("" outside a request): Werkzeug hands the form parser
    only the parameters it could read, so ``boundary = xyz`` arrives as none at all."""
    return request.headers.get("Content-Type", "") if has_request_context() else ""


class PicturePartsParser(MultiPartParser):
    """Reads a multipart body part by part from the decoder's events; see the module's docstring."""

    def parse(
        self, stream: IO[bytes], boundary: bytes, content_length: int | None
    ) -> tuple[MultiDict[str, str], MultiDict[str, FileStorage]]:
        decoder = _LatinHeadersDecoder(
            boundary, max_form_memory_size=self.max_form_memory_size, max_parts=self.max_form_parts
        )
        fields: list[tuple[str, str]] = []
        files: list[tuple[str, FileStorage]] = []
        part: _Part | None = None
        for data in _reads(stream, self.buffer_size):
            decoder.receive_data(data)
            event = _next_event(decoder)
            while not isinstance(event, (Epilogue, NeedData)):
                if isinstance(event, File):
                    part = _Part(event, self.start_file_streaming(event, content_length))
                elif isinstance(event, Field):
                    part = _Part(event, None)
                elif isinstance(event, Data) and part is not None:
                    part.add(event.data, self.max_form_memory_size)
                    if not event.more_data:
                        part.finish(fields, files, self.get_part_charset(part.event.headers))
                event = _next_event(decoder)
        return self.cls(fields), self.cls(files)


class _LatinHeadersDecoder(MultipartDecoder):
    """Werkzeug's multipart decoder, reading a part's headers as Latin-1 when they are not UTF-8
    (see the module's docstring): no byte is refused, and UTF-8 headers read as before."""

    def _parse_headers(self, data: bytes | bytearray) -> Headers:
        try:
            return super()._parse_headers(data)
        except UnicodeDecodeError:
            # Werkzeug decodes as UTF-8: give it each byte as the Latin-1 character it stands for.
            return super()._parse_headers(bytes(data).decode("latin-1").encode("utf-8"))


def _next_event(decoder: MultipartDecoder) -> Any:
    """The decoder's next event; a part without ``Content-Disposition`` is a :class:`DataError`.

    Werkzeug's decoder says so with a ``ValueError``, which its form parser swallows into an empty
    form; every other ``ValueError`` (a form cut short) is left to that.
    """
    try:
        return decoder.next_event()
    except ValueError as exc:
        if str(exc) == _NO_DISPOSITION:
            raise DataError(NO_DISPOSITION_MESSAGE) from None
        raise


class _Part:
    """One part's data while it is read: a file's into its stream, a text field's into a list."""

    def __init__(self, event: Field | File, stream: IO[bytes] | None) -> None:
        self.event = event
        self.stream = stream  # None for a text field
        self.chunks: list[bytes] = []
        self.size = 0

    def add(self, data: bytes, limit: int | None) -> None:
        """Take the next piece of the part (a text field over ``limit`` bytes is a 413, as Werkzeug's)."""
        if self.stream is not None:
            self.stream.write(data)
            return
        self.size += len(data)
        if limit is not None and self.size > limit:
            raise RequestEntityTooLarge()
        self.chunks.append(data)

    def finish(self, fields: list[tuple[str, str]], files: list[tuple[str, FileStorage]], charset: str) -> None:
        """Add the finished part to ``fields`` or ``files``: a text field whose bytes are no text in
        ``charset`` but a picture's to ``files`` (see the module's docstring)."""
        name = self.event.name or ""  # a part with no name: Werkzeug's None, no name a form can hold
        if self.stream is not None:
            self.stream.seek(0)
            files.append((name, FileStorage(self.stream, _filename(self.event), name, headers=self.event.headers)))
            return
        data, self.chunks = b"".join(self.chunks), []
        if sniff_image_type(data[:12]) is not None and not _decodes(data, charset):
            files.append((name, FileStorage(io.BytesIO(data), None, name, headers=self.event.headers)))
        else:
            fields.append((name, data.decode(charset, "replace")))


def _decodes(data: bytes, charset: str) -> bool:
    """Whether ``data`` is text in ``charset`` (decodes with no invalid byte).

    Its first :data:`_PREFIX_CHECKED` bytes are tried alone first: a picture fails there, where a
    whole decode that fails at its first byte still set aside a string of the data's length (9 MiB
    more at the peak for a 10 MiB picture).
    """
    try:
        codecs.getincrementaldecoder(charset)().decode(data[:_PREFIX_CHECKED], final=False)
        data.decode(charset)
    except UnicodeDecodeError:
        return False
    return True


def _filename(event: Any) -> str | None:
    """A file part's name as sent (None for a text field kept as a file)."""
    return getattr(event, "filename", None)


def _reads(stream: IO[bytes], size: int) -> Iterator[bytes | None]:
    """``stream`` in reads of ``size`` bytes, then None (the decoder's sign that the body ended)."""
    while data := stream.read(size):
        yield data
    yield None

"""A picture sent as a text part (``curl -F 'image=<me.jpg'``) is kept as bytes (web/picture_parts.py).

Before: Werkzeug decoded it as UTF-8 text with each invalid byte replaced, and the upload code parsed
the body again to get the bytes back: a 4 MiB picture so sent peaked at about 9× its size in Python
memory. Now it costs what the same picture sent with a file name does (about 3×).
"""

from __future__ import annotations

import io
import os
import tracemalloc
from typing import IO

import pytest
from flask import Flask, request
from flask.ctx import RequestContext
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.formparser import FormDataParser, MultiPartParser

from moodtape.errors import DataError
from moodtape.web.picture_parts import PictureFormDataParser, form_parser_class, werkzeug_hooks_match
from moodtape.web.uploads import InMemoryRequest, read_upload

BOUNDARY = "pictureparts"
SIZE = 4 * 1024 * 1024


def _form(*parts: tuple[bytes, bytes]) -> bytes:
    """A multipart body of ``(Content-Disposition's parameters, data)`` parts."""
    body = b"".join(
        b"--" + BOUNDARY.encode() + b"\r\nContent-Disposition: form-data; " + params + b"\r\n\r\n" + data + b"\r\n"
        for params, data in parts
    )
    return body + b"--" + BOUNDARY.encode() + b"--\r\n"


def _app() -> Flask:
    app = Flask(__name__)
    app.request_class = InMemoryRequest
    app.config.update(MAX_CONTENT_LENGTH=2 * SIZE, MAX_FORM_MEMORY_SIZE=2 * SIZE, MAX_FORM_PARTS=16)
    return app


def _context(app: Flask, body: bytes) -> RequestContext:
    return app.test_request_context(
        "/",
        method="POST",
        input_stream=io.BytesIO(body),
        content_type=f"multipart/form-data; boundary={BOUNDARY}",
        content_length=len(body),
    )


def _jpeg_like(size: int) -> bytes:
    """A JPEG's first bytes, then noise free of the boundary (read_upload looks no further)."""
    return b"\xff\xd8\xff" + os.urandom(size - 3).replace(BOUNDARY.encode()[:4], b"xxxx")


def _peak_reading(body: bytes) -> tuple[bytes, int]:
    """The picture read_upload finds in ``body``, and the peak of Python memory while it reads it."""
    app = _app()
    with _context(app, body):
        tracemalloc.start()
        try:
            tracemalloc.reset_peak()
            base = tracemalloc.get_traced_memory()[0]
            picture = read_upload(request).picture
            peak = tracemalloc.get_traced_memory()[1] - base
        finally:
            tracemalloc.stop()
    return picture, peak


def test_a_picture_in_a_text_part_costs_no_more_memory_than_in_a_file_part() -> None:
    picture = _jpeg_like(SIZE)
    as_text, text_peak = _peak_reading(_form((b'name="image"', picture)))
    as_file, file_peak = _peak_reading(_form((b'name="image"; filename="me.jpg"', picture)))
    assert as_text == picture and as_file == picture
    assert text_peak < 4 * SIZE, f"{text_peak / SIZE:.1f}× the picture"  # before: about 9×
    assert text_peak < file_peak * 1.5


@pytest.mark.parametrize(
    "head",
    [b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"GIF89a", b"RIFF\x00\x00\x00\x00WEBPVP8 ", b"\x00\x00\x00\x18ftypheic"],
    ids=["jpeg", "png", "gif", "webp", "heic"],
)
def test_a_text_part_that_begins_as_a_picture_is_a_file_without_a_name(head: bytes) -> None:
    data = head + b"\x80\x81 rest of the picture"
    with _context(_app(), _form((b'name="upload"', data), (b'name="emotion"', b"happy"))):
        assert "upload" not in request.form
        part = request.files["upload"]
        assert part.filename is None and part.stream.read() == data
        assert request.form["emotion"] == "happy"


@pytest.mark.parametrize(
    "text",
    [b"GIF89a is my fave", b"GIF87a", b"RIFF1234WEBP hello", b"\x00\x00\x00\x18ftypheic, a caption"],
    ids=["gif89a", "gif87a", "webp", "heic"],
)
def test_text_that_begins_as_a_picture_does_stays_text(text: bytes) -> None:
    """Some pictures' magic is plain ASCII: text that begins so decodes, and is the text field it was sent as."""
    with _context(_app(), _form((b'name="caption"', text))):
        assert request.form["caption"] == text.decode()  # before: a file without a name
        assert not request.files


def test_a_file_beside_a_caption_that_begins_as_a_gif_is_the_one_picture() -> None:
    picture = _jpeg_like(1024)
    body = _form((b'name="file"; filename="a.jpg"', picture), (b'name="caption"', b"GIF89a is my fave"))
    with _context(_app(), body):
        assert read_upload(request).picture == picture  # before: 400 "the form has 2 files"


@pytest.mark.parametrize(
    ("parts", "expected"),
    [
        # a file, and a thumbnail sent as a text part: the file is the one picture, as before
        (((b'name="file"; filename="a.jpg"', b"A"), (b'name="thumb"', b"B")), b"A"),
        # two pictures sent as text parts named image: the first, as before
        (((b'name="image"', b"A"), (b'name="image"', b"B")), b"A"),
        # a picture sent as a text part named image wins over a file of another name, as before
        (((b'name="upload"; filename="a.jpg"', b"B"), (b'name="image"', b"A")), b"A"),
        # a lone text part under a name of its own
        (((b'name="upload"', b"A"), (b'name="emotion"', b"happy")), b"A"),
    ],
    ids=["file-and-text-thumbnail", "two-text-images", "text-image-over-file", "lone-text-part"],
)
def test_pictures_sent_as_text_parts_count_as_the_text_fields_they_were(
    parts: tuple[tuple[bytes, bytes], ...], expected: bytes
) -> None:
    pictures = {b"A": _jpeg_like(1024), b"B": _jpeg_like(1024)}
    body = _form(*((params, pictures.get(data, data)) for params, data in parts))
    with _context(_app(), body):
        assert read_upload(request, ("emotion",)).picture == pictures[expected]  # before: 400 "2 files"


def test_a_picture_in_a_text_field_asked_for_as_text_is_named_so() -> None:
    body = _form((b'name="image"', _jpeg_like(1024)), (b'name="stream"', _jpeg_like(1024)))
    with _context(_app(), body), pytest.raises(DataError) as refused:
        read_upload(request, ("stream",))
    message = str(refused.value)
    assert "text field stream holds a picture's bytes" in message
    assert "send it as a text field" not in message  # before: what the client had done


@pytest.mark.parametrize(
    ("data", "text"),
    [
        (b"happy", "happy"),
        ("caf\u00e9 \u2603".encode(), "caf\u00e9 \u2603"),
        (b"caf\xe9", "caf\ufffd"),  # not UTF-8: replaced, as Werkzeug does
        (b"data:image/jpeg;base64,/9j/4AAQ", "data:image/jpeg;base64,/9j/4AAQ"),
        (b"", ""),
    ],
)
def test_other_text_parts_are_read_as_werkzeug_reads_them(data: bytes, text: str) -> None:
    with _context(_app(), _form((b'name="field"', data))):
        assert request.form["field"] == text
        assert not request.files


def test_a_text_part_over_the_form_memory_limit_is_still_a_413() -> None:
    app = _app()
    app.config.update(MAX_FORM_MEMORY_SIZE=1024)
    body = _form((b'name="field"', b"a" * 4096))
    with _context(app, body), pytest.raises(RequestEntityTooLarge):
        _ = request.form


def test_werkzeug_still_hands_multipart_forms_to_the_hook_overridden() -> None:
    """``_parse_multipart`` is Werkzeug's private method: a release that stops calling it, or calls
    it otherwise, fails here (pyproject.toml pins the 3.1 releases this was written for)."""
    calls: list[tuple[str, int | None, dict[str, str]]] = []

    class Recording(PictureFormDataParser):
        def _parse_multipart(
            self, stream: IO[bytes], mimetype: str, content_length: int | None, options: dict[str, str]
        ) -> tuple[IO[bytes], MultiDict[str, str], MultiDict[str, FileStorage]]:
            calls.append((mimetype, content_length, options))
            return super()._parse_multipart(stream, mimetype, content_length, options)

    picture = _jpeg_like(1024)
    body = _form((b'name="image"', picture))
    _, form, files = Recording().parse(io.BytesIO(body), "multipart/form-data", len(body), {"boundary": BOUNDARY})
    assert calls == [("multipart/form-data", len(body), {"boundary": BOUNDARY})]
    assert not form and files["image"].stream.read() == picture
    assert werkzeug_hooks_match()
    assert InMemoryRequest.form_data_parser_class is PictureFormDataParser


def test_a_werkzeug_whose_hooks_differ_gets_its_own_parser(monkeypatch: pytest.MonkeyPatch) -> None:
    assert form_parser_class() is PictureFormDataParser
    monkeypatch.setattr(FormDataParser, "_parse_multipart", lambda self, stream, mimetype, length, options: None)
    assert form_parser_class() is FormDataParser  # a renamed parameter: would have failed each upload
    monkeypatch.undo()
    monkeypatch.delattr(MultiPartParser, "get_part_charset")
    assert form_parser_class() is FormDataParser


@pytest.mark.parametrize("parser", [PictureFormDataParser, FormDataParser], ids=["ours", "werkzeugs"])
def test_uploads_read_the_same_with_werkzeugs_own_parser(monkeypatch: pytest.MonkeyPatch, parser: type) -> None:
    """The fallback above: the upload code reads a picture sent as a text part either way."""
    monkeypatch.setattr(InMemoryRequest, "form_data_parser_class", parser)
    picture, thumbnail = _jpeg_like(1024), _jpeg_like(1024)
    for parts in (
        ((b'name="image"', picture),),
        ((b'name="file"; filename="a.jpg"', picture), (b'name="thumb"', thumbnail)),
        ((b'name="image"', picture), (b'name="image"', thumbnail)),
        ((b'name="upload"', picture), (b'name="caption"', b"GIF89a is my fave")),
    ):
        with _context(_app(), _form(*parts)):
            assert read_upload(request, ("caption",)).picture == picture

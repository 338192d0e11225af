"""Name the files people send in place of a picture, so that the error says what to do instead.

A PDF of a scanned page, an SVG drawing, or a web page saved under the picture's name (``Save
link as`` on a thumbnail) were all refused as "not an image (or a format moodtape cannot read)",
which does not tell a person that the file is fine, just not a picture, nor how to get one.

The web upload reads fewer formats than the command line (JPEG, PNG, WebP, GIF, HEIC): a TIFF from
a scanner or a BMP from Paint was refused there as "not a JPEG, PNG, WebP, GIF or HEIC picture",
which a visitor holding a picture reads as "this is broken". :func:`upload_refusal` names what the
file is and how to make one the site reads.
"""

from __future__ import annotations

from typing import Final

#: Bytes of the file's start searched for a document's signature: an SVG or page starts with it.
_HEAD: Final = 2048
#: What each document is, and how to make a picture moodtape reads from it.
_PDF: Final = ("a PDF document", "export the page with the face as a JPEG or PNG picture")
_SVG: Final = ("an SVG drawing", "export it as a PNG picture")
_HTML: Final = (
    "a web page (HTML), saved in place of the picture it showed",
    "open the picture itself in the browser, save it, and use that file",
)
#: How a picture in a format the web upload does not read becomes one it does.
_RESAVE: Final = "open it in a picture app and save or export it as a JPEG or PNG, then send that file"
#: Picture formats a visitor may hold that the web upload does not read, by their first bytes.
_OTHER_PICTURES: Final[tuple[tuple[bytes, str], ...]] = (
    (b"II*\x00", "a TIFF picture"),
    (b"MM\x00*", "a TIFF picture"),
    (b"8BPS", "a Photoshop (PSD) file"),
    (b"\x00\x00\x00\x0cjP  \r\n\x87\n", "a JPEG 2000 picture"),
    (b"\xffO\xffQ", "a JPEG 2000 picture"),
    (b"\x00\x00\x01\x00", "an icon (ICO) file"),
)


def document_kind(data: bytes) -> tuple[str, str] | None:
    """``(what the file is, what to do)`` for a PDF, SVG or HTML file; None for anything else."""
    if data.startswith(b"%PDF-"):
        return _PDF
    head = data[:_HEAD].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith(b"<svg") or (head.startswith(b"<?xml") and b"<svg" in head):
        return _SVG
    if head.startswith((b"<!doctype html", b"<html")):
        return _HTML
    return None


def not_a_picture(data: bytes, name: str) -> str:
    """The message for ``data`` that no decoder reads: what it is, when we know, and what to send instead."""
    kind = document_kind(data)
    if kind is None:
        return f"{name}: not an image (or a format moodtape cannot read); save it as a JPEG or PNG and try again"
    what, advice = kind
    return f"{name}: {what}, not an image; {advice}"


def picture_kind(data: bytes) -> str | None:
    """What picture format ``data`` is, for the formats the web upload does not read; None for others.

    A BMP starts with ``BM`` and, after its size, four zero bytes (reserved): checked both, as two
    letters alone begin much text.
    """
    if data.startswith(b"BM") and data[6:10] == bytes(4):
        return "a BMP picture"
    return next((kind for start, kind in _OTHER_PICTURES if data.startswith(start)), None)


def upload_refusal(data: bytes, holder: str, formats: str) -> str:
    """The web answer for an upload ``data`` that is no picture the site reads, in a visitor's words.

    ``holder`` says where the bytes were (``"that file"``, ``"the form field 'image' holds a file
    that"``); ``formats`` names the formats read (``"a JPEG, PNG, WebP, GIF or HEIC picture"``). The
    message says what the file is when its first bytes tell, and always what to send instead.
    """
    picture = picture_kind(data)
    if picture is not None:
        return f"{holder} is not {formats}: it is {picture}; {_RESAVE}"
    document = document_kind(data)
    if document is not None:
        what, advice = document
        return f"{holder} is not {formats}: it is {what}; {advice}"
    return f"{holder} is not {formats}: send a photo in one of those formats, or {_RESAVE}"

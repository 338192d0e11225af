"""Name the files people send in place of a picture, so that the error says what to do instead.

A PDF of a scanned page, an SVG drawing, or a web page saved under the picture's name (``Save
link as`` on a thumbnail) were all refused as "not an image (or a format moodtape cannot read)",
which does not tell a person that the file is fine, just not a picture, nor how to get one.
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

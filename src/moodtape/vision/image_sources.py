"""Where a picture's bytes come from: a path, a ``file:`` URL or an open file, read within a bound.

Kept apart from :mod:`moodtape.vision.images`, which decides what a source is and decodes it: reading
is a concern of its own, with its own hazards (a device that never ends, a FIFO, a file that grows
after it was measured, a path that is really a URL), and each is answered here before any decoder
sees a byte.

Everything is read a chunk at a time into one buffer, never past :func:`max_file_bytes`: collecting
chunks and joining them held every byte twice at the end (a 300 MiB file peaked at 600 MiB).
"""

from __future__ import annotations

import io
import os
import re
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Protocol, runtime_checkable
from urllib.parse import urlsplit

from moodtape.errors import ImageError, ImageTooLargeError


@runtime_checkable
class BinaryReadable(Protocol):
    """A file opened in binary mode, or anything that reads like one (``io.BytesIO``, an upload)."""

    def read(self, size: int = -1, /) -> bytes: ...


#: Bytes per pixel of the largest encoded picture within the pixel limit: 16-bit RGBA stored
#: uncompressed (TIFF, PNG), 8 bytes a pixel.
_MOST_BYTES_PER_PIXEL = 8
#: Room beyond the pixels for what a picture file carries besides them: EXIF, ICC, XMP, previews.
_OTHER_BYTES = 64 << 20
#: How much of a file or stream is read at a time, so a read never asks for the whole bound at once.
_CHUNK_BYTES = 1 << 20


def max_file_bytes(max_pixels: int) -> int:
    """The most bytes a picture of at most ``max_pixels`` pixels can take: 387 MB at the default 40 MP.

    Reading stops past it. ``moodtape analyze /dev/zero`` (or ``- < /dev/zero``, or a video given by
    mistake) read without end until memory ran out; no picture moodtape would decode is larger.
    """
    return _MOST_BYTES_PER_PIXEL * max_pixels + _OTHER_BYTES


def as_path(source: str | os.PathLike[str] | os.PathLike[bytes]) -> Path:
    """``source`` as a Path: an ``os.PathLike`` that gives bytes (``os.DirEntry`` from ``os.scandir(b".")``)
    too, which ``Path()`` refuses with a bare ``TypeError``; an empty path is no file (``Path("")`` is ".")."""
    path = os.fspath(source)
    if not path:
        raise ImageError("empty path: name an image file")
    return Path(os.fsdecode(path))


def exists(path: Path) -> bool:
    """Whether ``path`` names something; a name the system cannot look up (too long: a ``data:`` URL
    of a whole picture) names nothing, where ``Path.exists`` let a bare ``OSError`` out."""
    try:
        return path.exists()
    except OSError:
        return False


def file_url_path(given: str) -> Path | None:
    """The local file a ``file:`` URL names (``file:///tmp/me.jpg``: ``/tmp/me.jpg``); None for anything else.

    A path and a ``file:`` URL name the same file, so moodtape reads both; one on another host
    (``file://server/…``) is no local file.
    """
    parts = urlsplit(given)
    if parts.scheme.lower() != "file" or parts.netloc.lower() not in {"", "localhost"}:
        return None
    from urllib.request import url2pathname  # here: urllib.request imports http.client, ssl, email

    return Path(url2pathname(parts.path))


def home_path(given: str) -> Path | None:
    """The file ``~/…`` (or ``~user/…``) names in a home folder; None for a path that starts otherwise.

    A shell turns ``~`` into the home folder, but Python does not: ``analyze("~/Pictures/me.jpg")``
    from a notebook was "file not found" with the photo right there, as ``open()`` would say. A
    name that exists as written (a folder called ``~`` in the current one) is read first; this is
    asked only when it does not, so no file that was read before reads differently now.
    """
    if not given.startswith("~"):
        return None
    expanded = os.path.expanduser(given)
    return Path(expanded) if expanded != given else None


#: A URL (``https://…``, ``s3://…``); as a path, "https:/x.jpg" (a Path folds the "//"). Two
#: letters at least before the colon, so that a Windows drive ("C:/photos") is not one.
_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]+:/")
#: A ``data:`` URL: the picture's bytes written out in the text (``data:image/png;base64,iVBOR…``).
_DATA_URL = re.compile(r"data:[^,]*,", re.IGNORECASE)


def looks_like_url(given: str) -> bool:
    """Whether ``given`` is written as a URL (``https://…``, ``file:///…``, ``data:…``), not a file name."""
    return bool(_URL.match(given) or _DATA_URL.match(given))


def missing(path: Path, given: str) -> str:
    """Why ``path`` (which does not exist, as far as ``exists()`` says) cannot be read.

    ``given``: the path as the caller wrote it, before :class:`~pathlib.Path` folded its "//".

    A URL was "https:/example.com/me.jpg: file not found", its "//" folded, as though moodtape had
    looked for it on the web and not found it there; moodtape downloads nothing. A name such as
    ``ab:/me.jpg`` may be a URL or a path in a folder ``ab:``, so the message says both.
    """
    if _DATA_URL.match(given):
        shown = given if len(given) <= 40 else f"{given[:40]}…"
        return (
            f"{shown}: a data: URL, not a file path; moodtape takes a file path or the picture's bytes "
            "(decode the base64 after the comma and pass those)"
        )
    if file_url_path(given) is not None:
        return f"{given}: file not found (it names {path})"
    if _URL.match(given):
        return (
            f"{given}: no such file, and moodtape reads no URL (it downloads nothing): save the picture "
            "and give its path, or pass its bytes"
        )
    if os.path.islink(path):  # a loop (ELOOP) or a link whose target is gone: "not found" hid the link
        return f"{path}: a symbolic link that leads to no file (a loop, or its target is gone)"
    return f"{path}: file not found"


def source_name(source: object) -> str | None:
    """How messages name ``source``: its path, or an open file's name; None for bytes, arrays and images."""
    if isinstance(source, str | os.PathLike):
        return str(source)
    name = getattr(source, "name", None)
    if isinstance(source, BinaryReadable) and isinstance(name, str) and name:
        return name
    return None


def names_a_file(data: bytes) -> bool:
    """Whether ``data`` is short, has no NUL and is the name of an existing file."""
    if len(data) > 4096 or b"\0" in data:
        return False
    try:
        return os.path.isfile(data)
    except (OSError, ValueError):
        return False


def read_file(path: Path, max_pixels: int) -> bytes:
    """The bytes of the file at ``path``, refused past :func:`max_file_bytes` before they are all read.

    The file is opened once and measured through the open file, so the size checked is that of the
    file read (not of one swapped in after a look at the path). A regular file that says it is too
    large (a video) is refused before any byte is read; every file, regular or not, is then read a
    chunk at a time up to the bound, since the size said is no promise: a file still being written
    grows past it, and procfs or FUSE files say 0. A device (``/dev/zero``), a FIFO or a shell's
    ``<(…)`` says no size at all.

    Raises:
        ImageTooLargeError: the file is, or grows, larger than any picture.
        OSError: the file cannot be opened or measured.
    """
    with path.open("rb") as file:
        status = os.fstat(file.fileno())
        if stat.S_ISREG(status.st_mode) and status.st_size > max_file_bytes(max_pixels):
            raise too_many_bytes(str(path), max_pixels)
        return read_binary(file, str(path), max_pixels)


def too_many_bytes(name: str, max_pixels: int) -> ImageTooLargeError:
    """The error for a source past :func:`max_file_bytes`, which asks whether it is a picture at all."""
    return ImageTooLargeError(
        f"{name}: over {max_file_bytes(max_pixels) / 1e6:.0f} MB, larger than any picture within the "
        f"{max_pixels / 1e6:g}-megapixel limit; is it a picture? (set MOODTAPE_MAX_PIXELS to change the limit)"
    )


def read_binary(source: BinaryReadable, name: str, max_pixels: int) -> bytes:
    """All the bytes left in an open file, read a chunk at a time up to :func:`max_file_bytes`.

    The chunks go into one :class:`io.BytesIO`, whose ``getvalue`` hands its own buffer over as the
    ``bytes`` (no copy), so the bytes are held once plus a chunk. A ``bytearray`` would do as much,
    but the format checks after reading take ``bytes`` (they look up slices of it in sets). A file
    whose ``read`` takes no size (a hand-written wrapper) is read whole, then measured.

    Raises:
        ImageTooLargeError: the file holds more (a device such as ``/dev/zero``, a video).
        ImageError: a file opened in text mode, or one that cannot be read.
    """
    limit = max_file_bytes(max_pixels)
    collected = io.BytesIO()
    while collected.tell() <= limit:
        try:
            chunk = _checked(_call(name, source.read, min(_CHUNK_BYTES, limit + 1 - collected.tell())), name)
        except TypeError:  # a read() that takes no size: the whole file, measured afterwards
            if collected.tell():
                raise
            chunk = _checked(_call(name, source.read), name)
            collected.write(chunk)
            break
        if not chunk:
            break
        collected.write(chunk)
    if collected.tell() > limit:
        raise too_many_bytes(name, max_pixels)
    return collected.getvalue()


def _call(name: str, read: Callable[..., object], *args: object) -> object:
    """``read(*args)`` (a file's ``read``), its failures as :class:`ImageError`; a
    ``TypeError`` is left to the caller, who knows what it means there."""
    try:
        return read(*args)
    except UnicodeDecodeError:  # a picture read through a text-mode file: its bytes are not text
        raise ImageError(f"{name}: opened in text mode; open it in binary mode ('rb')") from None
    except OSError as exc:  # a folder opened as a file, a device that refuses reads
        raise ImageError(f"{name}: cannot read ({exc.strerror or exc})") from None
    except ValueError as exc:  # "I/O operation on closed file"
        raise ImageError(f"{name}: cannot read ({exc})") from None


def _checked(data: object, name: str) -> bytes | bytearray | memoryview:
    """What ``read`` gave, if bytes-like; a file opened in text mode, or anything else, gets an error."""
    if isinstance(data, bytes | bytearray | memoryview):
        return data
    if isinstance(data, str):
        raise ImageError(f"{name}: opened in text mode; open it in binary mode ('rb')")
    # None from a non-blocking stream, a coroutine from an async upload
    raise ImageError(f"{name}: reading it gave {type(data).__name__}, not bytes; pass the picture's bytes instead")

"""What the command line takes where a picture is expected, besides a file: a folder
(``analyze photos/``, ``calibrate neutral=rest/``), a pattern (``calibrate "neutral=rest*.jpg"``)
and ``-`` for standard input (``cat me.jpg | moodtape analyze -``)."""

from __future__ import annotations

import base64
import glob
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, TypeVar

import click

from moodtape.errors import ImageError
from moodtape.vision.image_sources import home_path, looks_like_url

if TYPE_CHECKING:
    from moodtape.vision.images import ImageSource

#: The name that stands for standard input where a picture is expected, as in most Unix tools.
STDIN = "-"

#: The files of a folder that ``analyze`` and ``calibrate`` read, by suffix (any case); others are passed over.
PICTURE_SUFFIXES = frozenset(
    {".jpg", ".jpeg", ".png", ".webp", ".gif", ".bmp", ".tif", ".tiff", ".heic", ".heif", ".avif"}
)

#: A picture as the command line names it: the argument as typed (a ``str``, so that a URL keeps its
#: "//" for the message that refuses it; a Path folds it), or a file found in a folder.
Named = TypeVar("Named", str, Path)


def expand_folders(paths: tuple[Named, ...]) -> tuple[Named | Path, ...]:
    """Each folder among ``paths`` replaced by the pictures directly in it, in name order.

    ``moodtape analyze photos/`` then reads a folder of photos as ``photos/*`` would, without the
    shell; sub-folders and other files are passed over, and hidden files (``.DS_Store``) too. A
    folder without a picture stays as it is, so it is named in the usual error.
    """
    expanded: list[Named | Path] = []
    for path in paths:
        folder = Path(path)
        pictures = sorted(
            child
            for child in (folder.iterdir() if _is_folder(path) else ())
            if child.is_file() and not child.name.startswith(".") and child.suffix.lower() in PICTURE_SUFFIXES
        )
        expanded.extend(pictures or [path])
    return tuple(expanded)


def expand_patterns(paths: tuple[str, ...]) -> tuple[str, ...]:
    """Each pattern among ``paths`` (``*``, ``?`` or ``[…]`` in a name no file has) replaced by the
    files and folders it matches, in name order; a pattern that matches nothing stays as it is.

    A shell expands patterns, but not everywhere: not inside ``neutral=rest*.jpg`` (the word is no
    file name, so ``calibrate`` got the pattern itself), not in Windows' ``cmd`` or PowerShell, not when
    quoted, and bash passes one that matches nothing on unchanged. Each was "rest*.jpg: file not
    found". A name that exists as written (a photo called ``me[1].jpg``) is that file, not a pattern.
    ``**`` is not recursive (it matches as ``*`` does), as in a shell without ``globstar``.
    """
    expanded: list[str] = []
    for path in paths:
        expanded.extend(_expand_one(path))
    return tuple(expanded)


def _expand_one(given: str) -> list[str]:
    """What ``given`` names: itself where a file of that name exists, else the files it matches as a
    pattern; tried as written, then with a leading ``~`` as the home folder, which is kept when
    neither names a file, so the error says where it looked.

    :func:`~moodtape.vision.images.load_image` reads a ``~/…`` file so, but folders and patterns are
    expanded here, before it: ``analyze '~/photos/'`` was "is a folder, not an image",
    ``'~/photos/*.png'`` "no file matches this pattern", and ``calibrate neutral=~/photos/`` (no
    shell expands a ``~`` after ``=``) said so only once the model had loaded.
    """
    home = home_path(given)
    tries = [given] if home is None else [given, str(home)]
    for path in tries:
        if os.path.lexists(path):
            return [path]
        matches = sorted(glob.glob(path)) if _is_pattern(path) else []
        if matches:
            return [_not_stdin(match) for match in matches]
    return tries[-1:]


def _not_stdin(match: str) -> str:
    """A file a pattern matched, named so that it is never ``-``: that name reads standard input.

    ``analyze - "?"`` in a folder holding a file called ``-`` read standard input twice (the second
    time empty), past the check that refuses ``-`` named twice, which runs before patterns expand.
    """
    return os.path.join(os.curdir, match) if match == STDIN else match


#: Windows' prefix for a path to be taken as written (``\\?\C:\photos\me.jpg``): its ``?`` is no wildcard.
_VERBATIM = "\\\\?\\"


def _is_pattern(path: str) -> bool:
    """Whether ``path`` holds a wildcard; ``-`` never does, nor a URL (``https://x/me.jpg?size=2``'s
    ``?`` is its query, and moodtape's message for a URL says that it downloads nothing), nor a
    Windows drive or verbatim prefix (:data:`_VERBATIM`): a missing file named so is "file not found",
    not "no file matches this pattern"."""
    if path == STDIN or looks_like_url(path):
        return False
    return glob.has_magic(os.path.splitdrive(path.removeprefix(_VERBATIM))[1])


def refuse_unmatched_pattern(path: str | Path) -> None:
    """Refuse ``path`` if it is a pattern that matched no file: :func:`expand_patterns` leaves one only then.

    Raises:
        ImageError: saying that no file matches, where "file not found" read as a missing file of that name.
    """
    name = os.fspath(path)
    if isinstance(name, str) and _is_pattern(name) and not os.path.lexists(name):
        raise ImageError(f"{picture_name(path)}: no file matches this pattern")


def _is_folder(path: str | Path) -> bool:
    """Whether ``path`` names a folder; an empty name never does.

    ``Path("")`` is ``"."``: ``moodtape analyze "$PHOTO"`` with ``PHOTO`` unset read every picture in
    the current folder, where the empty name is no picture (``load_image`` says so).
    """
    return os.fspath(path) != "" and Path(path).is_dir()


def picture_name(path: str | Path) -> str:
    """How output and messages name the picture at ``path``: ``<stdin>`` for ``-``, as Python does.

    A name that is not UTF-8 (``caf\\xe9.jpg``, from an old Latin-1 archive) has each odd byte shown as
    U+FFFD: its raw bytes crashed the plain output (``UnicodeEncodeError``) wherever standard
    output is strict, as an ``en_US.UTF-8`` locale makes it. :func:`picture_fields` keeps the bytes.
    """
    return "<stdin>" if str(path) == STDIN else click.format_filename(path)


def picture_fields(path: str | Path) -> dict[str, str]:
    """The JSON fields that name the picture at ``path``: ``image``, and ``image_bytes`` for a name that is not UTF-8.

    ``image`` is always valid Unicode (:func:`picture_name`), so every JSON reader takes the line;
    ``image_bytes`` is the name's raw bytes in base64, to open the very file. Writing the odd byte
    as the ``\\udce9`` escape instead (valid JSON text) gives those bytes back to Python alone:
    Rust's serde_json refuses the whole line, jq and Go read U+FFFD.
    """
    fields = {"image": picture_name(path)}
    raw = os.fsencode(path)
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        fields["image_bytes"] = base64.b64encode(raw).decode("ascii")
    return fields


class _StandardInput:
    """Standard input, under the name errors give it whatever stream it was.

    Handed to :func:`~moodtape.vision.images.load_image` unread, which reads it only as far as a
    picture can go: ``moodtape analyze - < /dev/zero`` read without end until memory ran out.
    """

    name = picture_name(STDIN)

    def __init__(self, stream: BinaryIO) -> None:
        self._stream = stream

    def read(self, size: int = -1, /) -> bytes:
        return self._stream.read(size)


def no_pictures_in(folder: Path) -> str:
    """Why a folder given where pictures are expected was not read: none of its files is one.

    ``analyze`` and ``calibrate`` take folders (:func:`expand_folders`), so "is a folder, not an
    image" told a person who gave one on purpose the opposite of the help text.
    """
    suffixes = ", ".join(sorted(PICTURE_SUFFIXES))
    return (
        f"{folder}: a folder with no picture directly in it; moodtape reads the files ending in "
        f"{suffixes} there, not sub-folders"
    )


def picture_source(path: str | Path) -> ImageSource:
    """What to read for ``path``: standard input's bytes for ``-``, else the file (or URL) as named.

    Raises:
        ImageError: ``-`` with standard input closed (``moodtape analyze - <&-``), where Python has
            no ``sys.stdin`` at all and the command ended in a traceback.
    """
    if str(path) == STDIN:
        if sys.stdin is None:
            raise ImageError(
                f"{picture_name(STDIN)}: standard input is closed; pipe the picture in (< photo.jpg) or name its file"
            )
        return _StandardInput(sys.stdin.buffer)
    return path


def refuse_empty_folder(path: str | Path) -> None:
    """Refuse ``path`` if it is a folder: :func:`expand_folders` leaves one only when it holds no picture.

    Raises:
        ImageError: naming the folder and the files moodtape would have read in it.
    """
    if _is_folder(path):
        raise ImageError(no_pictures_in(Path(path)))


def refuse_stdin_twice(paths: tuple[str | Path, ...]) -> None:
    """Refuse ``-`` named more than once: standard input is read once, so the second was "empty file".

    Raises:
        click.UsageError: before any picture is read.
    """
    if sum(str(path) == STDIN for path in paths) > 1:
        raise click.UsageError(f"'{STDIN}' (standard input) can stand for one picture only; name it once")

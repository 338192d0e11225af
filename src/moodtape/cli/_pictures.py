"""What the command line takes where a picture is expected, besides a file: a folder
(``analyze photos/``, ``calibrate neutral=rest/``) and ``-`` for standard input
(``cat me.jpg | moodtape analyze -``)."""

from __future__ import annotations

import io
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from moodtape.errors import ImageError

if TYPE_CHECKING:
    from moodtape.vision.images import ImageSource

#: The name that stands for standard input where a picture is expected, as in most Unix tools.
STDIN = "-"

#: The files of a folder that ``analyze`` and ``calibrate`` read, by suffix (any case); others are passed over.
PICTURE_SUFFIXES = frozenset(
    {".jpg", ".jpeg", ".png", ".webp", ".gif", ".bmp", ".tif", ".tiff", ".heic", ".heif", ".avif"}
)


def expand_folders(paths: tuple[Path, ...]) -> tuple[Path, ...]:
    """Each folder among ``paths`` replaced by the pictures directly in it, in name order.

    ``moodtape analyze photos/`` then reads a folder of photos as ``photos/*`` would, without the
    shell; sub-folders and other files are passed over, and hidden files (``.DS_Store``) too. A
    folder without a picture stays as it is, so it is named in the usual error.
    """
    expanded: list[Path] = []
    for path in paths:
        pictures = sorted(
            child
            for child in (path.iterdir() if path.is_dir() else ())
            if child.is_file() and not child.name.startswith(".") and child.suffix.lower() in PICTURE_SUFFIXES
        )
        expanded.extend(pictures or [path])
    return tuple(expanded)


def picture_name(path: Path) -> str:
    """How output and messages name the picture at ``path``: ``<stdin>`` for ``-``, as Python does."""
    return "<stdin>" if str(path) == STDIN else str(path)


class _StandardInput(io.BytesIO):
    """The bytes read from standard input, under the name errors give it whatever stream it was."""

    @property
    def name(self) -> str:
        return picture_name(Path(STDIN))


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


def picture_source(path: Path) -> ImageSource:
    """What to read for ``path``: standard input's bytes for ``-``, else the file."""
    if str(path) == STDIN:
        return _StandardInput(sys.stdin.buffer.read())
    return path


def refuse_empty_folder(path: Path) -> None:
    """Refuse ``path`` if it is a folder: :func:`expand_folders` leaves one only when it holds no picture.

    Raises:
        ImageError: naming the folder and the files moodtape would have read in it.
    """
    if path.is_dir():
        raise ImageError(no_pictures_in(path))


def refuse_stdin_twice(paths: tuple[Path, ...]) -> None:
    """Refuse ``-`` named more than once: standard input is read once, so the second was "empty file".

    Raises:
        click.UsageError: before any picture is read.
    """
    if sum(str(path) == STDIN for path in paths) > 1:
        raise click.UsageError(f"'{STDIN}' (standard input) can stand for one picture only; name it once")

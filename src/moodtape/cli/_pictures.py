"""Folders given where the command line takes pictures: ``analyze photos/``, ``calibrate neutral=rest/``."""

from __future__ import annotations

from pathlib import Path

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

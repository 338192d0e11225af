"""AVIF and HEIC photos (an iPhone's default): which decoder reads each, and the checks before it does.

AVIF is read by Pillow itself (its wheels bundle libavif since 11.3). HEIC needs ``pillow-heif``,
the optional ``heic`` extra: its wheels bundle libx265 (GPL-2) besides libheif and libde265 (LGPL),
so it is not a core dependency. Its opener is registered with Pillow once, at the first HEIC
picture, not at import (importing moodtape loads no codec).

Before :func:`moodtape.vision.images.decode_image` hands the bytes to a decoder (and before the
web's upload path reads their header for its large-picture gate), :func:`check_heif_header`
refuses what the header alone condemns, as the other formats are refused: a declared size over the
limits (a 413, like a PNG's), or a header of thousands of boxes.

The declared size is all that can be checked: libavif decodes the size the AV1 stream inside
holds, which may be far larger than the ``ispe`` box declares (a 1.2 KB file declaring 100 × 100
decoded 8,000 × 8,000, 138 MB, then cropped; found in review), up to libavif's own bound of
16,384 × 16,384. So the web does not take AVIF uploads (:mod:`moodtape.web.uploads`); the Python
API and the CLI read AVIF files a person chose. libheif refuses such a mismatch in a HEIC.
"""

from __future__ import annotations

import importlib
import importlib.util
import threading
from typing import Final

from PIL import features

from moodtape.errors import ImageError, UnsupportedImageError
from moodtape.vision.heif_structure import MAX_BOXES, HeifKind, heif_structure
from moodtape.vision.image_limits import check_size

#: How to get HEIC support, for whoever runs moodtape.
HEIC_INSTALL: Final = "pip install 'moodtape[heic]'"
#: What a person whose iPhone photo cannot be read should do, for whoever sends it.
_SEND_INSTEAD: Final = (
    "send it as JPEG or PNG (on an iPhone: Settings → Camera → Formats → Most Compatible, or share it as JPEG)"
)
#: What to do with a HEIC photo when pillow-heif is not installed (the decoder and the web say the same).
HEIF_ADVICE: Final = (
    f"a HEIC/HEIF photo, which this moodtape cannot read: install HEIC support ({HEIC_INSTALL}), or {_SEND_INSTEAD}"
)
_AVIF_ADVICE: Final = (
    "an AVIF photo, which this moodtape cannot read: its Pillow was built without AVIF "
    f"(install Pillow 11.3 or later from its wheels), or {_SEND_INSTEAD}"
)

_heic_lock = threading.Lock()
_heic_registered = False
_heic_missing = False  # tried once and not importable: not tried again on every picture


def can_read(kind: HeifKind) -> bool:
    """Whether this process can decode ``kind``; for HEIC, registers pillow-heif's opener the first time."""
    if kind == "avif":
        return bool(features.check("avif"))
    return _register_heic_opener()


def heic_installed() -> bool:
    """Whether pillow-heif is installed, without importing it (for the page's list of accepted types)."""
    return _heic_registered or (not _heic_missing and importlib.util.find_spec("pillow_heif") is not None)


def check_heif_header(data: bytes, max_pixels: int, name: str) -> HeifKind | None:
    """For an AVIF or HEIC picture, refuse what its header alone condemns; return its kind (None: not one).

    Raises:
        UnsupportedImageError: no decoder for this kind here; the message names the fix (415).
        ImageTooLargeError: a declared size over the limits of :func:`check_size` (413).
        ImageError: a header of more than :data:`MAX_BOXES` boxes (422).
    """
    structure = heif_structure(data)
    if structure is None:
        return None
    if not can_read(structure.kind):
        raise UnsupportedImageError(f"{name}: {unreadable_message(structure.kind)}")
    if structure.boxes > MAX_BOXES:
        raise ImageError(
            f"{name}: this picture's header has over {MAX_BOXES:,} boxes (a photo has about a hundred); "
            "save it again as JPEG or PNG"
        )
    for size in structure.sizes:  # every image in the file, not only the primary: a photo's is the largest
        check_size(size, max_pixels, name)
    return structure.kind


def unreadable_message(kind: HeifKind) -> str:
    """Why a picture of ``kind`` cannot be read here, and what to do (the page shows it as it is)."""
    return _AVIF_ADVICE if kind == "avif" else HEIF_ADVICE


def _register_heic_opener() -> bool:
    """Register pillow-heif's HEIF opener with Pillow once per process; False when it is not installed."""
    global _heic_registered, _heic_missing
    with _heic_lock:
        if _heic_missing:
            return False
        if not _heic_registered:
            try:
                pillow_heif = importlib.import_module("pillow_heif")
            except (ImportError, OSError):  # OSError: installed, but its bundled libraries do not load
                _heic_missing = True
                return False
            pillow_heif.register_heif_opener()
            _heic_registered = True
    return True

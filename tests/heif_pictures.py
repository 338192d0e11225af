"""AVIF and HEIC pictures built in code (Pillow writes AVIF; pillow-heif, the ``heic`` extra, writes HEIC)."""

from __future__ import annotations

import importlib
import importlib.util
import io
import struct
import sys

import numpy as np
import numpy.typing as npt
import pytest
from PIL import Image

from moodtape.vision import heif

#: Tests that write or read HEIC need pillow-heif; `make test` installs it (the heic extra).
needs_pillow_heif = pytest.mark.skipif(
    importlib.util.find_spec("pillow_heif") is None,
    reason="pillow-heif is not installed (pip install 'moodtape[heic]'; `make test` installs it)",
)
#: Pillow's own AVIF support (its wheels have it from 11.3).
needs_avif = pytest.mark.skipif(not heif.can_read("avif"), reason="this Pillow was built without AVIF")


def encode(rgb: npt.NDArray[np.uint8], fmt: str, *, orientation: int | None = None) -> bytes:
    """``rgb`` as an AVIF (``fmt="AVIF"``) or HEIC (``"HEIF"``), with an EXIF orientation if given.

    Both writers turn the orientation into the file's ``irot``/``imir`` boxes, as an iPhone does.
    HEIC is written by pillow-heif directly, without registering its opener with Pillow: reading it
    is moodtape's to set up.
    """
    image = Image.fromarray(rgb)
    exif = Image.Exif()
    if orientation is not None:
        exif[0x0112] = orientation
    buffer = io.BytesIO()
    if fmt == "HEIF":  # from_bytes: from_pillow would turn the pixels upright and write no irot
        pillow_heif = importlib.import_module("pillow_heif")
        heic = pillow_heif.from_bytes("RGB", image.size, image.tobytes())
        heic.save(buffer, quality=90, exif=exif.tobytes())
    else:
        image.save(buffer, fmt, quality=90, exif=exif.tobytes())
    return buffer.getvalue()


def with_declared_size(data: bytes, width: int, height: int) -> bytes:
    """``data`` with every ``ispe`` box (an image's declared size) saying ``width`` × ``height``."""
    patched = bytearray(data)
    found = 0
    start = patched.find(b"ispe")
    while start != -1:
        patched[start + 8 : start + 16] = struct.pack(">II", width, height)  # after version and flags
        found += 1
        start = patched.find(b"ispe", start + 4)
    assert found, "no ispe box to patch"
    return bytes(patched)


def with_empty_boxes(data: bytes, count: int) -> bytes:
    """``data`` followed by ``count`` empty ``free`` boxes: valid ISO-BMFF, whose offsets stay right."""
    return data + struct.pack(">I4s", 8, b"free") * count


def hide_pillow_heif(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make this process behave as if pillow-heif were not installed (for the rest of the test)."""
    monkeypatch.setitem(sys.modules, "pillow_heif", None)  # `import pillow_heif` raises ImportError
    monkeypatch.setattr(heif, "_heic_registered", False)
    monkeypatch.setattr(heif, "_heic_missing", False)  # restored after the test: the failure is not kept


def forget_heif_opener(monkeypatch: pytest.MonkeyPatch) -> None:
    """Take pillow-heif's opener out of Pillow (for the rest of the test), so that reading a HEIC
    depends on moodtape registering it. scikit-image's astronaut is loaded through imageio, whose
    Pillow plugin registers that opener itself whenever pillow-heif is installed."""
    Image.init()  # every built-in plugin registered first: the list restored after the test has them
    monkeypatch.setattr(Image, "ID", [format_id for format_id in Image.ID if format_id != "HEIF"])
    monkeypatch.delitem(Image.OPEN, "HEIF", raising=False)
    monkeypatch.setattr(heif, "_heic_registered", False)
    monkeypatch.setattr(heif, "_heic_missing", False)

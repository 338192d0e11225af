"""PNG and GIF files built byte by byte, for the tests of the structure walk that runs before Pillow."""

from __future__ import annotations

import io
import itertools
import struct
import zlib

import numpy as np
import numpy.typing as npt
from PIL import Image

SIGNATURE = b"\x89PNG\r\n\x1a\n"


def chunk(kind: bytes, body: bytes = b"") -> bytes:
    """One PNG chunk: length, type, body and CRC."""
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png(
    gray: npt.NDArray[np.uint8] | None = None, *, before: bytes = b"", after: bytes = b"", pieces: int = 1
) -> bytes:
    """A gray PNG, its pixel data split into ``pieces`` IDAT chunks, with ``before`` and ``after`` them."""
    pixels = np.full((64, 64), 128, np.uint8) if gray is None else gray
    height, width = pixels.shape
    header = chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
    stream = zlib.compress(b"".join(b"\0" + row.tobytes() for row in pixels))
    cuts = np.linspace(0, len(stream), pieces + 1).astype(int)
    idat = b"".join(chunk(b"IDAT", stream[a:b]) for a, b in itertools.pairwise(cuts))
    return SIGNATURE + header + before + idat + after + chunk(b"IEND")


def gif(frames: int = 1, *, before: bytes = b"", side: int = 32) -> bytes:
    """A ``side``-pixel GIF of ``frames`` different frames (Pillow's encoder), ``before`` ahead of the first picture."""
    rng = np.random.default_rng(frames)
    images = [Image.fromarray(rng.integers(0, 256, (side, side), dtype=np.uint8)).convert("P") for _ in range(frames)]
    out = io.BytesIO()
    images[0].save(out, "GIF", save_all=frames > 1, append_images=images[1:], duration=40, loop=0)
    data = out.getvalue()
    first = data.index(b"\x21\xf9")  # the first frame's graphic control extension
    return data[:first] + before + data[first:]

"""Fuzzing the image decoder: random and mutated JPEG/PNG/WebP/GIF bytes give pixels or an ImageError.

Never another exception, never a hang (the profile's deadline), never a result beyond the limits.
"""

from __future__ import annotations

import io

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

from moodtape.errors import ImageError
from moodtape.vision.image_limits import MAX_SIDE
from moodtape.vision.images import decode_image


def _seed_image(fmt: str) -> bytes:
    pixels = np.random.default_rng(1).integers(0, 256, (40, 56, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    image = Image.fromarray(pixels)
    if fmt == "GIF":
        frames = [image.convert("P"), Image.fromarray(255 - pixels).convert("P")]
        frames[0].save(buffer, format="GIF", save_all=True, append_images=frames[1:])
    else:
        image.save(buffer, format=fmt)
    return buffer.getvalue()


SEEDS = {fmt: _seed_image(fmt) for fmt in ("JPEG", "PNG", "WEBP", "GIF")}


@st.composite
def mutated(draw: st.DrawFn, fmt: str) -> bytes:
    """The seed image with a few bytes replaced, inserted, deleted, or the file cut short."""
    data = bytearray(SEEDS[fmt])
    for _ in range(draw(st.integers(1, 8))):
        position = draw(st.integers(0, len(data) - 1))
        action = draw(st.sampled_from(["replace", "insert", "delete", "truncate"]))
        if action == "replace":
            data[position] = draw(st.integers(0, 255))
        elif action == "insert":
            data[position:position] = draw(st.binary(min_size=1, max_size=16))
        elif action == "delete" and len(data) > 16:
            del data[position : position + draw(st.integers(1, 16))]
        elif action == "truncate" and position > 8:
            del data[position:]
    return bytes(data)


def _decodes_or_refuses(data: bytes) -> None:
    try:
        pixels = decode_image(data, gray=True, max_pixels=4_000_000)
    except ImageError as error:
        assert str(error) and "\n" not in str(error)
        return
    assert pixels.dtype == np.uint8 and pixels.ndim == 2
    assert 0 < max(pixels.shape) <= MAX_SIDE and pixels.size <= 4_000_000


@pytest.mark.parametrize("fmt", sorted(SEEDS))
@given(data=st.data())
def test_mutated_images_decode_or_give_an_image_error(fmt: str, data: st.DataObject) -> None:
    _decodes_or_refuses(data.draw(mutated(fmt)))


@given(st.binary(max_size=2048))
def test_random_bytes_give_an_image_error(data: bytes) -> None:
    _decodes_or_refuses(data)


@pytest.mark.parametrize("fmt", sorted(SEEDS))
@given(prefix=st.integers(0, 64))
def test_a_valid_header_followed_by_garbage(fmt: str, prefix: int) -> None:
    _decodes_or_refuses(SEEDS[fmt][: 16 + prefix] + bytes(range(256)) * 4)

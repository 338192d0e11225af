"""PNGs and GIFs built to be slow to read are refused before Pillow opens them; real ones pass untouched.

Each hostile file here is small but just over a bound; the probe's files (800,000 empty PNG chunks,
1.9 million GIF comments) cost Pillow 16–50 s each, and the walk stops at the bound either way.
"""

from __future__ import annotations

import io
import struct
import subprocess
import sys
import zlib
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt
import pytest
from PIL import Image

from crafted_images import chunk, gif, png
from moodtape.errors import ImageError
from moodtape.vision import png_gif_structure
from moodtape.vision.decode_cost import check_decode_cost
from moodtape.vision.images import decode_image, load_image
from moodtape.vision.png_gif_structure import (
    MAX_EXIF_BYTES,
    MAX_GIF_BLOCKS,
    MAX_GIF_SUB_BLOCKS,
    MAX_PNG_CHUNKS,
    MAX_PNG_DATA_CHUNKS,
    MAX_TEXT_BYTES,
    GifStructure,
    gif_structure,
    png_structure,
)


def exif_block(tags: int, *, size: int = 0) -> bytes:
    """A little-endian TIFF header and IFD0 of ``tags`` UNDEFINED tags, each claiming ``size`` bytes at offset 8."""
    entries = b"".join(struct.pack("<HHII", 0x0200 + tag, 7, size, 8) for tag in range(tags))
    return b"II*\0" + struct.pack("<I", 8) + struct.pack("<H", tags) + entries + struct.pack("<I", 0)


EMPTY_COMMENT = b"!\xfe\x00"


class CopiesCounted(bytes):
    """The file's bytes, counting those copied out of it by slicing or indexing.

    What a short time bound on a walk stood for, counted instead: a walk that copies or inflates
    the chunks it passes (or the rest of the file at each step) copies megabytes, whatever the
    machine's load, where the timing could fail under a collection pause. Reads in place
    (``struct.unpack_from``, ``re.search``) go through the buffer and are not counted.
    """

    copied = 0

    def __getitem__(self, index: Any) -> Any:
        got = super().__getitem__(index)
        self.copied += len(got) if isinstance(got, bytes) else 1
        return got


def walks_seen(monkeypatch: pytest.MonkeyPatch, walk: str) -> list[Any]:
    """The structures ``walk`` (``png_structure`` or ``gif_structure``) returns to the cost check from now on."""
    seen: list[Any] = []
    real = getattr(png_gif_structure, walk)

    def watched(data: bytes) -> Any:
        seen.append(real(data))
        return seen[-1]

    monkeypatch.setattr(png_gif_structure, walk, watched)
    return seen


def test_a_png_split_into_many_pixel_chunks_is_read_up_to_the_bound(astronaut_gray: npt.NDArray[np.uint8]) -> None:
    """Encoders split pixel data into 8–64 KB chunks (libpng, which OpenCV uses: 8 KB); every chunk
    count a picture within the pixel limit can need is under the bound."""
    noise = np.random.default_rng(0).integers(0, 256, (1200, 1200, 3), dtype=np.uint8)
    libpng = cv2.imencode(".png", noise)[1].tobytes()
    structure = png_structure(libpng)
    assert structure.data_chunks > 400 and structure.chunks < 5
    watched = CopiesCounted(libpng)
    check_decode_cost(watched)
    # Each pixel chunk's 8-byte head is read in place and its body skipped: 4 MB walked in about 0.1 ms.
    assert watched.copied < 100, watched.copied
    assert decode_image(libpng).shape == (1200, 1200, 3)
    at_the_bound = png(astronaut_gray, pieces=MAX_PNG_DATA_CHUNKS)
    assert png_structure(at_the_bound).data_chunks == MAX_PNG_DATA_CHUNKS
    assert np.array_equal(decode_image(at_the_bound, gray=True), astronaut_gray)
    costly = png(astronaut_gray, pieces=MAX_PNG_DATA_CHUNKS + 1)
    assert png_structure(costly).data_chunks == MAX_PNG_DATA_CHUNKS + 1
    with pytest.raises(ImageError, match=f"over {MAX_PNG_DATA_CHUNKS:,} chunks") as refused:
        decode_image(costly, gray=True)
    assert refused.value.status == 422


@pytest.mark.parametrize("where", ["before", "after"])
def test_a_png_of_many_empty_chunks_is_refused_before_pillow_reads_it(
    where: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Chunks after the pixels count too: Pillow reads them all, looking for text."""

    def with_empty_chunks(count: int) -> bytes:
        empty = chunk(b"zzZz") * count
        return png(before=empty) if where == "before" else png(after=empty)

    plain = with_empty_chunks(MAX_PNG_CHUNKS)
    assert png_structure(plain).chunks == MAX_PNG_CHUNKS + 1  # IHDR too
    assert decode_image(with_empty_chunks(MAX_PNG_CHUNKS - 1), gray=True).shape == (64, 64)
    monkeypatch.setattr(Image, "open", lambda *args, **kwargs: pytest.fail("Pillow opened the file"))
    with pytest.raises(ImageError, match=f"over {MAX_PNG_CHUNKS:,} chunks besides its pixels"):
        decode_image(plain, gray=True)


def test_the_probes_png_of_800_000_chunks_is_refused_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """9.6 MB; Pillow took 16–22 s to open it, twice per upload. The walk stops one chunk past the bound."""
    costly = png(before=chunk(b"zzZz") * 800_000)
    walked = walks_seen(monkeypatch, "png_structure")
    monkeypatch.setattr(Image, "open", lambda *args, **kwargs: pytest.fail("Pillow opened the file"))
    with pytest.raises(ImageError, match="chunks besides its pixels"):
        load_image(costly)
    assert [structure.chunks for structure in walked] == [MAX_PNG_CHUNKS + 1]  # of 800,000


def test_a_png_of_many_text_chunks_is_refused() -> None:
    texts = b"".join(chunk(b"tEXt", b"k%d\0v" % i) for i in range(MAX_PNG_CHUNKS))
    with pytest.raises(ImageError, match="chunks besides its pixels"):
        decode_image(png(before=texts))


def test_exif_over_what_a_camera_writes_is_refused(astronaut_gray: npt.NDArray[np.uint8]) -> None:
    """An IFD of thousands of tags cost seconds to read for the orientation (65,535 tags: 2.5–3.7 s);
    a photo's EXIF is read, and its orientation honoured."""
    exif = Image.Exif()
    exif[0x0112] = 6  # turned: the picture is upright once turned 90° clockwise
    exif[0x010F] = "Camera maker"
    out = io.BytesIO()
    Image.fromarray(astronaut_gray[:, :256]).save(out, "PNG", exif=exif.tobytes())
    assert 0 < png_structure(out.getvalue()).exif_bytes < 100
    assert decode_image(out.getvalue(), gray=True).shape == (256, 512)
    over = exif_block((MAX_EXIF_BYTES - 14) // 12 + 1)
    assert len(over) > MAX_EXIF_BYTES
    assert png_structure(png(before=chunk(b"eXIf", over))).exif_bytes == len(over)
    with pytest.raises(ImageError, match="over 64 KB of EXIF"):
        decode_image(png(before=chunk(b"eXIf", over)))
    # Pillow reads ImageMagick's hexadecimal "Raw profile type exif" text as EXIF too, inflated or not.
    hexed = over.hex().encode()
    raw = b"\nexif\n%8d\n" % len(over) + b"\n".join(hexed[i : i + 72] for i in range(0, len(hexed), 72))
    for text in (
        chunk(b"tEXt", b"Raw profile type exif\0" + raw),
        chunk(b"zTXt", b"Raw profile type exif\0\0" + zlib.compress(raw)),
        chunk(b"iTXt", b"Raw profile type exif\0\1\0\0\0" + zlib.compress(raw)),
    ):
        assert png_structure(png(before=text)).exif_bytes > MAX_EXIF_BYTES
        with pytest.raises(ImageError, match="over 64 KB of EXIF"):
            decode_image(png(before=text))


def test_text_far_over_what_a_picture_carries_is_refused() -> None:
    xmp = chunk(b"iTXt", b"XML:com.adobe.xmp\0\0\0\0\0" + b"<x:xmpmeta/>" * 20_000)  # 240 KB: read
    assert decode_image(png(before=xmp)).shape == (64, 64, 3)
    stored = chunk(b"tEXt", b"k\0" + b"v" * MAX_TEXT_BYTES)
    # A few KB that inflate 1,000-fold: the walk inflates no more than the bound.
    inflated = chunk(b"zTXt", b"k\0\0" + zlib.compress(b"v" * (MAX_TEXT_BYTES + 1), 9))
    assert len(inflated) < 10_000
    for text in (stored, inflated):
        assert png_structure(png(after=text)).text_bytes > MAX_TEXT_BYTES
        with pytest.raises(ImageError, match="over 4 MB of text metadata"):
            decode_image(png(after=text))


def test_an_animated_png_is_walked_up_to_its_second_frame_only() -> None:
    """Pillow stops reading at the second frame (moodtape decodes the first one), so an APNG of more
    frames than the chunk bound passes; a PNG only pretending to be animated does not."""
    rng = np.random.default_rng(1)
    frames = [Image.fromarray(rng.integers(0, 256, (8, 8), dtype=np.uint8)) for _ in range(MAX_PNG_CHUNKS + 10)]
    out = io.BytesIO()
    frames[0].save(out, "PNG", save_all=True, append_images=frames[1:], duration=40)
    apng = out.getvalue()
    assert apng.count(b"fcTL") > MAX_PNG_CHUNKS
    assert png_structure(apng).chunks < 10
    assert np.array_equal(decode_image(apng, gray=True), np.asarray(frames[0]))
    frame = chunk(b"fcTL", struct.pack(">IIIIIHHBB", 0, 64, 64, 0, 0, 1, 10, 0, 0))
    for fake in (b"", chunk(b"acTL", struct.pack(">II", 1, 0)) + frame):  # no acTL; a 1-frame "animation"
        with pytest.raises(ImageError, match="chunks besides its pixels"):
            decode_image(png(before=fake, after=frame * MAX_PNG_CHUNKS))


def test_a_cut_or_damaged_png_is_left_to_the_decoder(astronaut_gray: npt.NDArray[np.uint8]) -> None:
    data = png(astronaut_gray, before=chunk(b"tEXt", b"k\0v"), pieces=10)
    for end in range(0, len(data), 97):
        png_structure(data[:end])  # never raises
    cut = data[: len(data) // 2]
    assert png_structure(cut).data_chunks == 5
    broken = data[:33] + b"\0\0\0\0\x00\x01\x02\x03" + data[33:]  # a chunk type that is not letters
    assert png_structure(broken).chunks == 1
    for damaged in (cut, broken):
        with pytest.raises(ImageError) as refused:
            decode_image(damaged, gray=True)
        assert "chunks" not in str(refused.value)  # the decoder's own words


def test_a_gif_of_many_extension_blocks_is_refused_and_an_animated_one_read(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only what precedes the first picture is read: a GIF of more frames (and blocks) than the bound passes."""
    animated = gif(MAX_GIF_BLOCKS + 10)
    assert animated.count(b"\x21\xf9") > MAX_GIF_BLOCKS
    structure = gif_structure(animated)
    assert structure.blocks < 5 and structure.sub_blocks < 10
    assert decode_image(animated, gray=True).shape == (32, 32)
    with_comments = gif(before=EMPTY_COMMENT * (MAX_GIF_BLOCKS - 5))
    assert decode_image(with_comments, gray=True).shape == (32, 32)
    costly = gif(before=EMPTY_COMMENT * MAX_GIF_BLOCKS)
    assert gif_structure(costly).blocks == MAX_GIF_BLOCKS + 1
    monkeypatch.setattr(Image, "open", lambda *args, **kwargs: pytest.fail("Pillow opened the file"))
    with pytest.raises(ImageError, match=f"over {MAX_GIF_BLOCKS:,} extension blocks") as refused:
        decode_image(costly, gray=True)
    assert refused.value.status == 422


def test_the_probes_gif_of_a_million_comments_is_refused_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """The walk stops one block past the bound, and Pillow never sees the file."""
    costly = gif(before=b"!\xfe\x01x\x00" * 1_900_000)  # 9.5 MB; Pillow took 16 s to open it
    walked = walks_seen(monkeypatch, "gif_structure")
    monkeypatch.setattr(Image, "open", lambda *args, **kwargs: pytest.fail("Pillow opened the file"))
    with pytest.raises(ImageError, match="extension blocks"):
        load_image(costly)
    assert [structure.blocks for structure in walked] == [MAX_GIF_BLOCKS + 1]  # of 1.9 million


@pytest.mark.parametrize(
    ("before", "message"),
    [
        (b"!\xfe" + b"\x01x" * MAX_GIF_SUB_BLOCKS + b"\0", f"into over {MAX_GIF_SUB_BLOCKS:,} blocks"),
        (b"\0" * MAX_GIF_BLOCKS, f"over {MAX_GIF_BLOCKS:,} extension blocks"),  # stray bytes, skipped one by one
    ],
)
def test_a_gif_of_many_sub_blocks_or_stray_bytes_is_refused(before: bytes, message: str) -> None:
    with pytest.raises(ImageError, match=message):
        decode_image(gif(before=before))


def test_a_cut_gif_is_left_to_the_decoder() -> None:
    data = gif(3, before=b"!\xfe\x05hello\x00")
    for end in range(len(data)):
        gif_structure(data[:end])  # never raises
    cut = data[: data.index(b"!\xfe") + 5]  # in the middle of the comment
    assert gif_structure(data) == GifStructure(blocks=3, sub_blocks=4)  # loop count, comment, frame's timing
    assert gif_structure(cut) == GifStructure(blocks=2, sub_blocks=3)
    with pytest.raises(ImageError) as refused:
        decode_image(cut)
    assert "blocks" not in str(refused.value)  # the decoder's own words


def test_pillows_warnings_about_odd_exif_tags_are_not_printed(tmp_path: Path) -> None:
    """Pillow warned once per tag ("Tag data larger than file. Skipping tag 513"), on stderr: 127,000
    lines for one upload. Under the EXIF bound it is still thousands.

    In a fresh interpreter: pytest restores the warning filters after collecting, which undoes the
    filter moodtape sets when it is imported.
    """
    lying = exif_block(5_000, size=0xFFFF_FFFF)  # 60 KB: every tag claims 4 GB
    picture = tmp_path / "lying.png"
    picture.write_bytes(png(before=chunk(b"eXIf", lying)))
    script = f"from moodtape.vision.images import load_image; print(load_image({str(picture)!r}, gray=True).shape)"
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True)
    assert run.stdout.strip() == "(64, 64)"
    assert "Skipping tag" not in run.stderr, run.stderr[:300]

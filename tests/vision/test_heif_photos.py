"""AVIF and HEIC photos (session 20): read through the Python API and the CLI as a JPEG is, upright,
and refused on their header alone when it declares too many pixels or too many boxes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
from click.testing import CliRunner
from PIL import Image

import moodtape
from heif_pictures import (
    encode,
    needs_avif,
    needs_pillow_heif,
    with_declared_size,
    with_empty_boxes,
)
from moodtape.cli import cli
from moodtape.errors import CorruptImageError, ImageError, ImageTooLargeError
from moodtape.vision.heif_structure import MAX_DEPTH, heif_structure
from moodtape.vision.images import decode_image, load_image

FORMATS = [
    pytest.param("AVIF", ".avif", marks=needs_avif, id="avif"),
    pytest.param("HEIF", ".heic", marks=needs_pillow_heif, id="heic"),
]


pytestmark = pytest.mark.usefixtures("heic_read_by_moodtape_alone")


@pytest.mark.parametrize(("fmt", "suffix"), FORMATS)
def test_the_python_api_finds_the_same_face_and_emotion_as_in_the_jpeg(
    fmt: str, suffix: str, tmp_path: Path, astronaut_rgb: npt.NDArray[np.uint8], astronaut_jpeg: Path
) -> None:
    """A HEIC was refused with 'send it as JPEG'; an iPhone photo is now read as its JPEG is."""
    photo = tmp_path / f"astronaut{suffix}"
    photo.write_bytes(encode(astronaut_rgb, fmt))
    from_jpeg, from_photo = moodtape.analyze(astronaut_jpeg), moodtape.analyze(photo)
    assert len(from_photo) == len(from_jpeg) == 1
    assert from_photo[0].emotion == from_jpeg[0].emotion == "happy"
    assert np.abs(np.subtract(from_photo[0].box, from_jpeg[0].box)).max() <= 8


@pytest.mark.parametrize(("fmt", "suffix"), FORMATS)
def test_the_cli_analyses_it(fmt: str, suffix: str, tmp_path: Path, astronaut_rgb: npt.NDArray[np.uint8]) -> None:
    photo = tmp_path / f"astronaut{suffix}"
    photo.write_bytes(encode(astronaut_rgb, fmt))
    result = CliRunner().invoke(cli, ["analyze", str(photo)])
    assert result.exit_code == 0, result.output
    assert f"{photo}: 1 face" in result.stdout and "happy" in result.stdout


@pytest.mark.parametrize(("fmt", "suffix"), FORMATS)
@pytest.mark.parametrize("orientation", [6, 8, 3])
def test_a_turned_photo_comes_out_upright(
    fmt: str, suffix: str, orientation: int, astronaut_rgb: npt.NDArray[np.uint8]
) -> None:
    """Stored turned with its orientation in the file (irot/imir, as a phone writes): read upright.

    Pillow hands an AVIF's rotation over as the EXIF orientation (turned by moodtape), pillow-heif
    turns a HEIC itself and resets that tag: either way the picture must be turned exactly once.
    """
    upright = astronaut_rgb[:400]  # 512 wide, 400 high: a turn shows in the shape
    undo = {6: Image.Transpose.ROTATE_90, 8: Image.Transpose.ROTATE_270, 3: Image.Transpose.ROTATE_180}
    stored = np.asarray(Image.fromarray(upright).transpose(undo[orientation]))
    pixels = load_image(encode(stored, fmt, orientation=orientation), color_order="rgb")
    assert pixels.shape == (400, 512, 3)
    rgb = pixels[..., ::-1].astype(int)  # load_image gives BGR
    assert np.abs(rgb - upright).mean() < 6  # compression only; a wrong turn differs by ~60
    assert len(moodtape.analyze(pixels)) == 1


@pytest.mark.parametrize(("fmt", "suffix"), FORMATS)
@pytest.mark.parametrize(
    ("width", "height"), [(60_000, 60_000), (10_000, 10_000), (30_000, 200)], ids=["60k-square", "100MP", "thin"]
)
def test_a_huge_declared_size_is_refused_before_the_decoder_sees_it(
    fmt: str,
    suffix: str,
    width: int,
    height: int,
    astronaut_rgb: npt.NDArray[np.uint8],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """libavif refused a 60,000 × 60,000 AVIF as 'cannot identify image file' (read as unsupported,
    a 415); now it is 'too large', like a PNG declaring as much (a 413), from its ispe box."""
    bomb = with_declared_size(encode(astronaut_rgb[:64, :64], fmt), width, height)
    opened: list[object] = []
    monkeypatch.setattr("moodtape.vision.images.Image.open", lambda *args: opened.append(args))
    with pytest.raises(ImageTooLargeError, match=f"{width}×{height}") as refused:
        decode_image(bomb)
    assert refused.value.status == 413
    assert opened == []  # refused on the header: neither libavif nor libheif saw the bytes


@pytest.mark.parametrize(("fmt", "suffix"), FORMATS)
def test_a_truncated_photo_is_called_damaged_not_unsupported(
    fmt: str, suffix: str, astronaut_rgb: npt.NDArray[np.uint8]
) -> None:
    """A cut-short AVIF was 'a HEIC/HEIF or AVIF photo, which moodtape cannot read' (a 415)."""
    whole = encode(astronaut_rgb, fmt)
    for cut in (len(whole) // 2, 300, 40):
        with pytest.raises(CorruptImageError, match="truncated or corrupt") as refused:
            decode_image(whole[:cut])
        assert refused.value.status == 422


@needs_avif
def test_a_header_of_thousands_of_boxes_is_refused_unwalked(astronaut_rgb: npt.NDArray[np.uint8]) -> None:
    padded = with_empty_boxes(encode(astronaut_rgb[:64, :64], "AVIF"), 5_000)
    with pytest.raises(ImageError, match="over 4,096 boxes") as refused:
        decode_image(padded)
    assert refused.value.status == 422
    assert load_image(with_empty_boxes(encode(astronaut_rgb[:64, :64], "AVIF"), 50)).shape == (64, 64, 3)


@needs_pillow_heif
def test_the_header_sizes_are_those_the_decoders_report(astronaut_rgb: npt.NDArray[np.uint8]) -> None:
    for fmt, kind in (("AVIF", "avif"), ("HEIF", "heic")):
        structure = heif_structure(encode(astronaut_rgb[:300], fmt))
        assert structure is not None and structure.kind == kind
        assert (512, 300) in structure.sizes and structure.boxes < 30


def test_a_thousand_nested_boxes_end_the_walk_not_the_process() -> None:
    """Before: one call deeper per nested container, a RecursionError at about a thousand (review)."""
    nested = b""
    for _ in range(5000):
        nested = (8 + len(nested)).to_bytes(4, "big") + b"iprp" + nested
    structure = heif_structure(b"\x00\x00\x00\x10ftypheic\x00\x00\x00\x00" + nested)
    assert structure is not None and structure.sizes == []
    assert structure.boxes == 1 + MAX_DEPTH + 1  # ftyp, then the nested boxes down to the depth bound


@needs_avif
def test_a_decoder_s_own_error_is_a_damaged_picture(astronaut_rgb: npt.NDArray[np.uint8]) -> None:
    """libavif says "Missing or empty image item" with a RuntimeError: a 500 on the web before (review's fuzzing)."""
    photo = encode(astronaut_rgb[:64, :64], "AVIF")
    without_primary_item = photo.replace(b"pitm", b"zzzz", 1)
    with pytest.raises(CorruptImageError, match="corrupt AVIF picture"):
        decode_image(without_primary_item)

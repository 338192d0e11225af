"""load_image / decode_image: arrays of every common kind, encoded formats, EXIF, and bad input."""

from __future__ import annotations

import io
import struct
import time
import zlib
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt
import pytest
from PIL import Image

from heif_pictures import hide_pillow_heif
from moodtape.errors import ImageError, ImageTooLargeError, UnsupportedImageError
from moodtape.vision.images import decode_image, load_image

# A 3-colour BGR test card: blue, green and red vertical thirds on a 30×24 image.
BLUE, GREEN, RED = (255, 0, 0), (0, 255, 0), (0, 0, 255)


def card_bgr() -> npt.NDArray[np.uint8]:
    card = np.zeros((24, 30, 3), dtype=np.uint8)
    card[:, :10], card[:, 10:20], card[:, 20:] = BLUE, GREEN, RED
    return card


def encode_pil(image: Image.Image, fmt: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def rgb_image(bgr: npt.NDArray[np.uint8]) -> Image.Image:
    return Image.fromarray(np.ascontiguousarray(bgr[..., ::-1]), "RGB")


# --- arrays ---------------------------------------------------------------------------------------


def test_bgr_array_is_returned_unchanged() -> None:
    card = card_bgr()
    out = load_image(card)
    assert out.dtype == np.uint8 and out.shape == (24, 30, 3)
    np.testing.assert_array_equal(out, card)


def test_rgb_array_with_color_order_rgb_becomes_bgr() -> None:
    card = card_bgr()
    np.testing.assert_array_equal(load_image(card[..., ::-1], color_order="rgb"), card)


@pytest.mark.parametrize("rgb", [False, True])
def test_four_channel_array_drops_alpha(rgb: bool) -> None:
    card = card_bgr()
    colour = card[..., ::-1] if rgb else card
    with_alpha = np.dstack([colour, np.full(card.shape[:2], 7, dtype=np.uint8)])
    out = load_image(with_alpha, color_order="rgb" if rgb else "bgr")
    np.testing.assert_array_equal(out, card)


@pytest.mark.parametrize("shape", [(20, 30), (20, 30, 1)])
def test_gray_arrays_become_three_equal_channels(shape: tuple[int, ...]) -> None:
    gray = np.arange(600, dtype=np.uint8).reshape(shape) % 251
    out = load_image(gray)
    assert out.shape == (20, 30, 3)
    for channel in range(3):
        np.testing.assert_array_equal(out[..., channel], gray.reshape(20, 30))
    np.testing.assert_array_equal(load_image(gray, gray=True), gray.reshape(20, 30))


def test_gray_output_of_a_colour_array_uses_luma_weights() -> None:
    out = load_image(card_bgr(), gray=True)
    assert out.shape == (24, 30)
    # OpenCV luma: 0.114 B + 0.587 G + 0.299 R.
    assert out[0, 0] == pytest.approx(0.114 * 255, abs=1)
    assert out[0, 15] == pytest.approx(0.587 * 255, abs=1)
    assert out[0, 25] == pytest.approx(0.299 * 255, abs=1)


@pytest.mark.parametrize(
    ("array", "expected"),
    [
        (np.array([[0, 257, 65535]], dtype=np.uint16), [0, 1, 255]),
        (np.array([[0.0, 0.5, 1.0]], dtype=np.float32), [0, 128, 255]),
        (np.array([[0.0, 0.25, 1.0]], dtype=np.float64), [0, 64, 255]),
        (np.array([[False, True, True]]), [0, 255, 255]),
        # A peak of 256–511 is white at 511 (a 10-bit frame, a dark 16-bit picture): see test_faces32_wide_arrays.
        (np.array([[-5, 100, 300]], dtype=np.int32), [0, 50, 150]),
    ],
    ids=["uint16", "float32-unit", "float64-unit", "bool", "int32-on-0-511"],
)
def test_wide_and_odd_dtypes_are_scaled_to_uint8(array: npt.NDArray[np.generic], expected: list[int]) -> None:
    out = load_image(array, gray=True)
    assert out.dtype == np.uint8
    np.testing.assert_array_equal(out[0], expected)


@pytest.mark.parametrize(
    ("array", "message"),
    [
        (np.array([[0.0, np.nan]], dtype=np.float32), "NaN"),
        (np.array([[0.0, np.inf]], dtype=np.float64), "NaN or infinite"),
        (np.zeros((4, 4, 2), dtype=np.uint8), "not an image"),
        (np.zeros((4,), dtype=np.uint8), "not an image"),
        (np.zeros((0, 5), dtype=np.uint8), "empty"),
    ],
    ids=["nan", "inf", "two-channels", "1-d", "empty"],
)
def test_bad_arrays_raise_image_error(array: npt.NDArray[np.generic], message: str) -> None:
    with pytest.raises(ImageError, match=message) as caught:
        load_image(array)
    assert "\n" not in str(caught.value)


def test_array_over_the_pixel_limit_is_refused() -> None:
    with pytest.raises(ImageTooLargeError, match="100"):
        load_image(np.zeros((10, 11), dtype=np.uint8), max_pixels=100)
    assert load_image(np.zeros((10, 10), dtype=np.uint8), max_pixels=100).shape == (10, 10, 3)


def test_unknown_color_order_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="color_order"):
        load_image(card_bgr(), color_order="hsv")


# --- encoded images -------------------------------------------------------------------------------


def test_jpeg_bytes_decode_to_bgr_and_gray() -> None:
    data = encode_pil(rgb_image(card_bgr()), "JPEG", quality=98)
    out = load_image(data)
    assert out.shape == (24, 30, 3)
    # JPEG is lossy; away from the colour edges each third keeps its colour.
    for column, colour in [(3, BLUE), (15, GREEN), (27, RED)]:
        np.testing.assert_allclose(out[12, column], colour, atol=40)
    gray = load_image(data, gray=True)
    assert gray.shape == (24, 30)
    assert gray[12, 15] == pytest.approx(0.587 * 255, abs=15)


@pytest.mark.parametrize("kind", [bytes, bytearray, memoryview])
def test_any_bytes_like_is_accepted(kind: type) -> None:
    data = encode_pil(rgb_image(card_bgr()), "PNG")
    np.testing.assert_array_equal(load_image(kind(data)), card_bgr())


def test_path_and_str_path_are_read(tmp_path: Path) -> None:
    path = tmp_path / "card.png"
    path.write_bytes(encode_pil(rgb_image(card_bgr()), "PNG"))
    np.testing.assert_array_equal(load_image(path), card_bgr())
    np.testing.assert_array_equal(load_image(str(path)), card_bgr())


def test_sixteen_bit_png_is_scaled_to_eight_bits() -> None:
    ramp = (np.arange(16 * 16, dtype=np.uint32).reshape(16, 16) * 257).astype(np.uint16)
    data = encode_pil(Image.fromarray(ramp), "PNG")
    assert Image.open(io.BytesIO(data)).mode.startswith("I")  # really a 16-bit file
    out = load_image(data, gray=True)
    np.testing.assert_allclose(out.astype(int), ramp // 257, atol=1)
    assert load_image(data).shape == (16, 16, 3)


def test_palette_png_keeps_its_colours() -> None:
    palette_image = rgb_image(card_bgr()).convert("P", palette=Image.Palette.ADAPTIVE, colors=4)
    data = encode_pil(palette_image, "PNG")
    assert Image.open(io.BytesIO(data)).mode == "P"
    np.testing.assert_array_equal(load_image(data), card_bgr())


def test_lossless_webp_is_read() -> None:
    data = encode_pil(rgb_image(card_bgr()), "WEBP", lossless=True)
    assert data[8:12] == b"WEBP"
    np.testing.assert_array_equal(load_image(data), card_bgr())


def test_animated_gif_gives_its_first_frame() -> None:
    red = Image.new("RGB", (20, 16), (255, 0, 0))
    blue = Image.new("RGB", (20, 16), (0, 0, 255))
    data = encode_pil(red, "GIF", save_all=True, append_images=[blue], duration=100, loop=0)
    assert Image.open(io.BytesIO(data)).n_frames == 2
    out = load_image(data)
    assert out.shape == (16, 20, 3)
    np.testing.assert_array_equal(out[8, 10], RED)  # BGR red, not the second frame's blue


@pytest.mark.parametrize(
    ("orientation", "bright_half"),
    [(1, "left"), (6, "top"), (8, "bottom")],
    ids=["upright", "rotate-90-cw", "rotate-90-ccw"],
)
def test_exif_orientation_is_honoured(orientation: int, bright_half: str) -> None:
    # Stored pixels: 40 wide × 20 high, left half white. Orientation 6 means "rotate 90° clockwise
    # to display", which moves the left half to the top; 8 rotates the other way.
    stored = np.zeros((20, 40), dtype=np.uint8)
    stored[:, :20] = 255
    image = Image.fromarray(stored, "L").convert("RGB")
    exif = Image.Exif()
    exif[0x0112] = orientation
    out = load_image(encode_pil(image, "JPEG", quality=95, exif=exif.tobytes()), gray=True)
    if orientation == 1:
        assert out.shape == (20, 40)
        halves = {"left": out[:, :20], "right": out[:, 20:]}
    else:
        assert out.shape == (40, 20)
        halves = {"top": out[:20], "bottom": out[20:]}
    bright = halves.pop(bright_half)
    (dark,) = halves.values()
    assert bright.mean() > 200 and dark.mean() < 55


# --- bad input ------------------------------------------------------------------------------------


def _one_line_naming(error: BaseException, name: str) -> None:
    message = str(error)
    assert "\n" not in message
    assert name in message


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.jpg"
    with pytest.raises(ImageError, match="not found") as caught:
        load_image(path)
    _one_line_naming(caught.value, str(path))


def test_folder_is_not_an_image(tmp_path: Path) -> None:
    with pytest.raises(ImageError, match="folder") as caught:
        load_image(tmp_path)
    _one_line_naming(caught.value, str(tmp_path))


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.png"
    path.write_bytes(b"")
    with pytest.raises(ImageError, match="empty") as caught:
        load_image(path)
    _one_line_naming(caught.value, str(path))


@pytest.mark.parametrize("fmt", ["JPEG", "PNG"])
def test_truncated_files_are_image_errors(tmp_path: Path, fmt: str) -> None:
    noise = np.random.default_rng(0).integers(0, 256, size=(64, 64, 3), dtype=np.uint8)
    data = encode_pil(Image.fromarray(noise, "RGB"), fmt)
    path = tmp_path / f"cut.{fmt.lower()}"
    path.write_bytes(data[: len(data) * 6 // 10])
    with pytest.raises(ImageError) as caught:
        load_image(path)
    _one_line_naming(caught.value, str(path))


def test_random_bytes_are_unsupported(tmp_path: Path) -> None:
    path = tmp_path / "noise.jpg"
    path.write_bytes(np.random.default_rng(1).integers(0, 256, size=4096, dtype=np.uint8).tobytes())
    with pytest.raises(UnsupportedImageError) as caught:
        load_image(path)
    _one_line_naming(caught.value, str(path))
    with pytest.raises(UnsupportedImageError, match="image data"):
        load_image(b"this is text, not a picture")


def test_image_over_max_pixels_is_refused() -> None:
    data = encode_pil(rgb_image(card_bgr()), "PNG")
    with pytest.raises(ImageTooLargeError, match="30×24") as caught:
        decode_image(data, max_pixels=100, name="card.png")
    _one_line_naming(caught.value, "card.png")
    assert load_image(data, max_pixels=30 * 24).shape == (24, 30, 3)


def _png_declaring(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims ``width × height`` pixels (the data would not even fill a row)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit gray
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")
    )


def test_decompression_bomb_header_fails_fast(tmp_path: Path) -> None:
    path = tmp_path / "bomb.png"
    path.write_bytes(_png_declaring(100_000, 100_000))
    assert path.stat().st_size < 200
    started = time.perf_counter()
    with pytest.raises(ImageTooLargeError, match=r"10000\.0 megapixels") as caught:
        load_image(path)
    assert time.perf_counter() - started < 1.0  # refused from the header, nothing decoded
    _one_line_naming(caught.value, str(path))


def test_cv2_encoded_png_round_trips() -> None:
    ok, encoded = cv2.imencode(".png", card_bgr())
    assert ok
    np.testing.assert_array_equal(load_image(encoded.tobytes()), card_bgr())


def test_pillow_bomb_guard_is_left_on_for_the_whole_process() -> None:
    """Importing moodtape must not switch Pillow's decompression-bomb guard off for everyone else."""
    from PIL import Image

    import moodtape.vision.images  # noqa: F401

    assert Image.MAX_IMAGE_PIXELS is not None and Image.MAX_IMAGE_PIXELS >= 80_000_000


@pytest.mark.parametrize(
    ("width", "height"), [(1, 39_000_000), (39_000_000, 1), (30_000, 1_000), (5_000, 200)], ids=str
)
def test_thin_or_long_images_are_refused_from_the_header(tmp_path: Path, width: int, height: int) -> None:
    """A 38 KB PNG declaring 1 × 39,000,000 pixels passed the pixel limit and cost 1.7 GB to decode."""
    path = tmp_path / "thin.png"
    path.write_bytes(_png_declaring(width, height))
    started = time.perf_counter()
    with pytest.raises(ImageTooLargeError, match="too long or too thin"):
        load_image(path)
    assert time.perf_counter() - started < 1.0


def test_a_wide_panorama_is_still_read() -> None:
    ok, encoded = cv2.imencode(".png", np.zeros((500, 4000), np.uint8))
    assert ok and load_image(encoded.tobytes(), gray=True).shape == (500, 4000)


def test_a_sixteen_bit_png_is_decoded_without_float_copies_of_the_whole_image() -> None:
    """A 90 KB 16-bit PNG of 40 megapixels cost about 950 MB to decode (float64 copies of every pixel)."""
    import tracemalloc

    side = 2000
    data = encode_pil(Image.fromarray(np.full((side, side), 60000, np.uint16)), "PNG")
    tracemalloc.start()
    try:
        gray = load_image(data, gray=True)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert gray.shape == (side, side) and int(gray[0, 0]) == round(60000 / 257)
    assert peak < 8 * side * side, f"{peak / side / side:.1f} bytes a pixel"  # float64 copies alone are 8 each


def test_wide_pixel_values_are_clipped_not_wrapped() -> None:
    values = np.array([[-5, 0, 255, 70000]], dtype=np.int32)
    assert load_image(encode_pil(Image.fromarray(values, mode="I"), "TIFF"), gray=True).tolist() == [[0, 0, 1, 255]]
    floats = np.array([[np.nan, -3.0, 100.4, 255.0]], dtype=np.float32)
    assert load_image(encode_pil(Image.fromarray(floats, mode="F"), "TIFF"), gray=True).tolist() == [[0, 0, 100, 255]]


def test_a_float_tiff_on_the_0_1_scale_is_read_as_float_arrays_are() -> None:
    """A 32-bit float TIFF (a scanner's or an HDR tool's export) holds 0–1: read as 0–255 it was
    black, and the face in it was never found."""
    floats = np.array([[0.0, 0.25, 1.0, 1.02]], dtype=np.float32)
    assert load_image(encode_pil(Image.fromarray(floats, mode="F"), "TIFF"), gray=True).tolist() == [[0, 64, 255, 255]]
    assert load_image(floats, gray=True).tolist() == [[0, 64, 255, 255]]  # the same rule as for arrays


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_a_photo_with_malformed_exif_is_still_read_and_turned(fmt: str) -> None:
    """A width tag written as text made Pillow's exif_transpose raise struct.error: a 500 before."""
    entries = struct.pack(">H", 2)
    entries += struct.pack(">HHI4s", 0x0100, 2, 4, b"Cam\x00")  # ImageWidth as ASCII (should be a number)
    entries += struct.pack(">HHIHH", 0x0112, 3, 1, 6, 0)  # Orientation 6: turn 90° clockwise
    entries += struct.pack(">I", 0)
    tiff = b"MM\x00*" + struct.pack(">I", 8) + entries
    wide = Image.fromarray(np.full((40, 50, 3), 128, np.uint8))
    buffer = io.BytesIO()
    wide.save(buffer, format=fmt, exif=b"Exif\x00\x00" + tiff if fmt == "JPEG" else tiff)
    assert load_image(buffer.getvalue(), gray=True).shape == (50, 40)


@pytest.mark.parametrize("brand", [b"heic", b"mif1"])
def test_an_iphone_heic_photo_is_named_with_what_to_do(brand: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
    """An iPhone's HEIC photo was refused as "not an image": the person could not tell what was wrong.
    Without pillow-heif it still cannot be read, and the message names the fix (tests/vision/test_heif_photos.py
    has the photos that are read)."""
    hide_pillow_heif(monkeypatch)
    heic = b"\x00\x00\x00\x18ftyp" + brand + b"\x00\x00\x00\x00mif1heic" + bytes(500)
    with pytest.raises(UnsupportedImageError, match=r"HEIC/HEIF photo.*moodtape\[heic\].*send it as JPEG"):
        decode_image(heic)
    with pytest.raises(UnsupportedImageError, match="not an image"):
        decode_image(b"\x00\x00\x00\x18ftypisom" + bytes(500))  # an MP4 video is not a HEIC photo

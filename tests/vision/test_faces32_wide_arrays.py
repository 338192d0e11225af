"""Wide arrays and 16-bit files: one rule for the value that stands for white, read from the peak.

``np.asarray(Image.open("scan16.png").convert("I"))`` is int32 0–65535, and ``img16.astype(float)`` is float
0–65535: both were clipped to 255, a white picture in which no face was found, with no error. Peaks of
256–1023 (10-bit frames, dark 16-bit pictures) are read on 0–511 or 0–1023, and a 16-bit file by the
same rule as its own array.
"""

from __future__ import annotations

import io

import cv2
import numpy as np
import numpy.typing as npt
import pytest
from PIL import Image

from moodtape.errors import ImageError
from moodtape.vision.images import load_image
from moodtape.vision.pipeline import Analyzer

_DTYPES = [np.int32, np.int64, np.uint32, np.float32, np.float64]


def _sixteen_bit_ramp(dtype: type[np.generic], channels: int) -> npt.NDArray[np.generic]:
    """A 16-bit horizontal ramp from black to white, gray ``(h, w)`` or ``(h, w, 3)``."""
    ramp = np.tile(np.linspace(0, 65535, 64).round(), (8, 1)).astype(dtype)
    return ramp if channels == 1 else np.repeat(ramp[..., None], channels, axis=2)


@pytest.mark.parametrize("channels", [1, 3], ids=["gray", "color"])
@pytest.mark.parametrize("dtype", _DTYPES, ids=lambda d: np.dtype(d).name)
def test_sixteen_bit_values_are_scaled_like_uint16(dtype: type[np.generic], channels: int) -> None:
    wide = _sixteen_bit_ramp(dtype, channels)
    expected = load_image(wide.astype(np.uint16), gray=True)
    got = load_image(wide, gray=True)
    assert got.dtype == np.uint8
    np.testing.assert_allclose(got, expected, atol=1)  # the same picture: a ramp, not a white one
    assert got.min() == 0 and got.max() == 255 and np.median(got) < 200


@pytest.mark.parametrize("dtype", _DTYPES, ids=lambda d: np.dtype(d).name)
def test_eight_bit_values_are_read_as_they_are(dtype: type[np.generic]) -> None:
    assert load_image(np.array([[0, 100, 255]], dtype=dtype), gray=True).tolist() == [[0, 100, 255]]


@pytest.mark.parametrize("dtype", [np.int32, np.float64])
def test_negative_values_are_black(dtype: type[np.generic]) -> None:
    assert load_image(np.array([[-5, 100, 300]], dtype=dtype), gray=True).tolist() == [[0, 50, 150]]


@pytest.mark.parametrize("dtype", [*_DTYPES, np.uint16], ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize(("peak", "top"), [(256, 511), (511, 511), (512, 1023), (1023, 1023)])
def test_a_peak_up_to_1023_is_white_on_the_smallest_scale_that_holds_it(
    dtype: type[np.generic], peak: int, top: int
) -> None:
    """A 10-bit frame (0–1023), a dark 16-bit picture or 8-bit values + 40: clipped to 255, their bright
    half was white (Yale, 10-bit frames: 89 of 134 read right); on the 16-bit scale, black (0).
    Read from 511 or 1023 (the smallest 2ⁿ−1 at or above the peak): 115."""
    values = np.array([[0, top // 2, peak]], dtype=dtype)
    assert load_image(values, gray=True).tolist() == [[0, round(top // 2 * 255 / top), round(peak * 255 / top)]]


def test_one_value_over_1023_puts_the_whole_picture_on_the_16_bit_scale() -> None:
    """What the README warns of: a 10-bit frame with one hot pixel over 1023 is read as 16-bit (dark)."""
    assert load_image(np.array([[0, 1023, 1024]], dtype=np.uint16), gray=True).tolist() == [[0, 4, 4]]


@pytest.mark.parametrize("dtype", [np.int32, np.float64])
def test_a_sixteen_bit_overshoot_is_clipped(dtype: type[np.generic]) -> None:
    """A 16-bit picture resampled or brightened as int32 or float peaks a little over 65535."""
    assert load_image(np.array([[0, 32768, 70000]], dtype=dtype), gray=True).tolist() == [[0, 128, 255]]


@pytest.mark.parametrize("dtype", [np.int32, np.int64, np.uint32, np.float64])
def test_values_far_beyond_sixteen_bits_are_refused_with_the_scales_we_read(dtype: type[np.generic]) -> None:
    """32-bit sensor counts or a sum of pictures: no scale to guess, so an error that says which we read."""
    with pytest.raises(ImageError, match="0–65535"):
        load_image(np.array([[0, 1_000_000]], dtype=dtype))


@pytest.mark.parametrize("dtype", [np.int32, np.float64], ids=["int32", "float64"])
def test_a_sixteen_bit_photo_array_is_analyzed_as_its_8_bit_self(
    bundled_analyzer: Analyzer, astronaut_bgr: npt.NDArray[np.uint8], dtype: type[np.generic]
) -> None:
    """The whole pipeline: the astronaut's photo on the 16-bit scale was white, and had no face."""
    expected = bundled_analyzer.analyze(astronaut_bgr)
    faces = bundled_analyzer.analyze((astronaut_bgr.astype(np.int64) * 257).astype(dtype))
    assert [face.box for face in faces] == [face.box for face in expected] != []
    assert faces[0].emotion == expected[0].emotion


def _png(values: npt.NDArray[np.uint16]) -> bytes:
    data = io.BytesIO()
    Image.fromarray(values).save(data, "PNG")
    return data.getvalue()


@pytest.mark.parametrize("peak", [200, 500, 1000, 40000])
def test_a_sixteen_bit_png_reads_as_its_own_array(peak: int) -> None:
    """A 16-bit PNG whose values stop at 500 was read on the 16-bit scale (black, its peak 2), while
    ``np.asarray(Image.open(it))`` was read from 511: ``analyze`` of the file and of its array differed."""
    ramp = np.tile(np.linspace(0, peak, 32).round(), (4, 1)).astype(np.uint16)
    data = _png(ramp)
    assert Image.open(io.BytesIO(data)).mode.startswith("I")  # really a 16-bit file
    from_file = load_image(data, gray=True)
    np.testing.assert_array_equal(from_file, load_image(np.asarray(Image.open(io.BytesIO(data))), gray=True))
    assert from_file.max() > 150  # not the near-black (2 or 4) of a small peak read on the 16-bit scale


def test_a_dark_sixteen_bit_png_photo_is_analyzed_as_its_8_bit_self(
    bundled_analyzer: Analyzer, astronaut_bgr: npt.NDArray[np.uint8]
) -> None:
    """The photo × 2 in a 16-bit PNG (peak 510) was black through the file route, and had no face."""
    gray = cv2.cvtColor(astronaut_bgr, cv2.COLOR_BGR2GRAY)
    expected = bundled_analyzer.analyze(gray)
    faces = bundled_analyzer.analyze(_png(gray.astype(np.uint16) * 2))
    assert len(faces) == len(expected) > 0
    assert faces[0].emotion == expected[0].emotion


def test_a_file_far_beyond_sixteen_bits_is_refused_as_its_array_is() -> None:
    """A 32-bit TIFF of sensor counts was clipped to a white picture; its array is an ImageError."""
    values = np.array([[0, 1_000_000]], dtype=np.int32)
    data = io.BytesIO()
    Image.fromarray(values, mode="I").save(data, "TIFF")
    with pytest.raises(ImageError, match="0–65535"):
        load_image(data.getvalue())


@pytest.mark.parametrize("dtype", ["timedelta64[s]", "datetime64[s]", "complex64"])
def test_arrays_of_times_or_complex_numbers_are_an_image_error(dtype: str) -> None:
    """NumPy counts timedelta64 as an integer: it was read as pixels (base), then raised a bare TypeError."""
    with pytest.raises(ImageError, match="unsupported array type"):
        load_image(np.zeros((4, 4), dtype=dtype))

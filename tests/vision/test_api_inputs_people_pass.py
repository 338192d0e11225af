"""What users hand the Python API (moodtape.analyze, calibrate, Profile, StreamAnalyzer) besides a
tidy uint8 BGR array: each gives the right answer or an error of the documented kind, never a bare
NumPy/Pillow exception or a silent wrong answer (session 23 probes)."""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
from PIL import Image, ImageCms

import moodtape
from moodtape.errors import ImageError, UnsupportedImageError
from moodtape.vision.calibration import Profile, ProfileError
from moodtape.vision.images import load_image
from moodtape.vision.pipeline import Analyzer
from moodtape.vision.stream import StreamAnalyzer


def _emotions(faces: list[moodtape.Face]) -> list[str]:
    return [face.emotion for face in faces]


def test_a_uint16_array_holding_8_bit_values_is_not_read_as_black(
    bundled_analyzer: Analyzer, astronaut_bgr: npt.NDArray[np.uint8]
) -> None:
    """``img.astype(np.uint16)`` was divided by 257: a black picture, and "no face" without a word."""
    widened = astronaut_bgr.astype(np.uint16)
    np.testing.assert_array_equal(load_image(widened), astronaut_bgr)
    assert _emotions(bundled_analyzer.analyze(widened)) == ["happy"]


def test_a_big_endian_array_is_read_as_its_values(
    bundled_analyzer: Analyzer, astronaut_bgr: npt.NDArray[np.uint8]
) -> None:
    """'>u2' (a FITS file's data) failed the uint16 test and was clipped at 255: a white picture."""
    big_endian = (astronaut_bgr.astype(np.uint16) * 257).astype(">u2")
    np.testing.assert_array_equal(load_image(big_endian), astronaut_bgr)
    assert _emotions(bundled_analyzer.analyze(big_endian)) == ["happy"]


def test_a_lab_picture_is_read(bundled_analyzer: Analyzer, astronaut_rgb: npt.NDArray[np.uint8]) -> None:
    """A CIELAB TIFF opens in Pillow as mode "LAB", which it cannot convert to gray: the file was
    called corrupt, and a LAB Pillow image was a bare ValueError."""
    to_lab = ImageCms.buildTransform(ImageCms.createProfile("sRGB"), ImageCms.createProfile("LAB"), "RGB", "LAB")
    lab = ImageCms.applyTransform(Image.fromarray(astronaut_rgb), to_lab)
    assert lab is not None and lab.mode == "LAB"
    tiff = io.BytesIO()
    lab.save(tiff, "TIFF")
    for source in (lab, tiff.getvalue()):
        assert _emotions(bundled_analyzer.analyze(source)) == ["happy"]
        assert np.abs(load_image(source)[..., ::-1].astype(int) - astronaut_rgb).mean() < 2


def test_a_premultiplied_pillow_image_is_read(astronaut_rgb: npt.NDArray[np.uint8]) -> None:
    premultiplied = Image.fromarray(astronaut_rgb).convert("La")
    np.testing.assert_array_equal(load_image(premultiplied, gray=True), Image.fromarray(astronaut_rgb).convert("L"))


def test_a_closed_pillow_image_says_so_rather_than_corrupt(astronaut_jpeg_bytes: bytes) -> None:
    image = Image.open(io.BytesIO(astronaut_jpeg_bytes))
    image.close()
    with pytest.raises(ImageError, match="file is closed") as caught:
        load_image(image)
    assert "corrupt" not in str(caught.value)


def test_a_path_like_that_gives_bytes_is_read(astronaut_jpeg: Path) -> None:
    """``os.DirEntry`` from ``os.scandir(b".")`` is such a path: it was a bare TypeError."""
    entry = next(entry for entry in os.scandir(os.fsencode(astronaut_jpeg.parent)) if entry.name.endswith(b".jpg"))
    assert load_image(entry).shape == (512, 512, 3)


def test_a_path_given_as_bytes_is_told_to_be_given_as_str(astronaut_jpeg: Path) -> None:
    with pytest.raises(UnsupportedImageError, match=r"given as bytes.*pass a path as str"):
        load_image(os.fsencode(astronaut_jpeg))


def test_an_empty_path_and_a_link_loop_are_named_as_what_they_are(tmp_path: Path) -> None:
    with pytest.raises(ImageError, match="empty path"):  # Path("") is "." : it was "is a folder"
        load_image("")
    loop = tmp_path / "loop.jpg"
    loop.symlink_to(loop)
    with pytest.raises(ImageError, match="symbolic link"):
        load_image(loop)


def test_two_spellings_of_one_emotion_are_both_learnt(astronaut_bgr: npt.NDArray[np.uint8]) -> None:
    """``{"neutral": [a], "Neutral": [b]}`` kept b alone: a photo the person gave was dropped unsaid."""
    other = np.ascontiguousarray(astronaut_bgr[:, ::-1])  # the mirror image: another picture, the same face
    profile = moodtape.calibrate({"neutral": [astronaut_bgr], "Neutral ": [other]})
    assert dict(profile.examples) == {"neutral": 2}


@pytest.mark.parametrize(
    "text",
    ["[" * 100_000 + "]" * 100_000, '{"moodtape_profile": ' + "9" * 5000 + "}"],
    ids=["nested-too-deep", "number-of-5000-digits"],
)
def test_profile_json_the_json_module_cannot_read_is_a_profile_error(text: str) -> None:
    """They were a bare RecursionError and a ValueError ("Exceeds the limit (4300 digits)")."""
    with pytest.raises(ProfileError, match="not valid JSON"):
        Profile.from_json(text)


@pytest.mark.parametrize("timestamp", [10**400, -(10**400)], ids=["10**400", "-10**400"])
def test_a_timestamp_too_large_for_a_float_is_a_value_error(bundled_analyzer: Analyzer, timestamp: int) -> None:
    """It was an OverflowError, not the documented ValueError."""
    with pytest.raises(ValueError, match="finite number of seconds"):
        StreamAnalyzer(bundled_analyzer).process(np.zeros((64, 64), np.uint8), timestamp)


@pytest.mark.parametrize("time_constant", [-1.0, float("nan"), float("inf"), "0.5", True])
def test_a_time_constant_that_is_no_time_is_refused(bundled_analyzer: Analyzer, time_constant: object) -> None:
    """Negative and NaN turned smoothing off unsaid, infinity froze every track, a string was a TypeError later."""
    with pytest.raises(ValueError, match="time_constant"):
        StreamAnalyzer(bundled_analyzer, time_constant=time_constant)  # type: ignore[arg-type]


@pytest.mark.parametrize("detect_every", [1.5, "2", True])
def test_detect_every_must_be_a_whole_number(bundled_analyzer: Analyzer, detect_every: object) -> None:
    with pytest.raises(ValueError, match="detect_every must be a whole number"):
        StreamAnalyzer(bundled_analyzer, detect_every=detect_every)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("probabilities", "last_seen"),
    [([float("nan")] * 7, 0.0), ([-1.0, 2.0, 0, 0, 0, 0, 0], 0.0), ([0.0] * 7, 0.0), ([1 / 7] * 7, float("inf"))],
    ids=["nan", "negative", "all-zero", "seen-at-infinity"],
)
def test_a_restored_track_with_unusable_numbers_is_refused(
    bundled_analyzer: Analyzer, probabilities: list[float], last_seen: float
) -> None:
    """A NaN track was taken, and every later frame of the stream failed in Face()."""
    state = {"frame": 1, "next_id": 2, "tracks": [[1, [167, 61, 111, 111], probabilities, last_seen]]}
    with pytest.raises(ValueError, match=r"not a stream state: tracks\[0\]'s (probabilities|last seen)"):
        StreamAnalyzer(bundled_analyzer).restore(state)


def test_a_frame_of_another_size_is_searched_whole(
    bundled_analyzer: Analyzer, astronaut_bgr: npt.NDArray[np.uint8]
) -> None:
    """With detect_every=3 the frame after a resolution change was searched only around the old
    box, in the old frame's pixels: the face, now elsewhere, was missed until the next detection."""
    wider = np.zeros((512, 1200, 3), np.uint8)
    wider[:, 600:1112] = astronaut_bgr
    stream = StreamAnalyzer(bundled_analyzer, detect_every=3)
    assert len(stream.process(astronaut_bgr, 0.0)) == 1
    faces = stream.process(wider, 0.1)
    assert [face.box.x > 600 for face in faces] == [True]

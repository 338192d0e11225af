"""What a Python caller may hand ``analyze``, ``calibrate`` and ``StreamAnalyzer``, and the errors for the rest.

An open file (``open(p, "rb")``, ``io.BytesIO``, an upload's stream) and a Pillow image are what
people using Pillow or a web framework have in hand; both failed with a bare ``TypeError`` from
``pathlib`` ("expected str, bytes or os.PathLike object"). Anything else gets an ``ImageError`` that
lists what is accepted. A webcam frame as OpenCV gives it (BGR) failed deep in the detector
("landmarks() needs a gray (h, w) image"); a profile given as a path failed with an AttributeError.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
from PIL import Image

import moodtape
from moodtape.errors import CorruptImageError, ImageError, ImageTooLargeError
from moodtape.vision.calibration import Profile, ProfileError
from moodtape.vision.images import load_image
from moodtape.vision.pipeline import Analyzer

Pixels = npt.NDArray[np.uint8]


def _jpeg(rgb: Pixels, **options: object) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, format="JPEG", quality=95, **options)
    return buffer.getvalue()


def test_an_open_file_reads_as_its_path_does(astronaut_jpeg: Path) -> None:
    with astronaut_jpeg.open("rb") as file:
        from_file = load_image(file)
    np.testing.assert_array_equal(from_file, load_image(astronaut_jpeg))


def test_a_bytes_buffer_is_read_from_where_it_stands(astronaut_jpeg_bytes: bytes) -> None:
    buffer = io.BytesIO(b"header the caller already read" + astronaut_jpeg_bytes)
    buffer.seek(len(b"header the caller already read"))
    np.testing.assert_array_equal(load_image(buffer, gray=True), load_image(astronaut_jpeg_bytes, gray=True))


@pytest.mark.parametrize("encoding", ["utf-8", "latin-1"])
def test_a_file_opened_in_text_mode_says_to_open_it_in_binary_mode(astronaut_jpeg: Path, encoding: str) -> None:
    # UTF-8 (the usual default) fails to decode a JPEG's bytes; Latin-1 decodes them into text.
    with astronaut_jpeg.open("r", encoding=encoding) as file, pytest.raises(ImageError, match=r"binary mode \('rb'\)"):
        load_image(file)  # type: ignore[arg-type]


def test_a_stream_that_gives_no_bytes_is_told_to_pass_bytes() -> None:
    class NonBlocking:
        name = "camera.jpg"

        def read(self, size: int = -1, /) -> bytes:
            return None  # type: ignore[return-value]  # what a non-blocking stream gives with nothing ready

    with pytest.raises(ImageError, match=r"camera\.jpg: reading it gave NoneType, not bytes; pass the picture's bytes"):
        load_image(NonBlocking())


def test_a_pillow_image_whose_file_was_closed_is_an_image_error(astronaut_jpeg: Path) -> None:
    with Image.open(astronaut_jpeg) as opened:
        pass  # never loaded: Pillow decodes lazily, from the file now closed
    with pytest.raises(ImageError, match=r"call image\.load\(\) while its file is open"):
        load_image(opened)


def test_a_closed_file_is_an_image_error_naming_it(astronaut_jpeg: Path) -> None:
    file = astronaut_jpeg.open("rb")
    file.close()
    with pytest.raises(ImageError, match=r"astronaut\.jpg: cannot read"):
        load_image(file)


def test_a_truncated_stream_is_a_corrupt_image_named_by_its_name(astronaut_jpeg_bytes: bytes) -> None:
    buffer = io.BytesIO(astronaut_jpeg_bytes[:2000])
    buffer.name = "upload.jpg"  # what web frameworks' upload streams carry
    with pytest.raises(CorruptImageError, match=r"upload\.jpg"):
        load_image(buffer)


def test_a_pillow_image_reads_as_its_pixels_do(astronaut_rgb: Pixels, astronaut_bgr: Pixels) -> None:
    for mode in ("RGB", "RGBA", "L"):
        image = Image.fromarray(astronaut_rgb).convert(mode)
        expected = load_image(np.asarray(image), color_order="rgb") if mode != "L" else load_image(np.asarray(image))
        np.testing.assert_array_equal(load_image(image), expected)
    np.testing.assert_array_equal(load_image(Image.fromarray(astronaut_rgb)), astronaut_bgr)


def test_a_pillow_image_is_turned_upright_by_its_exif_as_a_file_is() -> None:
    stored = np.zeros((20, 40, 3), dtype=np.uint8)
    stored[:, :20] = 255  # left half white; orientation 6 shows it on top
    exif = Image.Exif()
    exif[0x0112] = 6
    data = _jpeg(stored, exif=exif.tobytes())
    with Image.open(io.BytesIO(data)) as opened:
        from_pillow = load_image(opened, gray=True)
    np.testing.assert_array_equal(from_pillow, load_image(data, gray=True))
    assert from_pillow.shape == (40, 20) and from_pillow[:20].mean() > 200


def test_a_pillow_image_over_the_pixel_limit_is_refused_before_it_is_decoded() -> None:
    with pytest.raises(ImageTooLargeError):
        load_image(Image.new("L", (3000, 3000)), max_pixels=1_000_000)


def test_a_truncated_file_opened_by_pillow_is_a_corrupt_image(astronaut_jpeg_bytes: bytes) -> None:
    with Image.open(io.BytesIO(astronaut_jpeg_bytes[:3000])) as opened, pytest.raises(CorruptImageError):
        load_image(opened)


@pytest.mark.parametrize("source", [None, 5, [[0, 1], [2, 3]], {"image": "x"}], ids=["None", "int", "list", "dict"])
def test_anything_else_is_an_image_error_listing_what_is_accepted(source: object) -> None:
    with pytest.raises(
        ImageError, match="give a path, encoded bytes, a binary file object, a Pillow image or a NumPy array"
    ):
        load_image(source)  # type: ignore[arg-type]


def test_analyze_and_calibrate_take_files_and_pillow_images(astronaut_jpeg: Path, astronaut_rgb: Pixels) -> None:
    with astronaut_jpeg.open("rb") as file:
        (face,) = moodtape.analyze(file)
    (same,) = moodtape.analyze(Image.fromarray(astronaut_rgb))
    assert face.emotion == same.emotion == "happy"
    with astronaut_jpeg.open("rb") as file:
        profile = moodtape.calibrate({"neutral": file})  # type: ignore[dict-item]  # a lone file is a list of one, as a lone path is
    assert profile.examples == {"neutral": 1}
    assert profile.notes[0].startswith(f"{astronaut_jpeg} looks happy")  # named by the file's name


def test_a_stream_takes_webcam_frames_as_opencv_gives_them(bundled_analyzer: Analyzer, astronaut_bgr: Pixels) -> None:
    gray = load_image(astronaut_bgr, gray=True)
    from_bgr = moodtape.StreamAnalyzer(bundled_analyzer).process(astronaut_bgr, 0.0)
    from_gray = moodtape.StreamAnalyzer(bundled_analyzer).process(gray, 0.0)
    assert [face.box for face in from_bgr] == [face.box for face in from_gray]
    assert from_bgr[0].probabilities == pytest.approx(from_gray[0].probabilities)


@pytest.mark.parametrize("timestamp", [float("nan"), float("inf"), "0.5", None])
def test_a_stream_refuses_a_timestamp_that_is_not_a_finite_number(
    bundled_analyzer: Analyzer, astronaut_bgr: Pixels, timestamp: object
) -> None:
    stream = moodtape.StreamAnalyzer(bundled_analyzer)
    stream.process(astronaut_bgr, 0.0)
    with pytest.raises(ValueError, match="timestamp must be a finite number of seconds, got"):
        stream.process(astronaut_bgr, timestamp)  # type: ignore[arg-type]
    (face,) = stream.process(astronaut_bgr, 0.1)  # the refused frame left the track as it was
    assert face.emotion == "happy" and all(np.isfinite(list(face.probabilities.values())))


def test_a_bad_timestamp_is_refused_before_the_frame_is_analysed(
    bundled_analyzer: Analyzer, astronaut_bgr: Pixels, monkeypatch: pytest.MonkeyPatch
) -> None:
    searched: list[object] = []
    monkeypatch.setattr(bundled_analyzer, "locate", lambda *args, **kwargs: searched.append(args) or [])
    with pytest.raises(ValueError, match="timestamp"):
        moodtape.StreamAnalyzer(bundled_analyzer).process(astronaut_bgr, "0.5")  # type: ignore[arg-type]
    assert searched == [], "the frame was searched for faces before its timestamp was checked"


@pytest.mark.parametrize("given", ["me.json", {"moodtape_profile": 1}], ids=["path", "dict"])
def test_a_profile_that_is_not_a_profile_is_a_profile_error_saying_how_to_read_one(
    astronaut_bgr: Pixels, bundled_analyzer: Analyzer, given: object
) -> None:
    with pytest.raises(ProfileError, match=r"profile must be a moodtape\.Profile.*Profile\.from_json"):
        moodtape.analyze(astronaut_bgr, profile=given)  # type: ignore[arg-type]
    with pytest.raises(ProfileError, match=r"moodtape\.Profile"):
        moodtape.StreamAnalyzer(bundled_analyzer, profile=given)  # type: ignore[arg-type]


def test_profile_from_json_given_a_dict_points_to_from_dict() -> None:
    with pytest.raises(ProfileError, match=r"use Profile\.from_dict"):
        Profile.from_json({"moodtape_profile": 1})  # type: ignore[arg-type]

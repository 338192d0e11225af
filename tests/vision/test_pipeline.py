"""moodtape.analyze and Analyzer: real faces in, Face objects out; lazy, cached model loading."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt
import pytest
from onnx_models import mean_model
from vision_scenes import ASTRONAUT_FACE, iou

import moodtape
from moodtape.emotions import EMOTIONS
from moodtape.errors import ImageError, UnsupportedImageError
from moodtape.types import Box, Face
from moodtape.vision.classifier import META_PRESET, META_UNCERTAIN, classifier_from_onnx
from moodtape.vision.pipeline import Analyzer, get_analyzer


def check_happy_astronaut(faces: list[Face]) -> None:
    assert len(faces) == 1
    (face,) = faces
    assert face.emotion == "happy"
    assert set(face.probabilities) == set(EMOTIONS)
    assert sum(face.probabilities.values()) == pytest.approx(1.0, abs=1e-6)
    assert all(0.0 <= p <= 1.0 for p in face.probabilities.values())
    assert face.confidence == max(face.probabilities.values())
    assert isinstance(face.box, Box) and all(type(v) is int for v in face.box)
    assert iou(face.box, ASTRONAUT_FACE) > 0.6
    assert face.uncertain is False


def test_analyze_finds_the_smiling_astronaut(astronaut_bgr: npt.NDArray[np.uint8]) -> None:
    check_happy_astronaut(moodtape.analyze(astronaut_bgr))


@pytest.mark.parametrize("side", [56, 96])
def test_a_small_photo_of_just_the_face_is_read(astronaut_bgr: npt.NDArray[np.uint8], side: int) -> None:
    """A cropped selfie or a data set's face crop: the face is the whole photo (at 56 px none was found before)."""
    box = ASTRONAUT_FACE
    crop = astronaut_bgr[box.y : box.y + box.h, box.x : box.x + box.w]
    faces = moodtape.analyze(cv2.resize(crop, (side, side), interpolation=cv2.INTER_AREA))
    assert len(faces) == 1 and faces[0].emotion == "happy"
    assert faces[0].box.w >= 0.8 * side


def test_analyze_from_a_path(astronaut_jpeg: Path) -> None:
    check_happy_astronaut(moodtape.analyze(astronaut_jpeg))
    check_happy_astronaut(moodtape.analyze(str(astronaut_jpeg)))


def test_analyze_from_bytes(astronaut_jpeg_bytes: bytes) -> None:
    check_happy_astronaut(moodtape.analyze(astronaut_jpeg_bytes))


def test_analyze_rgb_array_with_color_order(astronaut_bgr: npt.NDArray[np.uint8]) -> None:
    rgb = np.ascontiguousarray(astronaut_bgr[..., ::-1])
    faces = moodtape.analyze(rgb, color_order="rgb")
    check_happy_astronaut(faces)
    # Same pixels, so the same gray image and the same result as the BGR call.
    assert faces == moodtape.analyze(astronaut_bgr)


def test_analyze_gray_and_bgra_arrays(astronaut_bgr: npt.NDArray[np.uint8]) -> None:
    gray = cv2.cvtColor(astronaut_bgr, cv2.COLOR_BGR2GRAY)
    bgra = cv2.cvtColor(astronaut_bgr, cv2.COLOR_BGR2BGRA)
    check_happy_astronaut(moodtape.analyze(gray))
    check_happy_astronaut(moodtape.analyze(bgra))


def test_two_faces_largest_first(
    bundled_analyzer: Analyzer, two_face_scene: tuple[npt.NDArray[np.uint8], list[Box]]
) -> None:
    scene, _ = two_face_scene
    faces = bundled_analyzer.analyze(scene)
    assert len(faces) == 2
    assert faces[0].box.w > faces[1].box.w
    assert [face.emotion for face in faces] == ["happy", "happy"]


@pytest.mark.parametrize(
    "image",
    [np.zeros((240, 320, 3), dtype=np.uint8), np.tile(np.linspace(0, 255, 320).astype(np.uint8), (240, 1))],
    ids=["black", "gradient"],
)
def test_no_face_gives_an_empty_list(image: npt.NDArray[np.uint8]) -> None:
    assert moodtape.analyze(image) == []


def test_bad_input_raises_image_errors(tmp_path: Path) -> None:
    with pytest.raises(UnsupportedImageError):
        moodtape.analyze(b"not an image at all")
    with pytest.raises(ImageError, match="not found"):
        moodtape.analyze(tmp_path / "missing.jpg")


def test_get_analyzer_builds_once(astronaut_bgr: npt.NDArray[np.uint8]) -> None:
    assert get_analyzer() is get_analyzer()
    moodtape.analyze(astronaut_bgr)
    built = get_analyzer.cache_info().currsize
    moodtape.analyze(astronaut_bgr)
    assert get_analyzer.cache_info().currsize == built


def test_analyzer_with_an_injected_model(astronaut_bgr: npt.NDArray[np.uint8]) -> None:
    # A stand-in model whose logits always favour "happy" a little: e²/(e² + 6) ≈ 0.55 < 0.6.
    weights = [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]
    bias = [0.0, 0.0, 0.0, 2.0, 0.0, 0.0, 0.0]
    model = mean_model(["N", 1, 48, 48], weights, bias, metadata={META_PRESET: "moodtape", META_UNCERTAIN: "0.6"})
    analyzer = Analyzer(classifier=classifier_from_onnx(model, name="stub", threads=1))
    (face,) = analyzer.analyze(astronaut_bgr)
    expected = np.e**2 / (np.e**2 + 6)
    assert face.probabilities["happy"] == pytest.approx(expected, abs=1e-5)
    assert face.uncertain is True
    assert analyzer.classify_boxes(np.zeros((10, 10), dtype=np.uint8), []) == []


def test_importing_moodtape_loads_no_model_and_no_heavy_library() -> None:
    code = (
        "import json, sys, moodtape; from moodtape import Face, EMOTIONS; "
        "print(json.dumps(sorted(m for m in ('onnxruntime', 'cv2', 'torch', 'onnx', 'moodtape.vision.pipeline', "
        "'moodtape.vision.models') if m in sys.modules)))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert json.loads(result.stdout) == []


def test_analyze_with_a_model_file(astronaut_bgr: npt.NDArray[np.uint8], tmp_path: Path) -> None:
    path = tmp_path / "always-sad.onnx"
    bias = [0.0, 0.0, 0.0, 0.0, 3.0, 0.0, 0.0]
    path.write_bytes(mean_model(["N", 1, 48, 48], [0.0] * 7, bias, metadata={META_PRESET: "moodtape"}))
    (face,) = moodtape.analyze(astronaut_bgr, model=path)
    assert face.emotion == "sad"
    assert face.probabilities["sad"] == pytest.approx(np.e**3 / (np.e**3 + 6), abs=1e-5)
    assert get_analyzer(str(path), None) is not get_analyzer()


def test_detectors_by_name_and_a_clear_error_for_others() -> None:
    from moodtape.errors import ModelError
    from moodtape.vision.faces import FaceDetector
    from moodtape.vision.pipeline import make_detector
    from moodtape.vision.yunet import YuNetDetector

    assert isinstance(make_detector("haar"), FaceDetector)
    assert isinstance(make_detector("yunet"), YuNetDetector)
    with pytest.raises(ModelError, match="MOODTAPE_DETECTOR"):
        make_detector("mtcnn")

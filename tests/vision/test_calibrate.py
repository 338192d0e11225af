"""``moodtape.calibrate`` and reading faces through a profile, on the bundled model and real photos."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt
import pytest
from onnx_models import mean_model

import moodtape
from moodtape.errors import DataError, ImageError
from moodtape.types import Box
from moodtape.vision.calibrate import NoFaceError, read_example
from moodtape.vision.calibration import Profile, ProfileError
from moodtape.vision.classifier import classifier_from_onnx
from moodtape.vision.pipeline import Analyzer
from moodtape.vision.stream import StreamAnalyzer

Image = npt.NDArray[np.uint8]


@pytest.fixture(scope="module")
def smiling_as_neutral(astronaut_bgr: Image) -> Profile:
    """The astronaut's smile declared as her neutral face: the strongest baseline a photo can give."""
    return moodtape.calibrate({"neutral": [astronaut_bgr]})


def test_the_bundled_model_has_an_embedding(bundled_analyzer: Analyzer, astronaut_gray: Image) -> None:
    classifier = bundled_analyzer.classifier
    assert classifier.has_embedding
    crops = [astronaut_gray[100:300, 150:350], astronaut_gray[120:280, 170:330]]
    probabilities, embeddings = classifier.predict_with_embedding(crops)
    np.testing.assert_allclose(probabilities, classifier.predict(crops), atol=1e-6)
    assert embeddings is not None and embeddings.shape == (2, 512)


def test_a_neutral_photo_sets_the_baseline(astronaut_bgr: Image, smiling_as_neutral: Profile) -> None:
    plain = moodtape.analyze(astronaut_bgr)[0]
    calibrated = moodtape.analyze(astronaut_bgr, profile=smiling_as_neutral)[0]
    assert calibrated.box == plain.box
    assert calibrated.probabilities["neutral"] > plain.probabilities["neutral"]
    assert calibrated.probabilities["happy"] < plain.probabilities["happy"]
    assert sum(calibrated.probabilities.values()) == pytest.approx(1.0, abs=1e-5)
    assert smiling_as_neutral.examples == {"neutral": 1}
    assert not smiling_as_neutral.uses_embedding


def test_expressions_add_prototypes(astronaut_bgr: Image, astronaut_gray: Image) -> None:
    # Her smile covered, she reads as resting (happy 0.34): a smile given as neutral teaches no expressions.
    covered = astronaut_gray.copy()
    covered[127:166, 183:262] = int(np.median(astronaut_gray[61:172, 167:278]))
    profile = moodtape.calibrate(
        {"neutral": [covered], "happy": [astronaut_bgr], "surprise": [cv2.flip(astronaut_gray, 1)]}
    )
    assert profile.uses_embedding
    assert set(profile.prototypes) == {"neutral", "happy", "surprise"}
    assert profile.weight == pytest.approx(4.0 * 2 / 6)
    faces = moodtape.analyze(astronaut_bgr, profile=profile)
    assert len(faces) == 1 and faces[0].emotion == "happy"


def test_profiles_survive_json(astronaut_bgr: Image, smiling_as_neutral: Profile) -> None:
    again = Profile.from_json(smiling_as_neutral.to_json())
    first = moodtape.analyze(astronaut_bgr, profile=smiling_as_neutral)[0]
    second = moodtape.analyze(astronaut_bgr, profile=again)[0]
    for label in moodtape.EMOTIONS:
        assert second.probabilities[label] == pytest.approx(first.probabilities[label], abs=1e-3)


def test_a_profile_from_another_model_is_refused(astronaut_bgr: Image, smiling_as_neutral: Profile) -> None:
    foreign = Profile.from_dict({**smiling_as_neutral.to_dict(), "model_id": "0" * 64})
    with pytest.raises(ProfileError, match="different emotion model"):
        moodtape.analyze(astronaut_bgr, profile=foreign)


def test_stream_analyzer_applies_its_profile(
    bundled_analyzer: Analyzer, astronaut_gray: Image, smiling_as_neutral: Profile
) -> None:
    plain = StreamAnalyzer(bundled_analyzer).process(astronaut_gray, 0.0)[0]
    calibrated = StreamAnalyzer(bundled_analyzer, profile=smiling_as_neutral).process(astronaut_gray, 0.0)[0]
    assert calibrated.probabilities["neutral"] > plain.probabilities["neutral"]
    foreign = Profile.from_dict({**smiling_as_neutral.to_dict(), "model_id": "0" * 64})
    with pytest.raises(ProfileError):
        StreamAnalyzer(bundled_analyzer, profile=foreign)


# --- bad input -------------------------------------------------------------------------------------


def test_a_photo_without_a_face_is_named(astronaut_bgr: Image) -> None:
    blank = np.full((240, 320), 128, dtype=np.uint8)
    mirrored = np.ascontiguousarray(astronaut_bgr[:, ::-1])  # one picture as two emotions is refused
    with pytest.raises(NoFaceError, match=r"no face found in happy image #2"):
        moodtape.calibrate({"neutral": [astronaut_bgr], "happy": [mirrored, blank]})


def test_a_path_without_a_face_is_named_by_its_path(tmp_path: Path, astronaut_bgr: Image) -> None:
    blank = tmp_path / "wall.png"
    cv2.imwrite(str(blank), np.full((240, 320), 90, dtype=np.uint8))
    with pytest.raises(ImageError, match=r"wall\.png"):
        moodtape.calibrate({"neutral": [str(blank)]})


def test_an_unreadable_image_is_named(astronaut_bgr: Image) -> None:
    with pytest.raises(ImageError, match="sad image #1"):
        moodtape.calibrate({"neutral": [astronaut_bgr], "sad": [b"not an image"]})


def test_several_faces_use_the_largest_and_say_so(
    two_face_scene: tuple[Image, list[Box]], bundled_analyzer: Analyzer
) -> None:
    scene, _ = two_face_scene
    profile = moodtape.calibrate({"neutral": [scene]})
    assert profile.notes[0] == "neutral image #1: 2 faces found; used the largest"
    assert "looks happy" in profile.notes[1]  # the astronaut smiles, here as everywhere
    example = read_example(bundled_analyzer, scene, "scene")
    assert example.faces == 2


def test_a_lone_image_is_taken_as_a_list_of_one(astronaut_bgr: Image) -> None:
    assert moodtape.calibrate({"neutral": astronaut_bgr}).examples == {"neutral": 1}


@pytest.mark.parametrize(
    ("examples", "message"),
    [
        ({"neutral": ["a.jpg"], "Joy": ["b.jpg"]}, "unknown emotion"),
        ({"neutral": []}, "no images given for neutral"),
        ({"happy": ["a.jpg"]}, "neutral photo"),
        (["a.jpg"], "must map emotion names"),
    ],
)
def test_bad_examples_fail_before_any_image_is_read(examples: object, message: str) -> None:
    with pytest.raises(DataError, match=message):
        moodtape.calibrate(examples)  # type: ignore[arg-type]


# --- a model without an embedding output ----------------------------------------------------------


def test_a_model_without_embedding_gets_the_baseline_only(astronaut_gray: Image, bundled_analyzer: Analyzer) -> None:
    from moodtape.vision.calibrate import profile_from_examples

    model = mean_model(["N", 1, 48, 48], [float(i) for i in range(7)], metadata={"moodtape.preset": "moodtape"})
    classifier = classifier_from_onnx(model, name="tiny")
    assert not classifier.has_embedding
    analyzer = Analyzer(detector=bundled_analyzer.detector, classifier=classifier)
    read = {
        "neutral": [read_example(analyzer, astronaut_gray, "n")],
        "happy": [read_example(analyzer, astronaut_gray, "h")],
    }
    assert read["neutral"][0].embedding is None
    profile = profile_from_examples(analyzer, read)
    assert not profile.uses_embedding and profile.model_id == classifier.model_id
    faces = analyzer.analyze(astronaut_gray, profile=profile)
    assert faces[0].probabilities["neutral"] > analyzer.analyze(astronaut_gray)[0].probabilities["neutral"]


def test_a_smile_given_as_neutral_is_kept_and_said(astronaut_bgr: Image, smiling_as_neutral: Profile) -> None:
    (note,) = smiling_as_neutral.notes
    assert note.startswith("neutral image #1 looks happy (") and "rather than relaxed" in note
    assert smiling_as_neutral.examples == {"neutral": 1}  # still taken: a person may rest that way
    # given as a smile, the same photo is not remarked on (only that the smile as neutral taught no expressions)
    notes = moodtape.calibrate({"neutral": [cv2.flip(astronaut_bgr, 1)], "happy": [astronaut_bgr]}).notes
    assert len(notes) == 2 and "image #1" not in notes[1] and "not learnt" in notes[1]

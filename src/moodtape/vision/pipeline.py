"""From an image to a list of faces with emotions: ``decode → detect → frame → classify``.

``analyze(image)`` uses one process-wide :class:`Analyzer`, built on first use (models load once,
lazily, never at import). ``get_analyzer`` is that cached loader; tests can call
``get_analyzer.cache_clear()`` or build their own ``Analyzer`` with fakes.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt

from moodtape.emotions import EMOTIONS
from moodtape.errors import ModelError
from moodtape.types import Box, Face
from moodtape.vision.align import aligned_crop
from moodtape.vision.calibration import Profile, usable_profile
from moodtape.vision.classifier import EmotionClassifier, load_classifier
from moodtape.vision.faces import DetectorSettings, FaceDetector
from moodtape.vision.framing import Framing
from moodtape.vision.image_limits import DEFAULT_MAX_PIXELS
from moodtape.vision.images import ImageSource, load_image
from moodtape.vision.yunet import Landmarks, YuNetDetector

#: Either face detector: both return boxes largest first from ``detect(gray)``.
Detector = FaceDetector | YuNetDetector
#: A face's box and, from a landmark detector, its landmarks.
Located = tuple[Box, Landmarks | None]
#: The detectors by name (``MOODTAPE_DETECTOR``, ``--detector``) and the default, chosen by the
#: measurements in docs/benchmarks.md ("Haar or YuNet").
DETECTORS = ("yunet", "haar")
DEFAULT_DETECTOR = "yunet"


def make_detector(name: str = DEFAULT_DETECTOR) -> Detector:
    """A new face detector by name: ``yunet`` or ``haar``."""
    if name == "haar":
        return FaceDetector(DetectorSettings())
    if name == "yunet":
        return YuNetDetector()
    raise ModelError(f"unknown face detector {name!r}: set MOODTAPE_DETECTOR (or --detector) to yunet or haar")


class Analyzer:
    """Finds faces and classifies their emotions. Safe to share between threads.

    Args:
        detector: the face detector (default: :data:`DEFAULT_DETECTOR`).
        classifier: the emotion model (default: moodtape's bundled model).
        framing: how detector boxes become classifier crops.
        max_pixels: images larger than this are refused.
        align: with a detector that finds landmarks (YuNet), level the eyes before classifying.
            Off by default: YuNet's eye landmarks follow a tilted head only partly, and on rolled
            benchmark scenes aligning changed correct labels by −0.4 to +0.6 points (docs/benchmarks.md).
    """

    def __init__(
        self,
        detector: Detector | None = None,
        classifier: EmotionClassifier | None = None,
        framing: Framing | None = None,
        max_pixels: int = DEFAULT_MAX_PIXELS,
        align: bool = False,
    ) -> None:
        self.detector: Detector = detector or make_detector()
        self.classifier = classifier or load_classifier()
        self.framing = framing or Framing()
        self.max_pixels = max_pixels
        self.align = align

    def analyze(self, image: ImageSource, *, color_order: str = "bgr", profile: Profile | None = None) -> list[Face]:
        """Faces in ``image`` (see :func:`analyze`), largest first; ``[]`` when there are none.

        With a calibration ``profile`` (made with this analyzer's model), every face is read
        through it.
        """
        gray = load_image(image, gray=True, color_order=color_order, max_pixels=self.max_pixels)
        return self.analyze_gray(gray, profile=profile)

    def analyze_gray(self, gray: npt.NDArray[np.uint8], *, profile: Profile | None = None) -> list[Face]:
        """Like :meth:`analyze` for an already-decoded ``(h, w)`` uint8 image."""
        return self.classify(gray, self.locate(gray), profile=profile)

    def classify_boxes(
        self, gray: npt.NDArray[np.uint8], boxes: Sequence[Box], *, profile: Profile | None = None
    ) -> list[Face]:
        """Classify the faces at ``boxes`` (one batched model call), cropped upright."""
        return self.classify(gray, [(box, None) for box in boxes], profile=profile)

    def locate(self, gray: npt.NDArray[np.uint8], *, frame: bool = False) -> list[Located]:
        """The faces' boxes, largest first, each with its landmarks when alignment will use them.

        ``frame``: ``gray`` is a stream's frame, not a photo; YuNet then spares a webcam-sized frame
        with no face the second search for small faces (``YuNetSettings.small_faces_above``). A photo
        with no face is searched again turned by ±30°, 90° and 270° (:mod:`moodtape.vision.rolled`),
        and a photo's unsure faces are checked for being sideways or upside down
        (:mod:`moodtape.vision.upside_down`); such faces keep their landmarks to be cropped level
        whatever ``align`` says.
        """
        if isinstance(self.detector, YuNetDetector):
            # A head rolled past ~30° or a sideways photo (vision/rolled.py): found in a turned copy,
            # within the same detector call (and so within its timing), cropped level.
            found = self.detector.detect_landmarks(gray, frame=frame, turned=not frame)
            return [(box, face if self.align or face.turned else None) for box, face in found]
        return [(box, None) for box in self.detector.detect(gray)]

    def crops(self, gray: npt.NDArray[np.uint8], located: Sequence[Located]) -> list[npt.NDArray[np.uint8]]:
        """The crops the classifier reads for located faces: framed upright, or levelled by landmarks."""
        return [self.framing.crop(gray, box) if face is None else aligned_crop(gray, face) for box, face in located]

    def classify(
        self, gray: npt.NDArray[np.uint8], located: Sequence[Located], *, profile: Profile | None = None
    ) -> list[Face]:
        """Classify located faces in one batched model call (levelled eyes where landmarks are
        known), through ``profile`` when given."""
        crops = self.crops(gray, located)
        boxes = [box for box, _ in located]
        if profile is None:
            probabilities = self.classifier.predict(crops)
        else:
            usable_profile(profile, self.classifier.model_id)
            generic, embeddings = self.classifier.predict_with_embedding(crops)
            probabilities = profile.apply(generic, embeddings)
        uncertain = self.classifier.is_uncertain(probabilities)
        return [
            Face(box=box, probabilities=_as_mapping(row), uncertain=bool(flag))
            for box, row, flag in zip(boxes, probabilities, uncertain, strict=True)
        ]


def _as_mapping(row: npt.NDArray[np.float32]) -> dict[str, float]:
    values = row.astype(np.float64)
    values /= values.sum()
    return {label: float(v) for label, v in zip(EMOTIONS, values, strict=True)}


@functools.lru_cache(maxsize=4)
def get_analyzer(
    model: str | None = None,
    preset: str | None = None,
    threads: int = 2,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    detector: str = DEFAULT_DETECTOR,
) -> Analyzer:
    """The shared analyzer for a model (``None``: the bundled one) and detector, built once per process."""
    classifier = load_classifier(Path(model) if model else None, preset=preset, threads=threads)
    return Analyzer(make_detector(detector), classifier, max_pixels=max_pixels)


def analyze(
    image: ImageSource,
    *,
    model: str | Path | None = None,
    preset: str | None = None,
    color_order: str = "bgr",
    profile: Profile | None = None,
) -> list[Face]:
    """Detect the faces in ``image`` and predict each one's emotion.

    Args:
        image: a file path, encoded image bytes (JPEG, PNG, WebP, GIF…), a file object opened in
            binary mode, a Pillow image, or an array (3-channel arrays are BGR unless
            ``color_order="rgb"``; gray and 4-channel work too).
        model: an ``.onnx`` or Keras ``.h5`` emotion model; ``None`` uses moodtape's own.
        preset: pixel scaling for a foreign ``model`` (``fer-library``, ``fer-tutorial``…).
        profile: a personal calibration from :func:`moodtape.calibrate`, applied to every face.

    Returns:
        One :class:`~moodtape.types.Face` per face, largest first; ``[]`` when there is none.

    Raises:
        moodtape.errors.ImageError: the image cannot be read (subclasses say why).
        moodtape.errors.ModelError: the model cannot be loaded or run.
        moodtape.errors.DataError: ``profile`` was made with another model.
    """
    analyzer = get_analyzer(str(model) if model else None, preset)
    return analyzer.analyze(image, color_order=color_order, profile=profile)

"""``moodtape.calibrate(examples)``: read a person's example photos and learn a :class:`Profile`.

The shell around :mod:`moodtape.vision.calibration`'s maths: it decodes each image (in memory,
never kept), finds the face, and hands the model's probabilities and embeddings to
:func:`~moodtape.vision.calibration.fit_profile`.

An example photo must show a face. When it shows several, the **largest** is used (in front of
one's own camera that is the person calibrating; a face in the background is smaller) and the
profile's ``notes`` say so, naming the image. Only when it is clearly the largest, though
(:data:`CLEARLY_LARGER`): two faces of about the same size (two people side by side, or the person
calibrating leaning back while someone else leans in) give no way to tell whose face it is, and the
example is refused (:class:`SeveralFacesError`) rather than learnt from whichever box came out a
few pixels larger.
"""

from __future__ import annotations

import hashlib
import itertools
import math
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import numpy as np
import numpy.typing as npt
from PIL import Image

from moodtape.emotions import EMOTIONS
from moodtape.errors import DataError, ImageError
from moodtape.types import Box
from moodtape.vision.calibration import (
    FloatArray,
    Profile,
    Settings,
    check_examples,
    fit_profile,
    not_resting,
)
from moodtape.vision.images import BinaryReadable, ImageSource, source_name
from moodtape.vision.pipeline import Analyzer, get_analyzer


class NoFaceError(ImageError):
    """A calibration example in which no face was found."""

    code = "no_face"


class SeveralFacesError(ImageError):
    """A calibration example with two or more faces of about the same size: whose face it is, is unclear."""

    code = "several_faces"


class UnusableExamplesError(ImageError):
    """Two or more calibration examples cannot be used; :attr:`problems` names each one and why.

    Every example is read before this is raised, so a person with three bad photos learns of all
    three at once rather than one per run. No profile is made from the good ones: a profile that
    silently lacks the expressions its maker gave would read their face otherwise than they asked.
    """

    code = "unusable_examples"

    def __init__(self, problems: Sequence[str], names: Sequence[str], total: int) -> None:
        self.problems = tuple(problems)  # each names its image and says why
        self.names = tuple(names)  # the images, in the order they were read
        self.total = total
        super().__init__(
            f"{len(self.problems)} of {total} calibration images cannot be used, so no profile was made: "
            + "; ".join(self.problems)
        )


#: The largest face of an example is taken as the person calibrating only when its box's side is at
#: least this many times the next face's. A still face's box side changes by 7 % on average, and up
#: to 15 %, from one webcam frame to the next (Yale faces in 640×480 frames, docs/benchmarks.md
#: "Live streams with real faces"): two faces closer in size than that may come out largest in turn.
CLEARLY_LARGER = 1.2


@dataclass(frozen=True)
class Example:
    """One calibration face, read: the generic model's probabilities and embedding."""

    probabilities: FloatArray  # (7,)
    embedding: FloatArray | None  # (d,) or None for a model without an embedding output
    faces: int  # how many faces the image held (the largest was used)


def not_resting_note(name: str, expression: str, probabilities: FloatArray) -> str:
    """What to tell a person whose "neutral" example ``name`` reads as ``expression`` (happy or surprise)."""
    word = "surprised" if expression == "surprise" else expression
    certainty = float(probabilities[EMOTIONS.index(expression)])
    return (
        f"{name} looks {word} ({certainty:.0%}) rather than relaxed; it was still taken as your neutral face, "
        "but a relaxed, resting face calibrates better"
    )


def describe(image: ImageSource, emotion: str, number: int) -> str:
    """How an error names an example: its path or open file's name, or "happy image #2" for bytes and arrays."""
    return source_name(image) or f"{emotion} image #{number}"


def read_example(
    analyzer: Analyzer, image: ImageSource, name: str, *, gray: npt.NDArray[np.uint8] | None = None
) -> Example:
    """The largest face in ``image`` read by ``analyzer``'s model.

    The face is found and cropped as :meth:`Analyzer.analyze <moodtape.vision.pipeline.Analyzer.analyze>`
    finds and crops it (:meth:`~moodtape.vision.pipeline.Analyzer.locate`: a very dark photo searched
    brightened, a turned face levelled): a profile learnt from another reading of the same face
    would shift every later reading. A photo turned by 180° was read upright here ("sad 0.72" for
    the astronaut that ``analyze`` reads "happy 0.93"), and a very dark one had no face.

    Raises:
        NoFaceError: no face in the image (the message names it).
        SeveralFacesError: its largest face is not clearly larger than the next (:data:`CLEARLY_LARGER`).
        ImageError: the image cannot be read.
    """
    pixels = gray if gray is not None else _load_named(analyzer, image, name)
    located = analyzer.locate(pixels)
    if not located:
        raise NoFaceError(f"no face found in {name}: use a well-lit photo that shows your face from the front")
    largest = _clearly_largest([box for box, _ in located], name)
    face = next(item for item in located if item[0] == largest)
    probabilities, embeddings = analyzer.classifier.predict_with_embedding(analyzer.crops(pixels, [face]))
    return Example(probabilities[0], None if embeddings is None else embeddings[0], len(located))


def _clearly_largest(boxes: Sequence[Box], name: str) -> Box:
    """The largest of ``boxes``, when no other comes near its size (see :data:`CLEARLY_LARGER`)."""
    ranked = sorted(boxes, key=lambda box: box.w * box.h, reverse=True)
    alike = [box for box in ranked if CLEARLY_LARGER * _side(box) > _side(ranked[0])]
    if len(alike) > 1:
        raise SeveralFacesError(
            f"{len(alike)} faces of about the same size in {name}, so it is unclear whose face to learn: "
            "calibrate with only your face in view (or a photo cropped to it), or with yours clearly nearest "
            "the camera"
        )
    return ranked[0]


def _side(box: Box) -> float:
    return math.sqrt(box.w * box.h)


def profile_from_examples(
    analyzer: Analyzer, read: Mapping[str, Sequence[Example]], notes: Sequence[str] = ()
) -> Profile:
    """Fit a profile from examples already read with :func:`read_example`."""
    check_examples({label: list(items) for label, items in read.items()})
    probabilities = {label: np.stack([e.probabilities for e in items]) for label, items in read.items()}
    embeddings: dict[str, FloatArray] | None = None
    if all(e.embedding is not None for items in read.values() for e in items):
        embeddings = {
            label: np.stack([e.embedding for e in items if e.embedding is not None]) for label, items in read.items()
        }
    settings = Settings(neutral_reference=analyzer.classifier.neutral_reference)
    return fit_profile(analyzer.classifier.model_id, probabilities, embeddings, settings, tuple(notes))


#: The most images one emotion may be given. Calibration learns from the average of what the model
#: reads in them (the mean of their log-probabilities and of their embeddings), whose noise shrinks
#: as one over the square root of their number: past 100 it hardly moves, while each image costs a
#: read by the model (the page calibrates from 5 frames of a resting face and 3 of each expression).
#: Only that many and one more are read, so an endless generator (a camera's frames with no stop)
#: is refused at once instead of filling memory; more is refused rather than cut to the first 100,
#: so that a profile never silently learns from fewer images than it was given.
MAX_IMAGES_PER_EMOTION: Final = 100

#: What an emotion's images may be given as: any iterable of them (a list, a tuple, a generator), or one image alone.
ExampleImages = Mapping[str, Iterable[ImageSource] | ImageSource]


def calibrate(
    examples: ExampleImages,
    *,
    model: str | Path | None = None,
    preset: str | None = None,
) -> Profile:
    """Learn how this person's face shows emotions, from a few labelled photos of them.

    Args:
        examples: emotion name → images of the person showing it (anything
            :func:`moodtape.analyze` accepts), in a list or any other iterable (a tuple, a
            generator: it is read once); one image alone (a path, bytes, an array) counts as a
            list of one. At most :data:`MAX_IMAGES_PER_EMOTION` (100) per emotion: only that many
            and one more are read, so an endless generator is refused, not read forever (for a
            camera's frames, ``itertools.islice(frames, 100)``). ``"neutral"`` (a relaxed, resting
            face) is required; any of the other six emotions may be added, and each one added helps.
        model: the emotion model to calibrate (``None``: moodtape's own); the profile works
            only with that model.

    Returns:
        A :class:`~moodtape.vision.calibration.Profile` for ``moodtape.analyze(image, profile=…)``.

    Raises:
        moodtape.errors.DataError: an unknown emotion, an empty list, no neutral photo, more than
            100 images for one emotion, or an emotion's images given as something that is neither
            an image nor an iterable of them (a dict, a number, None).
        moodtape.errors.ImageError: an image cannot be read, shows no face, or shows faces of about the
            same size with none clearly the person's (the message names it). Every image is read
            first: with two or more such images, :class:`UnusableExamplesError` names each one and
            why, and no profile is made from the others. That error is an ``ImageError`` even when
            its problems include a picture given twice, which alone is a ``DataError``.
    """
    if not isinstance(examples, Mapping):
        raise DataError("examples must map emotion names to lists of images, e.g. {'neutral': ['me.jpg']}")
    lists = _by_emotion(examples)
    check_examples(lists)
    return calibrate_with(get_analyzer(str(model) if model else None, preset), lists)


def calibrate_with(analyzer: Analyzer, examples: ExampleImages) -> Profile:
    """:func:`calibrate` with a given analyzer (its detector and model)."""
    lists = {label: _as_list(images, label) for label, images in examples.items()}
    check_examples(lists)
    read: dict[str, list[Example]] = {}
    notes: list[str] = []
    problems: list[tuple[str, ImageError | DataError]] = []  # an image's name, and why it cannot be used
    seen: dict[bytes, tuple[str, str]] = {}  # a picture's pixels → the emotion and name it came as
    for label, images in lists.items():
        for number, image in enumerate(images, 1):
            name = describe(image, label, number)
            try:
                pixels = _load_named(analyzer, image, name)
                _check_not_given_twice(seen, pixels, label, name)
                example = read_example(analyzer, image, name, gray=pixels)
            except (ImageError, DataError) as exc:  # read the rest, so that every bad one is named at once
                problems.append((name, exc))
                continue
            if example.faces > 1:
                notes.append(f"{name}: {example.faces} faces found; used the largest")
            if label == "neutral" and (expression := not_resting(example.probabilities)):
                notes.append(not_resting_note(name, expression, example.probabilities))
            read.setdefault(label, []).append(example)
    _raise_problems(problems, total=sum(len(images) for images in lists.values()))
    return profile_from_examples(analyzer, read, notes)


def _raise_problems(problems: Sequence[tuple[str, ImageError | DataError]], total: int) -> None:
    """Raise the one problem as it is (its type says what went wrong), or all of them together."""
    if len(problems) == 1:
        raise problems[0][1]
    if problems:
        raise UnusableExamplesError([str(exc) for _, exc in problems], [name for name, _ in problems], total)


def _load_named(analyzer: Analyzer, image: ImageSource, name: str) -> npt.NDArray[np.uint8]:
    """``image``'s gray pixels; an :class:`ImageError` names the image (once)."""
    try:
        return _load(analyzer, image)
    except ImageError as exc:
        raise type(exc)(_named(name, str(exc))) from None


def _named(name: str, message: str) -> str:
    """``message`` about the image ``name``, naming it once: a path's errors name it already."""
    if message.startswith(f"{name}:"):
        return message
    return f"{name}: {message.removeprefix('image data: ')}"


def _check_not_given_twice(
    seen: dict[bytes, tuple[str, str]], pixels: npt.NDArray[np.uint8], label: str, name: str
) -> None:
    """Refuse one picture given as two emotions (``neutral=me.jpg happy=me.jpg``): the profile would
    learn the same face as both, shifting its baseline by a face that is not at rest and learning
    no difference between the two."""
    key = hashlib.sha256(np.ascontiguousarray(pixels).tobytes()).digest() + repr(pixels.shape).encode()
    earlier = seen.setdefault(key, (label, name))
    if earlier[0] != label:
        same = name if earlier[1] == name else f"{earlier[1]} and {name}"
        raise DataError(
            f"{same}: the same picture is given as {earlier[0]} and as {label}; "
            "give each emotion its own photo, showing that expression"
        )


def _by_emotion(examples: Mapping[str, object]) -> dict[str, list[ImageSource]]:
    """Each emotion's images, under its name lower-cased; keys that name one emotion are joined.

    ``{"neutral": [a], "Neutral": [b]}`` kept ``b`` only: one of two neutral photos was dropped
    without a word, and the profile learnt from fewer than it said it was given.
    """
    lists: dict[str, list[ImageSource]] = {}
    for label, images in examples.items():
        lists.setdefault(str(label).strip().lower(), []).extend(_as_list(images, label))
    return lists


#: One image, given where a list of them is expected: a list of one, never iterated (a path's
#: characters, an array's rows, a binary file's lines, a Pillow image's bands are no images).
_LONE_IMAGE = (str, os.PathLike, bytes, bytearray, memoryview, np.ndarray, Image.Image, BinaryReadable)


def _as_list(images: object, label: object) -> list[ImageSource]:
    """``images`` as a list, read once: a generator or ``iter(...)`` was refused as "must be a list
    of images" though it holds images, and is good for one pass only, so it is never read twice.

    A lone image is a common slip for a one-element list and is taken as one. A mapping is refused:
    iterating it gives its keys, which are names, not the images the caller meant. At most
    :data:`MAX_IMAGES_PER_EMOTION` and one more are read: an endless generator
    (``itertools.repeat(image)``) hung, filling memory, where it is now refused at once.
    """
    if isinstance(images, _LONE_IMAGE):
        return [images]  # type: ignore[list-item]  # os.PathLike is read as a path, as by analyze
    if isinstance(images, Mapping):
        raise DataError(
            f"examples[{label!r}] must be a list of images, not a {type(images).__name__}; "
            "give its images as a list, e.g. list(photos.values())"
        )
    if not isinstance(images, Iterable):
        raise DataError(
            f"examples[{label!r}] must be a list of images (paths, encoded bytes, NumPy arrays or Pillow images), "
            f"got {type(images).__name__}"
        )
    listed = list(itertools.islice(images, MAX_IMAGES_PER_EMOTION + 1))
    if len(listed) > MAX_IMAGES_PER_EMOTION:
        raise DataError(
            f"more than {MAX_IMAGES_PER_EMOTION} images given for {label}: calibration learns from their average, "
            f"which hardly moves past {MAX_IMAGES_PER_EMOTION}, so give at most {MAX_IMAGES_PER_EMOTION} "
            f"(the rest were not read; in Python, for a generator or a camera's frames: "
            f"itertools.islice(frames, {MAX_IMAGES_PER_EMOTION}))"
        )
    return listed


def _load(analyzer: Analyzer, image: ImageSource) -> npt.NDArray[np.uint8]:
    from moodtape.vision.images import load_image

    return load_image(image, gray=True, max_pixels=analyzer.max_pixels)

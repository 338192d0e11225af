"""Webcam streams: follow each face across frames and smooth its probabilities over time.

A single frame's prediction jitters (blinks, motion blur, a half-turned head). For a stream we
match each new face to a *track* by box overlap and blend its probabilities into the track's with
an exponential moving average whose **time constant is 0.6 s**: after 0.6 s a change of
expression has moved the smoothed probabilities 63 % of the way, after 1.8 s 95 %. The blend
weight depends on the time between frames, so smoothing behaves the same at 5 or 30 frames per
second. A track unseen for ``max_age`` seconds is dropped.

Detection may run on a schedule (``detect_every`` frames); in between, each track is looked for
only in a window around its last box, which costs a fraction of a full-frame search.

A stream's whole state (frame count, tracks) goes to and from plain JSON-able values with
:meth:`StreamAnalyzer.state` and :meth:`StreamAnalyzer.restore`, so that several server processes
can take turns on one stream through a shared store (``moodtape.web.streams``).
"""

from __future__ import annotations

import dataclasses
import datetime
import functools
import math
import numbers
import operator
import threading
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from moodtape.emotions import EMOTIONS
from moodtape.errors import ArgumentError
from moodtape.types import Box, Face
from moodtape.vision.calibration import Profile, usable_profile
from moodtape.vision.faces import DetectorSettings, FaceDetector, suppress_overlaps
from moodtape.vision.images import ImageSource, load_image
from moodtape.vision.main_person import MainPerson, held_first
from moodtape.vision.pipeline import Analyzer, Detector, Located
from moodtape.vision.stream_state import SMOOTHER_HOW, STREAM_HOW, SavedTrack, StateReader
from moodtape.vision.yunet import YuNetDetector, YuNetSettings

DEFAULT_TIME_CONSTANT = 0.6
MATCH_IOU = 0.3


def iou(a: Box, b: Box) -> float:
    """Intersection over union of two boxes."""
    ix = max(0, min(a.x + a.w, b.x + b.w) - max(a.x, b.x))
    iy = max(0, min(a.y + a.h, b.y + b.h) - max(a.y, b.y))
    inter = ix * iy
    union = a.w * a.h + b.w * b.h - inter
    return inter / union if union else 0.0


@dataclass
class _Track:
    track_id: int
    box: Box
    probabilities: npt.NDArray[np.float64]
    last_seen: float
    first_seen: float = 0.0


@dataclass
class FaceSmoother:
    """Matches faces to tracks and smooths their probabilities (see the module docstring).

    Attributes:
        time_constant: seconds for the smoothed probabilities to move 63 % towards a new value.
        max_age: seconds a track survives without being seen.
        uncertain_below: smoothed faces whose top probability is below this are marked uncertain.
    """

    time_constant: float = DEFAULT_TIME_CONSTANT
    max_age: float = 1.0
    uncertain_below: float = 0.0
    _tracks: list[_Track] = field(default_factory=list)
    _next_id: int = 1
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def update(self, faces: list[Face], timestamp: float) -> list[Face]:
        """Smoothed copies of ``faces`` (same order) with a stable ``track_id`` each.

        A track is dropped when ``timestamp`` is more than ``max_age`` from when it was last seen, in
        either direction: a clock that jumps back (a restarted camera, a video seeked back) starts
        afresh, as one that jumps forward does. A small step back moves nothing (no time elapsed).

        Raises:
            moodtape.errors.ArgumentError: ``timestamp`` is not a finite number of seconds (a
                ``DataError`` and a ``ValueError``).
        """
        timestamp = check_timestamp(timestamp)
        with self._lock:
            self._tracks = [t for t in self._tracks if abs(timestamp - t.last_seen) <= self.max_age]
            assigned = self._match(faces)
            return [self._blend(face, assigned.get(i), timestamp) for i, face in enumerate(faces)]

    @property
    def boxes(self) -> list[Box]:
        """The last box of every live track."""
        with self._lock:
            return [t.box for t in self._tracks]

    @property
    def track_ids(self) -> set[int]:
        """The ids of the live tracks."""
        with self._lock:
            return {t.track_id for t in self._tracks}

    def held_face(self, track_id: int, beside: list[Face]) -> Face | None:
        """The live track ``track_id`` as a face (its last box and smoothed probabilities) for a
        frame that missed that person and found ``beside``; ``None`` without such a track, or when
        a face in ``beside`` is on a track first seen after it was last seen: that may be the
        person, moved farther than box matching follows (a quick move at a few frames a second),
        and holding would show them twice."""
        with self._lock:
            track = next((t for t in self._tracks if t.track_id == track_id), None)
            if track is None:
                return None
            first_seen = {t.track_id: t.first_seen for t in self._tracks}
            if any(first_seen.get(_track_of(face), math.inf) > track.last_seen for face in beside):
                return None
            return _track_face(track, self.uncertain_below)

    def box_of(self, track_id: int | None) -> Box | None:
        """The last box of the live track ``track_id``, or ``None`` when there is no such track."""
        with self._lock:
            return next((t.box for t in self._tracks if t.track_id == track_id), None)

    def state(self) -> dict[str, Any]:
        """The tracks and the next track id as JSON-able values (see :meth:`restore`)."""
        with self._lock:
            return {
                "next_id": self._next_id,
                "tracks": [
                    [t.track_id, list(t.box), [float(p) for p in t.probabilities], t.last_seen] for t in self._tracks
                ],
                # Apart from "tracks", whose rows a process of an earlier version unpacks as four.
                "first_seen": [[t.track_id, t.first_seen] for t in self._tracks],
            }

    def restore(self, state: dict[str, Any]) -> None:
        """Take over the tracks of :meth:`state` (from this or another process).

        Raises:
            moodtape.errors.ArgumentError: ``state`` is not in the shape :meth:`state` gives; the
                message names the part (a ``DataError`` and a ``ValueError``). Nothing is taken.
        """
        reader = StateReader("smoother", SMOOTHER_HOW)
        self.take(*reader.tracks(reader.mapping(state, ("next_id", "tracks"))))

    def take(self, saved: list[SavedTrack], next_id: int) -> None:
        """Take over tracks read and checked by :class:`~moodtape.vision.stream_state.StateReader`."""
        tracks = [_Track(t.track_id, t.box, t.probabilities, t.last_seen, t.first_seen) for t in saved]
        with self._lock:
            self._tracks, self._next_id = tracks, next_id

    def _match(self, faces: list[Face]) -> dict[int, _Track]:
        pairs = sorted(
            ((iou(face.box, track.box), i, track) for i, face in enumerate(faces) for track in self._tracks),
            key=lambda p: p[0],
            reverse=True,
        )
        assigned: dict[int, _Track] = {}
        used: set[int] = set()
        for overlap, i, track in pairs:
            if overlap >= MATCH_IOU and i not in assigned and track.track_id not in used:
                assigned[i] = track
                used.add(track.track_id)
        return assigned

    def _blend(self, face: Face, track: _Track | None, timestamp: float) -> Face:
        new = np.array([face.probabilities[label] for label in EMOTIONS], dtype=np.float64)
        if track is None:
            track = _Track(self._next_id, face.box, new, timestamp, timestamp)
            self._next_id += 1
            self._tracks.append(track)
        else:
            elapsed = max(0.0, timestamp - track.last_seen)
            weight = 1.0 - math.exp(-elapsed / self.time_constant) if self.time_constant > 0 else 1.0
            track.probabilities = track.probabilities + weight * (new - track.probabilities)
            track.box, track.last_seen = face.box, timestamp
        return _track_face(track, self.uncertain_below)


def _track_of(face: Face) -> int:
    return -1 if face.track_id is None else face.track_id


def _track_face(track: _Track, uncertain_below: float) -> Face:
    """``track``'s last box with its smoothed probabilities (normalised) and its id."""
    smoothed = track.probabilities / track.probabilities.sum()
    return Face(
        box=track.box,
        probabilities={label: float(v) for label, v in zip(EMOTIONS, smoothed, strict=True)},
        uncertain=bool(smoothed.max() < uncertain_below),
        track_id=track.track_id,
    )


class StreamAnalyzer:
    """Analyzes successive frames of one stream: tracking, smoothing and scheduled detection.

    Args:
        analyzer: the per-frame analyzer (detector + classifier): ``moodtape.Analyzer()``.
        detect_every: run full-frame detection every N frames (1: every frame); in between,
            search only near the known faces.
        time_constant: smoothing time constant in seconds.
        profile: a personal calibration applied to every face before smoothing; the attribute
            may be replaced between frames (the web app does when a visitor calibrates).

    Each frame's faces come with the *main person* first: the face held as the person using the
    app (:mod:`moodtape.vision.main_person`), whose reading is the stream's live mood; a bystander
    does not take that place by being about as large for a moment.

    Raises:
        moodtape.errors.ArgumentError: an ``analyzer`` that is not an :class:`Analyzer`, or
            ``detect_every`` or ``time_constant`` out of range (a ``DataError`` and a ``ValueError``).
        moodtape.vision.calibration.ProfileError: a ``profile`` that is not a usable Profile.
    """

    def __init__(
        self,
        analyzer: Analyzer,
        detect_every: int = 1,
        time_constant: float = DEFAULT_TIME_CONSTANT,
        profile: Profile | None = None,
    ) -> None:
        _check_analyzer(analyzer)
        _check_detect_every(detect_every)
        _check_time_constant(time_constant)
        if profile is not None:
            usable_profile(profile, analyzer.classifier.model_id)
        self.analyzer = analyzer
        self.profile = profile
        self.detect_every = detect_every
        self.smoother = FaceSmoother(time_constant, uncertain_below=analyzer.classifier.uncertain_below)
        self._frame = 0
        self._shape: tuple[int, ...] | None = None  # the last frame's size, in this process
        # The size of the last frame that found the main person, in this process (see _held_first).
        self._main_shape: tuple[int, ...] | None = None
        self.main_person = MainPerson()
        self._lock = threading.Lock()

    def process(self, frame: ImageSource, timestamp: float, *, color_order: str = "bgr") -> list[Face]:
        """Smoothed faces in this frame: the main person's first, then largest first.

        Read the live mood from the first face: a mood of all faces weighted by their size gave a
        bystander at the side at 0.8× the user's size the live mood on 32 % of their frames. When
        even a full search misses the main person while their track lives and only faces tracked
        before they were last seen are found, their track's last box and smoothed reading come first (see
        :func:`~moodtape.vision.main_person.held_first`), so the bystander's face does not.

        Args:
            frame: the frame as OpenCV's ``VideoCapture.read()`` gives it (BGR), a gray ``(h, w)``
                uint8 array (used as it is: the web app's frames), or anything :func:`moodtape.analyze`
                takes (``color_order`` as there).
            timestamp: when the frame was taken, in seconds on any steady clock
                (``time.monotonic()``); smoothing weighs frames by the time between them. Required:
                None or a ``datetime`` is refused, not taken as "now".

        Raises:
            moodtape.errors.ArgumentError: ``timestamp`` is not a finite number of seconds, or
                ``color_order`` is neither ``"bgr"`` nor ``"rgb"`` (checked before any work; a
                ``DataError`` and a ``ValueError``).
            moodtape.errors.ImageError: a frame that cannot be read.
        """
        timestamp = check_timestamp(timestamp)
        gray = _gray_frame(frame, color_order, self.analyzer.max_pixels)
        with self._lock:
            # A frame of another size (the camera's resolution changed, another camera): the known
            # boxes are in the old frame's pixels, and looking only there missed the face until the
            # next scheduled detection.
            resized = self._shape is not None and self._shape != gray.shape
            full = self._frame % self.detect_every == 0 or resized or not self.smoother.boxes
            self._frame += 1
            self._shape = gray.shape
        located = self.analyzer.locate(gray, frame=True) if full else self._redetect(gray, self.smoother.boxes)
        if not full and self._misses_main_person(located):
            located = self.analyzer.locate(gray, frame=True)
        faces = self.smoother.update(self.analyzer.classify(gray, located, profile=self.profile), timestamp)
        with self._lock:
            ordered = self.main_person.order(faces, gray.shape, self.smoother.track_ids, timestamp)
            return self._held_first(ordered, gray.shape)

    def _held_first(self, ordered: list[Face], shape: tuple[int, ...]) -> list[Face]:
        """``ordered`` led by the main person's held face (:func:`held_first`), unless they were last
        found in frames of another size (call with ``self._lock`` held).

        The held box is in the pixels of the frame they were last found in: after the camera's
        resolution changed, or another camera, it would be drawn where no one is, and their track
        is no evidence that they are still at this camera.
        """
        main = self.main_person.track_id
        if any(face.track_id == main for face in ordered):
            self._main_shape = shape
        if main is None or self._main_shape not in (None, shape):
            return ordered
        return held_first(ordered, main, self.smoother.held_face)

    def state(self) -> dict[str, Any]:
        """The stream's state as JSON-able values: frame count, the smoother's tracks, the main person,
        and the sizes of the last frame and of the last one that found the main person (without
        them, the next frame on another instance held the main person's box into a frame of
        another size; sizes only, no pixels)."""
        with self._lock:
            frame, main = self._frame, self.main_person.state()
            shape, main_shape = _size_of(self._shape), _size_of(self._main_shape)
        return {"frame": frame, **self.smoother.state(), "main": main, "shape": shape, "main_shape": main_shape}

    def restore(self, state: dict[str, Any]) -> None:
        """Continue the stream whose :meth:`state` this is (from this or another process, saved as
        JSON or not); one from an earlier version of moodtape restores too, and keys a later one
        adds are left alone (:mod:`moodtape.vision.stream_state`).

        Raises:
            moodtape.errors.ArgumentError: ``state`` is not in the shape :meth:`state` gives (None, a
                list, JSON text, a track's numbers unusable); the message names the part and what to
                pass (a ``DataError`` and a ``ValueError``). The stream is left as it was.
        """
        reader = StateReader("stream", STREAM_HOW)
        checked = reader.mapping(state, ("frame", "next_id", "tracks"))
        frame = reader.whole(checked["frame"], "'frame'", 0)
        # A state saved by an instance of the version before has no sizes: as a fresh stream.
        shape, main_shape = (
            reader.size(checked.get("shape"), "'shape'"),
            reader.size(checked.get("main_shape"), "'main_shape'"),
        )
        main = MainPerson()
        try:
            # A state saved before streams had a main person (another instance mid-deploy) has none.
            main.restore(checked.get("main"))
        except ArgumentError as exc:
            raise reader.refuse(f"its 'main' is {exc}") from None
        tracks, next_id = reader.tracks(checked)
        # Only once all of it is known to be good: a state refused leaves the stream as it was.
        self.smoother.take(tracks, next_id)
        with self._lock:
            self._frame, self.main_person = frame, main
            self._shape, self._main_shape = shape, main_shape

    def _misses_main_person(self, located: list[Located]) -> bool:
        """Whether the search near the known faces found none where the main person's live track is.

        Such a frame's faces came without the main person, so a bystander's was first and gave the
        live mood: on Yale faces with a bystander at the side (stream_behaviour's scene), 12 of 600
        frames, where the bystander's photo covered part of the front face and the search near its
        last box missed it; a search of the whole frame found it in all of them. So those frames,
        and only those, are searched again in full.
        """
        with self._lock:
            main = self.main_person.track_id
        last = self.smoother.box_of(main)
        return last is not None and not any(iou(box, last) >= MATCH_IOU for box, _ in located)

    def _redetect(self, gray: npt.NDArray[np.uint8], previous: list[Box]) -> list[Located]:
        """Look for each known face in a window twice its size around its last box."""
        found: list[Located] = []
        height, width = gray.shape
        for box in previous:
            left, top = max(0, box.x - box.w // 2), max(0, box.y - box.h // 2)
            right, bottom = min(width, box.x + box.w * 3 // 2), min(height, box.y + box.h * 3 // 2)
            window = np.ascontiguousarray(gray[top:bottom, left:right])
            local = _local_detector(self.analyzer.detector, box)
            if not window.size:
                continue
            if isinstance(local, YuNetDetector):
                hits = local.detect_landmarks(window)
                if hits:
                    # The box from the landmarks in the frame, not in the window: a face that moved
                    # past the window's edge is found there, but its box was cut at that edge (a
                    # narrow box, a crop off the face's centre) though the frame shows all of it.
                    face = hits[0][1].shifted(left, top)
                    found.append((face.fer_box(gray.shape), face if self.analyzer.align else None))
                continue
            boxes = local.detect(window)
            if boxes:
                hit = boxes[0]
                found.append((Box(hit.x + left, hit.y + top, hit.w, hit.h), None))
        # Windows of neighbouring tracks can find the same face twice: keep one box per face.
        kept = suppress_overlaps([box for box, _ in found], self.analyzer.detector.settings.overlap)
        return [next(item for item in found if item[0] == box) for box in kept]


def _size_of(shape: tuple[int, ...] | None) -> list[int] | None:
    """A frame's size as JSON: ``[height, width]`` (a gray frame's shape), or None."""
    return None if shape is None else [int(side) for side in shape]


def _local_detector(detector: Detector, box: Box) -> Detector:
    # Sizes are rounded to 16 px so that a face whose box wobbles by a few pixels per frame keeps
    # using the same detector (each Haar detector loads the cascade, about 15 ms).
    size = max(32, round(max(box.w, box.h) / 16) * 16)
    if isinstance(detector, YuNetDetector):
        # A window is not a photo: its face is expected, so the rules for photos that are one face stay off.
        settings = dataclasses.replace(detector.settings, min_face=max(20, int(size * 0.7)), photos=False)
        return _cached_yunet(settings)
    return _cached_detector(
        dataclasses.replace(detector.settings, min_face=max(20, int(size * 0.7)), max_face=int(size * 1.4))
    )


@functools.lru_cache(maxsize=32)
def _cached_detector(settings: DetectorSettings) -> FaceDetector:
    """One detector per (rounded) face size, at most 32 kept."""
    return FaceDetector(settings)


@functools.lru_cache(maxsize=32)
def _cached_yunet(settings: YuNetSettings) -> YuNetDetector:
    return YuNetDetector(settings)


def check_timestamp(timestamp: float) -> float:
    """``timestamp`` as a float; :class:`ArgumentError` unless it is a finite number: a NaN blended
    into a track would make every later reading of it NaN.

    An int too large for a float (``10**400``) was an ``OverflowError``; a NumPy float32 stayed one,
    so a step from a far-off earlier frame overflowed with a RuntimeWarning. None (no time at hand)
    was a bare ValueError that did not say what to pass.
    """
    if not isinstance(timestamp, bool) and isinstance(timestamp, numbers.Real):
        try:
            seconds = float(timestamp)
        except OverflowError:
            seconds = math.inf
        if math.isfinite(seconds):
            return seconds
    raise ArgumentError(
        f"a frame's timestamp must be a finite number of seconds, got {timestamp!r:.60}; pass when the frame "
        f"was taken on a steady clock, e.g. stream.process(frame, time.monotonic()){_datetime_hint(timestamp)}"
    )


def _datetime_hint(timestamp: object) -> str:
    """How to pass a ``datetime`` (the likeliest clock to reach for besides a number)."""
    if isinstance(timestamp, datetime.datetime):
        return ", or a datetime's .timestamp()"
    return ""


def _check_analyzer(analyzer: object) -> None:
    """Refuse what cannot be an :class:`Analyzer` at once: None failed at ``analyzer.classifier``
    with a bare AttributeError, and a model's path there is a likely slip. What has an analyzer's
    parts (a subclass, a stand-in) is taken as one."""
    if not all(hasattr(analyzer, part) for part in ("classifier", "detector", "locate", "classify")):
        raise ArgumentError(
            f"StreamAnalyzer needs an Analyzer, got {type(analyzer).__name__}; pass moodtape.Analyzer(), "
            "or moodtape.Analyzer(classifier=moodtape.load_classifier('model.onnx')) for another model"
        )


def _check_detect_every(detect_every: object) -> None:
    """Raise :class:`ArgumentError` unless ``detect_every`` is a whole number of frames, 1 or more:
    1.5 was taken (detection on no fixed schedule), "2" was a bare TypeError."""
    try:
        whole = None if isinstance(detect_every, bool) else operator.index(detect_every)  # type: ignore[arg-type]
    except TypeError:
        whole = None
    if whole is None or whole < 1:
        raise ArgumentError(f"detect_every must be a whole number of frames, at least 1, got {detect_every!r:.40}")


def _check_time_constant(time_constant: float) -> None:
    """Raise :class:`ArgumentError` unless ``time_constant`` is a finite number of seconds, 0 or more.

    A negative or NaN one turned smoothing off without a word (as 0 does), an infinite one froze
    every track at its first reading, and a string failed later in a comparison (a bare TypeError).
    """
    if isinstance(time_constant, bool) or not isinstance(time_constant, numbers.Real):
        raise ArgumentError(f"time_constant must be a number of seconds, got {time_constant!r}")
    if not (math.isfinite(time_constant) and time_constant >= 0):
        raise ArgumentError(f"time_constant must be a finite number of seconds, 0 or more, got {time_constant!r}")


def _gray_frame(frame: ImageSource, color_order: str, max_pixels: int) -> npt.NDArray[np.uint8]:
    """``frame`` as the gray pixels detection reads (a gray uint8 array as it is, not copied).

    A gray uint8 frame bypassed :func:`load_image` and its checks, so it alone was taken empty
    (``[]`` where a colour one is an ImageError) or past the analyzer's pixel limit (a 48-megapixel
    frame was searched, not refused as :func:`moodtape.analyze` refuses it).
    """
    return load_image(frame, gray=True, color_order=color_order, max_pixels=max_pixels)

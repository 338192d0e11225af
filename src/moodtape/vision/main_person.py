"""Which face in a stream is the person using the app, held steadily from frame to frame.

A webcam stream's live mood is that person's, not a blend of everyone in view: with the mood
weighted by face area × confidence over all faces, a happy bystander at the side at 0.8× the user's
size changed the live mood on 32 % of the frames they were in (Yale faces, docs/benchmarks.md
"Live streams with real faces"). So one tracked face is the *main person*:

* at first, and again once their track has expired, the most *prominent* face: the largest, with a
  face off to the side counting for less (its side × (1 − ``OFF_CENTRE_WEIGHT`` × its centre's
  distance from the frame's centre, as a share of the half-diagonal));
* held while their track lives, through frames in which the detector misses them;
* handed over only to a face clearly more prominent (``CLEARLY_MORE`` × theirs: above the 7–15 %
  that a still face's box changes between frames) for ``TAKEOVER_SECONDS``, as when another person
  sits down in front of the camera. A bystander passing behind, or leaning in for a moment, never
  takes the mood.

Box sides jitter by about ±7.5 % a frame, so both rules are read through that noise: each track's
prominence is smoothed over ``PROMINENCE_TIME_CONSTANT`` (by the time between frames, as the
probabilities are), and a challenger starts over only once it has been below the bar for
``LAPSE_SECONDS``, not at its first frame below. Compared frame by frame, and started over at any
frame below, a newcomer 1.25× as prominent took a median 9.2 s to take over (p90 25 s) and one
1.2× as prominent took over within a minute in 18 % of tries (``CLEARLY_MORE`` in every frame for
1 s is rare when each frame is a draw); now 1.25× takes a median 1.5 s (p90 1.7 s), 1.2× 2.9 s,
and a bystander 1.1× as prominent still never takes over (10 frames a second, boxes drawn ±7.5 %).

:class:`MainPerson` puts that face first in the frame's list; the others keep their order. A frame
that misses the main person while their track lives, but finds others tracked since before, is
led by their track's last reading (:func:`held_first`): the bystander's face never gives the live mood.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final

from moodtape.errors import ArgumentError
from moodtape.types import Face
from moodtape.vision.stream_state import MOST_COUNT, shown

#: How much less a face at the frame's corner counts than one of the same size at its centre.
OFF_CENTRE_WEIGHT: Final[float] = 0.5
#: A challenger must be this many times as prominent as the main person (as ``CLEARLY_LARGER`` in
#: calibration: a still face's box side changes by up to 15 % between frames).
CLEARLY_MORE: Final[float] = 1.2
#: ... for this long: longer than a bystander leaning in for a moment.
TAKEOVER_SECONDS: Final[float] = 1.0
#: Each track's prominence is smoothed with this time constant (seconds): a box's ±7.5 % jitter
#: between frames shrinks to about ±3 %, while a face coming closer counts in full after ~1 s.
PROMINENCE_TIME_CONSTANT: Final[float] = 0.3
#: A challenger starts over once it has been below the bar this long (seconds), not at its first
#: frame below: jitter that dips below it for a frame or two does not cost the whole second.
LAPSE_SECONDS: Final[float] = 0.3


def prominence(face: Face, shape: tuple[int, ...]) -> float:
    """How much ``face`` looks like the person at the camera: its box side, less off centre."""
    height, width = shape[:2]
    half_diagonal = math.hypot(width, height) / 2 or 1.0
    off_centre = math.hypot(face.box.x + face.box.w / 2 - width / 2, face.box.y + face.box.h / 2 - height / 2)
    return max(face.box.w, face.box.h) * (1.0 - OFF_CENTRE_WEIGHT * min(1.0, off_centre / half_diagonal))


@dataclass
class MainPerson:
    """The main person's track and the face that may be taking over (see the module docstring).

    Attributes:
        track_id: the main person's track, or ``None`` before any face.
        challenger: the track clearly more prominent than the main person since ``challenger_since``.
        challenger_since: when (stream seconds) ``challenger`` first was.
        below_since: when ``challenger`` last fell below the bar, ``None`` while it is above it.
        smoothed: each live track's smoothed prominence and when it was last updated.
    """

    track_id: int | None = None
    challenger: int | None = None
    challenger_since: float = 0.0
    below_since: float | None = None
    smoothed: dict[int, tuple[float, float]] = field(default_factory=dict)

    def order(self, faces: list[Face], shape: tuple[int, ...], live: set[int], timestamp: float) -> list[Face]:
        """``faces`` (smoothed, with track ids) with the main person's first, when in this frame.

        Args:
            shape: the frame's shape, for how central each face is.
            live: the ids of the tracks that are still alive (seen within the smoother's ``max_age``).
            timestamp: this frame's time in seconds.
        """
        self._smooth(faces, shape, live, timestamp)
        if not faces:
            self._lapse(timestamp)
            return faces
        ranked = sorted(faces, key=self._prominence, reverse=True)
        main = next((face for face in faces if face.track_id == self.track_id), None)
        if main is None:
            if self.track_id not in live:  # gone: the most prominent face is the person now
                self.track_id, self.challenger, self.below_since = ranked[0].track_id, None, None
                main = ranked[0]
            else:  # missed in this frame only: they stay the main person, not in this frame's list
                return faces
        else:
            main = self._hand_over(main, ranked, timestamp)
        return [main, *(face for face in faces if face is not main)]

    def _prominence(self, face: Face) -> float:
        """``face``'s smoothed prominence (:meth:`_smooth` has seen it in this frame)."""
        return self.smoothed[_track(face)][0]

    def _smooth(self, faces: list[Face], shape: tuple[int, ...], live: set[int], timestamp: float) -> None:
        """Blend each face's prominence into its track's; forget the tracks that have expired.

        The blend weight depends on the time since the track's last frame, so it behaves alike at 5
        or 30 frames a second; a step back in time moves nothing, a track seen first starts at its
        face's value.
        """
        self.smoothed = {track: value for track, value in self.smoothed.items() if track in live}
        for face in faces:
            now = prominence(face, shape)
            before = self.smoothed.get(_track(face))
            if before is not None:
                weight = 1.0 - math.exp(-max(0.0, timestamp - before[1]) / PROMINENCE_TIME_CONSTANT)
                now = before[0] + weight * (now - before[0])
            self.smoothed[_track(face)] = (now, timestamp)

    def _hand_over(self, main: Face, ranked: list[Face], timestamp: float) -> Face:
        """``main``, or the most prominent other face once it has been clearly more prominent for
        ``TAKEOVER_SECONDS`` (with lapses shorter than ``LAPSE_SECONDS``)."""
        top = next((face for face in ranked if face is not main), None)
        if top is None or self._prominence(top) < CLEARLY_MORE * self._prominence(main):
            self._lapse(timestamp)
            return main
        if self.challenger != top.track_id or timestamp < self.challenger_since:
            self.challenger, self.challenger_since = top.track_id, timestamp
        self.below_since = None
        if timestamp - self.challenger_since < TAKEOVER_SECONDS:
            return main
        self.track_id, self.challenger = top.track_id, None
        return top

    def _lapse(self, timestamp: float) -> None:
        """No face is clearly more prominent in this frame: the challenger starts over once that has
        lasted ``LAPSE_SECONDS``."""
        if self.challenger is None:
            return
        if self.below_since is None or timestamp < self.below_since:
            self.below_since = timestamp
        if timestamp - self.below_since >= LAPSE_SECONDS:
            self.challenger, self.below_since = None, None

    def state(self) -> list[Any]:
        """``[track_id, challenger, challenger_since, below_since, [[track, prominence, time], ...]]``,
        JSON-able (see :meth:`restore`)."""
        smoothed = [[track, value, seen] for track, (value, seen) in self.smoothed.items()]
        return [self.track_id, self.challenger, self.challenger_since, self.below_since, smoothed]

    def restore(self, state: object) -> None:
        """Take over :meth:`state`'s values; ``None`` (a state saved before there was a main
        person) starts with none.

        Raises:
            moodtape.errors.ArgumentError: ``state`` is not in the shape :meth:`state` gives (a
                ``DataError`` and a ``ValueError``).
        """
        if state is None:
            self.track_id, self.challenger, self.challenger_since, self.below_since = None, None, 0.0, None
            self.smoothed = {}
            return
        if not isinstance(state, list | tuple) or len(state) != 5 or not isinstance(state[4], list | tuple):
            raise ArgumentError(f"not a main-person state: {shown(state, 80)}")
        try:
            track_id, challenger = _optional_id(state[0]), _optional_id(state[1])
            times = (float(state[2]), None if state[3] is None else float(state[3]))
            smoothed = {_id(track): (float(value), float(seen)) for track, value, seen in state[4]}
        except (TypeError, ValueError, OverflowError) as exc:
            raise ArgumentError(f"not a main-person state: {exc}") from None
        numbers = [times[0], *(t for t in times[1:] if t is not None), *(v for pair in smoothed.values() for v in pair)]
        if not all(math.isfinite(number) for number in numbers):
            raise ArgumentError("not a main-person state: its times and prominences must be finite")
        self.track_id, self.challenger, self.challenger_since, self.below_since = track_id, challenger, *times
        self.smoothed = smoothed


def held_first(
    ordered: list[Face], main_track: int | None, held: Callable[[int, list[Face]], Face | None]
) -> list[Face]:
    """``ordered`` (from :meth:`MainPerson.order`), led by the main person's held face when this
    frame missed them but found others.

    A frame in which even a full search misses the person at the camera (a hand over the face, a
    turn away) while their track lives would otherwise come with another face first, and that face
    would give the live mood for the frame: a bystander's. ``held(track, faces)`` gives the track's
    last box and smoothed reading (``FaceSmoother.held_face``), which leads until the track expires,
    or ``None`` when one of ``faces`` may be the person themselves on a new track. A frame with no
    face stays empty: the person may have left. The held face comes marked ``held`` (its JSON says
    so, and the page draws it apart and leaves it out of the count of faces).
    """
    if not ordered or main_track is None or any(face.track_id == main_track for face in ordered):
        return ordered
    face = held(main_track, ordered)
    # Marked held: its box is where the person was, not where this frame found anyone.
    return ordered if face is None else [dataclasses.replace(face, held=True), *ordered]


def _track(face: Face) -> int:
    """``face``'s track id (faces from a stream's smoother all have one; ``-1`` stands for none)."""
    return -1 if face.track_id is None else face.track_id


def _id(value: object) -> int:
    # Bounded as the tracks' own ids are: a larger one could not be written back by state().
    if isinstance(value, bool) or not isinstance(value, int) or abs(value) > MOST_COUNT:
        raise ValueError(f"a track id must be a whole number, at most {MOST_COUNT}, got {shown(value)}")
    return value


def _optional_id(value: object) -> int | None:
    return None if value is None else _id(value)

"""A stream's saved state read back, for :meth:`StreamAnalyzer.restore` and :meth:`FaceSmoother.restore`.

A state comes from :meth:`StreamAnalyzer.state`, often through JSON (the web app keeps it in Redis
so that instances can take turns on one stream), or from a program that saved it. Anything else
(None, a list, the JSON text itself, a smoother's state given to a stream, a hand-edited row) was a
bare ``ValueError`` quoting Python's own words ("'NoneType' object is not subscriptable", "'frame'"),
or was taken: a track id of 1.7, a box of negative width, a frame count of -3, or a ``next_id`` at
or under a track's id, after which the next new face shared that track's id. Every part is now
checked here, and a state refused is an :class:`~moodtape.errors.ArgumentError` (a ``DataError``,
still a ``ValueError``) naming the part and saying what to pass; nothing is taken from it. Whole
numbers are bounded (ids and the frame count by :data:`MOST_COUNT`, pixels by :data:`MOST_PIXELS`):
``next_id = 10**5000`` was taken, and ``json.dumps(state())`` then raised Python's "Exceeds the limit
(4300 digits)"; a refused value is quoted by :func:`shown`, which cannot fail on such a number.

Not refused, on purpose: keys this version does not know (an instance of a later version adds them
mid-deploy), and the keys a state from an earlier version lacks (``first_seen``, ``main``, ``shape``,
``main_shape``): such a state restores as it always did. Nor a state saved on another emotion model:
it holds boxes and smoothed readings over moodtape's seven labels, which the new model's readings
replace as the smoothing goes (95 % within 1.8 s), and during a rollout instances on both models
take turns on one stream.
"""

from __future__ import annotations

import math
import numbers
import reprlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from moodtape.emotions import EMOTIONS
from moodtape.errors import ArgumentError
from moodtape.types import Box

#: What a caller of ``StreamAnalyzer.restore`` should pass.
STREAM_HOW = "pass what StreamAnalyzer.state() returned, or json.loads() of its JSON"
#: What a caller of ``FaceSmoother.restore`` should pass.
SMOOTHER_HOW = "pass what FaceSmoother.state() returned, or json.loads() of its JSON"
#: The most a track id, ``next_id`` or frame count may be: far beyond what a stream counts to (2**53
#: frames at 1,000 a second last 285,000 years), and exact in any JSON reader, JavaScript's included.
MOST_COUNT = 2**53
#: The most a box's corner or side, or a frame's side, may be in pixels (OpenCV's int).
MOST_PIXELS = 2**31 - 1
#: How much of a refused value a message quotes.
SHOWN_WIDTH = 60


class _ShortRepr(reprlib.Repr):
    """``reprlib`` with integers too long to write out (over 4,300 digits Python refuses, with a
    plain ValueError) said by their size; reprlib's own ``repr_int`` calls ``repr`` and fails."""

    def repr_int(self, x: int, level: int) -> str:
        if x.bit_length() > 200:
            return f"{'-' if x < 0 else ''}<a {math.floor(x.bit_length() * math.log10(2)) + 1}-digit integer>"
        return super().repr_int(x, level)


_SHORT = _ShortRepr()


def shown(value: object, width: int = SHOWN_WIDTH) -> str:
    """``repr(value)`` cut to ``width`` characters for a message; never fails (``10**5000``, or a
    list holding it, made ``f"{value!r:.60}"`` raise Python's ValueError instead of the refusal)."""
    try:
        return repr(value)[:width]
    except Exception:  # a huge integer inside; an object whose __repr__ fails
        try:
            return _SHORT.repr(value)[:width]
        except Exception:
            return f"a {type(value).__name__}"


@dataclass(frozen=True)
class SavedTrack:
    """One track of a saved state, checked: its id, last box, smoothed probabilities (7, in
    :data:`~moodtape.emotions.EMOTIONS` order) and when it was first and last seen (seconds)."""

    track_id: int
    box: Box
    probabilities: npt.NDArray[np.float64]
    last_seen: float
    first_seen: float


class StateReader:
    """Checks the parts of one saved state; its errors say whose state it is not and what to pass.

    Args:
        what: the state's owner in messages ("stream", "smoother").
        how: what to pass instead (:data:`STREAM_HOW`, :data:`SMOOTHER_HOW`).
    """

    def __init__(self, what: str, how: str) -> None:
        self.what, self.how = what, how

    def refuse(self, problem: str) -> ArgumentError:
        """The error for a state whose ``problem`` is said."""
        return ArgumentError(f"not a {self.what} state: {problem}; {self.how}")

    def mapping(self, state: object, keys: Sequence[str]) -> Mapping[str, Any]:
        """``state`` when it is a dict holding ``keys``: JSON text, None or a list is the likeliest slip."""
        if isinstance(state, str | bytes | bytearray):
            raise ArgumentError(f"not a {self.what} state: got JSON text, not the dict it holds; pass json.loads(text)")
        if not isinstance(state, Mapping):
            raise self.refuse(f"got {type(state).__name__}, not a dict")
        missing = [key for key in keys if key not in state]
        if missing:
            needed = ", ".join(repr(key) for key in keys)
            raise self.refuse(
                f"it has no {' or '.join(repr(key) for key in missing)} (a {self.what} state has {needed})"
            )
        return state

    def whole(self, value: object, name: str, least: int, most: int = MOST_COUNT) -> int:
        """``value`` when it is a whole number from ``least`` to ``most`` (not a bool, not 2.0)."""
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < least:
            raise self.refuse(f"{name} must be a whole number, {least} or more, got {shown(value)}")
        if int(value) > most:
            raise self.refuse(f"{name} must be a whole number, at most {most}, got {shown(value)}")
        return int(value)

    def seconds(self, value: object, name: str) -> float:
        """``value`` as seconds when it is a finite number: a NaN or infinite time breaks every later frame."""
        if not isinstance(value, bool) and isinstance(value, numbers.Real) and math.isfinite(number := _float(value)):
            return number
        raise self.refuse(f"{name} must be a finite number of seconds, got {shown(value)}")

    def row(self, value: object, name: str, length: int, parts: str) -> Sequence[Any]:
        """``value`` when it is a list (or tuple) of ``length`` items, said as ``parts``."""
        if not isinstance(value, list | tuple) or len(value) != length:
            raise self.refuse(f"{name} must be {parts}, got {shown(value)}")
        return value

    def box(self, value: object, name: str) -> Box:
        """``value`` as a :class:`Box`: four whole numbers, a corner not left of or above the frame,
        a side of at least a pixel."""
        parts = self.row(value, name, 4, "[x, y, width, height]")
        try:
            x, y = (self.whole(v, name, 0, MOST_PIXELS) for v in parts[:2])
            w, h = (self.whole(v, name, 1, MOST_PIXELS) for v in parts[2:])
        except ArgumentError:
            raise self.refuse(
                f"{name} must be [x, y, width, height] in whole pixels, x and y 0 or more, width and height "
                f"1 or more, each at most {MOST_PIXELS}, got {shown(value)}"
            ) from None
        return Box(x, y, w, h)

    def probabilities(self, value: object, name: str) -> npt.NDArray[np.float64]:
        """``value`` as the 7 smoothed probabilities: finite, none negative, not all 0 (a NaN was
        taken, and every later frame of the stream then failed in ``Face()``)."""
        if (
            isinstance(value, list | tuple)
            and len(value) == len(EMOTIONS)
            and all(not isinstance(v, bool) and isinstance(v, numbers.Real) for v in value)
        ):
            values = np.asarray([_float(v) for v in value], dtype=np.float64)  # too large for a float: inf
            if np.all(np.isfinite(values)) and np.all(values >= 0) and values.sum() > 0:
                return values
        raise self.refuse(
            f"{name} must be {len(EMOTIONS)} finite numbers, one per emotion ({', '.join(EMOTIONS)}), none "
            f"negative and not all 0, got {shown(value)}"
        )

    def tracks(self, state: Mapping[str, Any]) -> tuple[list[SavedTrack], int]:
        """The tracks of ``state`` (a dict holding ``next_id`` and ``tracks``) and its ``next_id``.

        Each row is ``[track id, box, probabilities, last seen]``; ``first_seen`` (optional: a state
        from before it counts each track first seen when last seen) pairs ids with times. Ids are
        unique and ``next_id`` is above each, as :meth:`FaceSmoother.state` gives them: a new face
        takes ``next_id``, so one at or under a track's id gave two faces one id.
        """
        rows = state["tracks"]
        if not isinstance(rows, list | tuple):
            raise self.refuse(
                f"'tracks' must be a list of [track id, box, probabilities, last seen], got {shown(rows)}"
            )
        first_seen = self._first_seen(state.get("first_seen"))
        tracks: list[SavedTrack] = []
        for index, value in enumerate(rows):
            name = f"tracks[{index}]"
            row = self.row(value, name, 4, "[track id, box, probabilities, last seen]")
            track_id = self.whole(row[0], f"{name}'s id", 1)
            if any(track.track_id == track_id for track in tracks):
                raise self.refuse(f"{name}'s id {track_id} is another track's too: each track has its own id")
            box, probabilities = (
                self.box(row[1], f"{name}'s box"),
                self.probabilities(row[2], f"{name}'s probabilities"),
            )
            last_seen = self.seconds(row[3], f"{name}'s last seen")
            tracks.append(SavedTrack(track_id, box, probabilities, last_seen, first_seen.get(track_id, last_seen)))
        next_id = self.whole(state["next_id"], "'next_id'", 1)
        highest = max((track.track_id for track in tracks), default=0)
        if next_id <= highest:
            raise self.refuse(
                f"'next_id' ({next_id}) must be above every track's id ({highest} here): "
                "it is the id the next new face gets"
            )
        return tracks, next_id

    def _first_seen(self, value: object) -> dict[int, float]:
        if value is None:
            return {}
        if not isinstance(value, list | tuple):
            raise self.refuse(f"'first_seen' must be a list of [track id, seconds], got {shown(value)}")
        pairs = [self.row(pair, f"first_seen[{i}]", 2, "[track id, seconds]") for i, pair in enumerate(value)]
        return {
            self.whole(track, f"first_seen[{i}]'s id", 1): self.seconds(seen, f"first_seen[{i}]'s time")
            for i, (track, seen) in enumerate(pairs)
        }

    def size(self, value: object, name: str) -> tuple[int, int] | None:
        """A frame's size as :meth:`StreamAnalyzer.state` writes it (``[height, width]``), or None."""
        if value is None:
            return None
        row = self.row(value, name, 2, "[height, width] or null")
        try:
            return (self.whole(row[0], name, 1, MOST_PIXELS), self.whole(row[1], name, 1, MOST_PIXELS))
        except ArgumentError:
            raise self.refuse(
                f"{name} must be two whole numbers of pixels, 1 or more and at most {MOST_PIXELS}, got {shown(value)}"
            ) from None


def _float(value: numbers.Real) -> float:
    """``value`` as a float; infinite for an int too large for one (``10**400``), not an OverflowError."""
    try:
        return float(value)
    except OverflowError:
        return math.inf

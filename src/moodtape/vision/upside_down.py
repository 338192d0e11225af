"""Upside-down and sideways faces that YuNet finds as they are, with the landmarks of an upright face.

A phone photo turned by 180° (or 90°) with no EXIF to say so holds turned heads. YuNet finds many of
them as they are (86 % of Yale's photos turned by 180°, 11–13 % of those turned by 90° or 270°), at
scores of 0.50–0.89, with landmarks that claim an upright face: the eyes "above" the mouth, on what
is really the chin. Because a face was found, the quarter-turn search of
:mod:`moodtape.vision.rolled` (which runs only for photos with no face) never looked, and the
classifier read a turned crop: Yale turned by 180° was read right 20.1 % of the time.

The landmarks' places in YuNet's box, the face's score and the classifier's confidence all overlap
between upright and upside-down faces. The face's own surroundings tell: a window around it, searched
as it is and turned. For an upright face the turned window never scored higher (Yale's photos as
they are, rolled ±20° and cropped close: 536 faces); for an upside-down one the window turned by 180°
scores 0.92–0.95 and the window as it is 0–0.88 (higher turned in 114 of 115). So a face is taken
as turned when the surest face of the window turned by :data:`TURNS` is sure
(:data:`~moodtape.vision.rolled.ROLLED_SCORE`) and beats the window as it is by :data:`MARGIN`; it
is then replaced by that face, turned back into the photo's pixels and marked with its turn, so that
the classifier's crop is levelled along its real eyes (:func:`moodtape.vision.align.aligned_crop`).
Yale's photos turned by 180° are read right 84.3 % (upright 85.8 %), by 90° · 270° 85.8 · 85.1 %
(75.4 · 76.1 % with the quarter-turn search alone); 1 of 1,616 FER2013 faces in upright and rolled
scenes was turned falsely (``benchmarks.upside_down``; docs/benchmarks.md).

Only faces YuNet scored under :data:`CHECK_BELOW` are checked (turned faces found as they are scored
at most 0.89; most upright faces of a clean photo score over 0.9, so most photos pay nothing), and a
photo's :data:`MOST_CHECKED` largest at most. Each check is four YuNet passes on a
:data:`WINDOW`-pixel square: about 8–11 ms CPU a face. A stream's frames are never checked (the
pipeline asks for the turned searches on photos only).

A turned face's box is not the box it replaces: the faces come back re-sorted, largest first, and
two found faces that turn out to be one turned face are merged as YuNet's overlaps are (before,
5 of 29 two-face Yale photos turned by 180° came back out of size order).

Groups turned by 180°: a photo's search keeps faces scored 0.5–0.7 (upside-down faces score
0.50–0.89) only when none scores 0.7 or more, so a turned group's less sure faces were dropped before
they could be checked. Since session 28, once a face of the photo is found turned, the unsure faces
its search dropped (scored from 0.5, of the size it looked for, overlapping no kept face) are checked
too, within the same :data:`MOST_CHECKED`, and added only when a turned window confirms them; an
upright photo's checks are the same as before (1.41 a scene on the 100 seed-0 scenes, before and
after). Three Yale faces side by side (40 photos, 120 faces): 120 found upright before and after; turned
by 180° 69 → 101 found, 53 → 76 read right; no false face added on upright groups, scenes or 160
faceless pictures (as they are, turned, dim, dark and noisy). A crowd's unsure faces past the six
checked stay as found.

An upside-down face that scores under 0.5 in the photo's search (19 of those 120) was never seen.
Since session 30, once a face of the photo is found turned, the whole photo is searched once more
turned by that face's turn (the turn most of its turned faces share), as an upright photo is
(:func:`~moodtape.vision.rolled.turned_photo_faces`): there every head is upright and scores as
upright heads do. Turned groups 101 → 120 of 120 found, 76 → 89 read right; FER2013 scenes turned
by 180° (100, 263 faces) 141 → 205 found (with the same search after the quarter-turn search of
:mod:`moodtape.vision.rolled`), 1 false face before and after; upright scenes and 320 faceless
pictures (as they are, dim, dark and noisy, in four turns) never reach it. Only faces that overlap
none found already are added (see there why).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Final

import cv2
import numpy as np
import numpy.typing as npt

from moodtape.types import Box
from moodtape.vision.rolled import ROLLED_SCORE, Search, quarter_turn_back, turned_back, turned_photo_faces
from moodtape.vision.yunet import Landmarks, YuNetDetector, YuNetSettings

#: Faces YuNet scores at least this sure are not checked: upside-down faces found as they are scored
#: at most 0.888 (Yale turned by 180°) or 0.914 (the same, cropped close).
CHECK_BELOW: Final[float] = 0.9
#: The turns of the window tried, in degrees counter-clockwise (``np.rot90``).
TURNS: tuple[int, ...] = (180, 90, 270)
#: The turned window's face must beat the window as it is by this much.
MARGIN: Final[float] = 0.05
#: The window's side in pixels; it shows the face's FER-framed square :data:`CONTEXT` times over.
WINDOW: Final[int] = 160
CONTEXT: Final[float] = 2.0
#: At most this many faces of a photo (the largest) are checked.
MOST_CHECKED: Final[int] = 6
#: A face in the window counts when its box's centre lies within this share of the window's side
#: of the window's centre: the face being checked, not a neighbour.
CENTRED: Final[float] = 0.25

Gray = npt.NDArray[np.uint8]


def righted(
    detector: YuNetDetector,
    gray: Gray,
    found: list[tuple[Box, Landmarks]],
    left_out: Sequence[Landmarks] = (),
    search: Search | None = None,
) -> list[tuple[Box, Landmarks]]:
    """``found`` (faces YuNet found in ``gray`` as it is, largest first) with each sideways or
    upside-down face replaced by the same face found turned, in ``gray``'s pixels, marked with its
    turn (``turned`` 90, 180 or 270); and each face of ``left_out`` (unsure faces the photo's search
    dropped beside a sure one) that a turned window shows to be turned, added.

    At most :data:`MOST_CHECKED` faces are checked: the largest unsure faces of ``found``, then, only
    when one of those was turned (the photo itself is turned, so an upright photo pays nothing more),
    the surest of ``left_out``. A face of ``left_out`` that is not turned stays left out: the photo's
    search judged it as before. A turned face's box is not the box it replaces, so the faces come
    back re-sorted largest first, and two faces that turn out to be the same turned face are merged
    as YuNet's own overlaps are (the surer one kept).

    ``search``: the rules ``gray`` was searched by, when it is a dark or backlit photo's brightened
    copy (:func:`~moodtape.vision.dark_photos.copy_faces`); the whole photo's turned search counts
    faces by them (:func:`~moodtape.vision.rolled.turned_photo_faces`).
    """
    checked = 0
    faces: list[Landmarks] = []
    for _, face in found:
        if face.score < CHECK_BELOW and checked < MOST_CHECKED:
            checked += 1
            faces.append(_turned_face(detector, gray, face) or face)
        else:
            faces.append(face)
    if any(face.turned for face in faces):  # the photo itself is turned: its unsure faces may be too
        for face in left_out[: max(0, MOST_CHECKED - checked)]:
            turned = _turned_face(detector, gray, face)
            if turned is not None:
                faces.append(turned)
        faces.extend(turned_photo_faces(detector, gray, _photo_turn(faces), faces, search))
    return detector.largest_first(gray.shape, faces)


def _photo_turn(faces: Sequence[Landmarks]) -> int:
    """The turn most of the turned ``faces`` were found in (the surest face's on a tie): the photo's."""
    turns = [round(face.turned) for face in faces if face.turned]
    surest = max((face for face in faces if face.turned), key=lambda face: face.score)
    return max(set(turns), key=lambda degrees: (turns.count(degrees), degrees == round(surest.turned)))


def _turned_face(detector: YuNetDetector, gray: Gray, face: Landmarks) -> Landmarks | None:
    """The face around ``face`` as found in its window turned by 180°, in ``gray``'s pixels, when that
    is surer than the window as it is (see the module docstring); ``None`` otherwise."""
    window, scale, origin = _window(gray, face)
    searcher = _window_detector(detector.settings)
    upright = _centred_face(searcher, window)
    best: tuple[int, Landmarks] | None = None
    for degrees in TURNS:
        turned = _centred_face(searcher, np.ascontiguousarray(np.rot90(window, degrees // 90)))
        if turned is not None and (best is None or turned.score > best[1].score):
            best = (degrees, turned)
    if best is None or best[1].score < ROLLED_SCORE:
        return None
    if upright is not None and best[1].score < upright.score + MARGIN:
        return None
    return _back_from_turned_window(best[1], best[0], scale, origin)


@functools.lru_cache(maxsize=4)
def _window_detector(settings: YuNetSettings) -> YuNetDetector:
    """A detector of its own for the windows: OpenCV's YuNet reallocates when its input size changes,
    so the windows, all :data:`WINDOW` pixels, keep theirs apart from the photos' searches."""
    return YuNetDetector(settings)


def _window(gray: Gray, face: Landmarks) -> tuple[Gray, float, tuple[float, float]]:
    """The :data:`WINDOW`-pixel square around ``face`` (edges replicated past the photo), the scale
    from photo to window and the photo point at the window's origin."""
    cx, cy, side = face.fer_centre_and_side()
    scale = WINDOW / max(1.0, side * CONTEXT)
    origin = (cx - WINDOW / 2 / scale, cy - WINDOW / 2 / scale)
    matrix = np.array([[scale, 0.0, -origin[0] * scale], [0.0, scale, -origin[1] * scale]])
    # warpAffine has no area averaging (asked for INTER_AREA, it samples linearly): a large face's
    # window is sampled, as it was for every number in the module docstring.
    window = cv2.warpAffine(gray, matrix, (WINDOW, WINDOW), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return np.ascontiguousarray(window, dtype=np.uint8), scale, origin


def _centred_face(detector: YuNetDetector, window: Gray) -> Landmarks | None:
    """The surest face YuNet finds near the centre of ``window`` (searched as it is), or ``None``."""
    reach = CENTRED * WINDOW
    centred = [
        face
        for face in detector.raw_faces(window)
        if abs(face.box.x + face.box.w / 2 - WINDOW / 2) <= reach
        and abs(face.box.y + face.box.h / 2 - WINDOW / 2) <= reach
    ]
    return max(centred, key=lambda face: face.score, default=None)


def _back_from_turned_window(face: Landmarks, degrees: int, scale: float, origin: tuple[float, float]) -> Landmarks:
    """``face``, found in the window turned by ``degrees`` counter-clockwise (``np.rot90``), in the
    photo's pixels: turned back into the window (:func:`~moodtape.vision.rolled.quarter_turn_back`),
    then from the window to the photo (``origin`` plus window pixels over ``scale``)."""
    into_window = quarter_turn_back(WINDOW, WINDOW, degrees)
    back = np.hstack([into_window[:, :2] / scale, into_window[:, 2:] / scale + np.array([[origin[0]], [origin[1]]])])
    return turned_back(face, back, float(degrees))

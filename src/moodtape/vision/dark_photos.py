"""Very dark photos: where nothing is found, look again in a locally brightened copy.

A photo taken in a dark room without flash holds a face a few gray levels deep. The classifier copes
(each face's crop is stretched to the full range, :mod:`moodtape.vision.exposure`), but YuNet misses
many such faces: Yale's photos at a tenth of the light with sensor noise (``benchmarks.real_photos``,
``very-dark``) were found 89.6 % of the time, against 100 % as they are. A photo that is dark all
over (nine tenths of it under :data:`DARK_BELOW`: a lamp, a window or a screen in the room does not
count) with no face found is searched once more in a copy brightened by contrast-limited adaptive
equalisation (CLAHE), which lifts each region's own range: found 89.6 → 96.3 %, with a lamp
covering 2 % of the photo 90.3 → 96.3 % (judged on the brightest 1 %, the lamp had switched the
search off), turned by 180° 71.6 → 82.8 % (the turned searches look in the brightened copy too; since session
28 the brightened copy is searched turned by 180°, 90° and 270° by its own rule, see
:func:`turned_dark_faces`: 110 → 129 of 134 with ``benchmarks.user_photo_shapes``' seed). A
global stretch found 2 of the 14 missed faces, CLAHE 9. In 144 dark copies of 30 scikit-image
pictures (at 5, 10 and 25 % of the light, two noise seeds) and 18 lens-cap frames no false face came
of it (the one face found is the cameraman's own, in ``camera``). The faces found there are
classified in the photo's own pixels, as always.

Since session 29 a backlit photo (:func:`backlit`: a person in silhouette before a window, not dark
all over) with no face found is searched in the same brightened copy once, upright, for faces from
:data:`BACKLIT_SURE_FROM` only; since session 30, when that finds none, in the copy's exact turns too
(``turned_dark_faces(..., silhouette=True)``, by the same rule): Yale's photos at 12 % of the light
before a window, turned by 180° · 90°, found 114 · 114 → 134 · 134 of 134, at 5 % 24 · 24 →
106 · 105 (upright: 105); no false face in 240 faceless pictures in silhouette (20 pictures at
30, 12 and 5 % of their light, in four turns), before or after.

Only photos with no face found and dark all over pay for it: a CLAHE copy and one search of it at
the capped scale (no second copy, small faces or tiles: its faces are of the usual size). A 12-MP
dark faceless photo: 2.0 s CPU without the brightened search, 2.5 s with it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

import cv2
import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:  # yunet.py imports this module
    from moodtape.types import Box
    from moodtape.vision.yunet import Landmarks, YuNetDetector

#: A photo is dark all over when its :data:`PERCENTILE` lies under this gray level (a quarter of the range).
DARK_BELOW: Final[float] = 64.0
#: The percentile of the photo's gray levels that is judged: the 90th, not the brightest 1 %, so that
#: a lamp, a window or a screen in a dark room (up to a tenth of the photo) leaves it dark. Yale's
#: very dark photos: 90th percentile 22-28, 29 with a lamp covering 5 % of the photo; as they are: 225-255.
PERCENTILE: Final[float] = 90.0
#: CLAHE's clip limit and tile grid (OpenCV's defaults for photos).
CLIP_LIMIT: Final[float] = 2.0
GRID: Final[tuple[int, int]] = (8, 8)
#: A photo is backlit when at least :data:`BACKLIT_BRIGHT_SHARE` of it lies at or over
#: :data:`BACKLIT_BRIGHT_FROM` (a window, the sky: the light the camera exposed for) and at least
#: :data:`BACKLIT_DARK_SHARE` under :data:`DARK_BELOW` (the person before it).
BACKLIT_BRIGHT_FROM: Final[int] = 245
BACKLIT_BRIGHT_SHARE: Final[float] = 0.25
BACKLIT_DARK_SHARE: Final[float] = 0.15
#: The score from which a face of a backlit photo's brightened copy counts (sure faces count from
#: 0.7 elsewhere): the faces in silhouette the copy found scored 0.802 and more (Yale's photos,
#: the astronaut at 3-6 % of its light), a false one in skimage's ``hubble_deep_field`` at a quarter
#: of its light before a window, at 12 MP, 0.76; 0.78 lies halfway, 0.02 from each.
BACKLIT_SURE_FROM: Final[float] = 0.78
#: The exact turns the brightened copy is searched in when nothing is found in it upright, in degrees
#: counter-clockwise (``np.rot90``).
TURNS: Final[tuple[int, ...]] = (180, 90, 270)
#: The darkness is judged on every this-many-th pixel each way: a 12-MP photo's percentile otherwise
#: costs more than the judgement is worth.
STRIDE: Final[int] = 4

Gray = npt.NDArray[np.uint8]


def dark_all_over(gray: Gray) -> bool:
    """Whether nine tenths of ``gray`` lie under :data:`DARK_BELOW` (its :data:`PERCENTILE` does)."""
    sample = gray[::STRIDE, ::STRIDE]
    return sample.size > 0 and float(np.percentile(sample, PERCENTILE)) < DARK_BELOW


def backlit(gray: Gray) -> bool:
    """Whether ``gray`` is a person in silhouette before bright light (see :data:`BACKLIT_BRIGHT_SHARE`).

    Such a photo is not dark all over (the window is most of it), so the dark search never ran; yet
    the person is dark: Yale's photos at 12 % of the light before a glowing window twice their width
    and height were found 126 of 134 times, all 134 in the brightened copy. Only the copy's sure faces count
    (``detect_capped(..., filling=False)``), upright, from :data:`BACKLIT_SURE_FROM`: judging darkness
    on the 20th percentile instead (the brightened search in full) made half of 100 faceless pictures
    dark and added 3 false faces, a page of text in silhouette showed a 0.63 face filling the copy,
    and a starfield before a window, at 12 MP, a sure 0.76 face.
    """
    sample = gray[::STRIDE, ::STRIDE]
    if sample.size == 0:
        return False
    bright = float(np.count_nonzero(sample >= BACKLIT_BRIGHT_FROM)) / sample.size
    dark = float(np.count_nonzero(sample < DARK_BELOW)) / sample.size
    return bright >= BACKLIT_BRIGHT_SHARE and dark >= BACKLIT_DARK_SHARE


def brightened(gray: Gray) -> Gray:
    """``gray`` brightened region by region (CLAHE), to search, not to classify."""
    return np.asarray(cv2.createCLAHE(CLIP_LIMIT, GRID).apply(gray), np.uint8)


def copy_search(
    detector: YuNetDetector, bright: Gray, *, silhouette: bool = False
) -> tuple[list[tuple[Box, Landmarks]], list[Landmarks]]:
    """The faces of a brightened copy ``bright`` as its rules count them, and the unsure ones: the
    capped copy only; sure from 0.7 or a face filling the photo, or for a backlit photo's copy
    (``silhouette``) sure from :data:`BACKLIT_SURE_FROM` with no face filling the photo. Its turned
    searches count by the same rules (:func:`copy_faces`): a photo's rules found false faces in the
    copy (see :func:`backlit`).
    """
    found, unsure = detector.detect_capped(bright, filling=not silhouette)
    return [(box, face) for box, face in found if not silhouette or face.score >= BACKLIT_SURE_FROM], unsure


def copy_faces(detector: YuNetDetector, bright: Gray, *, silhouette: bool = False) -> list[tuple[Box, Landmarks]]:
    """:func:`copy_search`'s faces alone: how the copy's turned searches count them
    (:func:`turned_dark_faces`, :func:`~moodtape.vision.rolled.turned_photo_faces`)."""
    return copy_search(detector, bright, silhouette=silhouette)[0]


def turned_dark_faces(
    detector: YuNetDetector, bright: Gray, *, silhouette: bool = False
) -> list[tuple[Box, Landmarks]]:
    """The faces of a dark photo's brightened copy ``bright`` found in it turned exactly by
    :data:`TURNS` (a phone held upside down or sideways in the dark), in ``bright``'s pixels, marked
    with their turn; the turn whose surest face is surest wins, ``[]`` when none finds one.

    Each turn is searched as the upright brightened copy is (the capped copy; sure from 0.7, or a face
    filling the photo from 0.5), not from the 0.82 that the general turned search
    (:mod:`moodtape.vision.rolled`) asks of every photo: a dark face turned upright scores as a dark
    upright face does, 0.58-0.82 for the 24 of Yale's very dark photos turned by 180° that the
    general search missed. Like the general turned search, the turns are of a copy at most
    :data:`~moodtape.vision.rolled.COPY_SIDE` pixels long (a 12-MP dark faceless photo: +0.3 s, where
    full-size turns cost +1.3 s). When it finds nothing, the general turned search looks in ±30°
    copies only (:func:`~moodtape.vision.rolled.rolled_faces`, ``exact_turns``): its exact turns of
    the same copy found nothing this search missed.

    ``silhouette``: ``bright`` is a backlit photo's brightened copy (:func:`backlit`), whose faces count
    as they do upright: sure from :data:`BACKLIT_SURE_FROM`, no face filling the photo. Since session
    30: the copy was searched upright only, so a silhouette photo turned by 90° or 180° went unfound
    (the astronaut at 3.5-6 % of its light before a window), though turned upright its face scored
    0.82-0.91, as upright.
    """
    from moodtape.vision import rolled  # rolled.py builds on yunet.py

    small = rolled.shrunk(bright)
    best: list[Landmarks] = []
    for degrees in TURNS:
        turned, back = rolled.exactly_turned(small, bright.shape, degrees)
        found = copy_faces(detector, turned, silhouette=silhouette)
        if found and (not best or max(face.score for _, face in found) > max(face.score for face in best)):
            best = [rolled.turned_back(face, back, float(degrees)) for _, face in found]
    return detector.largest_first(bright.shape, best)

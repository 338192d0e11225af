"""Turned photos: look again in turned copies when nothing was found.

YuNet finds upright faces and faces rolled by up to about 30°; past that it misses many. A Yale
photo turned by 45° (a selfie taken with the head on one side, a phone held askew) was found 73–77 %
of the time and labelled right 30–35 %, against 100 % and 86 % upright (``benchmarks.yale_photos``).
So a photo in which no face is found is searched once more in two copies turned by ±30°, where
such a head is nearly upright. A face found there comes back in the photo's own pixels: its five
landmarks turned back, its box the FER-framed square around them, and its landmarks kept so that
the classifier's crop is levelled along the eyes (:func:`moodtape.vision.align.aligned_crop`),
whatever ``Analyzer.align`` says: the face is known to be rolled, and an upright crop of it is
what the classifier reads worst.

A photo turned by a quarter turn with nothing that says so (a screenshot of a sideways video call,
a phone photo whose EXIF was stripped) holds a head 90° off upright: 60° off in either ±30° copy,
where YuNet found Yale's such photos 11–13 % of the time. So the same search also looks in the
photo turned exactly (no interpolation) by 90°, 270° and 180° (:data:`EXACT_TURNS`), where such a
head is upright, and of all the copies the one whose surest face is surest wins. Yale's photos
turned by 90° · 270° (``benchmarks.quarter_turns``): found 12.7 · 11.2 % → 100 %, read right
1.5 % → 75.4 · 76.1 % (upright: 85.8 %); turned by 180°: found 85.8 → 100 %, right 9.0 → 20.9 %.
What YuNet finds as it is, with landmarks that claim an upright face (the 11–13 % of sideways
photos, 86 % of upside-down ones), is not for this search: since session 27 each such unsure face
is checked in a small window of its own turned by a quarter and a half turn
(:mod:`moodtape.vision.upside_down`; turned by 180°: right 20.1 → 84.3 %). Before that, at scores
(0.55–0.82) that overlap those of faces filling a photo, a rule that also searched turned a photo
whose faces all scored under
``ROLLED_SCORE`` read those right (sideways 85.8 %, upside down 71.6 %, rolled 45° 68–73 % rather
than 51–56 %), but it took turned "faces" over Yale's close-ups (cropped to 0.8 of the face: right
82.8 → 75.4 %, 6 of the 7 taken from the 180° copy misread) and cost every unsure face the turned
search, so it was not kept. On 80 faceless pictures (20
textures, scenes, text and noise in four turns) no false face came of the exact turns.

Each turned copy, canvas and all, is at most ``COPY_SIDE`` pixels on its longer side, searched
only for faces of the usual sizes (as a stream's frame: no small-face or tiled search), and only
sure faces count (``ROLLED_SCORE``). A photo with no face costs up to two YuNet passes more a copy
(the usual faces and a face filling it): CPU time of the whole turned search on a faceless
640 × 480 photo 41 ms with the ±30° copies alone, 63 ms with the exact turns (its own search:
35 ms); 96 → 133 ms on a 4000 × 3000 one (its own: 1.8 s). The exact turns turn one shrunk copy.
When an exact turn wins, the photo itself is turned, and that copy is searched once more with an
upright photo's rules (:func:`turned_photo_faces`, since session 30), so that a turned group keeps
the heads too small for the copies' search: three astronaut heads side by side (0.5-1×) turned by
90°, 180° or 270°, one found before, three now.

A head turned by 90° is 60° off upright in either ±30° copy, and YuNet's landmarks there still
claim level eyes, so its eye line cannot tell it from a head rolled 45–60°; its score can: the
surest such face among the Yale photos turned by 90° or 270° scored 0.806, the heads rolled 45°
mostly over 0.9, and in the copy turned by a quarter turn the same head scores about 0.93. At 0.82
a head rolled 60° is found 86–87 % of the time (31–32 % before), read right 45 % (4.5 % before).
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Iterator, Sequence
from typing import Final

import cv2
import numpy as np
import numpy.typing as npt

from moodtape.types import Box
from moodtape.vision.faces import overlap_ratio, scaled
from moodtape.vision.yunet import Landmarks, YuNetDetector, YuNetSettings

#: The turns tried, in degrees (counter-clockwise as OpenCV's): a head rolled 45° is 15° off upright in one.
ROLLS: Final[tuple[float, ...]] = (30.0, -30.0)
#: The exact turns tried too, in degrees counter-clockwise: a sideways or upside-down photo's head
#: is upright in one of them.
EXACT_TURNS: Final[tuple[int, ...]] = (90, 270, 180)
#: A face in a turned copy counts from this YuNet score (a sure upright face: 0.7). At 0.8 sideways
#: heads (turned 90°, 60° off in the copy) passed with level eyes claimed: 1 of Yale's 268 (15 with
#: the small-face search a first version ran in the copies), most of them misread.
ROLLED_SCORE: Final[float] = 0.82
#: The turned copies are at most this many pixels on their longer side: a rolled head
#: that a photo is taken of is large in it, and a full-size copy of a 12-MP photo costs seconds.
COPY_SIDE: Final[int] = 960

Gray = npt.NDArray[np.uint8]


def rolled_faces(detector: YuNetDetector, gray: Gray, *, exact_turns: bool = True) -> list[tuple[Box, Landmarks]]:
    """Faces found in ``gray`` turned by each of :data:`ROLLS` and (``exact_turns``) :data:`EXACT_TURNS`,
    in ``gray``'s pixels, largest first, each marked with the turn it was found in.

    The turn whose most confident face is surest wins; ``[]`` when none finds a sure face. When an
    exact turn wins, the photo's own faces in that turn are added (:func:`turned_photo_faces`) and
    all go through ``largest_first``, which merges overlapping faces as YuNet's own are (the surer
    kept), where a ±30° turn's faces are only sorted largest first, as before. A dark
    photo's brightened copy is searched without the exact turns: its turns were searched already
    (:func:`moodtape.vision.dark_photos.turned_dark_faces`, from 0.7 in the same ≤ :data:`COPY_SIDE`
    copy), and where it found nothing the exact turns at :data:`ROLLED_SCORE` found nothing either
    (134 such photos: 34 of 1,072 Yale photos made very dark, as they are and turned; 100 of 364
    faceless pictures).
    """
    search = _copy_detector(detector.settings)
    best: list[Landmarks] = []
    best_turn = 0.0
    for degrees, turned, back in _copies(gray, exact_turns=exact_turns):
        # frame=True: no search for small faces, which in a copy cost more than the copy's own search.
        found = [face for _, face in search.detect_landmarks(turned, frame=True) if face.score >= ROLLED_SCORE]
        if found and (not best or max(f.score for f in found) > max(f.score for f in best)):
            best, best_turn = [turned_back(face, back, degrees) for face in found], degrees
    if best_turn in EXACT_TURNS:  # the photo itself is turned: search it as an upright photo is
        # largest_first, not a plain sort: a face found again by the whole photo's search is merged.
        return detector.largest_first(gray.shape, best + turned_photo_faces(detector, gray, int(best_turn), best))
    located = [(face.fer_box(gray.shape), face) for face in best]
    return sorted(located, key=lambda item: item[0].w * item[0].h, reverse=True)


#: How a picture is searched upright (its faces, largest first): the rules a photo's copy was searched by.
Search = Callable[[Gray], list[tuple[Box, Landmarks]]]


def turned_photo_faces(
    detector: YuNetDetector,
    gray: Gray,
    degrees: int,
    beside: Sequence[Landmarks],
    search: Search | None = None,
) -> list[Landmarks]:
    """The faces of ``gray`` turned exactly by ``degrees`` (the photo's turn, which a face of it has
    shown), found as in an upright photo, in ``gray``'s pixels and marked with the turn: those that
    overlap none of the faces found already, ``beside``.

    ``search``: the rules ``gray`` was searched by upright, when not a photo's (``detector``'s
    ``detect_landmarks``): a dark or backlit photo's brightened copy counts its faces as it did
    upright (:mod:`moodtape.vision.dark_photos`). A photo's rules there (from 0.7, small faces,
    tiles, a face filling the photo) are the ones that added false faces to a backlit copy.

    In a photo known to be turned every head is. Upside down, many score under the 0.5 from which a
    photo's search sees any face, so no turned window looked at them (:mod:`moodtape.vision.upside_down`:
    19 of 120 faces of Yale groups turned by 180°), and the turned copies here keep faces of the usual
    size only (``frame=True``), so a group's far faces were lost. Turned upright they score as upright
    faces do, so the copy (:func:`shrunk`, at most :data:`COPY_SIDE`) is searched once with an upright
    photo's rules: sure faces from 0.7, small ones beside them. An upright photo never pays for it.

    Only new faces are added: a face found already keeps the landmarks it was found with. Where the
    copy's face replaced it when surer, Yale's close-ups turned by 180° (the face cut by the frame)
    were read right 78 → 72 of 134: cut by the frame, its landmarks framed the crop worse than a
    turned window's, where the edges are replicated.
    """
    turned, back = exactly_turned(shrunk(gray), gray.shape, degrees)
    found = [turned_back(face, back, float(degrees)) for _, face in (search or detector.detect_landmarks)(turned)]
    known = [face.fer_box(gray.shape) for face in beside]
    limit = detector.settings.overlap
    return [face for face in found if all(overlap_ratio(face.fer_box(gray.shape), box) <= limit for box in known)]


def _copies(gray: Gray, *, exact_turns: bool) -> Iterator[tuple[float, Gray, npt.NDArray[np.float64]]]:
    """Each turn, its copy of ``gray`` and the matrix back, made one at a time (a 12-MP photo's
    copies are not all held at once); the exact turns turn one shrunk copy, shrunk once."""
    for degrees in ROLLS:
        yield (degrees, *_turned_any_size(gray, degrees))
    if not exact_turns:
        return
    small = shrunk(gray)
    for quarter_turn in EXACT_TURNS:
        yield (quarter_turn, *exactly_turned(small, gray.shape, quarter_turn))


@functools.lru_cache(maxsize=4)
def _copy_detector(settings: YuNetSettings) -> YuNetDetector:
    """A detector as ``settings`` for faces of the usual sizes only (no small-face or tiled search)."""
    return YuNetDetector(dataclasses.replace(settings, small_faces_above=1 << 30))


#: OpenCV's warps take no picture with a side of this many pixels or more (``SHRT_MAX``).
WARP_SIDE_LIMIT: Final = 32_767


def _turned_any_size(gray: Gray, degrees: float) -> tuple[Gray, npt.NDArray[np.float64]]:
    """:func:`_turned`, also for an array with a side past what OpenCV can warp: that one is shrunk
    (:func:`shrunk`) before it is turned, and the matrix back scaled to ``gray``'s pixels. A
    100,000 × 2 array was a bare ``cv2.error`` from ``moodtape.analyze``; photos are turned as before."""
    if max(gray.shape) < WARP_SIDE_LIMIT:
        return _turned(gray, degrees)
    small = shrunk(gray)
    turned, back = _turned(small, degrees)
    height, width = gray.shape
    return turned, back * np.array([[width / small.shape[1]], [height / small.shape[0]]])


def _turned(gray: Gray, degrees: float) -> tuple[Gray, npt.NDArray[np.float64]]:
    """``gray`` turned by ``degrees`` about its centre on a canvas that keeps all of it (edges
    replicated), shrunk so that the canvas is at most :data:`COPY_SIDE` on its longer side, and the
    2 × 3 matrix that takes the copy's points back to ``gray``'s."""
    height, width = gray.shape
    radians = np.radians(degrees)
    cos, sin = abs(np.cos(radians)), abs(np.sin(radians))
    # The turned canvas, not the photo, is what is searched: it is what must fit COPY_SIDE.
    scale = min(1.0, COPY_SIDE / max(width * cos + height * sin, width * sin + height * cos))
    cos, sin = cos * scale, sin * scale
    new_width, new_height = int(np.ceil(width * cos + height * sin)), int(np.ceil(width * sin + height * cos))
    matrix = cv2.getRotationMatrix2D((width / 2, height / 2), degrees, scale)
    matrix[:, 2] += ((new_width - width) / 2, (new_height - height) / 2)
    flags = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    turned = cv2.warpAffine(gray, matrix, (new_width, new_height), flags=flags, borderMode=cv2.BORDER_REPLICATE)
    return np.ascontiguousarray(turned, dtype=np.uint8), np.asarray(cv2.invertAffineTransform(matrix), np.float64)


def shrunk(gray: Gray) -> Gray:
    """``gray`` shrunk to at most :data:`COPY_SIDE` on its longer side (itself when it fits)."""
    scale = COPY_SIDE / max(gray.shape)
    return gray if scale >= 1 else scaled(gray, scale, cv2.INTER_AREA)


def exactly_turned(small: Gray, shape: tuple[int, ...], degrees: int) -> tuple[Gray, npt.NDArray[np.float64]]:
    """``small`` (a photo of ``shape`` shrunk by :func:`shrunk`) turned exactly by 90°, 180° or
    270° counter-clockwise (``np.rot90``: no interpolation), and the matrix that takes the copy's
    points back to the photo's, as :func:`_turned`'s."""
    turned = np.ascontiguousarray(np.rot90(small, degrees // 90), dtype=np.uint8)
    small_h, small_w = small.shape
    height, width = shape[:2]
    return turned, quarter_turn_back(small_w, small_h, degrees) * np.array([[width / small_w], [height / small_h]])


def quarter_turn_back(width: int, height: int, degrees: int) -> npt.NDArray[np.float64]:
    """The 2 × 3 matrix that takes the points of a ``width`` × ``height`` picture turned exactly by
    90°, 180° or 270° counter-clockwise (``np.rot90``) back to the picture's own."""
    # Pixel centres: the copy's (u, v) is the picture's (W - 1 - v, u) at 90°,
    # (W - 1 - u, H - 1 - v) at 180° and (v, H - 1 - u) at 270°.
    last_x, last_y = width - 1.0, height - 1.0
    return {
        90: np.array([[0.0, -1.0, last_x], [1.0, 0.0, 0.0]]),
        180: np.array([[-1.0, 0.0, last_x], [0.0, -1.0, last_y]]),
        270: np.array([[0.0, 1.0, 0.0], [-1.0, 0.0, last_y]]),
    }[degrees]


def turned_back(face: Landmarks, back: npt.NDArray[np.float64], degrees: float) -> Landmarks:
    """``face`` (found in a copy turned by ``degrees``) in the photo's pixels: its points turned
    back, its box the upright box around its turned-back corners."""
    points = tuple((float(back[0] @ (x, y, 1.0)), float(back[1] @ (x, y, 1.0))) for x, y in face.points)
    box = face.box
    corners = np.array([[x, y, 1.0] for x in (box.x, box.x + box.w) for y in (box.y, box.y + box.h)]) @ back.T
    left, top = np.floor(corners.min(axis=0)).astype(int)
    right, bottom = np.ceil(corners.max(axis=0)).astype(int)
    box = Box(int(left), int(top), max(1, int(right - left)), max(1, int(bottom - top)))
    return Landmarks(box, points, face.score, turned=degrees)

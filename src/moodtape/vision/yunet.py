"""Face detection with YuNet (OpenCV Zoo, MIT), which also finds eyes, nose and mouth corners.

YuNet is a 75 k-parameter CNN run by OpenCV's ``cv2.FaceDetectorYN``. Like the Haar detector it
searches a shrunk copy of a webcam frame (the smallest face we look for becomes ``min_face_detect``
pixels) and maps results back. Its boxes are tall rectangles from brow to chin, not FER2013's
framing, so :meth:`YuNetDetector.detect` returns a square *FER-framed* box built from the five
landmarks (eye centre, eye-to-mouth distance; constants fitted on generated scenes, see
docs/benchmarks.md); the rest of the pipeline crops it as it crops a Haar box. The landmarks also
give the eyes' angle, which :mod:`moodtape.vision.align` uses to level a tilted head.

Photos that are mostly one face (a cropped selfie, a profile picture, a data set's face crop) need
rules of their own, measured on FER2013's tight crops run through the whole pipeline
(docs/benchmarks.md, "Photos that are one face"), all in :class:`YuNetSettings`:

* the smallest face sought shrinks with a small photo, and the detection copy is at least
  ``min_detect_side`` pixels on its shorter side (a small photo is enlarged), because YuNet misses
  faces that touch the border of a small input;
* YuNet is less sure of a face whose chin or brow the border cuts, so when no face is sure
  (``score_threshold``), a face that fills the photo counts from ``photo_face_threshold``;
* a face that fills a large photo is too big for YuNet in the first copy, so when that copy shows
  no sure face, a much smaller copy (``whole_photo_side``) is searched too;
* a photo with no sure face is searched once more for small faces; a photo too large for one copy
  at that scale is searched in overlapping tiles (:mod:`moodtape.vision.tiles`), each no larger
  than the capped copy, over at most ``max_tiled_pixels``; in such a tiled photo an unsure face
  that fills it does not spare the search, and is kept beside the sure small faces;
* beside a photo's sure faces, the first copy's sure faces down to ``small_face`` are kept too (a
  group photo's far faces), without the search for small faces.

The stream's re-detection windows around known faces are not photos and turn these rules off
(``photos=False``).
"""

from __future__ import annotations

import functools
import math
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from moodtape.errors import ModelError
from moodtape.types import Box
from moodtape.vision.dark_photos import (
    backlit,
    brightened,
    copy_faces,
    copy_search,
    dark_all_over,
    turned_dark_faces,
)
from moodtape.vision.faces import overlap_ratio, suppress_overlaps
from moodtape.vision.noisy_photos import NOISY_FROM, noise_level, smoothed, smoothed_copy
from moodtape.vision.tiles import tile_windows

YUNET_FILE = "face_detection_yunet_2026may.onnx"
#: What is done to a search's copy before YuNet sees it (a noisy photo's copy is smoothed).
Prepare = Callable[[npt.NDArray[np.uint8]], npt.NDArray[np.uint8]]
#: FER2013 framing from landmarks: the crop's centre lies this share of the eye-to-mouth distance
#: below the eyes' midpoint, and its side is this many eye-to-mouth distances.
CENTRE_BELOW_EYES = 0.31
SIDE_PER_EYE_MOUTH = 2.7
#: The smallest face kept from a tiled photo's tiles by default (``YuNetSettings.tiled_small_face``).
TILED_SMALL_FACE = 28


@dataclass(frozen=True)
class Landmarks:
    """One YuNet face: its own box, five points ``(x, y)`` in input pixels, and its score.

    Points: right eye, left eye (the person's), nose tip, right and left mouth corners. ``turned``:
    the degrees of the turned copy it was found in (:mod:`moodtape.vision.rolled`), 0 when it was
    found in the picture as it is.
    """

    box: Box
    points: tuple[tuple[float, float], ...]
    score: float
    turned: float = 0.0

    def shifted(self, dx: int, dy: int) -> Landmarks:
        """The same face in a frame whose origin is ``(-dx, -dy)`` of this one's (window → frame)."""
        box = Box(self.box.x + dx, self.box.y + dy, self.box.w, self.box.h)
        return Landmarks(box, tuple((x + dx, y + dy) for x, y in self.points), self.score)

    @property
    def eyes_centre(self) -> tuple[float, float]:
        (rx, ry), (lx, ly) = self.points[0], self.points[1]
        return (rx + lx) / 2, (ry + ly) / 2

    @property
    def mouth_centre(self) -> tuple[float, float]:
        (rx, ry), (lx, ly) = self.points[3], self.points[4]
        return (rx + lx) / 2, (ry + ly) / 2

    @property
    def roll_degrees(self) -> float:
        """The angle of the line through the eyes, in degrees (0 for a level head; image y down)."""
        (rx, ry), (lx, ly) = self.points[0], self.points[1]
        return math.degrees(math.atan2(ly - ry, lx - rx))

    @property
    def eye_mouth(self) -> float:
        """Distance from the eyes' midpoint to the mouth's, in pixels (stable under roll)."""
        (ex, ey), (mx, my) = self.eyes_centre, self.mouth_centre
        return math.hypot(mx - ex, my - ey)

    def fer_centre_and_side(self) -> tuple[float, float, float]:
        """Centre ``(x, y)`` and side of the FER2013-framed square, along the face's own axis."""
        (ex, ey), (mx, my) = self.eyes_centre, self.mouth_centre
        return (
            ex + CENTRE_BELOW_EYES * (mx - ex),
            ey + CENTRE_BELOW_EYES * (my - ey),
            SIDE_PER_EYE_MOUTH * self.eye_mouth,
        )

    def fer_box(self, shape: tuple[int, ...]) -> Box:
        """The upright FER2013-framed square, clipped to an image of ``shape``."""
        cx, cy, side = self.fer_centre_and_side()
        height, width = shape[:2]
        left, top = max(0, round(cx - side / 2)), max(0, round(cy - side / 2))
        right, bottom = min(width, round(cx + side / 2)), min(height, round(cy + side / 2))
        return Box(left, top, max(1, right - left), max(1, bottom - top))


@dataclass(frozen=True)
class YuNetSettings:
    """How YuNet searches.

    Attributes:
        min_face: smallest face to find in a frame, in input pixels (its FER-framed side); a
            smaller photo lowers it (``photo_face_share``).
        min_face_detect: the detection copy is shrunk so that the smallest face becomes this many pixels.
        score_threshold: YuNet's confidence that makes a face *sure*.
        nms_threshold: YuNet's own non-maximum suppression (IoU).
        overlap: FER-framed boxes overlapping more than this (intersection over the smaller) are
            merged, keeping the more confident, as for Haar.
        max_detect_side: the detection copy's longer side is at most this many pixels. YuNet's
            time and memory grow with the pixels it sees: a 40-megapixel photo searched at half size
            cost about 700 MB and seconds per upload. Past this size the copy shrinks further, so the
            smallest face found grows with the photo (from about 130 px in a 6,400-px-wide one),
            still a small part of such a photo; a 12-megapixel phone photo is barely affected.
            The last search for small faces tiles such a photo instead (``max_tiled_pixels``).
        photos: apply the rules for photos that are one face (the module docstring); off for the
            stream's re-detection windows.
        min_detect_side: the detection copy's shorter side is at least this many pixels (unless
            ``max_detect_side`` caps a very long, thin image): a small photo is enlarged. A webcam
            frame's half-size copy is already larger.
        photo_face_share: a face *fills the photo* when its FER-framed side is at least this share
            of the photo's shorter side; the smallest face sought is never larger than that.
        photo_face_threshold: YuNet's confidence enough for a face that fills the photo, used only
            when no face is sure.
        whole_photo_side: when the first copy shows no sure face and a copy this many pixels on its
            shorter side would be under two thirds of the first, that copy is searched too: a face
            that fills a large photo is too big for YuNet in the first. A 640 × 480 webcam frame is
            never searched twice.
        small_face: when a photo shows no sure face, it is searched once more for sure faces
            down to this many pixels (and down to ``tiled_small_face`` from
            ``tiled_score_threshold``; MODEL_CARD.md, "Small faces in small photos"): the faces of
            a group photo at web size (six faces of about 65 px in a 900 × 600 photo, two of 40 px
            in a 400 × 200 one) are under ``min_face``.
            In a photo large enough to be tiled, an unsure face that fills it does not spare this
            search (blotches in a photo of printed text did, hiding its real small faces) and is
            kept beside the small faces found; a smaller photo keeps the old rule. A photo that
            already shows sure faces keeps the sure ones of this size and up that its first search
            found (a far face beside nearer ones), without another search; frames never do.
        small_faces_above: a stream's frame (``frame=True``) is searched again only when its longer
            side is over this: the page's webcam frames (at most 640 px) never are, so an empty
            room costs one search a frame, not two.
        max_tiled_pixels: a photo whose search for small faces ``max_detect_side`` would shrink is
            searched instead in tiles of at most ``max_detect_side`` pixels (so 40-px faces in a
            4000 × 3000 phone photo are seen at full size, not as 19-px smudges), at a scale that
            shows the tiles at most this many pixels in all (plus their overlaps). That bounds the
            extra work whatever is uploaded: a 36-megapixel picture is tiled at 0.58 of its size
            (smallest face found about 70 px) and costs what a 12-megapixel one does; memory is
            one tile's search at a time (a 1920-px square at most: a little more than a 3:2
            photo's capped copy). Photos only: a stream's large
            frames keep the capped copy.
        tile_overlap: neighbouring tiles overlap by this many pixels of the searched copy, so a face
            up to this size lies whole in one tile (larger ones the capped copy already finds). At
            least ``min_face_detect``, the size of a ``small_face`` in that copy: the tiles keep only
            faces up to the overlap, so a smaller one would drop the faces they are searched for.
        tiled_score_threshold: YuNet's confidence that makes a face found in the tiles sure. The
            tiles show YuNet up to 12 megapixels at full size, many more places to be fooled than
            one capped copy: in ten 4,000 × 3,000 pictures with no face, the tiles' surest false
            faces scored 0.74 and 0.70 (in a page of print), while real faces of 40–60 px pasted
            into the same pictures (Yale's photos, the astronaut) scored 0.85–0.93
            (docs/benchmarks.md, "Small faces in large photos").
        tiled_small_face: the smallest face kept from the tiles (and, from ``tiled_score_threshold``,
            from a smaller photo's one-copy search for small faces), in photo pixels, in
            [10, ``small_face``]; ``None`` (the default): 28, or ``small_face`` when that is less
            (so that a smaller ``small_face`` alone stays a valid setting). The tiles show a
            12-megapixel photo at full size, where YuNet is as sure of a 30–35-px face as of a
            40-px one; keeping only faces of ``small_face`` and more
            dropped them, and 40-px faces whose framed square came out at 35–39 px with them
            (Yale's photos pasted into 4,000 × 3,000 pictures: 30 px 0 → 65 % found, 35 px
            15 → 80 %, 40 px 57.5 → 80 %, false faces unchanged; docs/benchmarks.md). The search
            itself is unchanged: same tiles, same scale.
    """

    min_face: int = 80
    min_face_detect: int = 40
    score_threshold: float = 0.7
    nms_threshold: float = 0.3
    overlap: float = 0.5
    max_detect_side: int = 1920
    photos: bool = True
    min_detect_side: int = 160
    photo_face_share: float = 0.4
    photo_face_threshold: float = 0.5
    whole_photo_side: int = 240
    small_face: int = 40
    small_faces_above: int = 640
    max_tiled_pixels: int = 12_000_000
    tile_overlap: int = 160
    tiled_score_threshold: float = 0.75
    tiled_small_face: int | None = None

    def __post_init__(self) -> None:
        if self.min_face < 10 or self.min_face_detect < 10:
            raise ValueError("min_face and min_face_detect must be at least 10 pixels")
        if self.max_detect_side < self.min_face_detect:
            raise ValueError("max_detect_side must be at least min_face_detect")
        if not 0 < self.score_threshold < 1 or not 0 < self.overlap <= 1:
            raise ValueError("score_threshold must lie in (0, 1) and overlap in (0, 1]")
        if not 0 < self.photo_face_threshold < 1 or not 0 < self.photo_face_share <= 1:
            raise ValueError("photo_face_threshold must lie in (0, 1) and photo_face_share in (0, 1]")
        if not self.min_face_detect <= self.min_detect_side <= self.max_detect_side:
            raise ValueError("min_detect_side must lie between min_face_detect and max_detect_side")
        if self.whole_photo_side < self.min_face_detect:
            raise ValueError("whole_photo_side must be at least min_face_detect")
        if self.small_face < 10:
            raise ValueError("small_face must be at least 10 pixels")
        # A tile keeps only faces no larger than its overlap: under a small face's size in the searched
        # copy (at most min_face_detect) it would drop every face it was searched for.
        if not self.min_face_detect <= self.tile_overlap < self.max_detect_side // 2 or self.max_tiled_pixels < 1:
            raise ValueError(
                "tile_overlap must lie in [min_face_detect, max_detect_side / 2) and max_tiled_pixels be positive"
            )
        if not self.score_threshold <= self.tiled_score_threshold < 1:
            raise ValueError("tiled_score_threshold must lie in [score_threshold, 1)")
        if self.tiled_small_face is not None and not 10 <= self.tiled_small_face <= self.small_face:
            raise ValueError("tiled_small_face must lie in [10, small_face]")

    @property
    def smallest_tiled_face(self) -> int:
        """``tiled_small_face``, or its default: 28 px, or ``small_face`` when that is less."""
        if self.tiled_small_face is not None:
            return self.tiled_small_face
        return min(TILED_SMALL_FACE, self.small_face)

    def smallest_face(self, shape: tuple[int, ...]) -> int:
        """The smallest face sought in an image of ``shape``: ``min_face``, or less in a small photo."""
        if not self.photos:
            return self.min_face
        return max(10, min(self.min_face, round(self.photo_face_share * min(shape[:2]))))

    def detect_scale(self, shape: tuple[int, ...]) -> float:
        """How much the detection copy of an image of ``shape`` is shrunk (< 1) or enlarged (> 1)."""
        height, width = shape[:2]
        scale = min(1.0, self.min_face_detect / self.smallest_face(shape))
        if self.photos:
            scale = max(scale, self.min_detect_side / max(1, min(height, width)))
        return min(scale, self.max_detect_side / max(1, height, width))

    def small_face_scale(self, shape: tuple[int, ...], *, frame: bool = False) -> float | None:
        """The scale of the last search, for small faces in a photo with none, or ``None``."""
        if frame and max(shape[:2]) <= self.small_faces_above:
            return None
        if not self.photos or self.small_face >= self.smallest_face(shape):
            return None
        height, width = shape[:2]
        return min(self.min_face_detect / self.small_face, self.max_detect_side / max(1, height, width))

    def tiled_scale(self, shape: tuple[int, ...], *, frame: bool = False) -> float | None:
        """The scale of a tiled search for small faces, or ``None`` when one copy does (a photo whose
        small-face copy ``max_detect_side`` does not shrink, or a stream's frame)."""
        capped = self.small_face_scale(shape, frame=frame)
        if frame or capped is None:
            return None
        height, width = shape[:2]
        wanted = self.min_face_detect / self.small_face
        scale = min(wanted, math.sqrt(self.max_tiled_pixels / max(1, height * width)))
        return scale if scale > capped else None

    def second_scale(self, shape: tuple[int, ...]) -> float | None:
        """The scale of the second, small copy of a large photo, or ``None`` when there is none."""
        whole = self.whole_photo_side / max(1, min(shape[:2]))
        return whole if self.photos and whole < self.detect_scale(shape) * 2 / 3 else None


def _plausible(rows: npt.NDArray[np.float32], width: int, height: int) -> npt.NDArray[np.float32]:
    """The rows that can be faces: finite, with the box's centre inside the ``width`` × ``height`` input.

    OpenCV 4.14's YuNet, once run at a larger size, answers an input of 32 × 32 or less with stale
    rows: boxes at ±infinity or a million pixels away, with score 1 (an uploaded 64 × 64 photo
    was a 500 one time in three).
    """
    finite = np.isfinite(rows).all(axis=1)
    with np.errstate(invalid="ignore", over="ignore"):  # inf - inf: NaN, which the test below drops
        centre_x, centre_y = rows[:, 0] + rows[:, 2] / 2, rows[:, 1] + rows[:, 3] / 2
        inside = (centre_x >= 0) & (centre_x <= width) & (centre_y >= 0) & (centre_y <= height)
    return rows[finite & inside]


def _at_least(found: list[Landmarks], score: float, side: float) -> list[Landmarks]:
    """The faces with at least ``score`` whose FER-framed side is at least ``side`` pixels."""
    return [face for face in found if face.score >= score and face.fer_centre_and_side()[2] >= side]


def yunet_path() -> Path:
    """The bundled YuNet model file."""
    return Path(__file__).parent / "models" / YUNET_FILE


class YuNetDetector:
    """Finds faces and their landmarks in gray images; thread-safe (one OpenCV detector per thread)."""

    def __init__(self, settings: YuNetSettings | None = None, model_path: str | Path | None = None) -> None:
        self.settings = settings or YuNetSettings()
        self._path = Path(model_path) if model_path else yunet_path()
        if not self._path.is_file():
            raise ModelError(f"YuNet model not found at {self._path}; reinstall moodtape or use the Haar detector")
        self._local = threading.local()
        self._net(1, 1)  # fail now, not on the first frame, when OpenCV cannot read the file

    def _net(self, width: int, height: int) -> Any:
        net = getattr(self._local, "net", None)
        if net is None:
            # With the photo rules, run at the lower of the two thresholds and choose the faces in
            # landmarks(): greedy NMS never lets a less confident face suppress a more confident one,
            # so the sure faces are the same. Without them (stream windows), only sure faces count.
            settings = self.settings
            lowest = (
                min(settings.score_threshold, settings.photo_face_threshold)
                if settings.photos
                else settings.score_threshold
            )
            try:
                net = cv2.FaceDetectorYN.create(
                    str(self._path), "", (width, height), lowest, self.settings.nms_threshold
                )
            except cv2.error as exc:
                raise ModelError(f"OpenCV cannot load YuNet from {self._path}: {exc}") from None
            self._local.net = net
        net.setInputSize((width, height))
        return net

    def landmarks(self, gray: npt.NDArray[np.uint8], *, frame: bool = False) -> list[Landmarks]:
        """The faces YuNet finds in a ``(h, w)`` uint8 image, with landmarks in input pixels.

        The sure faces of at least the smallest size, from the first copy or else from the second
        copy of a large photo; when neither has one, the faces that fill the photo from
        ``photo_face_threshold``; when there is none of those either, the sure small faces (of a
        photo, or of a ``frame`` larger than a webcam's; see :class:`YuNetSettings`). A photo that
        is tiled for small faces is searched for them even beside a face that fills it.
        """
        return self._found(gray, frame=frame)[0]

    def _found(
        self, gray: npt.NDArray[np.uint8], *, frame: bool = False
    ) -> tuple[list[Landmarks], int, list[Landmarks]]:
        """:meth:`landmarks`, the smallest face size the search that found them looked for, and every
        face (from the lowest threshold) its copies showed, kept or not."""
        return self._chosen(gray, self._first_copies(gray), frame=frame)

    def _first_copies(self, gray: npt.NDArray[np.uint8]) -> list[Landmarks]:
        """Every face (from the lowest threshold) in the first copy, and in the second, small copy of a
        large photo when the first shows no sure face."""
        if gray.ndim != 2:
            raise ValueError(f"landmarks() needs a gray (h, w) image, got shape {gray.shape}")
        if gray.size == 0:
            return []
        found = self._search(gray, self.settings.detect_scale(gray.shape))
        second = self.settings.second_scale(gray.shape)
        if not self._sure(found, gray.shape) and second is not None:
            # A face filling a large photo can be too big for YuNet in the first copy (a 2,000-px face
            # photo: 2 % found); in the small copy it is a face of ordinary size.
            found = found + self._search(gray, second)
        return found

    def _chosen(
        self, gray: npt.NDArray[np.uint8], found: list[Landmarks], *, frame: bool
    ) -> tuple[list[Landmarks], int, list[Landmarks]]:
        """The faces :meth:`landmarks` keeps of the first copies' ``found``, searching for small faces
        when none is sure; the smallest face size the search that found them looked for; and every
        face the searches showed."""
        if gray.size == 0:
            return [], self.settings.min_face, []
        smallest = self.settings.smallest_face(gray.shape)
        sure = self._sure(found, gray.shape)
        small = self.settings.small_face_scale(gray.shape, frame=frame)
        if sure and small is not None and not frame:
            beside = self._small_beside_sure(found, smallest)
            if beside:
                return sure + beside, self.settings.small_face, found
        if sure or small is None:
            return sure or self._filling(found, gray.shape), smallest, found
        filling = self._filling(found, gray.shape)
        tiled = self.settings.tiled_scale(gray.shape, frame=frame)
        if tiled is None:  # a photo one copy shows whole at the small faces' scale
            if filling:
                return filling, smallest, found
            shown = self._search(gray, small)
            return (*self._small_faces(shown), found + shown)
        shown = found + self._search_tiles(gray, tiled)
        return (*self._beside_tiled_faces(filling, shown, smallest), shown)

    def _small_faces(self, shown: list[Landmarks]) -> tuple[list[Landmarks], int]:
        """The faces a photo's one-copy search for small faces keeps, and the smallest size it kept.

        The sure faces of ``small_face`` and more, and faces down to ``tiled_small_face`` from
        ``tiled_score_threshold``: this copy shows the photo at full size, as the tiles of a larger
        photo do. Stricter than the tiles, which keep a face under ``small_face`` from
        ``score_threshold`` when the photo's first copy found it: here every such face needs the
        tiles' score. Only ``small_face`` counted before, so a face of 30-39 px was lost in a photo
        of up to 1,920 px though the same face in a 12-megapixel photo was found (Yale's photos
        shrunk to a 36-px face in a 640 × 486 picture: 110 of 134 found, now 134; to a 33-px one:
        0, now 117; ``benchmarks.small_faces``). The search is the same one, so it costs nothing
        more, and it showed no false face more in the faceless pictures measured (MODEL_CARD.md,
        "Small faces in small photos").
        """
        usual = _at_least(shown, self.settings.score_threshold, self.settings.small_face)
        little = [
            face
            for face in _at_least(shown, self.settings.tiled_score_threshold, self.settings.smallest_tiled_face)
            if face.fer_centre_and_side()[2] < self.settings.small_face
        ]
        return (usual + little, self.settings.smallest_tiled_face) if little else (usual, self.settings.small_face)

    def _small_beside_sure(self, found: list[Landmarks], smallest: int) -> list[Landmarks]:
        """The sure faces of ``found`` under ``smallest`` but of at least ``small_face`` pixels, kept
        beside a photo's sure faces of the usual size.

        The search for small faces runs only when nothing is sure, so a group photo with people at
        different distances lost its far faces though the first copy had shown them, sure: Yale's
        photos at about 50 px behind three nearer people in a 1,600 × 1,200 photo (at 0.78-0.91)
        were found 0 of 134 times, only for being under ``min_face``
        (``benchmarks.user_photo_shapes``, ``group-depths``). No search more: the first copy's own
        faces, from the score that makes any face sure. A stream's frames keep ``min_face``.
        """
        under = [face for face in found if face.fer_centre_and_side()[2] < smallest]
        return _at_least(under, self.settings.score_threshold, self.settings.small_face)

    def _beside_tiled_faces(
        self, filling: list[Landmarks], found: list[Landmarks], smallest: int
    ) -> tuple[list[Landmarks], int]:
        """A tiled photo's faces: the unsure faces that fill it and the sure small faces.

        Nothing sure of the usual size, so a group photo's faces may all be smaller, down to
        ``tiled_small_face`` (the tiles see them at full size, up to 12 megapixels). An unsure face
        that fills the photo does not spare the search: in a 12-megapixel photo of printed text,
        blotches of 1,300-2,000 px at 0.54-0.64 passed for such a face and hid the sure 40-60-px
        faces around and even within them (docs/benchmarks.md). It is kept beside them, though,
        since it may be the subject whose face the frame cuts, with a bystander behind.
        """
        little = _at_least(found, self.settings.score_threshold, self.settings.smallest_tiled_face)
        return (filling + little, self.settings.smallest_tiled_face) if little else (filling, smallest)

    def _search(self, gray: npt.NDArray[np.uint8], scale: float, prepared: Prepare | None = None) -> list[Landmarks]:
        """Every face YuNet finds in a copy of ``gray`` resized by ``scale`` (and then ``prepared``, when
        given: a noisy photo's copy is smoothed at the copy's size, not the photo's), in ``gray``'s pixels."""
        height, width = gray.shape
        small_w, small_h = max(1, round(width * scale)), max(1, round(height * scale))
        if min(small_w, small_h) < 10 or max(small_w, small_h) < self.settings.smallest_face(gray.shape) * scale:
            return []  # no face of the smallest size fits
        small = gray if scale == 1.0 else cv2.resize(gray, (small_w, small_h), interpolation=cv2.INTER_LINEAR)
        if prepared is not None:
            small = prepared(np.asarray(small, np.uint8))
        _, rows = self._net(small_w, small_h).detect(cv2.cvtColor(small, cv2.COLOR_GRAY2BGR))
        found = []
        for row in _plausible(np.zeros((0, 15), np.float32) if rows is None else rows, small_w, small_h):
            values = row[:14] / scale
            x, y, w, h = (round(float(v)) for v in values[:4])
            points = tuple((float(values[4 + 2 * i]), float(values[5 + 2 * i])) for i in range(5))
            found.append(Landmarks(Box(x, y, w, h), points, float(row[14])))
        return found

    def raw_faces(self, gray: npt.NDArray[np.uint8]) -> list[Landmarks]:
        """Every face YuNet finds in ``gray`` as it is (no copy, no rule), from its lowest threshold."""
        return self._search(gray, 1.0)

    def _search_tiles(self, gray: npt.NDArray[np.uint8], scale: float) -> list[Landmarks]:
        """:meth:`_search` at ``scale`` one tile at a time, for faces no larger than the tiles' overlap
        and at least ``tiled_score_threshold`` sure.

        Each tile's copy is at most ``max_detect_side`` pixels a side, one tile at a time, so memory is
        bounded by one such search whatever the photo's size: a square tile's copy (up to 1920 × 1920)
        can hold more than the capped copy of a 3:2 photo (1920 × 1280), and a 36-megapixel faceless
        picture peaks about 23 MB higher than with the capped copy alone. Larger faces are the capped
        copy's to judge, and it has: in a tile, a blotch that fills the tile can pass for a face (three
        of about 1,000 px at score 0.73 in a 36-megapixel picture of blurred noise), which the whole
        picture shows for what it is.
        """
        side = math.floor(self.settings.max_detect_side / scale)
        overlap = math.ceil(self.settings.tile_overlap / scale)
        found: list[Landmarks] = []
        for tile in tile_windows(gray.shape, side, overlap):
            piece = gray[tile.y : tile.y + tile.h, tile.x : tile.x + tile.w]
            found.extend(face.shifted(tile.x, tile.y) for face in self._search(piece, scale))
        return [
            face
            for face in found
            if face.fer_centre_and_side()[2] <= overlap and face.score >= self.settings.tiled_score_threshold
        ]

    def _sure(self, found: list[Landmarks], shape: tuple[int, ...]) -> list[Landmarks]:
        return _at_least(found, self.settings.score_threshold, self.settings.smallest_face(shape))

    def _filling(self, found: list[Landmarks], shape: tuple[int, ...]) -> list[Landmarks]:
        if not self.settings.photos:
            return []
        return _at_least(found, self.settings.photo_face_threshold, self.settings.photo_face_share * min(shape[:2]))

    def detect_landmarks(
        self, gray: npt.NDArray[np.uint8], *, frame: bool = False, turned: bool = False
    ) -> list[tuple[Box, Landmarks]]:
        """FER-framed boxes with their landmarks, largest first, overlaps merged, small faces dropped.

        ``frame``: ``gray`` is a stream's frame, not a photo (see ``YuNetSettings.small_faces_above``).
        ``turned`` (photos): when no face is found in a very dark photo, look in a brightened copy
        at the capped scale, upright and then turned by quarter and half turns
        (:mod:`moodtape.vision.dark_photos`), and in a backlit photo (a person in silhouette before a
        window) in the same copy upright, and then turned exactly, for surer faces only
        (:func:`~moodtape.vision.dark_photos.backlit`);
        when none is found in a noisy photo, look in a smoothed
        copy at the capped scale (:mod:`moodtape.vision.noisy_photos`); when no face is found still,
        look in turned copies (of the brightened copy, for a dark photo, and by ±30° only, its exact
        turns being searched: :func:`moodtape.vision.rolled.rolled_faces`); when faces are found,
        check the unsure ones for being sideways or upside down, and in a photo found turned the
        unsure faces its search dropped beside a sure one too (:func:`moodtape.vision.upside_down.righted`).
        That search is part of this call so that whoever times a picture's detection (the
        ``moodtape_detector_seconds`` metric) times it too: it costs more than the upright search.
        """
        if not turned:
            return self._detect_upright(gray, frame=frame)
        found, unsure = self._detect_upright_and_unsure(gray, frame=frame)
        searched = gray
        # A brightened copy's rules, by which righted's search of the whole photo turned counts faces too.
        copy_rules: Callable[[npt.NDArray[np.uint8]], list[tuple[Box, Landmarks]]] | None = None
        if not found and dark_all_over(gray):
            # A very dark photo: YuNet misses many of its faces, a locally brightened copy shows them
            # (vision/dark_photos.py). Same pixels, so the boxes and landmarks hold for ``gray``; the
            # turned searches below look in the copy too.
            searched = brightened(gray)
            found, unsure = copy_search(self, searched)
            copy_rules = functools.partial(copy_faces, self)
            if not found:  # a dark photo turned: its faces score as dark upright faces do, under 0.82
                return turned_dark_faces(self, searched) or self._rolled(searched, exact_turns=False)
        elif not found and backlit(gray):
            # A person in silhouette before a window or the sky: not dark all over, but the person
            # is; the brightened copy shows them, and only its sure faces count (vision/dark_photos.py).
            lit = brightened(gray)
            lit_found, lit_unsure = copy_search(self, lit, silhouette=True)
            if lit_found:  # turned windows around its faces look in the copy too (vision/upside_down.py)
                found, unsure, searched = lit_found, lit_unsure, lit
                copy_rules = functools.partial(copy_faces, self, silhouette=True)
            elif turned_lit := turned_dark_faces(self, lit, silhouette=True):  # a silhouette turned
                return turned_lit
        if not found and noise_level(gray) >= NOISY_FROM:  # (a dark photo has returned or found one)
            # A noisy photo (dim light, a phone's sensor): YuNet misses faces the noise breaks up, a
            # smoothed copy shows them (vision/noisy_photos.py). Same pixels, same boxes. Not a dark
            # photo's brightened copy: CLAHE lifts its noise, and a smoothed one showed a false face.
            # Smoothed after the capped copy is made: a 12-MP photo's blur costs its copy's, not its own.
            found, unsure = self.detect_capped(gray, prepared=smoothed_copy)
            if found:  # the turned windows of vision/upside_down.py look in a smoothed photo too
                searched = smoothed(gray, self.settings.detect_scale(gray.shape))
        if found:
            # An upside-down face YuNet found as it is, with upright landmarks (vision/upside_down.py);
            # the unsure faces the search dropped beside a sure one may be upside-down faces of a group.
            from moodtape.vision.upside_down import righted  # upside_down.py builds on this module

            return righted(self, searched, found, unsure, copy_rules)
        return self._rolled(searched, exact_turns=True)

    def _rolled(self, gray: npt.NDArray[np.uint8], *, exact_turns: bool) -> list[tuple[Box, Landmarks]]:
        """:func:`moodtape.vision.rolled.rolled_faces`; without its exact turns for a dark photo's
        brightened copy, which :func:`~moodtape.vision.dark_photos.turned_dark_faces` has searched
        turned exactly already, from a lower score (see its docstring)."""
        from moodtape.vision.rolled import rolled_faces  # rolled.py builds on this module

        return rolled_faces(self, gray, exact_turns=exact_turns)

    def _detect_upright(self, gray: npt.NDArray[np.uint8], *, frame: bool) -> list[tuple[Box, Landmarks]]:
        """:meth:`detect_landmarks` in the picture as it is."""
        return self._detect_upright_and_unsure(gray, frame=frame)[0]

    def _detect_upright_and_unsure(
        self, gray: npt.NDArray[np.uint8], *, frame: bool
    ) -> tuple[list[tuple[Box, Landmarks]], list[Landmarks]]:
        """:meth:`_detect_upright`, and the unsure faces its first copies showed but it did not keep
        (see :meth:`_unsure_left_out`)."""
        found, smallest, seen = self._found(gray, frame=frame)
        kept = self.largest_first(gray.shape, found, smallest)
        return kept, self._unsure_left_out(seen, kept, gray.shape, smallest)

    def detect_capped(
        self, gray: npt.NDArray[np.uint8], prepared: Prepare | None = None, *, filling: bool = True
    ) -> tuple[list[tuple[Box, Landmarks]], list[Landmarks]]:
        """:meth:`_detect_upright_and_unsure` in the first (capped) copy only, ``prepared`` when given
        (:meth:`_search`): no second copy, small faces or tiles; without ``filling``, no unsure face
        that fills the photo either (a backlit photo's brightened copy: see
        :func:`~moodtape.vision.dark_photos.backlit`).

        For a dark photo's brightened copy (vision/dark_photos.py): its faces are of the usual size,
        and the full search of a 12-megapixel faceless copy doubled what the dark photo cost.
        """
        found = self._search(gray, self.settings.detect_scale(gray.shape), prepared)
        faces = self._sure(found, gray.shape) or (self._filling(found, gray.shape) if filling else [])
        smallest = self.settings.smallest_face(gray.shape)
        kept = self.largest_first(gray.shape, faces, smallest)
        return kept, self._unsure_left_out(found, kept, gray.shape, smallest)

    def _unsure_left_out(
        self, seen: Sequence[Landmarks], kept: Sequence[tuple[Box, Landmarks]], shape: tuple[int, ...], smallest: int
    ) -> list[Landmarks]:
        """The faces of ``seen`` scored from ``photo_face_threshold`` but under ``score_threshold``, of
        at least ``smallest`` pixels (the search's that kept ``kept``), that overlap no kept face:
        surest first.

        A photo's search drops them once a sure face is found; an upside-down face scores 0.50-0.89,
        so in a group photo turned by 180° they are the faces it lost (vision/upside_down.py checks
        them and keeps only those a turned window confirms).
        """
        settings = self.settings
        boxes = [box for box, _ in kept]
        left_out = [
            face
            for face in seen
            if settings.photo_face_threshold <= face.score < settings.score_threshold
            and face.fer_centre_and_side()[2] >= smallest
            and all(overlap_ratio(face.fer_box(shape), box) <= settings.overlap for box in boxes)
        ]
        return sorted(left_out, key=lambda face: face.score, reverse=True)

    def largest_first(
        self, shape: tuple[int, ...], found: Sequence[Landmarks], smallest: int = 0
    ) -> list[tuple[Box, Landmarks]]:
        """``found`` as FER-framed boxes of at least ``smallest`` pixels, overlaps merged (the surer
        face wins), largest first."""
        faces = [(face.fer_box(shape), face) for face in found]
        faces = [(box, face) for box, face in faces if max(box.w, box.h) >= smallest]
        kept = suppress_overlaps([box for box, _ in faces], self.settings.overlap, [f.score for _, f in faces])
        by_box = {box: face for box, face in faces}
        return [(box, by_box[box]) for box in kept]

    def detect(self, gray: npt.NDArray[np.uint8], *, frame: bool = False) -> list[Box]:
        """FER-framed face boxes, largest first (the interface of :class:`~moodtape.vision.faces.FaceDetector`)."""
        return [box for box, _ in self.detect_landmarks(gray, frame=frame)]

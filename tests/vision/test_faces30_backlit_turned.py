"""A photo in silhouette before a window, turned by a quarter or half turn (vision/dark_photos.py).

A backlit photo with no face found is searched in a brightened copy, but only upright: turned by
90° or 180° (a phone held sideways or upside down, no EXIF to say so) the person stayed unfound
whenever the photo itself was too dark for the general turned search, though in the brightened copy
turned upright their face scored as it does upright. Now that copy's exact turns are searched too,
by the same rule (sure from ``BACKLIT_SURE_FROM``, no face filling the photo).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import cv2
import numpy as np
import numpy.typing as npt
import pytest
from tests.vision.test_faces27_dark_photos import in_the_dark
from tests.vision.test_faces29_user_photo_shapes import in_silhouette
from tests.vision.vision_scenes import ASTRONAUT_FACE, iou

from moodtape.types import Box
from moodtape.vision import dark_photos, rolled, upside_down
from moodtape.vision.pipeline import Analyzer
from moodtape.vision.yunet import Landmarks, YuNetDetector

Gray = npt.NDArray[np.uint8]


def turned_box(box: Box, quarters: int, height: int, width: int) -> Box:
    """``box`` of a ``height`` × ``width`` picture, in that picture turned by ``np.rot90(..., quarters)``."""
    if quarters == 1:
        return Box(box.y, width - box.x - box.w, box.h, box.w)
    if quarters == 2:
        return Box(width - box.x - box.w, height - box.y - box.h, box.w, box.h)
    return Box(height - box.y - box.h, box.x, box.h, box.w)


@pytest.mark.parametrize("light", [0.06, 0.045, 0.035])
@pytest.mark.parametrize("quarters", [1, 2, 3])
def test_a_face_in_silhouette_turned_is_found(
    bundled_analyzer: Analyzer, astronaut_gray: Gray, light: float, quarters: int
) -> None:
    photo = in_silhouette(astronaut_gray, light)
    assert dark_photos.backlit(photo) and not dark_photos.dark_all_over(photo)
    turned = np.ascontiguousarray(np.rot90(photo, quarters))
    located = bundled_analyzer.locate(turned)
    # Before: nothing (the brightened copy was searched upright only).
    assert len(located) == 1
    box, face = located[0]
    assert face is not None and face.turned == 360 - 90 * quarters
    placed = Box(ASTRONAUT_FACE.x + 256, ASTRONAUT_FACE.y + 256, ASTRONAUT_FACE.w, ASTRONAUT_FACE.h)
    assert iou(box, turned_box(placed, quarters, *photo.shape)) > 0.5


@pytest.mark.parametrize("quarters", [1, 2, 3])
def test_a_page_of_text_in_silhouette_turned_shows_no_face(bundled_analyzer: Analyzer, quarters: int) -> None:
    """The turns count faces as the upright copy does: none in printed text before a window."""
    from skimage import data

    text = cv2.resize(np.asarray(data.text(), np.uint8), (640, 480))
    photo = np.where(np.arange(640)[None, :] < 320, 250, text // 4).astype(np.uint8)
    assert dark_photos.backlit(photo)
    assert bundled_analyzer.analyze_gray(np.ascontiguousarray(np.rot90(photo, quarters))) == []


def test_an_upright_face_in_silhouette_is_found_upright(bundled_analyzer: Analyzer, astronaut_gray: Gray) -> None:
    located = bundled_analyzer.locate(in_silhouette(astronaut_gray, 0.045))
    assert len(located) == 1
    assert located[0][1] is None or located[0][1].turned == 0  # an upright face keeps no landmarks


def a_small_face(astronaut_gray: Gray) -> Gray:
    """The astronaut at 0.4× (a face of about 47 px) in an 800 × 800 gray picture: a photo's rules
    find the face (their search for small faces), a brightened copy's (the capped copy only) do not."""
    small = cv2.resize(astronaut_gray, None, fx=0.4, fy=0.4, interpolation=cv2.INTER_AREA)
    picture = np.full((800, 800), 128, np.uint8)
    picture[100 : 100 + small.shape[0], 100 : 100 + small.shape[1]] = small
    return picture


def detector_of(analyzer: Analyzer) -> YuNetDetector:
    detector = analyzer.detector
    assert isinstance(detector, YuNetDetector)
    return detector


def test_the_whole_photo_turned_search_counts_faces_by_the_rules_given(
    bundled_analyzer: Analyzer, astronaut_gray: Gray
) -> None:
    detector = detector_of(bundled_analyzer)
    turned = np.ascontiguousarray(a_small_face(astronaut_gray)[::-1, ::-1])
    assert len(rolled.turned_photo_faces(detector, turned, 180, [])) == 1  # a photo's rules
    backlit_rules = functools.partial(dark_photos.copy_faces, detector, silhouette=True)
    assert rolled.turned_photo_faces(detector, turned, 180, [], backlit_rules) == []


def rules_given_to_righted(monkeypatch: pytest.MonkeyPatch) -> list[rolled.Search | None]:
    """A list that fills with the ``search`` each call of ``righted`` is given."""
    given: list[rolled.Search | None] = []
    righted = upside_down.righted

    def spying(
        detector: YuNetDetector,
        gray: Gray,
        found: list[tuple[Box, Landmarks]],
        left_out: Sequence[Landmarks] = (),
        search: rolled.Search | None = None,
    ) -> list[tuple[Box, Landmarks]]:
        given.append(search)
        return righted(detector, gray, found, left_out, search)

    monkeypatch.setattr(upside_down, "righted", spying)
    return given


@pytest.mark.parametrize("shown", ["silhouette", "dark"])
def test_a_brightened_copy_is_searched_turned_by_its_own_rules(
    bundled_analyzer: Analyzer, astronaut_gray: Gray, monkeypatch: pytest.MonkeyPatch, shown: str
) -> None:
    """Before, once a face of a backlit (or very dark) photo's brightened copy showed a turn, the whole
    copy was searched turned with a photo's rules: from 0.7, small faces, tiles, a face filling it,
    which ``backlit``'s docstring says added false faces there. Now with the copy's own rules."""
    given = rules_given_to_righted(monkeypatch)
    photo = in_silhouette(astronaut_gray, 0.045) if shown == "silhouette" else in_the_dark(astronaut_gray, 0.07)
    assert (dark_photos.backlit(photo), dark_photos.dark_all_over(photo)) == (shown == "silhouette", shown == "dark")
    assert len(bundled_analyzer.locate(photo)) == 1
    (search,) = given
    assert search is not None
    picture = a_small_face(astronaut_gray)
    assert len(detector_of(bundled_analyzer).detect_landmarks(picture)) == 1  # a photo's rules
    assert search(picture) == []  # the copy's: the capped copy only


def test_a_backlit_copys_rules_count_faces_from_backlit_sure_from(
    bundled_analyzer: Analyzer, astronaut_gray: Gray, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The rules given for a backlit copy are the copy's, sure from ``BACKLIT_SURE_FROM``: raised over
    the astronaut's score, its face no longer counts there (it does for a dark photo's copy)."""
    given = rules_given_to_righted(monkeypatch)
    bundled_analyzer.locate(in_silhouette(astronaut_gray, 0.045))
    (search,) = given
    assert search is not None and len(search(astronaut_gray)) == 1
    monkeypatch.setattr(dark_photos, "BACKLIT_SURE_FROM", 0.99)
    assert search(astronaut_gray) == []

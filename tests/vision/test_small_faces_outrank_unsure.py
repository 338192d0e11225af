"""A large photo's sure small faces are found beside an unsure face that fills it.

In a 4,000 × 3,000 picture of printed text, YuNet's first copies see blotches of 1,300–2,000 px at
0.54–0.64: not sure faces, but enough for the rule for a face that fills the photo. That rule
used to end the search, so the photo's real 40–60-px faces were never looked for and the user got
a blotch instead of the faces. A photo small enough for one copy keeps the old rule.
"""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt
import pytest
from vision_scenes import ASTRONAUT_FACE, HEAD

from moodtape.types import Box
from moodtape.vision.stream import iou
from moodtape.vision.yunet import CENTRE_BELOW_EYES, YuNetDetector, YuNetSettings

FACE = 45  # px: a face across a room in a 12-megapixel phone photo
PLACES = [(600, 2300), (3300, 2500), (2500, 1500)]


def _text_photo_with_faces(astronaut_gray: npt.NDArray[np.uint8]) -> tuple[npt.NDArray[np.uint8], list[Box]]:
    """scikit-image's text picture enlarged to 4000 × 3000, with the astronaut's head pasted at
    ``PLACES`` (her face ``FACE`` px wide); also where her faces are."""
    text = pytest.importorskip("skimage.data").text()
    photo = np.asarray(cv2.resize(text, (4000, 3000), interpolation=cv2.INTER_CUBIC), np.uint8)
    scale = FACE / ASTRONAUT_FACE.w
    head = cv2.resize(astronaut_gray[HEAD], None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    faces = []
    for x, y in PLACES:
        photo[y : y + head.shape[0], x : x + head.shape[1]] = head
        left, top = x + (ASTRONAUT_FACE.x - HEAD[1].start) * scale, y + (ASTRONAUT_FACE.y - HEAD[0].start) * scale
        faces.append(Box(round(left), round(top), FACE, FACE))
    return photo, faces


def test_small_faces_in_a_large_photo_are_not_hidden_by_an_unsure_blotch(
    astronaut_gray: npt.NDArray[np.uint8],
) -> None:
    photo, faces = _text_photo_with_faces(astronaut_gray)
    found = YuNetDetector().detect(photo)
    for face in faces:
        assert max(iou(box, face) for box in found) > 0.5, f"{face} not among {found}"


def _row(centre: tuple[float, float], eye_mouth: float, score: float) -> list[float]:
    """A FaceDetectorYN row for an upright face centred on ``centre``, FER side 2.7 × ``eye_mouth``."""
    x, y = centre
    eyes_y, mouth_y = y - CENTRE_BELOW_EYES * eye_mouth, y + (1 - CENTRE_BELOW_EYES) * eye_mouth
    gap = eye_mouth / 2
    points = [x - gap, eyes_y, x + gap, eyes_y, x, y, x - gap / 2, mouth_y, x + gap / 2, mouth_y]
    return [x - eye_mouth, y - eye_mouth, 2 * eye_mouth, 2.4 * eye_mouth, *points, score]


def _answering_by_size(rows: dict[tuple[int, int], list[list[float]]]) -> tuple[YuNetDetector, list[tuple[int, int]]]:
    """A detector whose YuNet answers ``rows[copy size]`` (nothing for other sizes), and the sizes asked."""
    detector = YuNetDetector(YuNetSettings())
    asked: list[tuple[int, int]] = []

    class FakeNet:
        size = (0, 0)

        def setInputSize(self, size: tuple[int, int]) -> None:  # noqa: N802 - OpenCV's name
            self.size = size
            asked.append(size)

        def detect(self, image: npt.NDArray[np.uint8]) -> tuple[int, npt.NDArray[np.float32]]:
            return 1, np.asarray(rows.get(self.size, []), np.float32).reshape(-1, 15)

    detector._local.net = FakeNet()
    return detector, asked


def test_a_photo_one_copy_shows_whole_keeps_the_old_rule() -> None:
    """A 640 × 480 photo whose first copy (320 × 240) shows an unsure face filling it: that face is
    the answer, and the photo is not searched again for small faces (review: searching photos up to
    1,920 px made every selfie with an unsure face cost 3.5–7× the detector's time)."""
    fills = _row((160, 120), eye_mouth=40, score=0.6)  # 216 px in the photo: over 0.4 × 480
    small = _row((500, 100), eye_mouth=20, score=0.9)  # 54 px, there if anyone looked
    detector, asked = _answering_by_size({(320, 240): [fills], (640, 480): [small]})
    found = detector.detect_landmarks(np.zeros((480, 640), np.uint8))
    assert (640, 480) not in asked
    assert [round(face.score, 2) for _, face in found] == [0.6] and found[0][0].w >= 0.4 * 480


@pytest.mark.parametrize("tiles_are_sure", [True, False])
def test_a_tiled_photo_keeps_its_unsure_filling_face_beside_the_small_faces(
    tiles_are_sure: bool,
) -> None:
    """A 4,000 × 3,000 photo: its second copy (320 × 240) shows an unsure face filling the photo
    (1,250 px, in the lower half); each of the six full-size tiles answers one 54-px face near its
    top, none of them on the big face. The big face may be the subject, cut by the frame (review:
    dropping it gave the photo a bystander's mood), so it stays."""
    fills = _row((160, 175), eye_mouth=37, score=0.6)
    tile_face = _row((700, 60), eye_mouth=20, score=0.9 if tiles_are_sure else 0.6)
    detector, asked = _answering_by_size({(320, 240): [fills], (1440, 1580): [tile_face]})
    found = detector.detect_landmarks(np.zeros((3000, 4000), np.uint8))
    assert asked.count((1440, 1580)) == 6, "the search for small faces was skipped"
    sizes = sorted(box.w for box, _ in found)
    if tiles_are_sure:
        assert sizes[-1] >= 0.4 * 3000 and sizes[:-1] == [54] * 6, sizes
    else:
        assert len(sizes) == 1 and sizes[0] >= 0.4 * 3000, sizes


@pytest.mark.parametrize(("score", "found"), [(0.72, 0), (0.9, 6)])
def test_a_face_from_the_tiles_needs_more_confidence(score: float, found: int) -> None:
    """A 4,000 × 3,000 photo with nothing in its first copies, searched in six full-size tiles of
    1,440 × 1,580 that each answer one 54-px face. At 0.72 it was sure: a page of print's tiles held
    such false faces (0.70, 0.74), which real faces of that size outscore (0.85–0.93)."""
    assert YuNetSettings().tiled_scale((3000, 4000)) == 1.0
    tile_face = _row((700, 800), eye_mouth=20, score=score)
    detector, asked = _answering_by_size({(1440, 1580): [tile_face]})
    faces = detector.detect(np.zeros((3000, 4000), np.uint8))
    assert asked.count((1440, 1580)) == 6, "the photo was not searched in the six tiles"
    assert len(faces) == found and all(box.w == 54 for box in faces)


def test_the_tiles_threshold_is_checked() -> None:
    with pytest.raises(ValueError, match="tiled_score_threshold"):
        YuNetSettings(tiled_score_threshold=0.6)

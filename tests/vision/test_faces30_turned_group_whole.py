"""A group photo turned by 180°: once one face shows the photo is turned, the whole photo is searched
turned back (vision/upside_down.py).

Before, only faces the photo's search had seen (from YuNet's 0.5) were checked in turned windows, and
an upside-down face scores 0.5 or less as often as not: of three Yale faces side by side turned by
180°, 19 of 120 were never seen; of three astronaut heads, the smallest.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
from tests.vision.test_faces28_turned_groups_dark import heads_side_by_side, upside_down
from tests.vision.vision_scenes import ASTRONAUT_FACE, iou

from moodtape.types import Box
from moodtape.vision import upside_down as upside_down_module
from moodtape.vision.pipeline import Analyzer
from moodtape.vision.rolled import Search
from moodtape.vision.yunet import Landmarks, YuNetDetector

Gray = npt.NDArray[np.uint8]
YALE = Path(__file__).resolve().parents[3] / "shared" / "datasets" / "yale-faces"


def centres_x(boxes: list[Box]) -> list[float]:
    return sorted(box.x + box.w / 2 for box in boxes)


def along_the_row(box: Box, quarters: int, width: int) -> float:
    """The x of ``box``'s centre, found in a photo ``width`` wide turned by ``np.rot90(..., quarters)``,
    in the photo before it was turned."""
    cx, cy = box.x + box.w / 2, box.y + box.h / 2
    return {1: width - cy, 2: width - cx, 3: cy}[quarters]


@pytest.mark.parametrize("scales", [(1.2, 1.0, 0.8), (1.0, 0.7, 0.5)])
@pytest.mark.parametrize("quarters", [1, 2, 3])
def test_every_head_of_a_turned_group_is_found(
    bundled_analyzer: Analyzer, astronaut_gray: Gray, scales: tuple[float, ...], quarters: int
) -> None:
    """Before: one or two of the three. Upside down, the smaller heads scored under 0.5 as they are
    and no window looked at them; sideways (or upside down with no face found as it is), the turned
    copies kept faces of the usual size only, and the 0.5 and 0.7 heads are smaller."""
    group = heads_side_by_side(astronaut_gray, scales)
    upright = bundled_analyzer.locate(group)
    turned = np.ascontiguousarray(np.rot90(group, quarters))
    located = bundled_analyzer.locate(turned)
    assert len(upright) == len(located) == 3
    assert all(face is not None and face.turned == 360 - 90 * quarters for _, face in located)
    # Each head turned back lands on an upright head: centres along the group's row, within 12 px.
    back = [along_the_row(box, quarters, group.shape[1]) for box, _ in located]
    assert np.allclose(sorted(back), centres_x([box for box, _ in upright]), atol=12)
    assert [face.emotion for face in bundled_analyzer.analyze_gray(turned)] == ["happy"] * 3


def calls_of_whole_photo_search(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """A list that fills with the turn of each whole-photo search the upside-down check makes."""
    calls: list[int] = []
    search = upside_down_module.turned_photo_faces

    def counting(
        detector: YuNetDetector, gray: Gray, degrees: int, beside: list[Landmarks], rules: Search | None = None
    ) -> object:
        calls.append(degrees)
        return search(detector, gray, degrees, beside, rules)

    monkeypatch.setattr(upside_down_module, "turned_photo_faces", counting)
    return calls


def test_an_upright_group_is_not_searched_turned(
    bundled_analyzer: Analyzer, astronaut_gray: Gray, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = calls_of_whole_photo_search(monkeypatch)
    assert len(bundled_analyzer.locate(heads_side_by_side(astronaut_gray))) == 3
    assert calls == []


def test_a_live_frame_is_not_searched_turned(
    bundled_analyzer: Analyzer, astronaut_gray: Gray, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A stream's frames pay nothing: the turned searches are for photos only."""
    calls = calls_of_whole_photo_search(monkeypatch)
    bundled_analyzer.locate(upside_down(heads_side_by_side(astronaut_gray)), frame=True)
    assert calls == []


def test_a_group_turned_upside_down_is_searched_once_in_its_own_turn(
    bundled_analyzer: Analyzer, astronaut_gray: Gray, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = calls_of_whole_photo_search(monkeypatch)
    bundled_analyzer.locate(upside_down(heads_side_by_side(astronaut_gray)))
    assert calls == [180]


@pytest.mark.parametrize(
    ("turns", "expected"),
    [([180, 180, 90], 180), ([90, 270, 270], 270), ([0, 180], 180)],
)
def test_the_photo_turn_is_the_turn_most_faces_were_found_in(turns: list[int], expected: int) -> None:
    faces = [Landmarks(Box(0, 0, 10, 10), ((0.0, 0.0),) * 5, 0.8, turned=float(t)) for t in turns]
    assert upside_down_module._photo_turn(faces) == expected


def test_yale_groups_turned_upside_down_are_all_found(bundled_analyzer: Analyzer) -> None:
    """Three Yale photos side by side, turned by 180° (12 groups, 36 faces): 28 found before, 36 now."""
    if not (YALE / "images").is_dir():
        pytest.skip("the shared Yale faces are absent (../shared/datasets/yale-faces)")
    from benchmarks.yale_photos import photos

    every = [gray for _, _, gray in photos(YALE)]
    groups = [np.hstack([every[(i * 11 + k * 45) % len(every)] for k in range(3)]) for i in range(12)]
    assert sum(len(bundled_analyzer.locate(group)) for group in groups) == 36
    found = sum(len(bundled_analyzer.locate(upside_down(group))) for group in groups)
    assert found >= 35, found


def test_the_turned_photo_search_adds_only_faces_not_found_already(
    bundled_analyzer: Analyzer, astronaut_gray: Gray
) -> None:
    """A face found already keeps the landmarks it was found with (a turned window's, which frame a
    face cut by the photo's edge better); the whole photo's turned search only adds faces."""
    from moodtape.vision.rolled import turned_photo_faces

    photo = upside_down(astronaut_gray)
    detector = bundled_analyzer.detector
    assert isinstance(detector, YuNetDetector)
    found = turned_photo_faces(detector, photo, 180, beside=[])
    assert len(found) == 1 and found[0].turned == 180
    height, width = photo.shape
    expected = Box(width - ASTRONAUT_FACE.x - ASTRONAUT_FACE.w, height - ASTRONAUT_FACE.y - ASTRONAUT_FACE.h, 100, 100)
    assert iou(found[0].fer_box(photo.shape), expected) > 0.5
    assert turned_photo_faces(detector, photo, 180, beside=found) == []

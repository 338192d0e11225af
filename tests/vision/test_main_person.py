"""The main person of a stream: held steadily, handed over only to a face clearly more prominent for a while."""

from __future__ import annotations

import json

import cv2
import numpy as np
import numpy.typing as npt
import pytest
from vision_scenes import HEAD

from moodtape.emotions import EMOTIONS
from moodtape.types import Box, Face
from moodtape.vision.main_person import LAPSE_SECONDS, TAKEOVER_SECONDS, MainPerson, prominence
from moodtape.vision.pipeline import Analyzer, Located
from moodtape.vision.stream import StreamAnalyzer

SHAPE = (480, 800)


def face(track_id: int, box: Box, emotion: str = "neutral") -> Face:
    rest = 0.1 / (len(EMOTIONS) - 1)
    return Face(box, {label: 0.9 if label == emotion else rest for label in EMOTIONS}, track_id=track_id)


def scaled(person: Face, factor: float) -> Face:
    """``person`` with its box ``factor`` × as large about the same centre (a box's jitter)."""
    box, side = person.box, round(person.box.w * factor)
    centre_x, centre_y = box.x + box.w / 2, box.y + box.h / 2
    return Face(
        Box(round(centre_x - side / 2), round(centre_y - side / 2), side, side),
        person.probabilities,
        track_id=person.track_id,
    )


USER = face(1, Box(120, 140, 200, 200))  # left of centre


def mirrored(track_id: int, relative: float, emotion: str = "happy") -> Face:
    """A face as far right of centre as the user is left of it, ``relative`` × their side."""
    side = round(USER.box.w * relative)
    return face(track_id, Box(580 - side // 2, 240 - side // 2, side, side), emotion)


BYSTANDER = mirrored(2, 1.11)  # Box(469, 129, 222, 222): a little more prominent, not clearly
CLOSER = mirrored(2, 1.5)
THIRD = mirrored(3, 1.4, "sad")


def ratio(other: Face) -> float:
    return prominence(other, SHAPE) / prominence(USER, SHAPE)


def firsts(main: MainPerson, frames: list[tuple[float, list[Face]]]) -> list[int | None]:
    """The first face's track in each frame (``None`` in an empty one); every track stays alive."""
    ordered = [main.order(faces, SHAPE, {1, 2, 3}, t) for t, faces in frames]
    return [faces[0].track_id if faces else None for faces in ordered]


def started(*faces: Face) -> MainPerson:
    """A main person who has been alone at the camera for 1 s before the frames of a test."""
    main = MainPerson()
    for step in range(10):
        main.order(list(faces) or [USER], SHAPE, {1}, step / 10)
    return main


def test_the_fixtures_are_as_prominent_as_their_names_say() -> None:
    assert BYSTANDER.box == Box(469, 129, 222, 222) and ratio(BYSTANDER) == pytest.approx(1.11, abs=0.001)
    assert ratio(CLOSER) == pytest.approx(1.5, abs=0.01) and ratio(THIRD) == pytest.approx(1.4, abs=0.01)


def test_a_face_off_to_the_side_counts_for_less_than_one_as_large_in_the_centre() -> None:
    centred, corner = Box(350, 190, 100, 100), Box(0, 0, 100, 100)
    assert prominence(face(1, centred), SHAPE) == pytest.approx(100, abs=1)
    assert prominence(face(1, corner), SHAPE) == pytest.approx(100 * (1 - 0.5 * 0.88), abs=2)


def test_the_first_person_stays_first_beside_a_jittering_bystander_a_little_more_prominent() -> None:
    """1.11× as prominent, the boxes jittering ±7.5 % the opposite ways frame by frame (every other
    frame the bystander is 1.29× the user): not clearly more prominent, for a minute."""
    main = started()
    frames = [
        (1 + s / 10, [scaled(BYSTANDER, 1 + 0.075 * (-1) ** s), scaled(USER, 1 - 0.075 * (-1) ** s)])
        for s in range(600)
    ]
    assert firsts(main, frames) == [1] * 600


def test_with_jittering_boxes_a_newcomer_a_quarter_larger_takes_over_within_two_seconds() -> None:
    """±7.5 % a frame, drawn: compared frame by frame, and started over at the first frame below
    1.2×, the newcomer took a median 9 s (some trials more than a minute)."""
    rng = np.random.default_rng(7)
    newcomer = mirrored(2, 1.25)
    assert ratio(newcomer) == pytest.approx(1.25, abs=0.01)
    took = []
    for _ in range(20):
        jittered = [
            (1 + s / 10, [scaled(newcomer, rng.uniform(0.925, 1.075)), scaled(USER, rng.uniform(0.925, 1.075))])
            for s in range(100)
        ]
        got = firsts(started(), jittered)
        took.append(got.index(2) / 10 if 2 in got else 10.0)
    assert max(took) <= 2.0 and float(np.median(took)) <= 1.5


def test_a_clearly_closer_face_takes_over_only_after_the_takeover_time() -> None:
    main = started()
    got = firsts(main, [(1.0 + step / 10, [CLOSER, USER]) for step in range(15)])
    held = round(TAKEOVER_SECONDS * 10)
    assert got == [1] * held + [2] * (15 - held)


@pytest.mark.parametrize(
    ("missed", "empty", "takes_over"),
    [
        ({5, 6}, False, 10),  # back within LAPSE_SECONDS: 1 s after it first came
        ({5, 6}, True, 10),  # frames without any face are frames without the challenger too
        ({2, 6}, False, 10),  # two short lapses are not one long one
        ({5, 6, 7, 8}, False, 19),  # gone 0.4 s: 1 s after it came back
        ({5, 6, 7, 8, 9}, True, 20),
    ],
)
def test_a_challenger_missed_for_a_moment_keeps_its_time_one_gone_longer_starts_over(
    missed: set[int], empty: bool, takes_over: int
) -> None:
    assert LAPSE_SECONDS == 0.3
    without: list[Face] = [] if empty else [USER]
    frames = [(1 + s / 10, without if s in missed else [CLOSER, USER]) for s in range(30)]
    assert firsts(started(), frames).index(2) == takes_over


def test_a_challenger_that_steps_back_starts_over() -> None:
    main = started()
    frames = [(1 + s / 10, [CLOSER, USER]) for s in range(3)]
    frames += [(1.3 + s / 10, [BYSTANDER, USER]) for s in range(10)]  # leans back for a second
    frames += [(2.3 + s / 10, [CLOSER, USER]) for s in range(12)]  # and comes closer again
    got = firsts(main, frames)
    assert got[:23] == [1] * 23 and got[23:] == [2] * 2  # 1 s after coming closer again, not before


def test_a_second_challenger_waits_its_own_second() -> None:
    """The user, someone 1.4× as prominent from 1 s, and from 1.5 s someone 1.5× as prominent: the
    latter takes over at 2.5 s, not at 2 s on the first one's time."""
    frames = [(1 + s / 10, [THIRD, USER]) for s in range(5)] + [
        (1.5 + s / 10, [THIRD, CLOSER, USER]) for s in range(15)
    ]
    got = firsts(started(), frames)
    assert got == [1] * 15 + [2] * 5


def test_challengers_taking_turns_in_front_never_take_over() -> None:
    """Two people clearly more prominent than the user, each in front for 0.5 s in turn (the other
    missed): neither has been in front for a whole second."""
    frames = [(1 + s / 10, [CLOSER if s // 5 % 2 else face(3, CLOSER.box), USER]) for s in range(60)]
    assert firsts(started(), frames) == [1] * 60


def test_a_timestamp_going_back_starts_the_challenger_over_at_that_time() -> None:
    """A camera restarted (its clock back at 0) with a challenger: it takes over 1 s after the jump,
    not only once the clock is back past the time it first came."""
    main = started()
    firsts(main, [(5 + s / 10, [CLOSER, USER]) for s in range(5)])
    assert firsts(main, [(s / 10, [CLOSER, USER]) for s in range(12)]) == [1] * 10 + [2] * 2


def test_a_timestamp_going_back_starts_a_lapse_over_at_that_time() -> None:
    """The challenger from 5 s, missed at 5.5 s, and the clock back at 4 s: gone from 4 s to 5 s,
    it has lapsed, so coming back at 5.1 s it takes over at 6.1 s, not at 6 s on its old time."""
    main = started()
    frames = [(5 + s / 10, [CLOSER, USER]) for s in range(5)] + [(5.5, [USER])]
    frames += [(4 + s / 10, [USER]) for s in range(11)] + [(5.1 + s / 10, [CLOSER, USER]) for s in range(11)]
    got = firsts(main, frames)
    assert got[-11:] == [1] * 10 + [2]


def test_the_other_faces_keep_their_order() -> None:
    small, far = face(3, Box(600, 20, 60, 60)), face(4, Box(20, 20, 90, 90))
    main = started()
    assert main.order([small, far, USER], SHAPE, {1, 3, 4}, 1.0) == [USER, small, far]
    assert main.order([far, USER, small], SHAPE, {1, 3, 4}, 1.1) == [USER, far, small]


def test_a_frame_that_misses_the_main_person_keeps_them_for_the_next() -> None:
    main = started()
    assert main.order([BYSTANDER], SHAPE, {1, 2}, 1.1) == [BYSTANDER]  # the user's track still lives
    assert main.track_id == 1
    assert main.order([BYSTANDER, USER], SHAPE, {1, 2}, 1.2)[0] is USER


def test_once_the_main_track_expires_the_most_prominent_face_is_the_person() -> None:
    main = started()
    small_centre = face(3, Box(340, 180, 120, 120))
    assert main.order([small_centre, BYSTANDER], SHAPE, {2, 3}, 2.0)[0] is BYSTANDER
    assert main.track_id == 2


def test_state_round_trips_and_old_states_start_without_a_main_person() -> None:
    main = started()
    firsts(main, [(1 + s / 10, [CLOSER, USER]) for s in range(5)] + [(1.5, [USER])])
    assert main.challenger == 2 and main.below_since == 1.5 and set(main.smoothed) == {1, 2}
    copy = MainPerson()
    copy.restore(json.loads(json.dumps(main.state())))
    assert copy == main
    copy.restore(None)
    assert copy == MainPerson()


@pytest.mark.parametrize(
    "state",
    [
        [1, 2],
        [1, None, 0.0],  # the three values before smoothing
        ["1", None, 0.0, None, []],
        [True, None, 0.0, None, []],
        [1, None, float("nan"), None, []],
        [1, 2, 0.0, float("inf"), []],
        [1, None, 0.0, None, [[1, 200.0]]],
        [1, None, 0.0, None, [["1", 200.0, 0.0]]],
        [1, None, 0.0, None, [[1, float("nan"), 0.0]]],
        [1, None, 0.0, None, {}],
        "x",
    ],
)
def test_a_main_person_state_of_another_shape_is_refused(state: object) -> None:
    with pytest.raises(ValueError, match="main-person state"):
        MainPerson().restore(state)


def _scene(head: npt.NDArray[np.uint8], user: bool, other_scale: float | None) -> npt.NDArray[np.uint8]:
    """An 800 × 480 frame: the user's head at 1× left of centre, another at ``other_scale`` to the right."""
    frame = np.full(SHAPE, 110, np.uint8)
    for scale, centre_x, show in ((1.0, 220, user), (other_scale, 590, other_scale is not None)):
        if not show or scale is None:
            continue
        pasted = cv2.resize(head, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        h, w = pasted.shape
        top, left = 240 - h // 2, centre_x - w // 2
        frame[top : top + h, left : left + w] = pasted
    return frame


def test_a_larger_face_coming_into_view_takes_the_stream_only_after_a_second(
    bundled_analyzer: Analyzer, astronaut_gray: npt.NDArray[np.uint8]
) -> None:
    """Real faces through the whole stream: the user alone for 1 s, then someone 1.45× as large at
    the side. Before, the larger face came first (the live mood's) from its first frame."""
    head = np.ascontiguousarray(astronaut_gray[HEAD])
    stream = StreamAnalyzer(bundled_analyzer, detect_every=3)
    alone = [stream.process(_scene(head, True, None), i / 10) for i in range(10)]
    together = [stream.process(_scene(head, True, 1.45), 1.0 + i / 10) for i in range(18)]
    user = alone[0][0].track_id
    assert all(len(faces) == 2 for faces in together[2:])  # from the next scheduled full search
    firsts = [faces[0].track_id for faces in together]
    assert firsts[:9] == [user] * 9  # the first 0.9 s
    other = next(f.track_id for f in together[-1] if f.track_id != user)
    assert firsts[-5:] == [other] * 5  # from 1.3 s on, the larger face is the person at the camera
    assert together[-1][0].box.w > together[-1][1].box.w


def test_a_stream_state_carries_the_main_person(
    bundled_analyzer: Analyzer, astronaut_gray: npt.NDArray[np.uint8]
) -> None:
    head = np.ascontiguousarray(astronaut_gray[HEAD])
    first = StreamAnalyzer(bundled_analyzer, detect_every=3)
    first.process(_scene(head, True, None), 0.0)
    state = first.state()
    assert state["main"][0] == first.process(_scene(head, True, None), 0.1)[0].track_id
    later = StreamAnalyzer(bundled_analyzer, detect_every=1)
    later.restore(first.state())
    faces = later.process(_scene(head, True, 1.45), 0.2)
    assert faces[0].track_id == state["main"][0] and faces[0].box.w < faces[1].box.w
    del state["main"]  # saved by a version before the main person: restored without one
    later.restore(state)
    assert later.main_person == MainPerson()


def test_a_frame_whose_nearby_search_misses_the_main_person_is_searched_in_full(
    bundled_analyzer: Analyzer, astronaut_gray: npt.NDArray[np.uint8], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The search near the known faces misses the user (as it did for a front face partly covered by
    a bystander's, 12 of 600 Yale frames): before, those frames came without the user, the bystander
    first and their mood the live one. Now the frame is searched in full, only then."""
    head = np.ascontiguousarray(astronaut_gray[HEAD])
    stream = StreamAnalyzer(bundled_analyzer, detect_every=3)
    nearby, full = StreamAnalyzer._redetect, bundled_analyzer.locate
    searches: list[str] = []

    def missing_the_user(self: StreamAnalyzer, gray: npt.NDArray[np.uint8], previous: list[Box]) -> list[Located]:
        searches.append("nearby")
        return [(box, marks) for box, marks in nearby(self, gray, previous) if box.x > SHAPE[1] // 2]

    def counted(gray: npt.NDArray[np.uint8], frame: bool = False) -> list[Located]:
        searches.append("full")
        return full(gray, frame=frame)

    monkeypatch.setattr(StreamAnalyzer, "_redetect", missing_the_user)
    monkeypatch.setattr(bundled_analyzer, "locate", counted)
    user = stream.process(_scene(head, True, None), 0.0)[0].track_id
    together = [stream.process(_scene(head, True, 1.0), 0.1 + i / 10) for i in range(9)]
    assert all(len(faces) == 2 and faces[0].track_id == user for faces in together)
    # Every third frame is searched in full on schedule; the others nearby, then in full.
    assert searches == ["full"] + ["nearby", "full", "nearby", "full", "full"] * 3


def test_a_frame_whose_nearby_search_finds_the_main_person_is_not_searched_again(
    bundled_analyzer: Analyzer, astronaut_gray: npt.NDArray[np.uint8], monkeypatch: pytest.MonkeyPatch
) -> None:
    head = np.ascontiguousarray(astronaut_gray[HEAD])
    stream = StreamAnalyzer(bundled_analyzer, detect_every=3)
    calls: list[bool] = []
    full = bundled_analyzer.locate
    monkeypatch.setattr(
        bundled_analyzer, "locate", lambda gray, frame=False: calls.append(frame) or full(gray, frame=frame)
    )
    for i in range(9):
        stream.process(_scene(head, True, 1.0), i / 10)
    assert len(calls) == 3


def test_a_stream_state_with_a_bad_main_person_is_refused_whole(
    bundled_analyzer: Analyzer, astronaut_gray: npt.NDArray[np.uint8]
) -> None:
    """Before, the smoother had already taken the state's tracks when its main person was refused."""
    head = np.ascontiguousarray(astronaut_gray[HEAD])
    source, stream = StreamAnalyzer(bundled_analyzer), StreamAnalyzer(bundled_analyzer)
    source.process(_scene(head, True, 1.45), 0.0)
    stream.process(_scene(head, True, None), 0.0)
    before = stream.state()
    with pytest.raises(ValueError, match="main-person state"):
        stream.restore({**source.state(), "main": [7, None, "soon"]})
    assert stream.state() == before and len(source.state()["tracks"]) == 2

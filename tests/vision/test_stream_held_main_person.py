"""A frame that misses the person at the camera does not hand the live mood to a bystander.

Before, when even a full search missed the main person (a hand over the face) while their track
lived, that frame's first face, and so the live mood, was the bystander's: on Yale faces with a
bystander behind at the side, 93 % of such frames (``benchmarks.stream_behaviour``'s
``main_person_covered``). Now the main person's track leads with its last box and smoothed reading
until it expires.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import numpy.typing as npt
import pytest

from moodtape.recommender.mood import group_mood
from moodtape.types import Box, Face
from moodtape.vision.main_person import held_first
from moodtape.vision.pipeline import Analyzer
from moodtape.vision.stream import FaceSmoother, StreamAnalyzer
from painted_faces import happy_head, sad_head, two_people

Gray = npt.NDArray[np.uint8]
EVEN = {"angry": 0.1, "disgust": 0.1, "fear": 0.1, "happy": 0.1, "sad": 0.1, "surprise": 0.1, "neutral": 0.4}


def covered(frame: Gray) -> Gray:
    """The user's head (220 px at 1×, centred at (220, 240) in ``two_people``) hidden by a flat hand."""
    hidden = frame.copy()
    hidden[130:350, 110:330] = 110
    return hidden


def test_a_covered_user_keeps_the_live_mood_until_their_track_expires(
    bundled_analyzer: Analyzer, astronaut_rgb: npt.NDArray[np.uint8]
) -> None:
    both = two_people(sad_head(astronaut_rgb), happy_head(astronaut_rgb))
    stream = StreamAnalyzer(bundled_analyzer, detect_every=3)
    seen = [stream.process(both, i / 10) for i in range(6)]
    user = seen[-1][0]
    assert user.emotion == "sad" and user.box.x < 320 and len(seen[-1]) == 2
    hidden = [stream.process(covered(both), 0.6 + i / 10) for i in range(15)]
    # Within the track's max_age (1 s): the user's held face leads, the bystander is second.
    for faces in hidden[:10]:
        assert [face.track_id for face in faces] == [user.track_id, seen[-1][1].track_id]
        assert faces[0].box == user.box and group_mood(faces[:1]).emotion == "sad"
    # Once it has expired, the person at the camera is the one in view.
    assert all(len(faces) == 1 and faces[0].emotion == "happy" for faces in hidden[11:])


def test_a_held_face_says_so_and_is_not_held_into_a_frame_of_another_size(
    bundled_analyzer: Analyzer, astronaut_rgb: npt.NDArray[np.uint8]
) -> None:
    """The held face was indistinguishable from one found (same box, track, JSON), and after the
    camera's resolution changed it was drawn at the old frame's pixels, where nobody is."""
    both = two_people(sad_head(astronaut_rgb), happy_head(astronaut_rgb))
    stream = StreamAnalyzer(bundled_analyzer, detect_every=3)
    found = [stream.process(both, i / 10) for i in range(6)][-1]
    assert [face.held for face in found] == [False, False]
    assert all("held" not in face.to_dict() for face in found)
    held = stream.process(covered(both), 0.6)
    assert [face.held for face in held] == [True, False] and held[0].track_id == found[0].track_id
    assert held[0].to_dict()["held"] is True and "held" not in held[1].to_dict()
    # Another camera (a taller frame; the bystander at the same pixels), well within the track's 1 s.
    taller = np.pad(covered(both), ((0, 120), (0, 0)), constant_values=110)
    for i in range(3):
        faces = stream.process(taller, 0.7 + i / 10)
        assert len(faces) == 1 and faces[0].emotion == "happy" and not faces[0].held


def test_a_frame_with_nobody_stays_empty_and_a_found_main_person_is_not_doubled() -> None:
    user, other = Face(Box(0, 0, 50, 50), EVEN, track_id=1), Face(Box(100, 0, 40, 40), EVEN, track_id=2)
    held = Face(Box(0, 0, 48, 48), EVEN, track_id=1)
    assert held_first([], 1, lambda track, beside: held) == []
    assert held_first([user, other], 1, lambda track, beside: held) == [user, other]
    assert held_first([other], 1, lambda track, beside: held) == [replace(held, held=True), other]
    assert held_first([other], 1, lambda track, beside: None) == [other]
    assert held_first([other], None, lambda track, beside: pytest.fail("no main person")) == [other]


def test_a_face_on_a_track_newer_than_the_main_persons_last_sighting_is_not_held_beside() -> None:
    """The person moved farther than box matching follows (a new track): their old track is not
    shown beside them; a bystander tracked since before is."""
    smoother = FaceSmoother()
    user, bystander = Face(Box(100, 100, 100, 100), EVEN), Face(Box(400, 100, 80, 80), EVEN)
    first = smoother.update([user, bystander], 0.0)
    user_track = first[0].track_id
    assert user_track is not None
    moved = Face(Box(100, 220, 100, 100), EVEN)  # IoU with the old box under 0.3
    later = smoother.update([moved, bystander], 0.1)
    assert later[0].track_id != user_track
    assert smoother.held_face(user_track, later) is None
    assert smoother.held_face(user_track, later[1:]) == Face(user.box, first[0].probabilities, track_id=user_track)
    # Kept through another process's state; a state without first_seen counts tracks as new.
    copy = FaceSmoother()
    copy.restore(smoother.state())
    assert copy.held_face(user_track, later) is None and copy.held_face(user_track, later[1:]) is not None
    older = {key: value for key, value in smoother.state().items() if key != "first_seen"}
    copy.restore(older)
    assert copy.held_face(user_track, later[1:]) is None

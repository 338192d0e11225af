"""A stream's live mood is its main person's (the first face), not a blend with a bystander's."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
from webtools import encode

from moodtape.recommender.mood import group_mood
from moodtape.types import Box, Face
from moodtape.web import streams
from painted_faces import happy_head, sad_head, two_people

Gray = npt.NDArray[np.uint8]


def frame(user: Gray, bystander: Gray | None) -> bytes:
    return encode(two_people(user, bystander), ".png")


def faces_of(answer: dict[str, Any]) -> list[Face]:
    return [Face(Box(*f["box"]), f["probabilities"], f["uncertain"], f.get("track_id")) for f in answer["faces"]]


def test_a_streams_mood_is_its_main_persons_face_and_a_photos_is_all_faces(
    make_app: Any, astronaut_rgb: Gray, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A sad user at the camera, a happy bystander at 0.8× their size beside them. Before, the
    stream's mood blended the two faces by size: "happy", valence +0.10 to +0.22, on every frame
    with both faces, while the user's own face read "sad", valence −0.52."""
    ticks = iter(100.0 + 0.1 * n for n in range(1000))  # 10 frames a second on the stream's clock
    monkeypatch.setattr(streams, "time", SimpleNamespace(monotonic=lambda: next(ticks)))
    client = make_app().test_client()
    user, bystander = sad_head(astronaut_rgb), happy_head(astronaut_rgb)

    def post(data: bytes, query: str = "?stream=cam") -> Any:
        return client.post(f"/api/analyze{query}", data=data, content_type="image/png")

    alone = post(frame(user, None)).get_json()
    assert [face["emotion"] for face in alone["faces"]] == ["sad"]
    user_track = alone["faces"][0]["track_id"]
    answers = [post(frame(user, bystander)).get_json() for _ in range(8)]
    together = [answer for answer in answers if len(answer["faces"]) == 2]
    assert len(together) >= 6  # the bystander is found from the next full search on
    for answer in together:
        faces = faces_of(answer)
        assert faces[0].track_id == user_track and faces[1].emotion == "happy"
        main, blend = group_mood(faces[:1]), group_mood(faces)
        assert main.emotion == "sad" and blend.emotion == "happy"  # the two readings are far apart
        mood = answer["mood"]
        assert mood["source"] == "face" and mood["emotion"] == main.emotion
        assert mood["valence"] == pytest.approx(main.valence, abs=1e-3)
        assert mood["arousal"] == pytest.approx(main.arousal, abs=1e-3)

    photo = post(frame(user, bystander), query="").get_json()
    faces = faces_of(photo)
    assert len(faces) == 2 and photo["mood"]["source"] == "group"
    assert photo["mood"]["valence"] == pytest.approx(group_mood(faces).valence, abs=1e-3)

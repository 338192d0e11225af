"""A live stream whose frames land on different instances holds the main person as one instance does.

Behind a load balancer each frame of a stream may reach another instance, which continues from the
stream's saved state (``StreamAnalyzer.state``/``restore``: the shared registry in Redis). The
main person's hold (their track's last box and mood leading while the camera misses them) is made
from the saved tracks and main person, but the size of the frame they were last found in was kept
only in the process that saw it: after the camera's resolution changed, the next instance held
their box into a frame of another size, where nobody is, and drew it there. The state now carries
the sizes too (frame sizes only: no pixels, as before only boxes and moods).
"""

from __future__ import annotations

import json

import numpy as np
import numpy.typing as npt

from moodtape.types import Face
from moodtape.vision.pipeline import Analyzer
from moodtape.vision.stream import StreamAnalyzer
from painted_faces import happy_head, sad_head, two_people

Gray = npt.NDArray[np.uint8]


def covered(frame: Gray) -> Gray:
    """The user's head (centred at (220, 240) in ``two_people``) hidden by a flat hand."""
    hidden = frame.copy()
    hidden[130:350, 110:330] = 110
    return hidden


class Hopping:
    """A stream each of whose frames goes to a fresh instance, through the state as JSON (as Redis keeps it)."""

    def __init__(self, analyzer: Analyzer) -> None:
        self.analyzer = analyzer
        self.saved: str | None = None

    def process(self, frame: npt.NDArray[np.uint8], timestamp: float) -> list[Face]:
        stream = StreamAnalyzer(self.analyzer, detect_every=3)
        if self.saved is not None:
            stream.restore(json.loads(self.saved))
        faces = stream.process(frame, timestamp)
        self.saved = json.dumps(stream.state())
        return faces


def test_a_held_main_person_carries_over_to_the_next_instance_but_not_into_another_size(
    bundled_analyzer: Analyzer, astronaut_rgb: npt.NDArray[np.uint8]
) -> None:
    both = two_people(sad_head(astronaut_rgb), happy_head(astronaut_rgb))
    stream = Hopping(bundled_analyzer)
    found = [stream.process(both, i / 10) for i in range(6)][-1]
    held = stream.process(covered(both), 0.6)
    assert [face.held for face in held] == [True, False] and held[0].track_id == found[0].track_id
    assert held[0].emotion == "sad"
    # Another camera (a taller frame; the bystander at the same pixels), well within the track's 1 s.
    taller = np.pad(covered(both), ((0, 120), (0, 0)), constant_values=110)
    for i in range(3):
        faces = stream.process(taller, 0.7 + i / 10)
        assert len(faces) == 1 and faces[0].emotion == "happy" and not faces[0].held


def test_a_state_from_an_instance_of_the_version_before_still_restores(bundled_analyzer: Analyzer) -> None:
    stream = StreamAnalyzer(bundled_analyzer)
    state = stream.state()
    older = {key: value for key, value in state.items() if key not in ("shape", "main_shape")}
    StreamAnalyzer(bundled_analyzer).restore(older)

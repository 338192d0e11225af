"""On-device mode follows the stream's main person as the server does (ondevice/mainperson.js).

- The browser's MainPerson, with the constants of ``GET /api/ondevice``, makes the same decisions as
  ``vision/main_person.MainPerson`` frame by frame: the person is held through a frame that misses
  them, kept beside a face 1.1× as prominent, and handed over to one 1.3× as prominent after 1 s.
- With the runtime installed, the on-device answer puts the person at the camera first and its mood
  is theirs alone. Before, it was the size-weighted blend of every face, as the server's was.
"""

from __future__ import annotations

import base64
from typing import Any

import numpy as np
import pytest
from browsertools import astronaut_rgb, png_bytes
from test_ondevice import STATIC, _module_url

from moodtape.emotions import EMOTIONS
from moodtape.types import Box, Face
from moodtape.vision.main_person import TAKEOVER_SECONDS, MainPerson, prominence
from moodtape.web.ondevice import runtime_installed
from painted_faces import happy_head, sad_head, two_people

pytestmark = pytest.mark.e2e
needs_runtime = pytest.mark.skipif(
    not runtime_installed(STATIC), reason="ONNX Runtime Web is not in static/vendor/ort (run make, which needs npm)"
)

WIDTH, HEIGHT = 800, 480
USER = Box(120, 140, 200, 200)  # left of centre
EVEN = {label: 1 / len(EMOTIONS) for label in EMOTIONS}


def on_the_right(relative: float) -> Box:
    """A box as far right of centre as USER is left of it, ``relative`` × its side."""
    side = round(USER.w * relative)
    return Box(WIDTH - USER.x - USER.w // 2 - side // 2, HEIGHT // 2 - side // 2, side, side)


def jittered(box: Box, rng: np.random.Generator) -> Box:
    """``box`` 7.5 % larger or smaller at most, about the same centre: a detector's box frame to frame."""
    side = round(box.w * rng.uniform(0.925, 1.075))
    return Box(box.x + box.w // 2 - side // 2, box.y + box.h // 2 - side // 2, side, side)


def scenario() -> list[dict[str, Any]]:
    """Frames of (track id, box) faces at 10 frames a second, with the tracks still alive."""
    near, closer = on_the_right(1.1), on_the_right(1.3)
    frames = [{"t": 0.0, "faces": [(1, USER)], "live": [1]}]
    frames.append({"t": 0.1, "faces": [(2, near)], "live": [1, 2]})  # the detector missed the user
    frames += [{"t": 0.2 + i / 10, "faces": [(2, near), (1, USER)], "live": [1, 2]} for i in range(20)]
    frames += [{"t": 2.2 + i / 10, "faces": [(3, closer), (1, USER)], "live": [1, 3]} for i in range(16)]
    return frames + jittery_scenario(5.0)


def jittery_scenario(start: float) -> list[dict[str, Any]]:
    """From ``start``: a new user (track 5) alone, then someone 1.25× as prominent (track 6), the
    boxes jittering. 0.3 s after the newcomer came, the clock goes back to 1 s (a restarted camera);
    then the newcomer is missed in 2 frames, and no face is found in 1."""
    rng, newcomer = np.random.default_rng(24), on_the_right(1.25)
    frames = [{"t": start + i / 10, "faces": [(5, jittered(USER, rng))], "live": [5]} for i in range(5)]
    for i in range(30):
        both = [(6, jittered(newcomer, rng)), (5, jittered(USER, rng))]
        faces = [] if i == 8 else both[1:] if i in (5, 6) else both
        t = start + 0.5 + i / 10 if i < 3 else 1.0 + (i - 3) / 10
        frames.append({"t": t, "faces": faces, "live": [5, 6]})
    return frames


def python_decisions(frames: list[dict[str, Any]]) -> list[list[int | None]]:
    """Per frame: the track ids in the order the server's MainPerson gives, and its main person."""
    main = MainPerson()
    decided = []
    for frame in frames:
        faces = [Face(box, EVEN, track_id=track) for track, box in frame["faces"]]
        ordered = main.order(faces, (HEIGHT, WIDTH), set(frame["live"]), frame["t"])
        decided.append([*(face.track_id for face in ordered), main.track_id])
    return decided


def test_the_browsers_main_person_decides_as_the_servers(page: Any) -> None:
    frames = scenario()
    near, closer = (prominence(Face(on_the_right(r), EVEN), (HEIGHT, WIDTH)) for r in (1.1, 1.3))
    user = prominence(Face(USER, EVEN), (HEIGHT, WIDTH))
    assert near / user == pytest.approx(1.1, abs=0.01) and closer / user == pytest.approx(1.3, abs=0.01)
    expected = python_decisions(frames)
    got = page.evaluate(
        """async ([url, frames, width, height]) => {
             const { MainPerson } = await import(url);
             const config = await (await fetch("/api/ondevice")).json();
             const main = new MainPerson(config.main_person);
             return frames.map((f) => {
               const faces = f.faces.map(([trackId, [x, y, w, h]]) => ({ box: { x, y, w, h }, trackId }));
               const ordered = main.order(faces, width, height, new Set(f.live), f.t);
               return [...ordered.map((face) => face.trackId), main.trackId];
             });
           }""",
        [
            _module_url(page, "mainperson.js"),
            [{**f, "faces": [[t, list(b)] for t, b in f["faces"]]} for f in frames],
            WIDTH,
            HEIGHT,
        ],
    )
    assert got == expected
    # The decisions themselves: held through the missed frame and beside the 1.1× face ...
    assert got[1] == [2, 1] and all(decided[0] == 1 for decided in got[2:22])
    # ... and handed over to the 1.3× face once it has been so for TAKEOVER_SECONDS, not before.
    firsts = [decided[0] for decided in got[22:38]]
    held = round(TAKEOVER_SECONDS * 10)
    assert firsts == [1] * held + [3] * (len(firsts) - held)
    # With jittering boxes, the 1.25× newcomer takes over through its missed frames, 1 s after the
    # clock went back (3 frames after it came), give or take a frame of jitter.
    newcomer = [decided[-1] for decided in got[43:]]
    assert 3 + 10 <= newcomer.index(6) <= 3 + 12 and set(newcomer[newcomer.index(6) :]) == {6}


@needs_runtime
def test_the_on_device_mood_is_the_person_at_the_camera(page: Any) -> None:
    """A sad user with a happy bystander at 0.8× their size: the answer's first face is the user's
    and the mood is theirs ("sad"); before, it was the blend of both ("happy", source "group")."""
    rgb = astronaut_rgb()
    alone = np.repeat(two_people(sad_head(rgb), None)[..., None], 3, axis=2)
    together = np.repeat(two_people(sad_head(rgb), happy_head(rgb))[..., None], 3, axis=2)
    urls = ["data:image/png;base64," + base64.b64encode(png_bytes(pixels)).decode() for pixels in (alone, together)]
    answers = page.evaluate(
        """async ([engine, alone, together]) => {
             const { OnDeviceAnalyzer } = await import(engine);
             const reader = await OnDeviceAnalyzer.create();
             const picture = async (src) => { const img = new Image(); img.src = src; await img.decode(); return img; };
             const [first, both] = [await picture(alone), await picture(together)];
             await reader.analyzeFrame(first, first.naturalWidth, first.naturalHeight); // warm up (> 1 s)
             reader.resetStream();
             const answers = [await reader.analyzeFrame(first, first.naturalWidth, first.naturalHeight)];
             for (let i = 0; i < 5; i += 1) {
               answers.push(await reader.analyzeFrame(both, both.naturalWidth, both.naturalHeight));
             }
             return answers;
           }""",
        [_module_url(page, "engine.js"), *urls],
    )
    assert [face["emotion"] for face in answers[0]["faces"]] == ["sad"]
    for answer in answers[1:]:
        faces = answer["faces"]
        # The user's face (on the left) first, whichever track a slow frame may have given it.
        assert len(faces) == 2 and faces[0]["box"][0] < 320 < faces[1]["box"][0] and faces[1]["emotion"] == "happy"
        assert answer["mood"]["source"] == "face" and answer["mood"]["emotion"] == faces[0]["emotion"] == "sad"

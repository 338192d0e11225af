"""On-device mode holds the main person through a frame that misses them, as the server does.

The browser's FaceSmoother + MainPerson + heldFirst (ondevice/smoother.js, mainperson.js), with the
constants of ``GET /api/ondevice``, give frame by frame the same faces, in the same order, with the
same first reading as the server's (``vision/stream.FaceSmoother``, ``vision/main_person``): a sad
user, a happy bystander, and frames in which only the bystander is found. Before, such a frame's
first face was the bystander's on both paths, and so was the live mood.
"""

from __future__ import annotations

from typing import Any

import pytest
from test_ondevice import _module_url

from moodtape.emotions import EMOTIONS
from moodtape.types import Box, Face
from moodtape.vision.main_person import MainPerson, held_first
from moodtape.vision.stream import FaceSmoother

pytestmark = pytest.mark.e2e

WIDTH, HEIGHT = 640, 480
USER, BYSTANDER = Box(110, 130, 220, 220), Box(430, 150, 176, 176)
SAD = [0.05, 0.02, 0.08, 0.05, 0.6, 0.05, 0.15]
HAPPY = [0.02, 0.01, 0.02, 0.85, 0.03, 0.04, 0.03]
assert list(EMOTIONS).index("sad") == 4 and list(EMOTIONS).index("happy") == 3


MOVED = Box(110, 0, 220, 220)  # the user, 130 px up: too far for box matching to follow


def scenario() -> list[dict[str, Any]]:
    """10 frames a second: both people for 0.5 s, then the user missed for 1.5 s (their track lives
    1 s), then nobody for a frame; from 3 s both again for 0.5 s, then the user moved too far for
    their track (a new one) for 0.3 s."""
    both = [[list(USER), SAD], [list(BYSTANDER), HAPPY]]
    frames = [{"t": i / 10, "faces": both} for i in range(5)]
    frames += [{"t": 0.5 + i / 10, "faces": both[1:]} for i in range(15)]
    frames += [{"t": 2.0, "faces": []}]
    frames += [{"t": 3.0 + i / 10, "faces": both} for i in range(5)]
    return frames + [{"t": 3.5 + i / 10, "faces": [[list(MOVED), SAD], both[1]]} for i in range(3)]


def python_frames(frames: list[dict[str, Any]]) -> list[list[list[Any]]]:
    """Per frame, each face as [track id, box, rounded probabilities, held]."""
    smoother, main = FaceSmoother(), MainPerson()
    answers = []
    for frame in frames:
        faces = [Face(Box(*box), dict(zip(EMOTIONS, probs, strict=True))) for box, probs in frame["faces"]]
        smoothed = smoother.update(faces, frame["t"])
        ordered = main.order(smoothed, (HEIGHT, WIDTH), smoother.track_ids, frame["t"])
        ordered = held_first(ordered, main.track_id, smoother.held_face)
        answers.append(
            [[f.track_id, list(f.box), [round(f.probabilities[k], 4) for k in EMOTIONS], f.held] for f in ordered]
        )
    return answers


def test_the_browser_holds_the_main_person_as_the_server_does(page: Any) -> None:
    frames = scenario()
    expected = python_frames(frames)
    got = page.evaluate(
        """async ([mainUrl, smootherUrl, frames, width, height]) => {
             const { MainPerson, heldFirst } = await import(mainUrl);
             const { FaceSmoother } = await import(smootherUrl);
             const config = await (await fetch("/api/ondevice")).json();
             const smoother = new FaceSmoother(config.smoothing, config.classifier.uncertain_below, config.mood.labels);
             const main = new MainPerson(config.main_person);
             return frames.map((f) => {
               const faces = f.faces.map(([[x, y, w, h], probs]) => ({ box: { x, y, w, h }, probs }));
               const smoothed = smoother.update(faces, f.t);
               const ordered = heldFirst(main.order(smoothed, width, height, smoother.liveIds(), f.t), main.trackId,
                 (id, beside) => smoother.heldFace(id, beside));
               const r4 = (v) => Math.round(v * 1e4) / 1e4;
               return ordered.map((face) => [face.trackId, [face.box.x, face.box.y, face.box.w, face.box.h],
                 face.probs.map(r4), face.held === true]);
             });
           }""",
        [_module_url(page, "mainperson.js"), _module_url(page, "smoother.js"), frames, WIDTH, HEIGHT],
    )
    assert [[face[:2] for face in frame] for frame in got] == [[face[:2] for face in frame] for frame in expected]
    for mine, theirs in zip(got, expected, strict=True):
        for face, other in zip(mine, theirs, strict=True):
            assert face[2] == pytest.approx(other[2], abs=2e-4)
            assert face[3] == other[3]
    # The user (track 1) leads while their track lives (to 1.5 s), held at their last box ...
    assert all(frame[0][:2] == [1, list(USER)] and frame[1][0] == 2 for frame in got[5:15])
    # ... marked held, as no face found is.
    assert all(frame[0][3] is True and frame[1][3] is False for frame in got[5:15])
    assert not any(face[3] for frame in got[:5] + got[15:] for face in frame)
    # ... then the bystander, the one in view, is the person; a frame with nobody is empty.
    assert all([face[0] for face in frame] == [2] for frame in got[16:20]) and got[20] == []
    # A face on a new track (the user, moved fast) is not shown beside a held copy of them.
    user = got[25][0][0]
    assert all(len(frame) == 2 and user not in [face[0] for face in frame] for frame in got[26:])


def test_the_engine_holds_through_its_own_ordering_and_not_into_another_frame_size(page: Any) -> None:
    """OnDeviceAnalyzer.orderByMainPerson (what analyzeFrame runs, with its own smoother and main
    person from resetStream) holds the user, marked held, through a frame with only the bystander;
    not when the frame's size is not the one that last found the user (another camera)."""
    got = page.evaluate(
        """async ([engineUrl, user, bystander, width, height]) => {
             const { OnDeviceAnalyzer } = await import(engineUrl);
             const reader = Object.create(OnDeviceAnalyzer.prototype);
             reader.config = await (await fetch("/api/ondevice")).json();
             reader.resetStream();
             const face = ([x, y, w, h], probs) => ({ box: { x, y, w, h }, probs });
             const frame = (faces, t, size) => reader.orderByMainPerson(reader.smoother.update(faces, t), size, t)
               .map((f) => [f.trackId, f.held === true]);
             const sad = [0.05, 0.02, 0.08, 0.05, 0.6, 0.05, 0.15];
             const happy = [0.02, 0.01, 0.02, 0.85, 0.03, 0.04, 0.03];
             const same = { width, height };
             const out = [];
             for (let i = 0; i < 5; i += 1) out.push(frame([face(user, sad), face(bystander, happy)], i / 10, same));
             out.push(frame([face(bystander, happy)], 0.5, same));
             out.push(frame([face(bystander, happy)], 0.6, { width, height: height + 120 }));
             out.push(frame([face(bystander, happy)], 0.7, { width, height: height + 120 }));
             return out;
           }""",
        [_module_url(page, "engine.js"), list(USER), list(BYSTANDER), WIDTH, HEIGHT],
    )
    assert got[4] == [[1, False], [2, False]]
    assert got[5] == [[1, True], [2, False]]
    assert got[6] == got[7] == [[2, False]]


def test_the_on_device_answer_marks_the_held_face_as_the_api_does(page: Any) -> None:
    """analyzeFrame's JSON (the models stubbed: the user's face, then only the bystander's) says
    ``"held": true`` on the held face only, and its mood is the held user's, as ``Face.to_dict``."""
    got = page.evaluate(
        """async ([engineUrl, user, bystander, width, height]) => {
             const { OnDeviceAnalyzer } = await import(engineUrl);
             const reader = Object.create(OnDeviceAnalyzer.prototype);
             reader.config = await (await fetch("/api/ondevice")).json();
             reader.profile = null;
             reader.resetStream();
             reader.refreshProfile = () => {};
             reader.grayOf = () => ({ width, height });
             const sad = [0.05, 0.02, 0.08, 0.05, 0.6, 0.05, 0.15];
             const happy = [0.02, 0.01, 0.02, 0.85, 0.03, 0.04, 0.03];
             const probs = new Map([[user.join(), sad], [bystander.join(), happy]]);
             const probsOf = (box) => probs.get([box.x, box.y, box.w, box.h].join());
             reader.classify = async (gray, boxes) => boxes.map((box) => ({ box, probs: probsOf(box) }));
             const box = ([x, y, w, h]) => ({ x, y, w, h });
             const answers = [];
             for (let i = 0; i < 3; i += 1) {
               reader.detect = async () => [box(user), box(bystander)];
               answers.push(await reader.analyzeFrame(null, width, height));
             }
             reader.detect = async () => [box(bystander)];
             answers.push(await reader.analyzeFrame(null, width, height));
             return answers;
           }""",
        [_module_url(page, "engine.js"), list(USER), list(BYSTANDER), WIDTH, HEIGHT],
    )
    assert all("held" not in face for answer in got[:3] for face in answer["faces"])
    held, bystander = got[3]["faces"]
    assert held["held"] is True and held["box"] == list(USER) and "held" not in bystander
    assert got[3]["mood"]["emotion"] == "sad" == held["emotion"]

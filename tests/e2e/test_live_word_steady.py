"""The live mood's word holds still while a face is read near 50/50 between two emotions.

Before: the word in "Live mood: …" and in the faces summary followed every frame's label, so a face
whose two leading emotions took turns (0.46 against 0.44, a few frames each) changed the word on
screen 80 times in 240 frames (126 to 220 times a minute). Now a new word waits until its label
clearly leads (steadyword.js); a clean change still shows on its first frame, and a change without
a clear margin still shows.

Each frame's answer carries its own number in the mood's valence and arousal, which the mood line
prints, so what the page showed is matched to the frame it showed it for (not to the clock).
"""

from __future__ import annotations

import itertools
import json
import random
import re
from typing import Any

import pytest
from browsertools import watch_text

pytestmark = pytest.mark.e2e
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install -e .[dev])")
expect = sync_api.expect

EMOTIONS = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
Frame = tuple[str, dict[str, float]]
LINE = re.compile(r"Live mood: (\w+) — .*\(pleasant ([+−]\d\.\d\d) · energetic ([+−]\d\.\d\d)\)")


def _reading(first: str, p_first: float, second: str, p_second: float) -> Frame:
    """A face whose label is ``first``; what is left of the probability is shared by the others."""
    rest = (1 - p_first - p_second) / (len(EMOTIONS) - 2)
    probabilities = {e: rest for e in EMOTIONS} | {first: p_first, second: p_second}
    return first, probabilities


def _borderline(count: int, seed: int = 5) -> list[Frame]:
    """Neutral and sad taking the lead in turns, 1 to 3 frames each, at 0.46 against 0.44 ± 0.01.

    Three frames last under the 1.5 s a lead needs even at 2 frames a second (a loaded machine):
    the word must then never change, whatever the page's pace."""
    rng = random.Random(seed)
    frames: list[Frame] = []
    leader, other = "neutral", "sad"
    while len(frames) < count:
        for _ in range(rng.randint(1, 3)):
            frames.append(_reading(leader, 0.46 + rng.uniform(-0.01, 0.01), other, 0.44 + rng.uniform(-0.01, 0.01)))
        leader, other = other, leader
    return frames[:count]


def _encode(index: int) -> tuple[float, float]:
    """Frame number → (valence, arousal) that the mood line prints to two decimals."""
    return -0.5 + (index % 100) / 100, -0.9 + (index // 100) / 100


def _decode(valence: str, arousal: str) -> int:
    value, level = (float(text.replace("−", "-")) for text in (valence, arousal))
    return round((value + 0.5) * 100) + 100 * round((level + 0.9) * 100)


def _script_frames(page: Any, frames: list[Frame], *, bystander: bool = False) -> list[int]:
    """Answer the camera's n-th frame with ``frames[n]`` (the last one again once they run out).

    With ``bystander``, a second, smaller face sits at the side, sure it is sad; the mood stays the
    first face's (``source: "face"``), as the server's and the on-device stream answers give it.

    Returns a one-item list holding how many frames were answered so far.
    """
    answered = [0]

    def answer(route: Any) -> None:
        index = min(answered[0], len(frames) - 1)
        answered[0] += 1
        emotion, probabilities = frames[index]
        valence, arousal = _encode(index)
        face = {
            "box": [200, 120, 220, 220],
            "emotion": emotion,
            "confidence": probabilities[emotion],
            "uncertain": False,
            "probabilities": probabilities,
        }
        others = [_BYSTANDER] if bystander else []
        body = {
            "faces": [face, *others],
            "image": {"width": 640, "height": 480},
            "mood": {"valence": valence, "arousal": arousal, "emotion": emotion, "source": "face"},
            "stream": "s",
            "elapsed_ms": 1.0,
        }
        route.fulfill(status=200, content_type="application/json", body=json.dumps(body))

    page.route("**/api/analyze?stream=*", answer)
    return answered


_BYSTANDER = {
    "box": [500, 60, 100, 100],
    "emotion": "sad",
    "confidence": 0.9,
    "uncertain": False,
    "probabilities": _reading("sad", 0.9, "neutral", 0.02)[1],
}


def _shown(texts: list[str]) -> list[tuple[int, str]]:
    """(frame number, word) for every live mood line the page wrote."""
    return [(_decode(m[2], m[3]), m[1]) for m in map(LINE.search, texts) if m]


def _run(page: Any, frames: list[Frame], *, bystander: bool = False) -> tuple[list[tuple[int, str]], list[str]]:
    """Play ``frames`` to the camera; returns what the mood line and the faces summary showed."""
    answered = _script_frames(page, frames, bystander=bystander)
    mood_line = watch_text(page, "#mood-now")
    summary = watch_text(page, "#faces-summary")
    page.get_by_role("button", name="Start camera").click()
    for _ in range(600):  # until every frame and a few more have been answered (at most 2 min)
        if answered[0] > len(frames) + 5:
            break
        page.wait_for_timeout(200)
    assert answered[0] > len(frames) + 5, f"the camera sent only {answered[0]} frames"
    return _shown(mood_line()), summary()


def _changes(words: list[str]) -> int:
    return sum(a != b for a, b in itertools.pairwise(words))


def test_a_face_read_near_50_50_does_not_flip_the_word(page: Any) -> None:
    frames = _borderline(240)
    shown, summary = _run(page, frames)
    words = [word for _, word in shown]
    frame_labels = _changes([label for label, _ in frames])
    summary_words = [text for text in summary if text.startswith("1 face")]
    assert len(shown) >= 200, "the page drew too few of the frames to judge"
    assert frame_labels > 60
    # A few a minute at most: none is expected, as no lead is clear or lasts 1.5 s.
    assert _changes(words) <= 2, words
    assert _changes(summary_words) <= 2, summary_words


def test_a_real_change_still_shows(page: Any) -> None:
    neutral = [_reading("neutral", 0.9, "sad", 0.02)] * 30
    happy = [_reading("happy", 0.9, "neutral", 0.02)] * 30
    # A change with no clear margin (0.40 against 0.36) must show too, once it has lasted.
    sad = [_reading("sad", 0.40, "happy", 0.36)] * 60
    frames = neutral + happy + sad
    shown, summary = _run(page, frames)
    first_happy = next(frame for frame, word in shown if word == "happy")
    first_sad = next((frame for frame, word in shown if word == "sad"), None)
    assert all(word == "neutral" for frame, word in shown if frame < 30)
    assert first_happy - 30 <= 1
    assert first_sad is not None and first_sad - 60 >= 1
    assert summary[-1] == "1 face: sad."


def test_a_bystander_in_view_leaves_the_persons_word_as_steady(page: Any) -> None:
    """A stream's mood is its first face's: with a bystander in view, that face's word is held as
    when it is alone. Before, two faces made the page drop the probabilities: the person's word in
    the faces summary followed every frame (80 changes in 240 frames)."""
    frames = _borderline(240)
    shown, summary = _run(page, frames, bystander=True)
    summary_words = [text for text in summary if text.startswith("2 faces")]
    assert len(shown) >= 200, "the page drew too few of the frames to judge"
    assert _changes([word for _, word in shown]) <= 2
    assert summary_words, summary  # written when it changes: once is steady
    assert _changes(summary_words) <= 2, summary_words
    assert all("sad" in text for text in summary_words), "the bystander keeps its own label"


def test_a_bystander_in_view_does_not_slow_a_real_change(page: Any) -> None:
    """Before, with two faces the word waited 1.5 s for every change, a clear one too."""
    neutral = [_reading("neutral", 0.9, "sad", 0.02)] * 30
    happy = [_reading("happy", 0.9, "neutral", 0.02)] * 30
    shown, _ = _run(page, neutral + happy, bystander=True)
    first_happy = next(frame for frame, word in shown if word == "happy")
    assert all(word == "neutral" for frame, word in shown if frame < 30)
    assert first_happy - 30 <= 1

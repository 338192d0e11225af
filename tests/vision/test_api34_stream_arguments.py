"""``StreamAnalyzer`` arguments: a bad one is a ``moodtape.DataError`` that says what to pass.

``process(frame, None)`` was a bare ``ValueError`` ("a frame's timestamp must be a finite number of
seconds, got None") that no ``except moodtape.MoodtapeError`` caught and that did not say what to
pass; ``StreamAnalyzer(None)`` was an ``AttributeError`` from inside the constructor.
"""

from __future__ import annotations

import datetime

import numpy as np
import pytest

import moodtape
from moodtape.errors import DataError
from moodtape.vision.pipeline import Analyzer
from moodtape.vision.stream import StreamAnalyzer

FRAME = np.zeros((64, 64), np.uint8)
WHAT_TO_PASS = r"pass when the frame was taken on a steady clock, e\.g\. stream\.process\(frame, time\.monotonic\(\)\)"


@pytest.mark.parametrize("timestamp", [None, "0.5", float("nan"), True], ids=["None", "str", "nan", "bool"])
def test_a_timestamp_that_is_no_time_says_what_to_pass(bundled_analyzer: Analyzer, timestamp: object) -> None:
    with pytest.raises(DataError, match=WHAT_TO_PASS):
        StreamAnalyzer(bundled_analyzer).process(FRAME, timestamp)  # type: ignore[arg-type]


def test_a_datetime_timestamp_is_told_how_to_pass_it(bundled_analyzer: Analyzer) -> None:
    with pytest.raises(DataError, match=r"or a datetime's \.timestamp\(\)"):
        StreamAnalyzer(bundled_analyzer).process(FRAME, datetime.datetime.now())  # type: ignore[arg-type]


def test_the_error_is_still_a_value_error(bundled_analyzer: Analyzer) -> None:
    """Code written for the ValueError raised before still catches it; 400 where the web shows it."""
    with pytest.raises(ValueError, match="finite number of seconds") as caught:
        StreamAnalyzer(bundled_analyzer).process(FRAME, None)  # type: ignore[arg-type]
    assert isinstance(caught.value, moodtape.MoodtapeError)
    assert caught.value.status == 400


def test_an_unknown_color_order_is_a_data_error(bundled_analyzer: Analyzer) -> None:
    colour = np.zeros((64, 64, 3), np.uint8)
    with pytest.raises(DataError, match=r"color_order must be 'bgr' \(OpenCV's order\) or 'rgb'"):
        StreamAnalyzer(bundled_analyzer).process(colour, 0.0, color_order="RGB ")
    with pytest.raises(DataError, match="color_order"):
        bundled_analyzer.analyze(colour, color_order="xyz")


@pytest.mark.parametrize("analyzer", [None, "model.onnx"], ids=["None", "a-path"])
def test_what_is_no_analyzer_is_refused_at_once(analyzer: object) -> None:
    with pytest.raises(DataError, match=r"StreamAnalyzer needs an Analyzer, got \w+; pass moodtape\.Analyzer\(\)"):
        StreamAnalyzer(analyzer)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("options", "message"),
    [({"detect_every": 0}, "detect_every must be a whole number"), ({"time_constant": -1.0}, "time_constant")],
)
def test_bad_stream_settings_are_data_errors(
    bundled_analyzer: Analyzer, options: dict[str, float], message: str
) -> None:
    with pytest.raises(DataError, match=message):
        StreamAnalyzer(bundled_analyzer, **options)  # type: ignore[arg-type]

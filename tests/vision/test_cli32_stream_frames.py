"""``StreamAnalyzer.process`` holds a gray frame to the checks every other frame passes."""

from __future__ import annotations

import numpy as np
import pytest

from moodtape import Analyzer, StreamAnalyzer
from moodtape.errors import ImageError, ImageTooLargeError


@pytest.fixture
def stream() -> StreamAnalyzer:
    return StreamAnalyzer(Analyzer(max_pixels=100 * 100))


@pytest.mark.parametrize("channels", [(), (3,)], ids=["gray", "bgr"])
def test_an_empty_frame_is_an_image_error(stream: StreamAnalyzer, channels: tuple[int, ...]) -> None:
    with pytest.raises(ImageError, match="empty image array"):
        stream.process(np.zeros((0, 0, *channels), np.uint8), 0.0)


@pytest.mark.parametrize("channels", [(), (3,)], ids=["gray", "bgr"])
def test_a_frame_past_the_pixel_limit_is_refused(stream: StreamAnalyzer, channels: tuple[int, ...]) -> None:
    with pytest.raises(ImageTooLargeError, match="pixel limit"):
        stream.process(np.zeros((101, 100, *channels), np.uint8), 0.0)


def test_a_gray_frame_within_the_limit_is_read_as_it_is(stream: StreamAnalyzer) -> None:
    frame = np.full((100, 100), 90, np.uint8)
    frame.flags.writeable = False  # read, never written
    assert stream.process(frame, 0.0) == []

"""The per-process stream registry: one analyzer per (session, stream), bounded, scoped, validated."""

from __future__ import annotations

import pytest

from moodtape.errors import DataError
from moodtape.vision.pipeline import Analyzer
from moodtape.vision.stream import StreamAnalyzer
from moodtape.web.streams import StreamRegistry


def test_same_stream_same_analyzer_and_sessions_are_separate(real_analyzer: Analyzer) -> None:
    registry = StreamRegistry(lambda: StreamAnalyzer(real_analyzer))
    first = registry.get("session-a", "cam")
    assert registry.get("session-a", "cam") is first
    assert registry.get("session-b", "cam") is not first
    assert len(registry) == 2


def test_registry_is_bounded(real_analyzer: Analyzer) -> None:
    registry = StreamRegistry(lambda: StreamAnalyzer(real_analyzer), max_streams=3)
    oldest = registry.get("s", "0")
    for number in range(1, 10):
        registry.get("s", str(number))
    assert len(registry) == 3
    assert registry.get("s", "0") is not oldest  # forgotten, so a fresh one


@pytest.mark.parametrize("stream_id", ["", "a" * 65, "has space", "../etc", "ü", "cam\n"])
def test_bad_stream_ids_are_refused(real_analyzer: Analyzer, stream_id: str) -> None:
    registry = StreamRegistry(lambda: StreamAnalyzer(real_analyzer))
    with pytest.raises(DataError):
        registry.get("s", stream_id)

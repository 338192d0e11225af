"""A failed service's reason reaches ``GET /api/recommendations`` as one sentence, whatever it holds."""

from __future__ import annotations

from moodtape.recommender.result import Recommendation
from moodtape.types import Mood
from moodtape.web.shapes import recommendation_json


def _result(*reasons: str) -> Recommendation:
    mood = Mood(valence=-0.5, arousal=-0.3, emotion="sad", source="emotion")
    return Recommendation(
        items=(), mood=mood, strategy="match", kind="tracks", targets=(), sources=("catalog",), fallback_reasons=reasons
    )


def test_a_reason_holding_a_semicolon_stays_one_reason() -> None:
    reason = "Spotify is having trouble (HTTP 503); try again in a few minutes."
    assert recommendation_json(_result(reason))["fallback_reasons"] == [reason]


def test_each_failed_service_keeps_its_own_reason() -> None:
    reasons = (
        "Spotify is not answering (offline?)",
        "YouTube's daily quota is used up; it resets at midnight Pacific.",
    )
    assert recommendation_json(_result(*reasons))["fallback_reasons"] == list(reasons)

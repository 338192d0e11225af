"""Recommendations: mood → strategy → target path → ranked, explained tracks and videos.

Modules: ``mood`` (emotions → circumplex points), ``strategies`` (target paths), ``features``
(audio features → the mood plane), ``ranking``, ``reasons``, ``engine`` (the :class:`Recommender`),
``result``, ``export`` and ``api`` (the :func:`recommend` verb).
"""

from moodtape.recommender.api import recommend
from moodtape.recommender.engine import Recommender
from moodtape.recommender.mood import group_mood, mood_from_emotion, mood_from_point, mood_from_probabilities
from moodtape.recommender.result import Recommendation, RecommendedItem
from moodtape.recommender.strategies import STRATEGIES

__all__ = [
    "STRATEGIES",
    "Recommendation",
    "RecommendedItem",
    "Recommender",
    "group_mood",
    "mood_from_emotion",
    "mood_from_point",
    "mood_from_probabilities",
    "recommend",
]

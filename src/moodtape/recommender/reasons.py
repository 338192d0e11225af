"""One readable line per recommended item: what it sounds like, and why it is here.

A reason has two halves joined by a dash: a description built from the item's features
("slow, warm acoustic folk song") and a purpose built from the strategy and how far along the list
the item sits ("to lift your sad mood gently"). Both come from words chosen here, never from raw
numbers, so a person can read them.
"""

from __future__ import annotations

from typing import Final

from moodtape.recommender.features import effective_energy
from moodtape.types import Track, Video

#: The mood word for each emotion, as it reads in "your ___ mood".
MOOD_WORDS: Final[dict[str, str]] = {
    "angry": "angry",
    "disgust": "soured",
    "fear": "anxious",
    "happy": "happy",
    "sad": "sad",
    "surprise": "surprised",
    "neutral": "even",
}

_VIDEO_NOUNS: Final[dict[str, str]] = {
    "music": "music video",
    "comedy": "comedy clip",
    "nature": "nature film",
    "relaxation": "relaxation video",
    "breathing": "breathing exercise",
    "motivation": "motivational talk",
}


def _valence_word(valence: float) -> str:
    if valence >= 0.75:
        return "bright"
    if valence >= 0.55:
        return "warm"
    if valence >= 0.35:
        return "bittersweet"
    return "melancholy"


def _feel_word(energy: float) -> str:
    """How intense an item feels, from its effective energy."""
    if energy < 0.3:
        return "gentle"
    if energy < 0.5:
        return "easy-going"
    if energy < 0.75:
        return "lively"
    return "high-energy"


def _pace_word(tempo: float | None, energy: float) -> str:
    """Tempo when known; otherwise a word from energy (calm music is usually slow, intense music driving)."""
    if tempo is None:
        if energy < 0.3:
            return "slow"
        return "driving" if energy >= 0.75 else _feel_word(energy)
    if tempo < 0.35:
        return "slow"
    if tempo > 0.6:
        return "fast"
    return "mid-tempo"


def describe(item: Track | Video) -> str:
    """What ``item`` sounds or looks like, e.g. ``"slow, warm acoustic folk song"``."""
    energy = effective_energy(item)
    adjectives: list[str] = []
    texture: list[str] = []
    if isinstance(item, Track):
        adjectives.append(_pace_word(item.tempo, energy))
        if item.acousticness is not None and item.acousticness >= 0.6:
            texture.append("acoustic")
        if item.instrumentalness is not None and item.instrumentalness >= 0.6:
            texture.append("instrumental")
        if item.danceability is not None and item.danceability >= 0.7:
            texture.append("danceable")
        genre = (item.genre or "").strip().lower()
        noun = f"{genre} song" if genre and genre not in texture else "song"
        if "instrumental" in texture:
            noun = f"{genre} piece" if genre else "piece"
    else:
        adjectives.append(_feel_word(energy))
        noun = _VIDEO_NOUNS.get(item.category.strip().lower(), f"{item.category.strip().lower()} video")
    adjectives.append(_valence_word(item.valence))
    words = [word for word in adjectives if word]
    head = ", ".join(words)
    return " ".join(part for part in (head, " ".join(texture), noun) if part)


def purpose(strategy: str, emotion: str | None, progress: float) -> str:
    """Why an item sits at this point of the list, for ``strategy`` and the mood's ``emotion``."""
    mood = MOOD_WORDS.get(emotion or "", "current")
    if strategy == "match":
        # The whole list sits at one mood; vary the words along it so the lines don't all read alike.
        match_phrases = (
            f"in tune with your {mood} mood",
            f"to stay with your {mood} mood",
            f"to keep your {mood} mood going",
        )
        return match_phrases[0 if progress < 0.34 else (1 if progress < 0.67 else 2)]
    if progress <= 0.0:
        return f"to meet your {mood} mood where it is"
    stage = "start" if progress < 0.35 else ("middle" if progress < 0.75 else "end")
    phrases = {
        "uplift": {
            "start": f"a first small step up from your {mood} mood",
            "middle": f"to lift your {mood} mood gently",
            "end": "to leave you somewhere brighter",
        },
        "calm": {
            "start": f"to take the edge off your {mood} mood",
            "middle": "to slow things down",
            "end": "to help you settle and unwind",
        },
        "energize": {
            "start": f"to stir your {mood} mood into motion",
            "middle": "to build your energy",
            "end": "to get you moving",
        },
    }
    return phrases.get(strategy, phrases["uplift"])[stage]


def reason(item: Track | Video, strategy: str, emotion: str | None, progress: float, liked: bool = False) -> str:
    """The whole line: ``"Slow, warm acoustic song — to lift your sad mood gently"``."""
    line = f"{describe(item)} — {purpose(strategy, emotion, progress)}"
    line = line[0].upper() + line[1:]
    return f"{line} (you liked this artist)" if liked else line

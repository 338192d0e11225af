"""One readable line per recommended item: what it sounds like, and why it is here, in this list.

A reason has two halves joined by a dash: a description built from the item's own features
("slow (72 BPM), warm acoustic folk song from the 1970s") and a purpose built from the strategy
and the item's step along the list ("a first small step up from your sad mood"), plus "because you
liked …" when the person's taste brought it in. Where the list holds still (match, or the goal of a
moving strategy) a line also says how the item differs from the one before ("a shade livelier than
the last"), when a listener would notice. Words, not raw numbers — except a tempo in BPM,
which people know.

:func:`explain` writes the lines for a whole list and keeps a promise: no sentence appears more
than :data:`MAX_REPEATS` times in one list. Purposes rotate through synonyms along the list; a line
that would still appear a third time names its step ("step 7 of 12"), which is unique.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from typing import Final

from moodtape.recommender.features import TEMPO_BPM_RANGE, effective_energy
from moodtape.recommender.result import RecommendedItem
from moodtape.types import Track, Video

#: The most times one sentence may appear in a list.
MAX_REPEATS: Final[int] = 2
#: The suffix that makes a line unique in its list.
_STEP: Final = re.compile(r" \(step \d+ of \d+\)$")
#: A change from the previous item (unit plane) a listener notices: "a shade livelier than the last".
NOTICEABLE: Final[float] = 0.04

#: The mood word for each emotion, as it reads in "your ___ mood".
MOOD_WORDS: Final[dict[str, str]] = {
    "angry": "angry",
    "disgust": "disgusted",
    "fear": "fearful",
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

#: strategy → stage → synonyms; ``{mood}`` is the mood word. Rotated along the list.
_PURPOSES: Final[dict[str, dict[str, tuple[str, ...]]]] = {
    "match": {
        "all": (
            "in tune with your {mood} mood",
            "to stay with your {mood} mood",
            "to keep your {mood} mood going",
            "right where your {mood} mood is",
            "more of the same {mood} feeling",
        ),
    },
    "uplift": {
        "hold": ("to meet your {mood} mood where it is", "still with your {mood} mood, before we move"),
        "start": ("a first small step up from your {mood} mood", "a touch lighter than your {mood} mood"),
        "middle": (
            "to lift your {mood} mood gently",
            "a little brighter than the last",
            "climbing out of the {mood} mood",
        ),
        "end": ("to leave you somewhere brighter", "brighter still", "to end on a good note"),
    },
    "calm": {
        "hold": ("to meet your {mood} mood where it is",),
        "start": ("to take the edge off your {mood} mood", "a first step down from your {mood} mood"),
        "middle": ("to slow things down", "quieter than the last", "easing the pace"),
        "end": ("to help you settle and unwind", "to keep things calm", "to stay settled", "quiet, to let you rest"),
    },
    "energize": {
        "hold": ("to meet your {mood} mood where it is",),
        "start": ("to stir your {mood} mood into motion", "a first push out of your {mood} mood"),
        "middle": ("to build your energy", "livelier than the last", "picking up the pace"),
        "end": ("to get you moving", "to keep the energy up", "to keep you going", "full speed"),
    },
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


def _pace(tempo: float | None, energy: float) -> str:
    """Tempo in words and BPM when known; otherwise a word from energy."""
    if tempo is None:
        if energy < 0.3:
            return "slow"
        return "driving" if energy >= 0.75 else _feel_word(energy)
    low, high = TEMPO_BPM_RANGE
    bpm = round(low + tempo * (high - low))
    word = "slow" if bpm < 95 else ("fast" if bpm > 140 else "mid-tempo")
    return f"{word} ({bpm} BPM)"


def describe(item: Track | Video) -> str:
    """What ``item`` sounds or looks like, e.g. ``"slow (72 BPM), warm acoustic folk song from the 1970s"``."""
    energy = effective_energy(item)
    if item.kind == "video":
        category = (item.genre or "").strip().lower()
        noun = _VIDEO_NOUNS.get(category, f"{category} video")
        return f"{_feel_word(energy)}, {_valence_word(item.valence)} {noun}"
    features = item.audio_features()
    texture = [
        word
        for word, name in (
            ("acoustic", "acousticness"),
            ("instrumental", "instrumentalness"),
            ("danceable", "danceability"),
        )
        if features.get(name, 0.0) >= (0.7 if name == "danceability" else 0.6)
    ]
    genre = (item.genre or "").strip().lower()
    noun = "piece" if "instrumental" in texture else "song"
    noun = f"{genre} {noun}" if genre and genre not in texture else noun
    era = f" from the {item.decade}s" if item.decade else ""
    head = f"{_pace(features.get('tempo'), energy)}, {_valence_word(item.valence)}"
    return " ".join(part for part in (head, " ".join(texture), noun) if part) + era


def _stage(strategy: str, progress: float) -> str:
    if strategy == "match":
        return "all"
    if progress <= 0.0:
        return "hold"
    return "start" if progress < 0.35 else ("middle" if progress < 0.75 else "end")


def purpose(strategy: str, emotion: str | None, progress: float, slot: int = 0) -> str:
    """Why an item sits at this point of the list; ``slot`` rotates the wording within a stage."""
    mood = MOOD_WORDS.get(emotion or "", "current")
    stages = _PURPOSES.get(strategy, _PURPOSES["uplift"])
    phrases = stages[_stage(strategy, progress)]
    return phrases[slot % len(phrases)].format(mood=mood)


def compared(item: Track | Video, previous: Track | Video | None) -> str:
    """How ``item`` differs from the one before it, when a listener would notice; else ``""``."""
    if previous is None:
        return ""
    energy = effective_energy(item) - effective_energy(previous)
    if abs(energy) >= NOTICEABLE:
        return "a shade livelier than the last" if energy > 0 else "a shade calmer than the last"
    valence = item.valence - previous.valence
    if abs(valence) >= NOTICEABLE:
        return "a shade brighter than the last" if valence > 0 else "a shade darker than the last"
    return ""


def reason(
    item: Track | Video,
    strategy: str,
    emotion: str | None,
    progress: float,
    liked: bool = False,
    slot: int = 0,
    because: str | None = None,
    previous: Track | Video | None = None,
) -> str:
    """One line: ``"Slow, warm acoustic song — to lift your sad mood gently"``.

    ``because`` names a liked item whose taste brought this one in; ``liked`` (without a title)
    says the artist was liked; ``previous`` (the item before it) adds how this one differs, where
    the list holds still (match, or the goal of a moving strategy).
    """
    difference = compared(item, previous) if _stage(strategy, progress) in ("all", "end") else ""
    head = f"{describe(item)}, {difference}" if difference else describe(item)
    line = f"{head} — {purpose(strategy, emotion, progress, slot)}"
    line = line[0].upper() + line[1:]
    if because:
        return f"{line}, because you liked “{because}”"
    return f"{line} (you liked this artist)" if liked else line


def explain(
    entries: Sequence[RecommendedItem], strategy: str, emotion: str | None, progresses: Sequence[float]
) -> list[str]:
    """The reasons for a whole list, in order; no sentence more than :data:`MAX_REPEATS` times."""
    used: Counter[str] = Counter()
    lines: list[str] = []
    total = len(entries)
    previous: Track | Video | None = None
    for entry, progress in zip(entries, progresses, strict=True):
        because = entry.because if entry.because and entry.because != entry.item.artist else None
        liked = entry.because is not None and because is None
        line = reason(
            entry.item,
            strategy,
            emotion,
            progress,
            liked=liked,
            slot=entry.position,
            because=because,
            previous=previous,
        )
        previous = entry.item
        if used[line] >= MAX_REPEATS:
            line = _with_step(line, entry.position, total)
        used[line] += 1
        lines.append(line)
    return lines


def reason_for_row(line: str, others: Sequence[str], position: int, total: int) -> str:
    """``line`` as the reason of row ``position`` (0-based) of a list whose other rows say ``others``.

    A row replaced after a dislike brings its reason from another ranking; the list's promise
    still holds: if the sentence is already there :data:`MAX_REPEATS` times, the row names its
    own step (and never a step from the list it came from).
    """
    line = _STEP.sub("", line)
    if sum(other == line for other in others) >= MAX_REPEATS:
        line = _with_step(line, position, total)
    return line


def _with_step(line: str, position: int, total: int) -> str:
    return f"{line} (step {position + 1} of {total})"

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

Two rules keep the purposes true and varied. A purpose that compares with the item before ("a
little brighter than the last", "brighter still") is said only of an item that is so; and a
moving strategy whose path does not move the way it promises (uplift from a mood already bright,
calm from one already calm) says so ("your happy mood is bright already: to keep it there")
instead of "a first small step up". Within a stage the least-said synonym is chosen, and a line
already in the list adds how its item differs from the last before it is said again.
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
MAX_REPEATS: Final[int] = 1
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
        "hold": (
            "to meet your {mood} mood where it is",
            "still with your {mood} mood, before we move",
            "to start from your {mood} mood",
        ),
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

#: strategy → purposes for a path that does not move the way the strategy promises (the mood is
#: already where it leads): past the first slots, these replace the steps it will not take.
_ALREADY_THERE: Final[dict[str, tuple[str, ...]]] = {
    "uplift": (
        "your {mood} mood is bright already: to keep it there",
        "to keep your {mood} mood bright",
        "no lift needed: staying as bright as your {mood} mood",
        "to stay on the bright side with your {mood} mood",
        "already up where your {mood} mood is",
        "keeping to the brighter side",
    ),
    "calm": (
        "your {mood} mood is calm already: to keep it there",
        "to keep your {mood} mood settled",
        "no slowing needed: staying as easy as your {mood} mood",
        "already as calm as your {mood} mood",
        "keeping things quiet",
    ),
    "energize": (
        "your {mood} mood is lively already: to keep it there",
        "to keep your {mood} mood's energy up",
        "no push needed: staying as lively as your {mood} mood",
        "already as lively as your {mood} mood",
        "keeping the pace up",
    ),
}

#: strategy → the axis of the unit plane it promises to move (0 valence, 1 energy) and which way.
_PROMISED_MOVE: Final[dict[str, tuple[int, int]]] = {"uplift": (0, 1), "calm": (1, -1), "energize": (1, 1)}

#: Purposes that compare an item with the one before: (axis, direction) the item must have moved.
_COMPARISONS: Final[dict[str, tuple[int, int]]] = {
    "a little brighter than the last": (0, 1),
    "brighter still": (0, 1),
    "quieter than the last": (1, -1),
    "livelier than the last": (1, 1),
}

#: What :func:`compared` adds to an item's description.
_COMPARED: Final = re.compile(r", a shade (?:livelier|calmer|brighter|darker) than the last(?= — )")
#: Each comparing purpose → the first purpose of its stage that compares nothing.
_INSTEAD: Final[dict[str, str]] = {
    phrase: next(other for other in phrases if other not in _COMPARISONS)
    for stages in _PURPOSES.values()
    for phrases in stages.values()
    for phrase in phrases
    if phrase in _COMPARISONS
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


def _moved(item: Track | Video, previous: Track | Video | None, axis: int, direction: int) -> bool:
    """Whether ``item`` is noticeably further than ``previous`` along ``axis`` (0 valence, 1 energy)."""
    if previous is None:
        return False
    values = [(thing.valence, effective_energy(thing)) for thing in (item, previous)]
    return direction * (values[0][axis] - values[1][axis]) >= NOTICEABLE


def path_moves(strategy: str, targets: Sequence[tuple[float, float]]) -> bool:
    """Whether a path goes the way ``strategy`` promises by a step a listener notices: uplift from a
    happy mood (valence 0.9, its goal at least 0.8) does not, and must not say it lifts."""
    if strategy not in _PROMISED_MOVE or not targets:
        return True
    axis, direction = _PROMISED_MOVE[strategy]
    return direction * (targets[-1][axis] - targets[0][axis]) >= NOTICEABLE


def true_purposes(
    strategy: str,
    emotion: str | None,
    progress: float,
    item: Track | Video,
    previous: Track | Video | None,
    moves: bool = True,
) -> list[str]:
    """The stage's purposes (see :func:`purpose`) that hold for ``item``: a comparison only when the
    item is so, the steps of a path that does not move replaced by :data:`_ALREADY_THERE`."""
    mood = MOOD_WORDS.get(emotion or "", "current")
    stage = _stage(strategy, progress)
    if not moves and stage != "hold" and strategy in _ALREADY_THERE:
        phrases: Sequence[str] = _ALREADY_THERE[strategy]
    else:
        phrases = _PURPOSES.get(strategy, _PURPOSES["uplift"])[stage]
    held = [phrase for phrase in phrases if phrase not in _COMPARISONS or _moved(item, previous, *_COMPARISONS[phrase])]
    return [phrase.format(mood=mood) for phrase in held]


def _axis(difference: str) -> int | None:
    """The axis a :func:`compared` phrase is about (0 valence, 1 energy); None for none."""
    if not difference:
        return None
    return 1 if "livelier" in difference or "calmer" in difference else 0


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
    said: str | None = None,
    differ: bool = False,
) -> str:
    """One line: ``"Slow, warm acoustic song — to lift your sad mood gently"``.

    ``because`` names a liked item whose taste brought this one in; ``liked`` (without a title)
    says the artist was liked; ``previous`` (the item before it) adds how this one differs, where
    the list holds still (match, or the goal of a moving strategy), or anywhere with ``differ``.
    ``said`` is the purpose :func:`explain` chose (default: :func:`purpose` at ``slot``).
    """
    said = said or purpose(strategy, emotion, progress, slot)
    holds_still = _stage(strategy, progress) in ("all", "end")
    difference = compared(item, previous) if holds_still or differ else ""
    if said in _COMPARISONS and _axis(difference) == _COMPARISONS[said][0]:
        difference = ""  # the purpose says it already ("brighter still"); another axis's change stays
    head = f"{describe(item)}, {difference}" if difference else describe(item)
    line = f"{head} — {said}"
    line = line[0].upper() + line[1:]
    if because:
        return f"{line}, because you liked “{because}”"
    return f"{line} (you liked this artist)" if liked else line


def explain(
    entries: Sequence[RecommendedItem],
    strategy: str,
    emotion: str | None,
    progresses: Sequence[float],
    targets: Sequence[tuple[float, float]] = (),
) -> list[str]:
    """The reasons for a whole list, in order; no sentence more than :data:`MAX_REPEATS` times.

    ``targets`` (the list's path) tells whether the strategy's promised move happens at all
    (:func:`path_moves`). Each item gets the purpose of its stage said least so far in this list
    (ties rotate by position), and a line already in the list adds how its item differs from the
    one before, so that repeats are rare and a line is said twice only where nothing true tells
    two items apart.
    """
    moves = path_moves(strategy, targets)
    purposes: Counter[str] = Counter()
    used: Counter[str] = Counter()
    lines: list[str] = []
    total = len(entries)
    previous: Track | Video | None = None
    for entry, progress in zip(entries, progresses, strict=True):
        because = entry.because if entry.because and entry.because != entry.item.artist else None
        liked = entry.because is not None and because is None
        phrases = true_purposes(strategy, emotion, progress, entry.item, previous, moves)
        said = _least_said(phrases, purposes, entry.position)
        purposes[said] += 1
        line = ""
        for differ in (False, True):  # the difference from the last only where the line is said already
            if not line or used[line]:
                line = reason(
                    entry.item,
                    strategy,
                    emotion,
                    progress,
                    liked=liked,
                    because=because,
                    previous=previous,
                    said=said,
                    differ=differ,
                )
        previous = entry.item
        if used[line] >= MAX_REPEATS:
            line = _with_step(line, entry.position, total)
        used[line] += 1
        lines.append(line)
    return lines


def _least_said(phrases: Sequence[str], said: Counter[str], position: int) -> str:
    """The phrase said least so far; among equals, the one ``position`` rotates to."""
    start = position % len(phrases)
    rotated = [*phrases[start:], *phrases[:start]]
    return min(rotated, key=lambda phrase: said[phrase])


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


def without_comparisons(line: str, emotion: str | None) -> str:
    """``line`` with nothing said of the item before it ("a shade livelier than the last", "brighter
    still"): a row replaced after a dislike, and the row after it, now sit beside another item than
    the one their reasons were written against, and the saved row lacks what
    :func:`~moodtape.recommender.features.effective_energy` reads to compare them again.

    A purpose that compares gives way to the first of its stage's that does not.
    """
    line = _COMPARED.sub("", line)
    head, dash, said = line.partition(" — ")
    for phrase, instead in _INSTEAD.items():
        if said == phrase or said.startswith((f"{phrase},", f"{phrase} (")):
            mood = MOOD_WORDS.get(emotion or "", "current")
            return f"{head}{dash}{instead.format(mood=mood)}{said[len(phrase) :]}"
    return line


def _with_step(line: str, position: int, total: int) -> str:
    return f"{line} (step {position + 1} of {total})"

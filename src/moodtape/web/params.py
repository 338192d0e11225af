"""Reading the query of ``/api/recommendations`` and ``/api/export`` into one typed request.

The mood comes one way only: ``emotion=sad``, ``probabilities={"sad": 0.7, …}`` (a JSON object),
or ``valence=…&arousal=…``. Anything malformed is a :class:`~moodtape.errors.DataError` (400)
whose message names the parameter and what it accepts.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from werkzeug.datastructures import MultiDict

from moodtape.errors import DataError, shown
from moodtape.recommender.engine import KINDS, MAX_ITEMS
from moodtape.recommender.mood import mood_from_emotion, mood_from_point, mood_from_probabilities
from moodtape.recommender.strategies import STRATEGIES
from moodtape.types import Mood
from moodtape.web.bounded_json import loads_bounded

DEFAULT_ITEMS: Final[int] = 12
#: Seven labels with long decimals fit in a few hundred characters.
MAX_PROBABILITIES_CHARS: Final[int] = 1000
#: A whole number as the API writes it: ASCII digits only. ``str.isdigit`` also takes "²" and "٣",
#: which ``int`` then refuses (or reads as another number), so it cannot be the test.
_WHOLE: Final = re.compile(r"[+-]?[0-9]{1,18}")
#: A parameter name that can be written into a message as it is.
_NAME: Final = re.compile(r"[a-z_]{1,32}")
#: A decimal number in ASCII, as JSON and the page write it; ``float`` alone also reads "１" and "١".
_DECIMAL: Final = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


@dataclass(frozen=True)
class ListRequest:
    """What a list is asked for: the mood, the strategy (None: the mood's default), kind, length, seed."""

    mood: Mood
    strategy: str | None
    kind: str
    n: int
    seed: int | None

    @property
    def cache_key(self) -> str:
        """Identifies the request, to find the list shown for it again (export)."""
        mood = self.mood
        return f"{mood.valence:.6f}|{mood.arousal:.6f}|{mood.emotion}|{self.strategy}|{self.kind}|{self.n}|{self.seed}"


def check_query(args: MultiDict[str, str]) -> None:
    """Refuse a query that names a parameter twice, leaves one empty, or holds a NUL character.

    Every API parameter takes one value. With ``confirm=true&confirm=false`` or ``emotion=sad&emotion=
    happy`` the client said two things; taking the first (Werkzeug's rule) or the last would act on a
    request the client did not make unambiguously, so it is a 400 before any endpoint reads it.
    """
    for name, values in args.lists():
        named = name if _NAME.fullmatch(name) else shown(name, 32)
        if len(values) > 1:
            raise DataError(f"{named} is given {len(values)} times: give it once")
        if values[0] == "":
            raise DataError(f"{named} is empty: give it a value, or leave it out")
        if "\x00" in values[0]:
            raise DataError(f"{named} holds a NUL character")


def parse_list_request(args: Mapping[str, str]) -> ListRequest:
    """A :class:`ListRequest` from query arguments; raises :class:`DataError` on bad input.

    An empty parameter (``kind=``) never gets here: :func:`check_query` refuses it for every API
    path, so it is not taken as absent.
    """
    strategy = args.get("strategy") or None
    if strategy is not None and strategy not in STRATEGIES:
        raise DataError(f"unknown strategy {shown(strategy)}; choose one of: {', '.join(STRATEGIES)}")
    kind = args.get("kind") or "tracks"
    if kind not in KINDS:
        raise DataError(f"unknown kind {shown(kind)}; choose one of: {', '.join(KINDS)}")
    n = _integer(args, "n", DEFAULT_ITEMS)
    if n is None or not 1 <= n <= MAX_ITEMS:
        raise DataError(f"n must be a whole number from 1 to {MAX_ITEMS}")
    seed = _integer(args, "seed", None)
    if seed is not None and seed < 0:
        raise DataError("seed must be a whole number of 0 or more")
    return ListRequest(parse_mood(args), strategy, kind, n, seed)


def flag(args: Mapping[str, str], name: str) -> bool | None:
    """A true/false query value (``true``/``1``, ``false``/``0``); None when absent.

    The one reading of every boolean query parameter (``confirm``, ``fresh``, ``strict``). Exact
    spellings only, as JSON writes them: ``TRUE``, ``yes`` or ``on`` is a 400 that lists the four
    taken, not a guess (``confirm`` deletes everything). Until session 39 the message named only
    ``true`` and ``false``, so a client sending ``1`` could not tell from it that ``1`` works.
    """
    raw = args.get(name)
    if raw is None:
        return None
    if raw in ("true", "1"):
        return True
    if raw in ("false", "0"):
        return False
    raise DataError(f"{name} must be true or false (or 1 or 0), in lower case; got {shown(raw, 32)}")


def parse_mood(args: Mapping[str, str]) -> Mood:
    """The mood from ``emotion``, ``probabilities`` or ``valence``+``arousal`` (exactly one way)."""
    given = [name for name in ("emotion", "probabilities", "valence", "arousal") if args.get(name)]
    ways = {"valence" if name == "arousal" else name for name in given}
    if len(ways) != 1:
        raise DataError("give the mood one way: emotion=NAME, probabilities={JSON}, or valence=V&arousal=A")
    if "emotion" in ways:
        return mood_from_emotion(args["emotion"])
    if "probabilities" in ways:
        return mood_from_probabilities(_json_object(args["probabilities"]))
    if not (args.get("valence") and args.get("arousal")):
        raise DataError("valence and arousal go together: give both, each in [-1, 1]")
    return mood_from_point(_number(args, "valence"), _number(args, "arousal"))


def _json_object(text: str) -> dict[str, float]:
    value = loads_bounded(text, max_chars=MAX_PROBABILITIES_CHARS, what="probabilities")
    if not isinstance(value, dict):
        raise DataError('probabilities must be a JSON object such as {"sad": 0.7, "neutral": 0.3}')
    return value


def _number(args: Mapping[str, str], name: str) -> float:
    raw = args[name]
    value = float(raw) if len(raw) <= 32 and _DECIMAL.fullmatch(raw.strip()) else math.nan
    if not math.isfinite(value):
        raise DataError(f"{name} must be a number in [-1, 1], got {shown(raw, 32)}")
    return value


def count(args: Mapping[str, str], name: str) -> int | None:
    """The whole number ≥ 0 given as ``name``, or None when absent."""
    value = _integer(args, name, None)
    if value is not None and value < 0:
        raise DataError(f"{name} must be a whole number of at least 0, got {value}")
    return value


def _integer(args: Mapping[str, str], name: str, default: int | None) -> int | None:
    raw = args.get(name)
    if raw is None or raw == "":
        return default
    if not _WHOLE.fullmatch(raw.strip()):
        raise DataError(f"{name} must be a whole number of at most 18 digits, got {shown(raw, 32)}")
    return int(raw)

"""When are two items "the same song" or "the same video"? One rule for every part of moodtape.

The catalog, Spotify, YouTube, the Deezer and iTunes previews, history, feedback and repeat-avoidance
all compare items through :func:`track_key` / :func:`video_key` (exposed as ``Track.key`` and
``Video.key``), and cross-service look-ups through :func:`same_song`. Before v0.2 four functions
disagreed, so Spotify's "Song (Remastered)" and the catalog's "Song" were two songs.

**A song** is identified by its *primary artist* and its *base title*:

- both: case, accents ("Beyoncé" = "Beyonce"), punctuation and spacing are ignored, and "&" reads
  as "and";
- title: version tags are dropped — anything in brackets ("(Remastered 2011)", "[Live]",
  "(feat. Y)", "(Radio Edit)"), anything after a spaced dash ("- Live at Wembley", "- 2011
  Remaster") and a trailing "feat./ft./featuring …";
- artist: the first credited name (services join several credits differently: Spotify "A, B",
  others "A feat. B"), without a leading "The".

So live recordings, remasters, edits and featured-artist credits of one song are one song: a person
who disliked it does not want the live version next. The price: two different songs whose titles
differ only inside brackets ("Intro (Part 1)", "Intro (Part 2)") by one artist collapse to one.

**A video** is its channel and its title, ignoring only case, accents and punctuation: video titles
use dashes and brackets for real parts ("Our Planet - Jungles"), so nothing is dropped.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from typing import Final

__all__ = ["base_title", "normalise", "primary_artist", "same_song", "track_key", "video_key"]

#: Separates the artist from the title inside a key; never appears in normalised text.
SEPARATOR: Final[str] = "\x1f"

_BRACKETED = re.compile(r"[\(\[\{][^\)\]\}]*[\)\]\}]")
_DASH_SUFFIX = re.compile(r"\s+[-\u2013\u2014]\s+.*$")
_FEATURING = re.compile(r"\s(?:feat\.?|ft\.?|featuring)\s.*$")
_CREDIT_SPLIT = re.compile(r",|;|\s(?:feat\.?|ft\.?|featuring|with|x|vs\.?)\s")
_NON_WORD = re.compile(r"[^0-9a-z]+")
#: For :func:`same_song` only: "A & B" and "A and B" list two artists there.
_ANY_CREDIT_SPLIT = re.compile(r",|;|&|\s(?:and|feat\.?|ft\.?|featuring|with|x|vs\.?)\s")


def normalise(text: str) -> str:
    """Compare-only form: no accents, lower case, "&" as "and", punctuation and extra spaces gone."""
    decomposed = unicodedata.normalize("NFKD", text)
    ascii_text = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    ascii_text = ascii_text.encode("ascii", "ignore").decode() or text
    folded = ascii_text.casefold().replace("&", " and ")
    return " ".join(_NON_WORD.sub(" ", folded).split())


def base_title(title: str) -> str:
    """The title without version tags: ``"Song (Remastered 2011) - Live"`` → ``"song"``."""
    text = _BRACKETED.sub(" ", title.casefold())
    text = _DASH_SUFFIX.sub("", text)
    text = _FEATURING.sub("", f" {text.strip()} ")
    # A title that is only a bracket ("(Untitled)") keeps its words rather than becoming empty.
    return normalise(text) or normalise(title)


def primary_artist(credit: str) -> str:
    """The first credited artist, normalised: ``"Beyoncé feat. JAY-Z"`` → ``"beyonce"``."""
    first = _CREDIT_SPLIT.split(f" {credit.casefold().strip()} ", maxsplit=1)[0]
    name = normalise(first) or normalise(credit)
    return name.removeprefix("the ").strip() or name


#: Keys remembered per process: the built-in catalog and a day of live results, many times over.
KEY_CACHE_SIZE: Final = 65_536


# Ranking asks every candidate's key several times (about 75 % of a 100-item list's CPU went to
# recomputing them), and keys are pure functions of their strings: remember them.
@functools.lru_cache(maxsize=KEY_CACHE_SIZE)
def track_key(artist: str, title: str) -> str:
    """The identity of a song: primary artist and base title."""
    return f"{primary_artist(artist)}{SEPARATOR}{base_title(title)}"


@functools.lru_cache(maxsize=KEY_CACHE_SIZE)
def video_key(channel: str, title: str) -> str:
    """The identity of a video: channel and full title, ignoring case, accents and punctuation."""
    return f"{normalise(channel)}{SEPARATOR}{normalise(title)}"


def _credited(credit: str) -> set[str]:
    names = {normalise(part).removeprefix("the ").strip() for part in _ANY_CREDIT_SPLIT.split(f" {credit.casefold()} ")}
    return {name for name in names if name}


def same_song(artist: str, title: str, other_artist: str, other_title: str) -> bool:
    """True when two artist/title pairs name the same song.

    Stricter keys are not needed here: the titles must agree by :func:`base_title`, and the artists
    either agree by :func:`primary_artist` or share one credited name ("A & B" vs "B").
    """
    if base_title(title) != base_title(other_title) or not base_title(title):
        return False
    if not primary_artist(artist) or not primary_artist(other_artist):
        return False
    if primary_artist(artist) == primary_artist(other_artist):
        return True
    return bool(_credited(artist) & _credited(other_artist))

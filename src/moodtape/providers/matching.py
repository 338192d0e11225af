"""Deciding whether two artist/title pairs name the same song, across services' spellings.

Services differ in accents, version tags ("(Remastered 2011)", " - Live"), featured artists and
how they join several artists ("A, B", "A & B"). Titles must agree after normalising; artists
must agree, or share one name when a credit lists several.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["same_song"]


def _normalise(text: str) -> str:
    """Lower case, no accents, no "(feat. …)"/"[Remastered]"/" - Live" tails, "&" as "and"."""
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().casefold()
    text = re.sub(r"[(\[].*?[)\]]", " ", text)
    text = text.split(" - ")[0].replace("&", " and ")
    text = re.sub(r"\bfeat\.?\b.*|\bft\.?\b.*", " ", text)
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text).split())


def _artists(text: str) -> set[str]:
    """The normalised names in an artist credit: "A, B & C feat. D" → {"a", "b", "c", "d"}."""
    parts = re.split(r",|&|/|;|\band\b|\bx\b|\bwith\b|\bfeat\.?|\bft\.?", text.casefold())
    return {name for part in parts if (name := _normalise(part))}


def same_song(artist: str, title: str, other_artist: str, other_title: str) -> bool:
    """True when two artist/title pairs name the same song, allowing for version tags ("Song
    (Remastered 2011)" is "Song") and credits listing several artists (one in common is enough).
    """
    t, u = _normalise(title), _normalise(other_title)
    if not (t and u and t == u):
        return False
    a, b = _normalise(artist), _normalise(other_artist)
    return bool(a and b) and (a == b or bool(_artists(artist) & _artists(other_artist)))

"""Adapters from Spotify's search items to moodtape's values, tolerant of what Spotify leaves out.

Since February 2026 tracks come without ``popularity`` and ``external_ids``, ``preview_url`` is
usually null, and playlist lists may hold ``null`` entries; an item missing what we need (an ID, a
name, an artist) is skipped rather than failing the whole list.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from moodtape.providers.moodwords import clamp_point
from moodtape.types import Track

#: Where every Spotify link of an item points.
_OPEN_SPOTIFY = "https://open.spotify.com/"
_SPOTIFY_ID = re.compile(r"[0-9A-Za-z]{1,64}")

#: Artwork width we prefer: large enough for a card, small enough to load fast.
ARTWORK_WIDTH = 300


@dataclass(frozen=True)
class SpotifyPlaylist:
    """A playlist found by a mood search, shown as a link (its tracks are not fetched).

    ``valence`` and ``energy`` are the target point its search was made for, in [0, 1].
    """

    spotify_id: str
    name: str
    url: str
    valence: float
    energy: float
    owner: str | None = None
    description: str | None = None
    image_url: str | None = None
    track_count: int | None = None


def _text(value: object) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def pick_image(images: object, width: int = ARTWORK_WIDTH) -> str | None:
    """The URL of the image whose width is closest to ``width`` (Spotify lists 640, 300, 64)."""
    if not isinstance(images, list):
        return None
    usable = [i for i in images if isinstance(i, dict) and _text(i.get("url"))]
    if not usable:
        return None
    sized = [i for i in usable if isinstance(i.get("width"), int)]
    best = min(sized, key=lambda i: abs(int(i["width"]) - width)) if sized else usable[0]
    return _text(best.get("url"))


def _spotify_url(item: dict[str, Any], kind: str, spotify_id: str) -> str:
    """``external_urls.spotify`` when it is a link into Spotify's web player, else one built from the ID.

    The page and API clients use it as a link's ``href``: a reply naming another host or scheme
    (``javascript:…``, ``https://elsewhere.example/…``) put that link under a "Spotify" item.
    """
    urls = item.get("external_urls")
    url = _text(urls.get("spotify")) if isinstance(urls, dict) else None
    if url is not None and url.startswith(_OPEN_SPOTIFY):
        return url
    return f"{_OPEN_SPOTIFY}{kind}/{spotify_id}"


def _spotify_id(value: object) -> str | None:
    """A Spotify ID (base62), or None: it goes into embed and link paths as it is."""
    text = _text(value)
    return text if text is not None and _SPOTIFY_ID.fullmatch(text) else None


def track_from_spotify(item: object, point: tuple[float, float]) -> Track | None:
    """A :class:`Track` from a search item, given the target ``point`` it was searched for; None if unusable."""
    if not isinstance(item, dict):
        return None
    spotify_id, title = _spotify_id(item.get("id")), _text(item.get("name"))
    artists = item.get("artists")
    names = [_text(a.get("name")) for a in artists if isinstance(a, dict)] if isinstance(artists, list) else []
    artist = ", ".join(n for n in names if n)
    if spotify_id is None or title is None or not artist:
        return None
    valence, energy = clamp_point(point)
    album_item = item.get("album")
    album: dict[str, Any] = album_item if isinstance(album_item, dict) else {}
    extra = {"album": _text(album.get("name")) or ""}
    if isinstance(item.get("explicit"), bool):
        extra["explicit"] = "true" if item["explicit"] else "false"
    return Track(
        title=title,
        artist=artist,
        valence=valence,
        energy=energy,
        source="spotify",
        spotify_id=spotify_id,
        artwork_url=pick_image(album.get("images")),
        preview_url=_text(item.get("preview_url")),
        url=_spotify_url(item, "track", spotify_id),
        estimated=True,
        extra={k: v for k, v in extra.items() if v},
    )


def playlist_from_spotify(item: object, point: tuple[float, float]) -> SpotifyPlaylist | None:
    """A :class:`SpotifyPlaylist` from a search item; None for ``null`` entries and unusable items."""
    if not isinstance(item, dict):
        return None
    spotify_id, name = _spotify_id(item.get("id")), _text(item.get("name"))
    if spotify_id is None or name is None:
        return None
    owner = item.get("owner")
    valence, energy = clamp_point(point)
    counted = item.get("tracks")  # {"href", "total"}; may be absent
    total = counted.get("total") if isinstance(counted, dict) else None
    return SpotifyPlaylist(
        spotify_id=spotify_id,
        name=name,
        url=_spotify_url(item, "playlist", spotify_id),
        valence=valence,
        energy=energy,
        owner=_text(owner.get("display_name")) if isinstance(owner, dict) else None,
        description=_text(item.get("description")),
        image_url=pick_image(item.get("images")),
        track_count=total if isinstance(total, int) else None,
    )

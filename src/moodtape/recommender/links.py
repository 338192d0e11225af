"""Where a person plays an item: one rule for the link in lists, exports and the page's player.

The rule: the first service that has the item's ID, in the order Spotify, Deezer, YouTube, gives
both the page (:func:`page_url`) and the keyless embedded player (:func:`embed_url`), so the link
and the player never point at two different services. Without any ID, the item's own link from its
provider (e.g. an iTunes page) is used, else a YouTube search for "artist title": we never guess
an ID.
"""

from __future__ import annotations

from typing import Final
from urllib.parse import quote, quote_plus

from moodtape.types import Track, Video

#: service → (page URL template, embed URL template); ``{id}`` is replaced by the quoted ID.
PLAYERS: Final[dict[str, tuple[str, str]]] = {
    "spotify": ("https://open.spotify.com/track/{id}", "https://open.spotify.com/embed/track/{id}"),
    "deezer": ("https://www.deezer.com/track/{id}", "https://widget.deezer.com/widget/auto/track/{id}"),
    "youtube": ("https://www.youtube.com/watch?v={id}", "https://www.youtube-nocookie.com/embed/{id}"),
}
SEARCH_URL: Final[str] = "https://www.youtube.com/results?search_query={query}"


def player(item: Track | Video) -> tuple[str, str] | None:
    """``(service, id)`` of the preferred player for ``item``, or None when no ID is known."""
    for service, identifier in item.service_ids().items():
        if identifier:
            return service, identifier
    return None


def page_url(item: Track | Video) -> str:
    """The page to open: the preferred player's page, else the item's own link, else a search."""
    chosen = player(item)
    if chosen is not None:
        service, identifier = chosen
        return PLAYERS[service][0].format(id=quote(identifier, safe=""))
    if item.url:
        return item.url
    return SEARCH_URL.format(query=quote_plus(f"{item.artist} {item.title}"))


def embed_url(item: Track | Video) -> str | None:
    """The keyless embedded player of the same service :func:`page_url` opens; None without an ID."""
    chosen = player(item)
    if chosen is None:
        return None
    service, identifier = chosen
    return PLAYERS[service][1].format(id=quote(identifier, safe=""))

"""Deezer and iTunes previews: one song's failure pauses no one, as for Spotify and YouTube.

Before, any failure paused the enricher for 5 minutes for every visitor: a single 5xx (or one
song's in-body Deezer error) and the next lists got no previews at all, their songs not even
asked for. Now such a failure holds back that song's lookup for 30 s; the others are looked up, and
the service pauses once several songs failed and they are at least half of the lookups that ended
lately. Offline and rate limits still pause at once. Fake transport, fake clock, no sleeping.
"""

from __future__ import annotations

import httpx

from moodtape.providers.http import TROUBLE_PAUSE, TROUBLE_STRIKES
from moodtape.providers.previews import PREVIEW_RETRY, DeezerPreviews, ITunesPreviews
from moodtape.types import Track


def song(n: int) -> Track:
    return Track(title=f"Song {n}", artist=f"Artist {n}", valence=0.5, energy=0.5, deezer_id=str(n))


def deezer_track(n: int) -> dict[str, object]:
    return {
        "id": n,
        "title": f"Song {n}",
        "link": f"https://www.deezer.com/track/{n}",
        "preview": f"https://cdnt-preview.dzcdn.test/{n}.mp3",
        "artist": {"id": 1, "name": f"Artist {n}"},
        "album": {"id": 2, "cover_medium": f"https://cdn-images.dzcdn.test/{n}.jpg"},
    }


def _deezer(bad: set[str], failure: str = "500"):
    """Deezer answering every track but those in ``bad`` (a 500, or an error in a 200 body)."""

    def handler(request: httpx.Request) -> httpx.Response:
        track_id = request.url.path.rsplit("/", 1)[-1]
        if track_id not in bad:
            return httpx.Response(200, json=deezer_track(int(track_id)))
        if failure == "500":
            return httpx.Response(500)
        return httpx.Response(200, json={"error": {"type": "ParameterException", "message": "Wrong", "code": 500}})

    return handler


def _asked(api) -> list[str]:
    return [request.url.path.rsplit("/", 1)[-1] for request in api.requests]


def test_one_songs_5xx_leaves_the_next_lists_filled(make_api, clock, sleeps) -> None:
    """Before: the second list sent nothing and said "Not trying again for 300 s"."""
    api = make_api(_deezer({"1"}))
    deezer = DeezerPreviews(api.client(), clock=clock, sleep=sleeps)
    deezer.enrich([song(1), song(2)])
    assert "Deezer is having trouble (HTTP 500)" in (deezer.last_failure or "")
    assert _asked(api) == ["1"] * PREVIEW_RETRY.attempts  # a fresh failure still ends that list
    clock.advance(1)
    filled = deezer.enrich([song(2), song(3)])
    assert [track.preview_url is not None for track in filled] == [True, True]
    assert deezer.last_failure is None


def test_one_songs_error_in_a_deezer_body_leaves_the_next_lists_filled(make_api, clock, sleeps) -> None:
    api = make_api(_deezer({"1"}, failure="in-body"))
    deezer = DeezerPreviews(api.client(), clock=clock, sleep=sleeps)
    deezer.enrich([song(1)])
    assert deezer.last_failure == "Deezer answered with an error (Wrong); that song's preview is tried again in 30 s."
    clock.advance(1)
    (filled,) = deezer.enrich([song(2)])
    assert filled.preview_url is not None and _asked(api) == ["1", "2"]
    deezer.enrich([song(1)])
    assert _asked(api) == ["1", "2"]  # the song that met it is held back, like one that met a 5xx


def test_a_song_that_failed_lately_is_skipped_and_the_others_looked_up(make_api, clock, sleeps) -> None:
    api = make_api(_deezer({"1"}))
    deezer = DeezerPreviews(api.client(), clock=clock, sleep=sleeps)
    deezer.enrich([song(1)])
    sent = len(api.requests)
    clock.advance(1)
    filled = deezer.enrich([song(1), song(2), song(3)])
    assert [track.preview_url is not None for track in filled] == [False, True, True]
    assert _asked(api)[sent:] == ["2", "3"]  # song 1 not sent again
    assert "Deezer is having trouble (HTTP 500)" in (deezer.last_failure or "")
    clock.advance(TROUBLE_PAUSE)
    deezer.enrich([song(1)])
    assert _asked(api)[-1] == "1"  # its own wait is over


def test_a_dead_deezer_still_pauses_after_a_few_songs(make_api, clock, sleeps) -> None:
    """Every lookup a 500: calls stop after TROUBLE_STRIKES songs, for the 30 s pause."""
    api = make_api(lambda request: httpx.Response(500))
    deezer = DeezerPreviews(api.client(), clock=clock, sleep=sleeps)
    for n in range(10):
        deezer.enrich([song(n)])
        clock.advance(1)
    assert len(api.requests) == TROUBLE_STRIKES * PREVIEW_RETRY.attempts
    assert "Not trying again" in (deezer.last_failure or "")
    clock.advance(TROUBLE_PAUSE)
    deezer.enrich([song(99)])
    assert _asked(api)[-1] == "99"


def test_itunes_serves_other_songs_after_one_songs_5xx(make_api, clock, sleeps) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.params["term"].startswith("Artist 1 "):
            return httpx.Response(503)
        return httpx.Response(200, json={"resultCount": 0, "results": []})

    api = make_api(handler)
    itunes = ITunesPreviews(api.client(), clock=clock, sleep=sleeps)
    itunes.enrich([song(1)])
    assert "iTunes Search is having trouble (HTTP 503)" in (itunes.last_failure or "")
    sent = len(api.requests)
    clock.advance(1)
    itunes.enrich([song(2)])
    assert len(api.requests) == sent + 1 and itunes.last_failure is None


def test_offline_still_pauses_previews_for_five_minutes(make_api, clock, sleeps) -> None:
    def offline(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("network unreachable", request=request)

    api = make_api(offline)
    deezer = DeezerPreviews(api.client(), clock=clock, sleep=sleeps, cooldown=300)
    deezer.enrich([song(1)])
    clock.advance(299)
    deezer.enrich([song(2)])
    assert len(api.requests) == 1

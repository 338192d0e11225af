"""Deezer and iTunes enrichers against faked replies: they fill what they find and never break a list."""

from __future__ import annotations

import httpx
import pytest

from moodtape.providers.base import Enricher
from moodtape.providers.previews import DeezerPreviews, ITunesPreviews, same_song
from moodtape.types import Track


def song(title: str, artist: str, **fields: object) -> Track:
    return Track(title=title, artist=artist, valence=0.5, energy=0.5, **fields)  # type: ignore[arg-type]


def deezer_track(n: int, title: str = "Song", artist: str = "Artist") -> dict[str, object]:
    return {
        "id": n,
        "title": title,
        "link": f"https://www.deezer.com/track/{n}",
        "preview": f"https://cdnt-preview.dzcdn.test/{n}.mp3",
        "artist": {"id": 1, "name": artist},
        "album": {"id": 2, "title": "Album", "cover_medium": f"https://cdn-images.dzcdn.test/{n}/250x250.jpg"},
    }


def itunes_result(artist: str, title: str, n: int = 1) -> dict[str, object]:
    return {
        "wrapperType": "track",
        "kind": "song",
        "artistName": artist,
        "trackName": title,
        "collectionName": "Album",
        "artworkUrl100": f"https://is1.mzstatic.test/{n}/100x100bb.jpg",
        "previewUrl": f"https://audio.itunes.test/{n}.m4a",
        "trackViewUrl": f"https://music.apple.test/{n}",
        "primaryGenreName": "Pop",
    }


def offline(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("network unreachable", request=request)


# --- Deezer ---


def test_deezer_fills_preview_artwork_and_link_by_id(make_api, clock, sleeps) -> None:
    api = make_api(lambda request: httpx.Response(200, json=deezer_track(3135556)))
    deezer = DeezerPreviews(api.client(), clock=clock, sleep=sleeps)
    track = song("Song", "Artist", deezer_id="3135556")
    (enriched,) = deezer.enrich([track])
    assert str(api.requests[0].url) == "https://api.deezer.com/track/3135556"
    assert enriched.preview_url == "https://cdnt-preview.dzcdn.test/3135556.mp3"
    assert enriched.artwork_url == "https://cdn-images.dzcdn.test/3135556/250x250.jpg"
    assert enriched.url == "https://www.deezer.com/track/3135556"
    assert deezer.last_error is None


def test_deezer_keeps_what_the_track_already_has(make_api, clock, sleeps) -> None:
    api = make_api(lambda request: httpx.Response(200, json=deezer_track(5)))
    deezer = DeezerPreviews(api.client(), clock=clock, sleep=sleeps)
    track = song("Song", "Artist", deezer_id="5", artwork_url="https://mine.test/a.jpg", url="https://mine.test")
    (enriched,) = deezer.enrich([track])
    assert (enriched.artwork_url, enriched.url) == ("https://mine.test/a.jpg", "https://mine.test")
    assert enriched.preview_url is not None


def test_complete_tracks_need_no_call(make_api, clock, sleeps) -> None:
    api = make_api(lambda request: httpx.Response(200, json=deezer_track(5)))
    done = song("Song", "Artist", deezer_id="5", artwork_url="a", preview_url="p")
    assert DeezerPreviews(api.client(), clock=clock, sleep=sleeps).enrich([done]) == [done]
    assert api.requests == []


def test_deezer_error_in_a_200_reply_means_not_found_and_is_cached(make_api, clock, sleeps) -> None:
    no_data = {"error": {"type": "DataException", "message": "no data", "code": 800}}
    api = make_api(lambda request: httpx.Response(200, json=no_data))
    deezer = DeezerPreviews(api.client(), clock=clock, sleep=sleeps)
    track = song("Gone", "Nobody", deezer_id="999")
    assert deezer.enrich([track]) == [track]
    assert deezer.last_error is None
    deezer.enrich([track])
    assert len(api.requests) == 1


def test_deezer_quota_error_in_a_200_reply_pauses_deezer(make_api, clock, sleeps) -> None:
    quota = {"error": {"type": "Exception", "message": "Quota limit exceeded", "code": 4}}
    api = make_api(lambda request: httpx.Response(200, json=quota))
    deezer = DeezerPreviews(api.client(), clock=clock, sleep=sleeps, cooldown=300)
    tracks = [song(f"S{i}", "A", deezer_id=str(i)) for i in range(3)]
    assert deezer.enrich(tracks) == tracks
    assert "Deezer is limiting how often" in (deezer.last_error or "")
    assert len(api.requests) == 1  # stopped at the first failure
    assert deezer.enrich(tracks) == tracks
    assert "Not trying again for 300 s" in (deezer.last_error or "")
    assert len(api.requests) == 1
    clock.advance(301)
    deezer.enrich(tracks)
    assert len(api.requests) == 2


def test_deezer_other_error_in_a_200_reply_is_reported(make_api, clock, sleeps) -> None:
    body = {"error": {"type": "ParameterException", "message": "Wrong parameter", "code": 500}}
    deezer = DeezerPreviews(make_api(lambda r: httpx.Response(200, json=body)).client(), clock=clock, sleep=sleeps)
    track = song("S", "A", deezer_id="1")
    assert deezer.enrich([track]) == [track]
    assert deezer.last_error == (
        "Deezer answered with an error (Wrong parameter); that song's preview is tried again in 30 s."
    )


def test_deezer_search_fills_the_id_of_the_matching_result(make_api, clock, sleeps) -> None:
    reply = {
        "data": [
            deezer_track(1, "Yesterday (Cover)", "Some Band"),
            deezer_track(2, "Yesterday - Remastered 2009", "The Beatles"),
        ]
    }
    api = make_api(lambda request: httpx.Response(200, json=reply))
    deezer = DeezerPreviews(api.client(), clock=clock, sleep=sleeps)
    (enriched,) = deezer.enrich([song("Yesterday", "The Beatles")])
    assert api.requests[0].url.path == "/search"
    assert api.requests[0].url.params["q"] == "The Beatles Yesterday"
    assert enriched.deezer_id == "2"
    assert enriched.preview_url == "https://cdnt-preview.dzcdn.test/2.mp3"


def test_deezer_search_can_be_turned_off(make_api, clock, sleeps) -> None:
    api = make_api(lambda request: httpx.Response(200, json={"data": []}))
    track = song("Yesterday", "The Beatles")
    assert DeezerPreviews(api.client(), search=False, clock=clock, sleep=sleeps).enrich([track]) == [track]
    assert api.requests == []


def test_deezer_empty_preview_is_not_a_preview(make_api, clock, sleeps) -> None:
    api = make_api(lambda request: httpx.Response(200, json={**deezer_track(7), "preview": ""}))
    (enriched,) = DeezerPreviews(api.client(), clock=clock, sleep=sleeps).enrich([song("S", "A", deezer_id="7")])
    assert enriched.preview_url is None and enriched.artwork_url is not None


@pytest.mark.parametrize(
    "handler",
    [
        offline,
        lambda request: (_ for _ in ()).throw(httpx.ReadTimeout("slow", request=request)),
        lambda request: httpx.Response(200, content=b"<html>maintenance</html>"),
        lambda request: httpx.Response(503),
        lambda request: httpx.Response(200, json=[1, 2]),
    ],
    ids=["offline", "timeout", "malformed-json", "5xx", "wrong-shape"],
)
def test_deezer_failures_leave_tracks_unchanged_with_a_reason(make_api, clock, sleeps, handler) -> None:
    api = make_api(handler)
    deezer = DeezerPreviews(api.client(), clock=clock, sleep=sleeps)
    tracks = [song("A", "B", deezer_id="1"), song("C", "D", deezer_id="2")]
    assert deezer.enrich(tracks) == tracks
    assert deezer.last_error and deezer.last_error.startswith("Deezer")
    assert sum(sleeps) <= 1.0


def test_offline_enricher_reads_plainly(make_api, clock, sleeps) -> None:
    deezer = DeezerPreviews(make_api(offline).client(), clock=clock, sleep=sleeps)
    deezer.enrich([song("A", "B", deezer_id="1")])
    assert deezer.last_error == "Deezer is unreachable (offline?)."


def test_lookups_per_list_are_bounded(make_api, clock, sleeps) -> None:
    api = make_api(lambda request: httpx.Response(200, json=deezer_track(1)))
    deezer = DeezerPreviews(api.client(), clock=clock, sleep=sleeps, max_lookups=2)
    result = deezer.enrich([song(f"S{i}", "A", deezer_id=str(i)) for i in range(4)])
    assert len(api.requests) == 2
    assert [t.preview_url is not None for t in result] == [True, True, False, False]
    assert "2 track(s) left for later" in (deezer.last_error or "")


# --- iTunes ---


def test_itunes_sends_the_documented_search(make_api, clock, sleeps) -> None:
    api = make_api(lambda request: httpx.Response(200, json={"resultCount": 0, "results": []}))
    ITunesPreviews(api.client(), country="FR", clock=clock, sleep=sleeps).enrich([song("Clocks", "Coldplay")])
    assert api.requests[0].url.host == "itunes.apple.com"
    assert dict(api.requests[0].url.params) == {
        "term": "Coldplay Clocks",
        "media": "music",
        "entity": "song",
        "limit": "5",
        "country": "FR",
    }


def test_itunes_picks_the_result_matching_artist_and_title(make_api, clock, sleeps) -> None:
    results = [
        itunes_result("Karaoke Hits Band", "Clocks (Karaoke Version)", 1),
        itunes_result("Coldplay", "Clocks - Live in Buenos Aires", 2),
        itunes_result("Coldplay", "Clocks", 3),
    ]
    api = make_api(lambda request: httpx.Response(200, json={"resultCount": 3, "results": results}))
    (enriched,) = ITunesPreviews(api.client(), clock=clock, sleep=sleeps).enrich([song("Clocks", "Coldplay")])
    # "Clocks - Live…" normalises to "clocks" too; the first matching result wins.
    assert enriched.preview_url == "https://audio.itunes.test/2.m4a"
    assert enriched.artwork_url == "https://is1.mzstatic.test/2/100x100bb.jpg"
    assert enriched.url == "https://music.apple.test/2"


def test_itunes_without_a_match_leaves_the_track(make_api, clock, sleeps) -> None:
    results = [itunes_result("Someone Else", "Clocks")]
    api = make_api(lambda request: httpx.Response(200, json={"resultCount": 1, "results": results}))
    itunes = ITunesPreviews(api.client(), clock=clock, sleep=sleeps)
    track = song("Clocks", "Coldplay")
    assert itunes.enrich([track]) == [track]
    assert itunes.last_error is None


def test_itunes_respects_its_rate_limit_without_waiting(make_api, clock, sleeps) -> None:
    api = make_api(
        lambda request: httpx.Response(200, json={"results": [itunes_result("A", request.url.params["term"][2:])]})
    )
    itunes = ITunesPreviews(api.client(), per_minute=2, clock=clock, sleep=sleeps)
    tracks = [song(f"T{i}", "A") for i in range(3)]
    result = itunes.enrich(tracks)
    assert len(api.requests) == 2
    assert result[2] == tracks[2]
    assert "at most 2 times a minute" in (itunes.last_error or "")
    assert sleeps == []
    clock.advance(60)
    result = itunes.enrich(tracks)
    assert len(api.requests) == 3  # the first two come from the cache
    assert all(t.preview_url for t in result)


@pytest.mark.parametrize("status", [403, 429])
def test_itunes_refusal_pauses_it(make_api, clock, sleeps, status) -> None:
    api = make_api(lambda request: httpx.Response(status))
    itunes = ITunesPreviews(api.client(), clock=clock, sleep=sleeps)
    tracks = [song("A", "B"), song("C", "D")]
    assert itunes.enrich(tracks) == tracks
    assert "iTunes Search is limiting" in (itunes.last_error or "")
    itunes.enrich(tracks)
    assert len(api.requests) == 1


def test_enrichers_follow_the_protocol() -> None:
    for enricher in (DeezerPreviews(httpx.Client()), ITunesPreviews(httpx.Client())):
        assert isinstance(enricher, Enricher)
        assert enricher.last_error is None
    assert DeezerPreviews.name == "deezer" and ITunesPreviews.name == "itunes"


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        (("The Beatles", "Let It Be"), ("The Beatles", "Let It Be - Remastered 2009"), True),
        (("Beyoncé", "Halo"), ("Beyonce", "Halo"), True),
        (("Daft Punk", "Get Lucky"), ("Daft Punk feat. Pharrell Williams", "Get Lucky (Radio Edit)"), True),
        (("Simon & Garfunkel", "The Boxer"), ("Simon and Garfunkel", "The Boxer"), True),
        (("Coldplay", "Clocks"), ("Coldplay", "Yellow"), False),
        (("Coldplay", "Clocks"), ("Karaoke Band", "Clocks"), False),
        (("Queen", "Bohemian Rhapsody"), ("Queens of the Stone Age", "Bohemian Rhapsody"), False),
        (("The Beatles", "Yesterday"), ("The Beatles Tribute Band", "Yesterday"), False),
        (("Artist 0, Guest", "Song"), ("Artist 0", "Song"), True),
        (("", "x"), ("", "x"), False),
    ],
)
def test_same_song(a, b, expected) -> None:
    assert same_song(*a, *b) is expected


# --- threads (issue 10) ---


def test_itunes_window_holds_under_many_threads(make_api, sleeps) -> None:
    """Before: the per-minute deque was changed by request threads without a lock (cap exceeded, IndexError)."""
    import threading
    import time

    def answer(request: httpx.Request) -> httpx.Response:
        time.sleep(0.001)  # let threads interleave inside the window check
        return httpx.Response(200, json={"results": [itunes_result("A", request.url.params["term"][2:])]})

    from collections import deque

    class SwitchingDeque(deque[float]):
        def __len__(self) -> int:
            size = super().__len__()
            time.sleep(0.0005)  # a thread switch between "is there room?" and "take it", where a race strikes
            return size

    api = make_api(answer)
    itunes = ITunesPreviews(api.client(), per_minute=20, max_lookups=50, sleep=sleeps)
    itunes._calls = SwitchingDeque()
    errors: list[BaseException] = []
    outcomes: list[str | None] = []

    def worker(n: int) -> None:
        try:
            itunes.enrich([song(f"T{n}-{i}", "A") for i in range(10)])
            outcomes.append(itunes.last_error)
        except BaseException as error:  # any exception is the failure we look for
            errors.append(error)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(api.requests) == 20  # exactly the cap: never more, and the window was not lost
    assert sum("at most 20 times a minute" in (o or "") for o in outcomes) >= 14  # 160 wanted, 20 allowed


def test_an_outcome_belongs_to_the_thread_that_asked(make_api, clock, sleeps) -> None:
    import threading

    deezer = DeezerPreviews(make_api(offline).client(), clock=clock, sleep=sleeps)
    deezer.enrich([song("A", "B", deezer_id="1")])
    seen: list[str | None] = []
    other = threading.Thread(target=lambda: seen.append(deezer.last_failure))
    other.start()
    other.join()
    assert deezer.last_failure == "Deezer is unreachable (offline?)." and seen == [None]


def test_a_preview_failure_reaches_the_lists_fallback_reasons(make_api, clock, sleeps) -> None:
    """Before: the failure went to a shared ``last_error`` nothing read; the list never said why."""
    from moodtape.providers.catalog import Catalog
    from moodtape.recommender.engine import Recommender
    from moodtape.recommender.mood import mood_from_emotion

    catalog = Catalog.from_items([song(f"S{i}", f"A{i}", deezer_id=str(i)) for i in range(12)], [])
    deezer = DeezerPreviews(make_api(offline).client(), clock=clock, sleep=sleeps)
    result = Recommender([], catalog, enrichers=[deezer]).recommend(mood_from_emotion("sad"), n=5, seed=1)
    assert "No previews or artwork: Deezer is unreachable (offline?)." in result.fallback_reasons

"""iTunes Search honours a 403's or 429's ``Retry-After`` and says the wait (session 35).

Before, iTunes paused for the enricher's 300 s whatever the reply asked, and said "previews resume
in a few minutes": of a ``Retry-After: 10`` too (asked again after 300 s, not 10), and 300 s
against a ``Retry-After: 1200``. Deezer's 429 honours it since session 34
(``test_previews34_true_waits.py``); iTunes now does the same, with the same words and the same
1 h cap. Without a usable one (none, ``0``) iTunes pauses 300 s as before, which its words say.

Fake transport, fake clock, no sleeping.
"""

from __future__ import annotations

import httpx
import pytest
from tests.providers.test_previews34_true_waits import COOLDOWN, _seconds_until_asked_again
from tests.providers.test_svc33_preview_pauses import song

from moodtape.providers.http import MAX_PAUSE
from moodtape.providers.previews import ITunesPreviews


@pytest.mark.parametrize("status", [403, 429])
@pytest.mark.parametrize(
    ("retry_after", "said", "pause"),
    [
        ("10", "try again in about 10 s", 10),
        ("1200", "try again in about 20 min", 1200),
        ("86400", "try again in about 1 h", MAX_PAUSE),  # no pause is longer than 1 h
    ],
)
def test_an_itunes_refusal_pauses_itunes_as_long_as_its_retry_after_says(
    make_api, clock, sleeps, status: int, retry_after: str, said: str, pause: int
) -> None:
    api = make_api(lambda request: httpx.Response(status, headers={"Retry-After": retry_after}))
    itunes = ITunesPreviews(api.client(), clock=clock, sleep=sleeps)
    itunes.enrich([song(1)])
    assert itunes.last_failure == f"iTunes Search is limiting how often moodtape may ask; {said}."  # was "previews
    assert _seconds_until_asked_again(api, clock, itunes, 100) == pause  # resume in a few minutes", and 300 s
    assert sleeps == [] and len(api.requests) == 2  # not retried: asked once, then once when the pause ended


@pytest.mark.parametrize("headers", [{}, {"Retry-After": "0"}])
def test_an_itunes_refusal_without_a_wait_still_pauses_the_few_minutes_it_says(
    make_api, clock, sleeps, headers
) -> None:
    api = make_api(lambda request: httpx.Response(429, headers=headers))
    itunes = ITunesPreviews(api.client(), clock=clock, sleep=sleeps)
    itunes.enrich([song(1)])
    assert itunes.last_failure == (
        "iTunes Search is limiting how often moodtape may ask; previews resume in a few minutes."
    )
    assert _seconds_until_asked_again(api, clock, itunes, 100) == COOLDOWN


def test_a_paused_itunes_tells_the_next_list_the_wait_left(make_api, clock, sleeps) -> None:
    api = make_api(lambda request: httpx.Response(429, headers={"Retry-After": "120"}))
    itunes = ITunesPreviews(api.client(), clock=clock, sleep=sleeps)
    itunes.enrich([song(1)])
    clock.advance(30)
    itunes.enrich([song(2)])
    assert len(api.requests) == 1
    assert itunes.last_failure == (
        "iTunes Search is limiting how often moodtape may ask; try again in about 2 min. Not trying again for 90 s."
    )

"""What a preview failure says is what happens next (session 34).

- An error in a Deezer 200 body holds back that song's lookup for 30 s, the others going on, but
  it said "previews resume in a few minutes".
- A Deezer HTTP 429 said "try again in a minute" (or the ``Retry-After``: "in about 10 s", "in
  about 20 min"), as the client paused Deezer for that long; the enricher then paused it again
  for its 300 s cooldown, whatever the reply asked: 300 s after a ``Retry-After: 10``, and 300 s,
  not the 1,200 asked, after a ``Retry-After: 1200``.

Fake transport, fake clock, no sleeping.
"""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from tests.providers.test_svc33_preview_pauses import song

from moodtape.providers.http import RATE_LIMIT_PAUSE, TROUBLE_PAUSE
from moodtape.providers.previews import DeezerPreviews, ITunesPreviews

Reply = Callable[[httpx.Request], httpx.Response]
WRONG = {"error": {"type": "ParameterException", "message": "Wrong parameter", "code": 500}}
QUOTA = {"error": {"type": "Exception", "message": "Quota limit exceeded", "code": 4}}
#: The enrichers' default pause after a failure that names no length (offline, a quota in a body).
COOLDOWN = 300


def _seconds_until_asked_again(api, clock, enricher, n: int) -> int:
    """Seconds after a failure before ``song(n)`` (not yet asked for) is sent to the service."""
    for waited in range(1, 2 * 3600):
        clock.advance(1)
        sent = len(api.requests)
        enricher.enrich([song(n + waited)])
        if len(api.requests) > sent:
            return waited
    raise AssertionError("never asked again")


def test_an_error_in_a_deezer_body_says_that_song_is_tried_again_in_30_s(make_api, clock, sleeps) -> None:
    """Before: "previews resume in a few minutes", while the other songs were looked up at once."""
    api = make_api(lambda request: httpx.Response(200, json=WRONG))
    deezer = DeezerPreviews(api.client(), clock=clock, sleep=sleeps)
    deezer.enrich([song(1)])
    assert deezer.last_failure == (
        f"Deezer answered with an error (Wrong parameter); that song's preview is tried again in {TROUBLE_PAUSE} s."
    )
    assert _seconds_until_asked_again(api, clock, deezer, 100) == 1  # another song: at once


@pytest.mark.parametrize(
    ("headers", "said", "pause"),
    [
        ({}, "try again in a minute", RATE_LIMIT_PAUSE),
        ({"Retry-After": "10"}, "try again in about 10 s", 10),
        ({"Retry-After": "1200"}, "try again in about 20 min", 1200),
    ],
)
def test_a_deezer_429_pauses_deezer_as_long_as_it_says(make_api, clock, sleeps, headers, said, pause) -> None:
    """Before: every one of them paused Deezer for the enricher's 300 s."""
    api = make_api(lambda request: httpx.Response(429, headers=headers))
    deezer = DeezerPreviews(api.client(), clock=clock, sleep=sleeps)
    deezer.enrich([song(1)])
    assert deezer.last_failure == f"Deezer is limiting how often moodtape may ask; {said}."
    assert _seconds_until_asked_again(api, clock, deezer, 100) == pause


@pytest.mark.parametrize(
    ("name", "make", "reply"),
    [
        ("deezer-quota-in-body", DeezerPreviews, lambda request: httpx.Response(200, json=QUOTA)),
        ("itunes-429", ITunesPreviews, lambda request: httpx.Response(429)),
        ("itunes-403", ITunesPreviews, lambda request: httpx.Response(403)),
    ],
)
def test_a_quota_that_names_no_wait_pauses_the_cooldown_it_calls_a_few_minutes(
    make_api, clock, sleeps, name: str, make, reply: Reply
) -> None:
    """Unchanged: "previews resume in a few minutes", and the service is asked again after 300 s."""
    api = make_api(reply)
    enricher = make(api.client(), clock=clock, sleep=sleeps)
    enricher.enrich([song(1)])
    assert (enricher.last_failure or "").endswith(
        "is limiting how often moodtape may ask; previews resume in a few minutes."
    )
    assert _seconds_until_asked_again(api, clock, enricher, 100) == COOLDOWN, name

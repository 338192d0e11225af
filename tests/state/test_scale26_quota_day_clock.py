"""Instances whose clocks disagree count YouTube's searches in the same quota day.

YouTube's quota day runs midnight to midnight Pacific time. With ``MOODTAPE_REDIS_URL`` every
instance counts in one Redis hash, a field per day, but each named the day by its own clock: an
instance 2 h ahead started counting the next day 2 h before YouTube's reset, with the whole
allowance again (up to 2 × the day's searches spent, and quotaExceeded from YouTube). Now the day
is named by Redis's ``TIME`` (state/budget.py), the clock every instance sharing the count shares.
Each instance is a process of its own whose ``time.time`` is off by ``skew``.
"""

from __future__ import annotations

import textwrap

import redis

from moodtape.providers.budget import QUOTA_ZONE, quota_day
from moodtape.state.budget import RedisBudgetStore
from skewed_machine import last_line

BUDGET = 50

#: One instance: its clock ``argv[1]`` seconds off; prints its YouTube provider's searches left.
_INSTANCE = textwrap.dedent(
    """
    import sys, tempfile, time
    real = time.time
    time.time = lambda: real() + float(sys.argv[1])
    from moodtape.config import Settings
    from moodtape.providers.registry import live_providers
    from moodtape.providers.youtube import YouTubeProvider
    settings = Settings({
        "MOODTAPE_DATA_DIR": tempfile.mkdtemp(), "MOODTAPE_REDIS_URL": sys.argv[2],
        "YOUTUBE_API_KEY": "ykey-789", "YOUTUBE_DAILY_SEARCH_BUDGET": sys.argv[3],
    })
    (youtube,) = [p for p in live_providers(settings) if isinstance(p, YouTubeProvider)]
    print(youtube.searches_left())
    """
)


def _searches_left(skew: float, url: str) -> int:
    return int(last_line(_INSTANCE, skew, url, BUDGET))


def _seconds_to_next_quota_day(now: float) -> float:
    from datetime import datetime, timedelta

    local = datetime.fromtimestamp(now, tz=QUOTA_ZONE)
    midnight = (local + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return midnight.timestamp() - now


def test_an_instance_past_pacific_midnight_spends_from_the_same_day(redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url)
    seconds, micros = client.time()
    now = seconds + micros / 1e6
    store = RedisBudgetStore(client)
    for _ in range(3):
        assert store.reserve(quota_day(now), BUDGET)
    assert _searches_left(0.0, redis_url) == BUDGET - 3
    # A clock ahead by just past the next quota day's start (as one 2 h ahead is from 22:00 Pacific).
    ahead = _seconds_to_next_quota_day(now) + 60
    assert _searches_left(ahead, redis_url) == BUDGET - 3
    client.close()

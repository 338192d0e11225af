"""Instances whose clocks disagree agree on how long a "Delete everything" marker lasts in Redis.

A retired session's marker in ``moodtape:retired`` was scored by the retiring instance's clock and
read by the reading instance's: one 2 h ahead ended every marker 2 h early (an old cookie named its
session again there) and its own deletions swept the others' markers 2 h before their time. Now
the markers are timed by Redis's ``TIME``. Each instance is a process whose ``time.time`` is off.
"""

from __future__ import annotations

import textwrap

import redis

from moodtape.state.retired import RedisRetiredSessions
from skewed_machine import last_line

KEEP_S = 3600.0
AHEAD_S = 7200.0

#: An instance ``argv[1]`` seconds ahead: says whether session ``argv[3]`` is retired.
_INSTANCE = textwrap.dedent(
    """
    import sys, time
    real = time.time
    time.time = lambda: real() + float(sys.argv[1])
    from moodtape.state.connection import connect
    from moodtape.state.retired import RedisRetiredSessions
    print(RedisRetiredSessions(connect(sys.argv[2]), keep_seconds=float(sys.argv[4])).is_retired(sys.argv[3]))
    """
)


def _retired_on_an_instance_ahead(url: str, session_id: str) -> bool:
    return last_line(_INSTANCE, AHEAD_S, url, session_id, KEEP_S) == "True"


def test_a_marker_lasts_as_long_on_an_instance_whose_clock_is_ahead(redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url)
    RedisRetiredSessions(client, keep_seconds=KEEP_S).retire("old-session")
    assert _retired_on_an_instance_ahead(redis_url, "old-session")
    assert not _retired_on_an_instance_ahead(redis_url, "other-session")
    client.close()

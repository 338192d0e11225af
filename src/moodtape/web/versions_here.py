"""Which release's files an instance serves, so that a fleet mid-upgrade never mixes two releases on one page.

The page asks for its files under content-versioned URLs (``/static/v/<digest>/...``, web/delivery.py,
and ``/ondevice/<name>.onnx?v=<digest>``, web/ondevice.py). Behind a balancer, during a rolling
upgrade, a page from a new instance asked an old one for the new digest and got the old bytes: one
page ran ES modules (or an on-device model) from two releases together, with errors no visitor can
read. Now an instance asked for a version it does not serve answers 404 (``version_not_here``,
``Cache-Control: no-store``) when a live instance sharing its Redis serves that version, and the
balancer retries elsewhere (``retry-on 404`` in deploy/haproxy.cfg, ``proxy_next_upstream http_404``
for nginx, docs/deployment.md).

When no live instance serves it (an instance alone, with or without Redis; or an old page still open
after every instance moved on), the instance answers with its own bytes under ``no-cache`` as
before: refusing would break every page left open across an upgrade, since nothing could serve it
any more.

Each instance notes what it serves (:func:`release`) in a hash of live instances
(:func:`moodtape.state.instances.hold`): at its readiness checks, and when it renders a page or the
on-device config (at most every :data:`NOTE_EVERY_S`), since a balancer that does not poll
``/readyz`` (open-source nginx) would otherwise leave no instance noted. One not noted for
``HELD_FOR_S`` (20 s) is gone: a page's files are asked for right after the page (or the config
that names the models), so the instance that served it is still noted then.

Only a holder that is surely another running instance makes this one refuse (:func:`_holders`):

- An instance forgets its note when it stops (:func:`forget_release`, at the end of its drain or at
  any stop), and a holder noted before this instance started is not counted. The instance id is
  new at every start, so a process restarted with new files (the only instance, with Redis)
  found its predecessor's note live for up to 20 s and answered 404 to a page left open from
  before, with no other instance to retry on: for every file it had not loaded, the ONNX runtime
  and the models (loaded late) included. A live peer notes itself again within seconds (every
  readiness poll, or its next page), so it is counted again soon after this instance starts.
- A static digest is refused only when its holder runs other code (its ``code:`` digest, the static
  files outside ``vendor/``, web/delivery.py): two hosts built from one commit whose ONNX runtime
  differs (``vendor/`` is copied in by ``make``) publish two digests for the same pages, and
  each serves the other's as before instead of a 404 a balancer may not retry.

Who holds what is read, never written, on a request for another version (a pipeline of ``TIME``,
``HGETALL`` and ``ZRANGE``), kept :data:`LOOKUP_EVERY_S` per process, and only asked for a version of
the right shape whose file exists: those paths are not rate limited (web/ratelimit.py), and a
client varying the digest wrote to Redis once a request.
"""

from __future__ import annotations

import math
import threading
import time
from typing import TYPE_CHECKING, Final

from flask import Flask, Response, current_app

from moodtape.web.errors import error_response

if TYPE_CHECKING:
    import redis

#: Where each instance notes the versions it serves
#: (instance id -> "static:<d> code:<d> emotion:<d> yunet:<d>").
HOLDERS_KEY: Final[str] = "moodtape:release-holders"
BEATS_KEY: Final[str] = "moodtape:release-beats"
#: Seconds between two notes made as pages are served, per process: well inside ``HELD_FOR_S``.
NOTE_EVERY_S: Final[float] = 5.0
#: Seconds a process keeps who holds what (:func:`_holders`): at most one read of Redis a second for
#: the requests of other versions, however many come.
LOOKUP_EVERY_S: Final[float] = 1.0
#: When this instance started (``time.monotonic()``, set with its id before any fork: web/ops.py).
STARTED: Final[str] = "moodtape.instance-started"
_LOOKED: Final[str] = "moodtape-release-looked"


class _LastNote:
    """When this process last noted its release as it served a page (one per app, in its extensions)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.at = -math.inf


class _LastLook:
    """What this process last read of who holds what, and when (one per app, in its extensions)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.at = -math.inf
        self.held: list[list[str]] | None = None


def mark_start(app: Flask) -> None:
    """Note when this instance starts: a holder noted before then is a process gone (:func:`_holders`)."""
    app.extensions[STARTED] = time.monotonic()


def release(app: Flask) -> str:
    """The versions this instance serves, as words: its static digest, its code's (the static files but
    ``vendor/``) and each on-device model's ``v``."""
    from moodtape.web.delivery import StaticVersion
    from moodtape.web.ondevice import model_version

    static: StaticVersion = app.extensions["moodtape-static"]
    return (
        f"static:{static.digest()} code:{static.code_digest()} "
        f"emotion:{model_version('emotion')} yunet:{model_version('yunet')}"
    )


def note_release(client: redis.Redis, app: Flask) -> list[str]:
    """Note this instance as serving :func:`release`; return what every live instance serves (one round trip)."""
    from moodtape.state.instances import hold
    from moodtape.web.ops import instance_id

    return hold(client, HOLDERS_KEY, BEATS_KEY, instance_id(app), release(app))


def note_if_answering(client: redis.Redis, app: Flask) -> list[str] | None:
    """:func:`note_release` through the Redis breaker; None when Redis does not answer (or the breaker is
    open, which answers at once): what Redis's trouble means is for the requests that need it to say."""
    import redis

    from moodtape.state.connection import SharedStateError, redis_errors

    try:
        with redis_errors(client):
            return note_release(client, app)
    except (SharedStateError, redis.RedisError):
        return None


def note_now_and_then() -> None:
    """Note this instance's release as it serves a page, at most every :data:`NOTE_EVERY_S` per process
    (one Redis round trip then, none between). Nothing without Redis; a Redis error is left to the
    requests that need Redis to report, as a page is served without it."""
    from moodtape.web.app import services

    client = services().redis
    if client is None:
        return
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    last: _LastNote = app.extensions.setdefault("moodtape-release-noted", _LastNote())
    now = time.monotonic()
    with last.lock:
        if now - last.at < NOTE_EVERY_S:
            return
        last.at = now
    if note_if_answering(client, app) is None:
        with last.lock:
            last.at = -math.inf  # noted at the next page instead


def forget_release(app: Flask) -> None:
    """Forget this instance's note now that it stops (the end of its drain, or any stop), not 20 s later:
    its successor (a new id) must not refuse the pages this one served. Best effort, as a stop must not
    wait on Redis: a note left behind predates the next instance's start, which then ignores it."""
    import redis

    from moodtape.state.connection import SharedStateError, redis_errors
    from moodtape.state.instances import release as let_go
    from moodtape.web.ops import instance_id

    client = app.extensions["moodtape"].redis
    if client is None:
        return
    try:
        with redis_errors(client):
            let_go(client, HOLDERS_KEY, BEATS_KEY, instance_id(app))
    except (SharedStateError, redis.RedisError):
        return


def _read_holders(client: redis.Redis, app: Flask) -> list[list[str]]:
    """What each other live instance serves, as words (its note split).

    Read only (one round trip): a request must not write to Redis. Live: noted within ``HELD_FOR_S``
    and after this instance started, both by Redis's clock (this start is mapped onto it by its uptime,
    so the clocks need not agree). A note from before this start is a process gone: one stopped
    without forgetting it (killed), or this very host's previous process.
    """
    from moodtape.state.instances import HELD_FOR_S
    from moodtape.web.ops import instance_id

    pipe = client.pipeline(transaction=False)
    pipe.time()
    pipe.hgetall(HOLDERS_KEY)
    pipe.zrange(BEATS_KEY, 0, -1, withscores=True)
    clock, held, beats = pipe.execute()
    now = clock[0] + clock[1] / 1_000_000
    started = now - (time.monotonic() - app.extensions[STARTED])
    oldest = max(now - HELD_FOR_S, started)
    beat_of = {_text(name): float(score) for name, score in beats}
    me = instance_id(app)
    return [
        _text(value).split()
        for name, value in held.items()
        if _text(name) != me and beat_of.get(_text(name), -math.inf) > oldest
    ]


def _text(item: object) -> str:
    return item.decode() if isinstance(item, bytes) else str(item)


def _holders(client: redis.Redis, app: Flask) -> list[list[str]] | None:
    """:func:`_read_holders`, kept :data:`LOOKUP_EVERY_S` per process; None when Redis does not answer."""
    import redis

    from moodtape.state.connection import SharedStateError, redis_errors

    last: _LastLook = app.extensions.setdefault(_LOOKED, _LastLook())
    with last.lock:
        if time.monotonic() - last.at < LOOKUP_EVERY_S:
            return last.held
    try:
        with redis_errors(client):
            held: list[list[str]] | None = _read_holders(client, app)
    except (SharedStateError, redis.RedisError):
        held = None
    with last.lock:
        last.at, last.held = time.monotonic(), held
    return held


def served_elsewhere(kind: str, asked: str) -> bool:
    """Whether a live instance sharing this one's Redis serves version ``asked`` of ``kind`` (``static``,
    ``emotion``, ``yunet``), and, for ``static``, runs other code than this one. False without Redis,
    and when Redis fails: the file is then served here as before, since a 404 that no other instance
    can answer would break the page for nothing."""
    from moodtape.web.app import services

    client = services().redis
    if client is None:
        return False
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    held = _holders(client, app)
    if not held:
        return False
    wanted = f"{kind}:{asked}"
    holders = [words for words in held if wanted in words]
    if kind != "static":
        return bool(holders)
    # Same code with another vendor/ build (another ONNX runtime): this instance's bytes are that page's.
    code = f"code:{app.extensions['moodtape-static'].code_digest()}"
    return any(code not in words for words in holders)


def not_here(kind: str, asked: str, current: str) -> Response | None:
    """The 404 for a version another instance serves (the balancer retries there), or None to serve this one's.

    ``no-store``, so no cache keeps the refusal under a URL that another instance answers. The
    message names the version served here, never the client's text.
    """
    if not served_elsewhere(kind, asked):
        return None
    answer = error_response(
        404,
        "version_not_here",
        f"this instance serves {kind} version {current}, not the one asked: another instance serves that "
        "release (a rolling upgrade); the balancer retries there",
    )
    answer.headers["Cache-Control"] = "no-store"
    return answer

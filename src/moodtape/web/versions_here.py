"""Which release's files an instance serves, so that a fleet mid-upgrade never mixes two releases on one page.

The page asks for its files under content-versioned URLs (``/static/v/<digest>/...``, web/delivery.py,
and ``/ondevice/<name>.onnx?v=<digest>``, web/ondevice.py). Behind a balancer, during a rolling
upgrade, a page from a new instance asked an old one for the new digest and got the old bytes: one
page ran ES modules (or an on-device model) from two releases together, with errors no visitor can
read. Now an instance asked for a version it does not serve answers 404 (``version_not_here``,
``Cache-Control: no-store``) when a live instance sharing its Redis serves that version, and the
balancer retries elsewhere (``retry-on 404`` in deploy/haproxy.cfg, ``proxy_next_upstream http_404``
for nginx, docs/deployment.md).

When no live instance serves it (an instance alone, without Redis; or an old page still open after
every instance moved on), the instance answers with its own bytes under ``no-cache`` as before:
refusing would break every page left open across an upgrade, since nothing could serve it any more.

Each instance notes what it serves (:func:`release`) in a hash of live instances
(:func:`moodtape.state.instances.hold`): at its readiness checks, and when it renders a page or the
on-device config (at most every :data:`NOTE_EVERY_S`), since a balancer that does not poll
``/readyz`` (open-source nginx) would otherwise leave no instance noted. One not noted for
``HELD_FOR_S`` (20 s) is gone: a page's files are asked for right after the page (or the config
that names the models), so the instance that served it is still noted then.
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

#: Where each instance notes the versions it serves (instance id -> "static:<d> emotion:<d> yunet:<d>").
HOLDERS_KEY: Final[str] = "moodtape:release-holders"
BEATS_KEY: Final[str] = "moodtape:release-beats"
#: Seconds between two notes made as pages are served, per process: well inside ``HELD_FOR_S``.
NOTE_EVERY_S: Final[float] = 5.0


class _LastNote:
    """When this process last noted its release as it served a page (one per app, in its extensions)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.at = -math.inf


def release(app: Flask) -> str:
    """The versions this instance serves, as words: its static digest and each on-device model's ``v``."""
    from moodtape.web.delivery import StaticVersion
    from moodtape.web.ondevice import model_version

    static: StaticVersion = app.extensions["moodtape-static"]
    return f"static:{static.digest()} emotion:{model_version('emotion')} yunet:{model_version('yunet')}"


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


def served_elsewhere(kind: str, asked: str) -> bool:
    """Whether a live instance sharing this one's Redis serves version ``asked`` of ``kind`` (``static``,
    ``emotion``, ``yunet``). False without Redis, and when Redis fails: the file is then served here as
    before, since a 404 that no other instance can answer would break the page for nothing."""
    from moodtape.web.app import services

    client = services().redis
    if client is None:
        return False
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    held = note_if_answering(client, app)
    return held is not None and any(f"{kind}:{asked}" in versions.split() for versions in held)


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

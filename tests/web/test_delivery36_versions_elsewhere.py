"""A fleet mid-upgrade: an instance asked for a release's files that another live instance serves
refers the request back to the balancer (404, ``no-store``) instead of passing its own bytes off as
that release's; with no live instance serving it (an instance alone, an old page after the upgrade)
it still answers with its own, revalidated, as before (web/versions_here.py).

The other instance is a holder noted in the shared Redis, as its readiness checks note it.
"""

from __future__ import annotations

import time

from flask import Flask
from webtools import AppFactory

from moodtape.state.connection import connect
from moodtape.state.instances import hold
from moodtape.web.ondevice import model_version
from moodtape.web.versions_here import BEATS_KEY, HOLDERS_KEY

OTHER_STATIC = "0123456789ab"
OTHER_MODEL = "ba9876543210"


def _digest(app: Flask) -> str:
    return str(app.extensions["moodtape-static"].digest())


def _release(app: Flask) -> str:
    code = app.extensions["moodtape-static"].code_digest()
    return f"static:{_digest(app)} code:{code} emotion:{model_version('emotion')} yunet:{model_version('yunet')}"


def _beside_another_release(make_app: AppFactory, redis_url: str) -> Flask:
    """An app whose Redis holds an instance of another release, live (noted just now)."""
    app = make_app(MOODTAPE_REDIS_URL=redis_url)
    other = f"static:{OTHER_STATIC} emotion:{OTHER_MODEL} yunet:x"
    hold(connect(redis_url), HOLDERS_KEY, BEATS_KEY, "other-release", other)
    return app


def test_a_static_digest_another_instance_serves_is_a_404_for_the_balancer(
    make_app: AppFactory, redis_url: str
) -> None:
    app = _beside_another_release(make_app, redis_url)
    answer = app.test_client().get(f"/static/v/{OTHER_STATIC}/js/app.js")
    assert answer.status_code == 404
    assert answer.headers["Cache-Control"] == "no-store"
    assert answer.get_json()["error"]["code"] == "version_not_here"
    assert _digest(app) in answer.get_json()["error"]["message"]
    # Its own digest is still its own file, for a year.
    own = app.test_client().get(f"/static/v/{_digest(app)}/js/app.js")
    assert own.status_code == 200
    assert own.headers["Cache-Control"].endswith("immutable")


def test_an_on_device_model_another_instance_serves_is_a_404_for_the_balancer(
    make_app: AppFactory, redis_url: str
) -> None:
    app = _beside_another_release(make_app, redis_url)
    answer = app.test_client().get(f"/ondevice/emotion.onnx?v={OTHER_MODEL}")
    assert answer.status_code == 404
    assert answer.headers["Cache-Control"] == "no-store"
    assert model_version("emotion") in answer.get_json()["error"]["message"]
    # The yunet file of that release is another version: the one served here is still this one's.
    assert app.test_client().get(f"/ondevice/yunet.onnx?v={model_version('yunet')}").status_code == 200


def test_a_digest_no_live_instance_serves_still_gets_this_instances_files(make_app: AppFactory, redis_url: str) -> None:
    """An old page left open after every instance moved on: its files, revalidated, not a broken page."""
    app = _beside_another_release(make_app, redis_url)
    for url in ("/static/v/ffffffffffff/js/app.js", "/ondevice/emotion.onnx?v=ffffffffffff"):
        answer = app.test_client().get(url)
        assert answer.status_code == 200, url
        assert answer.headers["Cache-Control"] == "no-cache"


def test_an_instance_alone_serves_an_old_page_as_before(make_app: AppFactory) -> None:
    """No Redis, no fleet: an upgrade (or a plain restart) of the only instance keeps an open page working."""
    app = make_app()
    answer = app.test_client().get(f"/static/v/{OTHER_STATIC}/js/app.js")
    assert answer.status_code == 200
    assert answer.headers["Cache-Control"] == "no-cache"


def test_readiness_notes_the_release_this_instance_serves(make_app: AppFactory, redis_url: str) -> None:
    app = make_app(MOODTAPE_REDIS_URL=redis_url)
    app.test_client().get("/readyz")
    held: list[str] = []
    deadline = time.monotonic() + 5  # noted after the answer (web/ops.py: the answer never waits for it)
    while not held and time.monotonic() < deadline:
        held = [value.decode() for value in connect(redis_url).hvals(HOLDERS_KEY)]
        time.sleep(0.01)
    assert held == [_release(app)]


def test_a_redis_outage_serves_this_instances_files(make_app: AppFactory) -> None:
    """Redis down: no way to know who serves what, so the file is served here, as before, not refused."""
    app = make_app(MOODTAPE_REDIS_URL="redis://127.0.0.1:1/0")
    answer = app.test_client().get(f"/static/v/{OTHER_STATIC}/js/app.js")
    assert answer.status_code == 200
    assert answer.headers["Cache-Control"] == "no-cache"


def test_serving_a_page_notes_the_release_without_any_readiness_check(make_app: AppFactory, redis_url: str) -> None:
    """nginx polls no /readyz: the instance that served a page is noted as it served it."""
    app = make_app(MOODTAPE_REDIS_URL=redis_url)
    assert app.test_client().get("/").status_code == 200
    held = [value.decode() for value in connect(redis_url).hvals(HOLDERS_KEY)]
    assert held == [_release(app)]

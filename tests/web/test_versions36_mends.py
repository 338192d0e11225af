"""Review mends to a fleet mid-upgrade (web/versions_here.py): a release note is refused only when a
live instance that is surely another one, running other code, serves the version asked; a stop
forgets its note; and a request for another version reads Redis at most once a second, never writes.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import redis
from flask import Flask
from webtools import AppFactory

from moodtape.state.connection import connect
from moodtape.state.instances import hold
from moodtape.web import versions_here
from moodtape.web.delivery import StaticVersion
from moodtape.web.ops import instance_id
from moodtape.web.versions_here import BEATS_KEY, HOLDERS_KEY

OLD_STATIC = "0123456789ab"


def _digest(app: Flask) -> str:
    return str(app.extensions["moodtape-static"].digest())


def _code(app: Flask) -> str:
    return str(app.extensions["moodtape-static"].code_digest())


def test_a_restarted_instance_serves_a_page_left_open_from_before(make_app: AppFactory, redis_url: str) -> None:
    """The only instance, restarted with new files: its previous process's note (another id, noted before
    this start) is no live instance, so the open page's files are served here, not a 404 for 20 s."""
    hold(connect(redis_url), HOLDERS_KEY, BEATS_KEY, "previous-process", f"static:{OLD_STATIC} emotion:x yunet:y")
    app = make_app(MOODTAPE_REDIS_URL=redis_url)
    for url in (f"/static/v/{OLD_STATIC}/js/app.js", "/ondevice/emotion.onnx?v=ba9876543210"):
        answer = app.test_client().get(url)
        assert answer.status_code == 200, url
        assert answer.headers["Cache-Control"] == "no-cache"


def test_a_note_made_after_this_start_still_refers_the_request(make_app: AppFactory, redis_url: str) -> None:
    """The peer of a rolling upgrade notes itself again after this instance started: still a 404 here."""
    app = make_app(MOODTAPE_REDIS_URL=redis_url)
    hold(connect(redis_url), HOLDERS_KEY, BEATS_KEY, "peer", f"static:{OLD_STATIC} code:ffffffffffff emotion:x yunet:y")
    answer = app.test_client().get(f"/static/v/{OLD_STATIC}/js/app.js")
    assert answer.status_code == 404
    assert answer.get_json()["error"]["code"] == "version_not_here"


def test_a_stop_forgets_this_instances_note(make_app: AppFactory, redis_url: str) -> None:
    client = connect(redis_url)
    app = make_app(MOODTAPE_REDIS_URL=redis_url)
    assert app.test_client().get("/").status_code == 200  # notes this instance
    hold(client, HOLDERS_KEY, BEATS_KEY, "peer", "static:ffffffffffff")
    versions_here.forget_release(app)
    assert client.hkeys(HOLDERS_KEY) == [b"peer"]
    assert client.zscore(BEATS_KEY, instance_id(app)) is None


def test_the_serve_command_forgets_the_note_when_it_stops(monkeypatch: pytest.MonkeyPatch) -> None:
    """``moodtape serve`` (one process) forgets its note once its server stopped, drained or not."""
    from types import SimpleNamespace

    from moodtape.cli import serve

    forgotten: list[object] = []
    monkeypatch.setattr(versions_here, "forget_release", forgotten.append)
    monkeypatch.setattr("moodtape.web.stopping.start_warming", lambda *_args, **_kwargs: None)
    monkeypatch.setattr("moodtape.web.stopping.exit_if_native_threads_run", lambda *_args: None)
    monkeypatch.setattr("moodtape.web.stopping.ignore_stop_signals", lambda: None)
    monkeypatch.setattr(serve.gc, "freeze", lambda: None)
    app = object()
    server = SimpleNamespace(serve=lambda until: None, stop=lambda: 0, wake=lambda: None)
    stops = SimpleNamespace(serving=lambda wake: None, first=None, asked=False)
    started = SimpleNamespace(server=server, services=None, url="http://x", shutdown_seconds=1, drain=None, app=app)
    serve._serve_until_asked(started, stops)  # type: ignore[arg-type]
    assert forgotten == [app]


def test_same_code_with_another_vendor_build_is_served_here(make_app: AppFactory, redis_url: str) -> None:
    """Two hosts built from one commit, one with another ONNX runtime under vendor/: two digests, one code.
    Each serves the other's page its own bytes (revalidated), as before: no 404 a balancer may not retry."""
    app = make_app(MOODTAPE_REDIS_URL=redis_url)
    hold(connect(redis_url), HOLDERS_KEY, BEATS_KEY, "peer", f"static:{OLD_STATIC} code:{_code(app)} emotion:x")
    answer = app.test_client().get(f"/static/v/{OLD_STATIC}/js/app.js")
    assert answer.status_code == 200
    assert answer.headers["Cache-Control"] == "no-cache"


def test_the_code_digest_leaves_out_vendor_files_and_the_url_digest_keeps_them(tmp_path: Path) -> None:
    (tmp_path / "js").mkdir()
    (tmp_path / "vendor" / "ort").mkdir(parents=True)
    (tmp_path / "js" / "app.js").write_text("app")
    runtime = tmp_path / "vendor" / "ort" / "ort.min.js"
    runtime.write_text("runtime 1")
    version = StaticVersion(tmp_path, recheck_seconds=0)
    digest, code = version.digest(), version.code_digest()
    runtime.write_text("runtime 2, another build")
    assert version.digest() != digest  # immutable caching: the URL still changes with a vendor file
    assert version.code_digest() == code
    (tmp_path / "js" / "app.js").write_text("app, changed")
    assert version.code_digest() != code


def _counts(client: redis.Redis) -> dict[str, int]:
    stats = client.info("commandstats")
    return {name.removeprefix("cmdstat_"): int(value["calls"]) for name, value in stats.items()}


def test_requests_for_other_digests_write_nothing_and_read_redis_seldom(
    make_app: AppFactory, redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Versioned static paths are not rate limited: 200 requests varying the digest were 200 Lua scripts
    writing to Redis. Now no write, and one read for all of them (kept per process)."""
    monkeypatch.setattr(versions_here, "LOOKUP_EVERY_S", 3600.0, raising=False)  # one read, whatever the pace
    app = make_app(MOODTAPE_REDIS_URL=redis_url)
    client = connect(redis_url)
    hold(client, HOLDERS_KEY, BEATS_KEY, "peer", "static:aaaaaaaaaaaa code:ffffffffffff")
    web = app.test_client()
    client.config_resetstat()
    urls = [f"/static/v/{n:012x}/js/app.js" for n in range(100)]  # the shape of a digest, a file that is there
    urls += [f"/static/v/not-a-digest-{n}/js/app.js" for n in range(50)]
    urls += [f"/static/v/{n:012x}/js/nope.js" for n in range(50)]
    for url in urls:
        web.get(url)
    counts = _counts(client)
    # The notes are Lua (EVAL); the rate limit counting the missing files is EVALSHA, as for any path.
    assert counts.get("eval", 0) == 0, sorted(counts.items())
    assert (counts.get("hgetall", 0), counts.get("zrange", 0)) == (1, 1), sorted(counts.items())

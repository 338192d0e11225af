"""Readiness takes out of rotation the instance whose secret key most of the others do not accept.

Before: two instances with different MOODTAPE_SECRET_KEYs both answered ``/readyz`` 200
"degraded", so the balancer kept sending visitors to both, and each visit that crossed them started
afresh with its changes refused (403). Now each instance holds its key's fingerprint in Redis,
noted by a heartbeat and let go when it drains: an instance is 503 ``not_ready`` (naming the
setting, never a key) only when one key it does not accept is held by a strict majority of the
live instances (counted key by key: three generated keys, or keys a, b, c, a, b, take nobody out).
Ties and lone instances stay 200 "degraded": a restart with a new key, or one old and one new
instance, is never taken out. Nothing else is stored, so after Redis lost its
data the next heartbeats say the same again; and while Redis cannot be asked (or hangs), an
instance found out of step stays so for ``KEEP_VERDICT_S``.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import redis
from flask import Flask
from flask.testing import FlaskClient
from webtools import AppFactory

from moodtape.state import instances
from moodtape.state.connection import connect
from moodtape.web import ops
from moodtape.web.draining import drain_mark
from moodtape.web.secret_key import HOLDERS_KEY, fingerprint
from redis_server import redis_of_its_own

OLD, NEW, STRANGER = "o" * 32, "n" * 32, "s" * 32


@pytest.fixture(autouse=True)
def _quick_heartbeats(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(instances, "HEARTBEAT_S", 0.3)  # 5 s in service


def _ready(client: FlaskClient) -> tuple[int, str, str]:
    answer = client.get("/readyz")
    body = answer.get_json()
    return answer.status_code, body["status"], str(body["checks"].get("secret_key"))


def _eventually(condition: Callable[[], bool], within: float = 5.0) -> bool:
    ends = time.monotonic() + within
    while time.monotonic() < ends:
        if condition():
            return True
        time.sleep(0.1)
    return condition()


def _instances(make_app: AppFactory, url: str, *keys: str) -> list[Flask]:
    return [make_app(MOODTAPE_REDIS_URL=url, MOODTAPE_SECRET_KEY=key) for key in keys]


def test_the_instance_most_others_disagree_with_leaves_rotation_naming_the_setting(
    make_app: AppFactory, redis_url: str
) -> None:
    good = [app.test_client() for app in _instances(make_app, redis_url, OLD, OLD, OLD)]
    for client in good:
        _ready(client)
    stranger = make_app(MOODTAPE_REDIS_URL=redis_url, MOODTAPE_SECRET_KEY=STRANGER).test_client()

    code, status, said = _ready(stranger)
    assert (code, status) == (503, "not_ready"), said
    assert "MOODTAPE_SECRET_KEY" in said and "3 of the 4 live instances" in said
    for secret in (OLD, STRANGER, fingerprint(OLD), fingerprint(STRANGER)):
        assert secret not in said
    for client in good:
        code, status, said = _ready(client)
        assert (code, status) == (200, "degraded") and "1 other MOODTAPE_SECRET_KEY(s)" in said


@pytest.mark.parametrize(
    ("others", "expected"),
    [((), 200), ((OLD,), 200), ((OLD, STRANGER), 200), ((OLD, OLD), 503), ((OLD, OLD, STRANGER), 200)],
    ids=["alone", "one-against-one", "tie-two-two", "two-against-one", "two-against-one-of-four"],
)
def test_only_a_strict_majority_of_two_or_more_takes_an_instance_out(
    make_app: AppFactory, redis_url: str, others: tuple[str, ...], expected: int
) -> None:
    for app in _instances(make_app, redis_url, *others):
        _ready(app.test_client())
    me = make_app(MOODTAPE_REDIS_URL=redis_url, MOODTAPE_SECRET_KEY=STRANGER).test_client()
    code, _status, said = _ready(me)
    assert code == expected, said


def test_a_single_instance_restarted_with_a_new_key_is_in_rotation_at_once(
    make_app: AppFactory, redis_url: str
) -> None:
    """Before: the new key waited two minutes for the old one's record to age out, answering 503."""
    old_app = make_app(MOODTAPE_REDIS_URL=redis_url, MOODTAPE_SECRET_KEY=OLD)
    assert _ready(old_app.test_client())[:2] == (200, "ready")
    new = make_app(MOODTAPE_REDIS_URL=redis_url, MOODTAPE_SECRET_KEY=NEW).test_client()
    assert _ready(new)[0] == 200  # the old one not even stopped yet: one against one
    mark = drain_mark(old_app)
    assert mark is not None
    mark.set()  # its SIGTERM
    assert _eventually(lambda: _ready(new)[:2] == (200, "ready")), _ready(new)


def test_a_drain_lets_go_of_the_key_at_once(make_app: AppFactory, redis_url: str) -> None:
    strangers = _instances(make_app, redis_url, STRANGER, STRANGER)
    for app in strangers:
        _ready(app.test_client())
    me = make_app(MOODTAPE_REDIS_URL=redis_url, MOODTAPE_SECRET_KEY=OLD).test_client()
    assert _ready(me)[0] == 503
    mark = drain_mark(strangers[0])
    assert mark is not None
    mark.set()
    holders = connect(redis_url)
    assert _eventually(lambda: len(holders.hgetall(HOLDERS_KEY)) == 2, within=2.0), holders.hgetall(HOLDERS_KEY)
    assert _ready(me)[:2] == (200, "degraded")


def test_after_redis_lost_its_data_the_stranger_is_out_again_within_seconds(
    make_app: AppFactory, redis_url: str
) -> None:
    """Before: the first instance to poll after the loss recorded its key as the deployment's; when
    that was the misconfigured one, every healthy instance was out of rotation for good."""
    good = [app.test_client() for app in _instances(make_app, redis_url, OLD, OLD, OLD)]
    stranger = make_app(MOODTAPE_REDIS_URL=redis_url, MOODTAPE_SECRET_KEY=STRANGER).test_client()
    for client in (*good, stranger):
        _ready(client)
    assert _ready(stranger)[0] == 503

    connect(redis_url).flushall()  # a restart without persistence, a failover to an empty replica
    _ready(stranger)  # the balancer happens to poll the stranger first

    assert _eventually(lambda: _ready(stranger)[0] == 503), _ready(stranger)
    for client in good:
        assert _ready(client)[0] == 200


def test_a_rotation_in_two_passes_keeps_every_instance_in_rotation(make_app: AppFactory, redis_url: str) -> None:
    def instance(key: str, fallbacks: str = "") -> Flask:
        settings = {"MOODTAPE_SECRET_KEY_FALLBACKS": fallbacks} if fallbacks else {}
        return make_app(MOODTAPE_REDIS_URL=redis_url, MOODTAPE_SECRET_KEY=key, **settings)

    fleet = [instance(OLD) for _ in range(3)]
    for step in [(OLD, NEW)] * 3 + [(NEW, OLD)] * 3:  # pass 1, then pass 2, instance by instance
        replaced, fleet = fleet[0], [*fleet[1:], instance(*step)]
        mark = drain_mark(replaced)
        assert mark is not None
        mark.set()  # the replaced instance's SIGTERM
        for app in fleet:
            assert _ready(app.test_client())[0] == 200
    assert _eventually(lambda: all(_ready(app.test_client())[:2] == (200, "ready") for app in fleet))


def test_while_redis_cannot_be_asked_the_out_of_step_answer_stands_for_a_while(
    make_app: AppFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before: the first check that failed to reach Redis put the stranger back into rotation."""
    monkeypatch.setattr(ops, "KEEP_VERDICT_S", 1.5)  # 30 s in service
    with redis_of_its_own(tmp_path / "redis") as server:
        for app in _instances(make_app, server.url, OLD, OLD):
            _ready(app.test_client())
        stranger = make_app(MOODTAPE_REDIS_URL=server.url, MOODTAPE_SECRET_KEY=STRANGER).test_client()
        assert _ready(stranger)[0] == 503
        server.stop()
        code, status, said = _ready(stranger)
        assert (code, status) == (503, "not_ready") and "Redis cannot be asked now" in said, said
        time.sleep(1.6)
        assert _ready(stranger)[:2] == (200, "degraded")


def _answers(apps: list[Flask]) -> list[tuple[int, str]]:
    clients = [app.test_client() for app in apps]
    for client in clients:  # every instance notes its key before any is asked
        _ready(client)
    return [_ready(client)[:2] for client in clients]


@pytest.mark.parametrize(
    ("keys", "expected"),
    [
        ("abcab", [200] * 5),  # no key is held by a strict majority of the five
        ("aaab", [200, 200, 200, 503]),
        ("aab", [200, 200, 503]),
    ],
)
def test_an_instance_is_out_of_step_only_when_one_key_holds_a_strict_majority(
    make_app: AppFactory, redis_url: str, keys: str, expected: list[int]
) -> None:
    """Before: strangers were counted together whatever their keys, so with keys a, b, c, a, b each
    instance found three or four strangers of five and all five answered 503."""
    answers = _answers(_instances(make_app, redis_url, *(letter * 32 for letter in keys)))
    assert [code for code, _status in answers] == expected, answers
    assert all(status == "degraded" for code, status in answers if code == 200), answers


def test_three_instances_that_generated_their_own_keys_all_stay_in_rotation(
    make_app: AppFactory, redis_url: str, tmp_path: Path
) -> None:
    """Before: three machines without MOODTAPE_SECRET_KEY each generated a key, each found the two
    others a majority against it, and the whole site answered 503."""
    apps = [make_app(MOODTAPE_REDIS_URL=redis_url, MOODTAPE_DATA_DIR=str(tmp_path / f"machine-{n}")) for n in range(3)]
    assert _answers(apps) == [(200, "degraded")] * 3


def test_while_redis_hangs_the_out_of_step_answer_stands_too(
    make_app: AppFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before: a Redis that hangs (stopped, or a network that drops packets) made the check late,
    and the late answer put the stranger straight back into rotation (200 "degraded")."""
    monkeypatch.setattr(ops, "KEEP_VERDICT_S", 30.0)
    with redis_of_its_own(tmp_path / "redis") as server:
        for app in _instances(make_app, server.url, OLD, OLD):
            _ready(app.test_client())
        stranger = make_app(MOODTAPE_REDIS_URL=server.url, MOODTAPE_SECRET_KEY=STRANGER).test_client()
        assert _ready(stranger)[0] == 503
        assert server.process is not None
        os.kill(server.process.pid, signal.SIGSTOP)
        try:
            answer = stranger.get("/readyz")
            body = answer.get_json()
            assert "did not answer" in body["checks"]["redis"], body
            assert (answer.status_code, body["status"]) == (503, "not_ready"), body
            assert "Redis cannot be asked now" in body["checks"]["secret_key"], body
        finally:
            os.kill(server.process.pid, signal.SIGCONT)


def test_a_readiness_check_that_notes_the_key_after_the_drain_lets_go_again(
    make_app: AppFactory, redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before: a check begun just before SIGTERM whose note reached Redis after the heartbeat let
    go of the key, and whose answer was then lost (the client's 1 s timeout), left the draining
    instance counted for 20 s more."""
    app = make_app(MOODTAPE_REDIS_URL=redis_url, MOODTAPE_SECRET_KEY=OLD)
    _ready(app.test_client())  # starts the heartbeat
    mark = drain_mark(app)
    assert mark is not None
    holders = connect(redis_url)
    real_hold = instances.hold

    def hold_late(*args: object, **kwargs: object) -> list[str]:
        mark.set()  # SIGTERM arrives while this check is on its way
        assert _eventually(lambda: not holders.hgetall(HOLDERS_KEY), within=3.0)  # the heartbeat let go
        real_hold(*args, **kwargs)  # type: ignore[arg-type]
        raise redis.TimeoutError("the answer was lost")

    monkeypatch.setattr(instances, "hold", hold_late)
    app.test_client().get("/readyz")
    assert _eventually(lambda: not holders.hgetall(HOLDERS_KEY), within=3.0), holders.hgetall(HOLDERS_KEY)


def test_every_process_of_one_server_is_one_instance(make_app: AppFactory, redis_url: str) -> None:
    """The id is made with the app, before a ``--processes N`` server forks its workers: a worker
    forked before any request notes the same instance as its parent, not one of its own."""
    app = make_app(MOODTAPE_REDIS_URL=redis_url, MOODTAPE_SECRET_KEY=OLD)
    made = ops.instance_id(app)
    reading, writing = os.pipe()
    child = os.fork()
    if child == 0:  # the worker: asks readiness, says its id, and goes
        try:
            app.test_client().get("/readyz")
            os.write(writing, ops.instance_id(app).encode())
        finally:
            os._exit(0)
    os.close(writing)
    with os.fdopen(reading, "rb") as pipe:
        said = pipe.read().decode()
    os.waitpid(child, 0)
    _ready(app.test_client())
    assert said == made
    assert list(connect(redis_url).hgetall(HOLDERS_KEY)) == [made.encode()]

"""The web app's shared state in a real Redis: streams and lists across instances, limits, outages."""

from __future__ import annotations

import concurrent.futures
import copy
import json
import re
import time
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt
import pytest
import redis
from webtools import AppFactory, csrf_headers, post_calibration, same_session

from moodtape.providers.budget import quota_day
from moodtape.session_state import SessionState
from moodtape.state.budget import RedisBudgetStore
from moodtape.state.connection import connect
from moodtape.state.sessions import RedisSessionMemory
from moodtape.store.records import Feedback
from moodtape.vision.pipeline import Analyzer
from moodtape.vision.stream import StreamAnalyzer
from moodtape.web.secret_key import HOLDERS_KEY
from moodtape.web.streams import RedisStreamRegistry
from redis_server import RedisServer, redis_of_its_own


@pytest.fixture
def client(redis_url: str) -> redis.Redis:
    return connect(redis_url)


def _frames(astronaut_bgr: npt.NDArray[np.uint8]) -> list[npt.NDArray[np.uint8]]:
    """Six 640×480 gray frames of the astronaut, moving and changing brightness a little."""
    face = cv2.cvtColor(cv2.resize(astronaut_bgr, (360, 360)), cv2.COLOR_BGR2GRAY)
    frames = []
    for i in range(6):
        frame = np.full((480, 640), 90, np.uint8)
        frame[60:420, 140 + 8 * i : 500 + 8 * i] = np.clip(face.astype(int) + 12 * (i % 3) - 12, 0, 255)
        frames.append(frame)
    return frames


def test_stream_smoothing_carries_over_between_instances(
    client: redis.Redis, redis_url: str, real_analyzer: Analyzer, astronaut_bgr: npt.NDArray[np.uint8]
) -> None:
    times = iter(np.arange(0.0, 10.0, 0.1))
    clock = lambda: float(next(times))  # noqa: E731 - shared by both instances, like wall-clock time
    instances = [
        RedisStreamRegistry(connect(redis_url), lambda: StreamAnalyzer(real_analyzer, detect_every=3), clock=clock)
        for _ in range(2)
    ]
    alone = StreamAnalyzer(real_analyzer, detect_every=3)
    for n, frame in enumerate(_frames(astronaut_bgr)):
        shared = instances[n % 2].process("session-1234567890", "cam", frame)
        expected = alone.process(frame, n * 0.1)
        raw = real_analyzer.analyze_gray(frame)
        assert [f.track_id for f in shared] == [f.track_id for f in expected] == [1]
        assert shared[0].probabilities == pytest.approx(expected[0].probabilities, abs=1e-9)
        if n:
            assert shared[0].probabilities != pytest.approx(raw[0].probabilities, abs=1e-6)  # smoothed
    ttl = client.pttl("moodtape:stream:session-1234567890:cam")
    assert 0 < ttl <= 60_000


def test_an_unreadable_stream_state_starts_the_stream_afresh(
    client: redis.Redis, real_analyzer: Analyzer, astronaut_bgr: npt.NDArray[np.uint8]
) -> None:
    client.set("moodtape:stream:session-1234567890:cam", b"{not json")
    registry = RedisStreamRegistry(client, lambda: StreamAnalyzer(real_analyzer))
    faces = registry.process("session-1234567890", "cam", _frames(astronaut_bgr)[0])
    assert [f.track_id for f in faces] == [1]


def test_session_state_round_trips_and_updates_are_atomic_across_instances(redis_url: str) -> None:
    instances = [RedisSessionMemory(connect(redis_url)) for _ in range(4)]
    session = "session-1234567890"
    assert instances[0].get(session) == SessionState()

    def like(n: int) -> None:
        feedback = Feedback(f"key{n}", f"artist{n}", "like", created_at=float(n))
        instances[n % 4].update(session, lambda state: state.with_feedback(feedback))

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        list(pool.map(like, range(40)))
    kept = instances[1].get(session).feedback
    assert sorted(f.item_key for f in kept) == sorted(f"key{n}" for n in range(40))  # none lost in a race
    instances[2].update(session, lambda state: state.with_correction("sad", "neutral"))
    assert instances[3].get(session).corrections == {"sad": "neutral"}
    instances[0].delete(session)
    assert instances[1].get(session) == SessionState()


def test_an_unreadable_session_state_starts_afresh(client: redis.Redis) -> None:
    client.set("moodtape:session:session-1234567890", b"{not json")
    assert RedisSessionMemory(client).get("session-1234567890") == SessionState()


def test_the_rate_limit_holds_across_instances(make_app: AppFactory, redis_url: str) -> None:
    # 0.1/s is "1 per 10 second": the eight requests must fit in one window, and Redis's window runs
    # on its own clock (no test can stop it); with "4 per 1 second" a machine slow enough to take a
    # second over them saw the window slide and a fifth request allowed.
    instances = [make_app(MOODTAPE_RATE_LIMIT="0.1", MOODTAPE_REDIS_URL=redis_url).test_client() for _ in range(2)]
    statuses = [instances[n % 2].get("/api/openapi.yaml").status_code for n in range(8)]
    assert statuses == [200] + [429] * 7  # one in all, not one per instance


def test_a_list_made_on_one_instance_is_exported_and_changed_on_another(make_app: AppFactory, redis_url: str) -> None:
    settings = {"MOODTAPE_REDIS_URL": redis_url, "MOODTAPE_SECRET_KEY": "k" * 32}
    first = make_app(**settings).test_client()
    token = csrf_headers(first)
    second = same_session(make_app(**settings), first)
    shown = first.post("/api/lists?emotion=sad&n=5", headers=token).get_json()
    exported = second.get(f"/api/export?list={shown['list_id']}&format=csv").get_data(as_text=True)
    titles = [item["title"] for item in shown["items"]]
    assert all(title in exported for title in titles)
    assert exported.count("\n") == len(titles) + 1  # a header and exactly the shown rows
    body = {"action": "dislike", "list": shown["list_id"], "position": 0}
    changed = second.post("/api/feedback", json=body, headers=token).get_json()["list"]
    assert first.get(f"/api/lists/{shown['list_id']}").get_json()["items"] == changed["items"]


def test_a_redis_outage_gives_clear_503s_then_recovery(make_app: AppFactory, frame_640: bytes, tmp_path: Path) -> None:
    with redis_of_its_own(tmp_path / "redis") as server:  # to stop and start again: not the shared one
        client = make_app(MOODTAPE_REDIS_URL=server.url).test_client()
        assert client.get("/readyz").status_code == 200
        assert client.post("/api/analyze?stream=cam", data=frame_640, content_type="image/jpeg").status_code == 200
        server.stop()
        # Shared by every instance: readiness stays 200 (degraded), so a balancer keeps the site up.
        ready = client.get("/readyz")
        assert ready.status_code == 200 and ready.get_json()["status"] == "degraded"
        assert ready.get_json()["checks"]["redis"].startswith("the shared state")
        assert client.get("/readyz?strict=true").status_code == 503
        reply = client.post("/api/analyze?stream=cam", data=frame_640, content_type="image/jpeg")
        assert reply.status_code == 503
        assert reply.get_json()["error"]["code"] == "shared_state_unavailable"
        # Requests that need no shared state still work: the rate limit counts in memory meanwhile,
        # and a photo is analysed without the session's calibration (it says calibrated: false).
        assert client.get("/api/openapi.yaml").status_code == 200
        photo = client.post("/api/analyze", data=frame_640, content_type="image/jpeg")
        assert photo.status_code == 200 and photo.get_json()["calibrated"] is False
        assert photo.get_json()["faces"]
        # A visitor without a cookie has no list to look up: the built-in recommendations come
        # (before, the lookup of a current list in Redis made these 503 for everyone).
        for path in ("/api/recommendations?emotion=sad&n=3", "/api/export?emotion=sad&n=3&format=csv"):
            with make_app(MOODTAPE_REDIS_URL=server.url).test_client() as visitor:
                assert visitor.get(path).status_code == 200, path
        server.start()
        assert client.get("/readyz").status_code == 200
        assert client.post("/api/analyze?stream=cam", data=frame_640, content_type="image/jpeg").status_code == 200


def test_a_calibration_made_on_one_instance_is_applied_by_another(
    make_app: AppFactory, redis_url: str, frame_640: bytes
) -> None:
    settings = {"MOODTAPE_REDIS_URL": redis_url, "MOODTAPE_SECRET_KEY": "k" * 32}
    first = make_app(**settings).test_client()
    token = csrf_headers(first)
    second = same_session(make_app(**settings), first)
    jpeg = {"Content-Type": "image/jpeg"}
    assert second.post("/api/analyze", data=frame_640, headers=jpeg).get_json()["calibrated"] is False
    assert post_calibration(first, frame_640, "neutral", token)["calibrated"] is True
    assert second.get("/api/calibration").get_json()["calibrated"] is True
    assert second.post("/api/analyze", data=frame_640, headers=jpeg).get_json()["calibrated"] is True
    assert second.post("/api/analyze?stream=cam", data=frame_640, headers=jpeg).get_json()["calibrated"] is True
    assert second.delete("/api/calibration", headers=token).get_json()["deleted"] is True
    assert first.get("/api/calibration").get_json()["calibrated"] is False


def test_a_redis_that_became_a_replica_gives_503s_and_readiness_says_so(
    make_app: AppFactory, redis_url: str, frame_640: bytes, tmp_path: Path
) -> None:
    """After a failover the old primary takes no writes but still answers PING: writes must be a
    503 the client may retry, not a 500, and readiness must name it (a 503 for strict monitors)."""
    replica = RedisServer(tmp_path / "replica")
    replica.start()
    try:
        client = make_app(MOODTAPE_REDIS_URL=replica.url, MOODTAPE_SECRET_KEY="k" * 32).test_client()
        assert client.get("/readyz").status_code == 200
        token = csrf_headers(client)
        assert client.post("/api/lists?emotion=sad&n=3", headers=token).status_code == 201
        primary_port = int(redis_url.rsplit(":", 1)[1].split("/")[0])
        connect(replica.url).replicaof("127.0.0.1", primary_port)
        made = client.post("/api/lists?emotion=sad&n=3", headers=token)
        assert made.status_code == 503
        assert made.get_json()["error"]["code"] == "shared_state_unavailable"
        assert "read-only replica" in made.get_json()["error"]["message"]
        ready = client.get("/readyz?strict=true")
        assert ready.status_code == 503 and "read-only replica" in ready.get_json()["checks"]["redis"]
        assert client.get("/readyz").get_json()["status"] == "degraded"
        connect(replica.url).replicaof("NO", "ONE")  # promoted back: the same instance recovers
        assert client.post("/api/lists?emotion=sad&n=3", headers=token).status_code in (200, 201)
        assert client.get("/readyz").status_code == 200
    finally:
        replica.stop()


def test_frames_are_timed_by_redis_so_machine_clocks_need_not_agree(
    client: redis.Redis,
    redis_url: str,
    real_analyzer: Analyzer,
    astronaut_bgr: npt.NDArray[np.uint8],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Two instances whose own clocks disagree by 1.5 s (more than a track's 1-s life) share one
    stream: its face keeps one track and is smoothed, because each frame's time is Redis's."""
    import time as time_module

    real_time = time_module.time
    skew = {"now": 0.0}
    monkeypatch.setattr(time_module, "time", lambda: real_time() + skew["now"])
    instances = [
        RedisStreamRegistry(connect(redis_url), lambda: StreamAnalyzer(real_analyzer, detect_every=3)) for _ in range(2)
    ]
    stored_times = []
    for n, frame in enumerate(_frames(astronaut_bgr)):
        skew["now"] = 1.5 * (n % 2)  # the second machine's clock runs 1.5 s ahead
        shared = instances[n % 2].process("session-skewed-clocks", "cam", frame)
        assert [f.track_id for f in shared] == [1]
        if n:
            raw = real_analyzer.analyze_gray(frame)
            assert shared[0].probabilities != pytest.approx(raw[0].probabilities, abs=1e-6)  # smoothed
        state = json.loads(client.get("moodtape:stream:session-skewed-clocks:cam") or b"")
        stored_times.append(state["tracks"][0][3])
        seconds, microseconds = client.time()
        assert abs(state["tracks"][0][3] - (seconds + microseconds / 1e6)) < 1.0  # Redis's clock
        time_module.sleep(0.05)
    assert stored_times == sorted(stored_times)


def test_an_instance_with_another_secret_key_is_named_by_readiness(make_app: AppFactory, redis_url: str) -> None:
    """One machine started with another MOODTAPE_SECRET_KEY refuses every change of visits that
    cross it (403) and re-issues their cookies: readiness must say so, on every instance, and take
    that machine out of rotation when most instances disagree with it (tests/web/test_scale27_key_reference.py)."""
    same = [make_app(MOODTAPE_REDIS_URL=redis_url, MOODTAPE_SECRET_KEY="k" * 32).test_client() for _ in range(2)]
    for client in same:
        ready = client.get("/readyz").get_json()
        assert ready["status"] == "ready" and ready["checks"]["secret_key"] == "ok"
    other = make_app(MOODTAPE_REDIS_URL=redis_url, MOODTAPE_SECRET_KEY="x" * 32).test_client()
    out = other.get("/readyz")
    assert out.status_code == 503 and "2 of the 3 live instances" in out.get_json()["checks"]["secret_key"]
    for client in same:
        ready = client.get("/readyz")
        assert ready.status_code == 200 and ready.get_json()["status"] == "degraded"
        assert "1 other MOODTAPE_SECRET_KEY(s)" in ready.get_json()["checks"]["secret_key"]
    assert "k" * 32 not in repr(connect(redis_url).hgetall(HOLDERS_KEY))


def test_an_instance_whose_clock_runs_behind_is_still_seen_by_the_others(
    make_app: AppFactory, redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Fingerprints were scored by each instance's own clock: one five minutes behind noted its key
    "five minutes ago", the others aged it out at once and said ready, and only it said degraded."""
    same = make_app(MOODTAPE_REDIS_URL=redis_url, MOODTAPE_SECRET_KEY="k" * 32).test_client()
    behind = make_app(MOODTAPE_REDIS_URL=redis_url, MOODTAPE_SECRET_KEY="x" * 32).test_client()
    assert same.get("/readyz").get_json()["status"] == "ready"
    real_time = time.time
    with monkeypatch.context() as skewed:
        skewed.setattr(time, "time", lambda: real_time() - 300)
        assert behind.get("/readyz").get_json()["status"] == "degraded"
    assert same.get("/readyz").get_json()["status"] == "degraded"


def test_readiness_follows_a_key_rotation_machine_by_machine(make_app: AppFactory, redis_url: str) -> None:
    """New key first on one instance, with the old one as a fallback: that instance reads every
    visit (ready); the one still on the old key alone would lose visits begun on the new (degraded)."""
    old, new = "o" * 32, "n" * 32
    still_old = make_app(MOODTAPE_REDIS_URL=redis_url, MOODTAPE_SECRET_KEY=old).test_client()
    assert still_old.get("/readyz").get_json()["status"] == "ready"
    rotated = make_app(MOODTAPE_REDIS_URL=redis_url, MOODTAPE_SECRET_KEY=new, MOODTAPE_SECRET_KEY_FALLBACKS=old)
    ready = rotated.test_client().get("/readyz").get_json()
    assert ready["status"] == "ready" and ready["checks"]["secret_key"] == "ok"
    lagging = still_old.get("/readyz").get_json()
    assert lagging["status"] == "degraded" and "1 other MOODTAPE_SECRET_KEY(s)" in lagging["checks"]["secret_key"]
    assert "FALLBACKS" in lagging["checks"]["secret_key"]  # says how to rotate without losing visits


def _shipped_eviction_policy() -> str:
    compose = (Path(__file__).parents[2] / "deploy" / "compose.yaml").read_text()
    found = re.search(r'"--maxmemory-policy", "([a-z-]+)"', compose)
    assert found is not None, "deploy/compose.yaml gives Redis an eviction policy"
    return found[1]


def test_a_full_redis_under_the_shipped_policy_keeps_the_rate_limit_and_the_budget(
    make_app: AppFactory, tmp_path: Path
) -> None:
    """Under ``volatile-ttl`` a full Redis evicted the keys closest to expiry first: the rate
    limiter's windows, so 95–127 of 150 requests a second got through a limit of 20 (a probe). Here:
    a full Redis of idle session documents, the limiter's window made, then writes that evict."""
    with redis_of_its_own(tmp_path / "redis") as server:  # filled until it evicts: not the shared one
        admin = connect(server.url)
        admin.config_set("maxmemory", "4mb")
        admin.config_set("maxmemory-policy", _shipped_eviction_policy())
        budget, day = RedisBudgetStore(admin), quota_day(time.time())
        assert budget.reserve(day, 100) and budget.reserve(day, 100)
        junk = iter(range(10**6))

        def write(documents: int) -> None:
            for _ in range(documents):  # session-like documents, each to live an hour
                admin.set(f"moodtape:session:junk-{next(junk)}", b"x" * 2_000, ex=3600)

        write(3_000)  # past maxmemory: Redis is full
        time.sleep(2.1)  # those are now idle (Redis's LRU clock ticks once a second)
        client = make_app(MOODTAPE_RATE_LIMIT="0.1", MOODTAPE_REDIS_URL=server.url).test_client()
        assert client.get("/api/config").status_code == 200  # the window: one request per 10 s
        write(900)  # each write evicts a key
        assert int(admin.info("stats")["evicted_keys"]) > 1_500, "Redis was full and evicting"
        assert client.get("/api/config").status_code == 429, "the limiter's window was kept"
        assert budget.used(day) == 2, "the day's YouTube count is never evicted"


def _with_another_model(analyzer: Analyzer) -> Analyzer:
    classifier = copy.copy(analyzer.classifier)
    classifier.model_id = "f" * 64  # another file: a rollout of a new model, half done
    return Analyzer(detector=analyzer.detector, classifier=classifier)


def test_instances_running_different_models_are_reported_and_do_not_claim_a_calibration(
    make_app: AppFactory, redis_url: str, real_analyzer: Analyzer, frame_640: bytes
) -> None:
    """Frames crossing two models took turns starting the calibration afresh, the other instance
    answered ``calibrated: true`` while applying nothing, and every instance said ``ready``."""
    settings = {"MOODTAPE_REDIS_URL": redis_url, "MOODTAPE_SECRET_KEY": "k" * 32}
    old = make_app(**settings).test_client()
    new = make_app(analyzer=_with_another_model(real_analyzer), **settings)
    assert old.get("/readyz").get_json()["checks"]["emotion_model"] == "ok"  # alone so far
    ready = new.test_client().get("/readyz").get_json()
    assert ready["status"] == "degraded" and "1 other emotion model" in ready["checks"]["emotion_model"]
    assert old.get("/readyz").get_json()["checks"]["emotion_model"] != "ok", "seen from both sides"
    post_calibration(old, frame_640)
    assert old.get("/api/calibration").get_json()["calibrated"] is True
    status = same_session(new, old).get("/api/calibration").get_json()
    assert status["calibrated"] is False and status["examples"] == {}

"""``/api/calibration``: calibrate from frames, kept with the session, applied by ``/api/analyze``."""

from __future__ import annotations

import contextlib
import threading
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt
import pytest
from flask import Flask
from flask.testing import FlaskClient
from webtools import AppFactory, csrf_headers, encode, post_calibration, same_session

from moodtape.vision.calibrate import Example, profile_from_examples
from moodtape.vision.pipeline import Analyzer
from moodtape.web import calibration_api
from moodtape.web.profiles import Calibration, MemoryProfileStore, remove_calibration


def neutral_probability(client: FlaskClient, frame: bytes, stream: str | None = None) -> tuple[float, bool]:
    url = "/api/analyze" + (f"?stream={stream}" if stream else "")
    body = client.post(url, data=frame, content_type="image/jpeg").get_json()
    return body["faces"][0]["probabilities"]["neutral"], body["calibrated"]


def test_status_starts_empty(client: FlaskClient) -> None:
    assert client.get("/api/calibration").get_json() == {
        "calibrated": False,
        "examples": {},
        "expressions": False,
        "removed": 0,
    }


def test_a_neutral_frame_calibrates_the_session(client: FlaskClient, csrf: dict[str, str], frame_640: bytes) -> None:
    before, calibrated = neutral_probability(client, frame_640)
    assert not calibrated
    assert post_calibration(client, frame_640, "neutral", csrf) == {
        "calibrated": True,
        "examples": {"neutral": 1},
        "expressions": False,
        "removed": 0,
        "notes": [],
        "not_resting": "happy",  # the astronaut smiles: kept, and the page is told
        "neutral_reads_as": "happy",  # and all the neutral frames, read together, too
        "learns_expressions": True,  # the shipped model has embeddings
        "learning_expressions_now": False,  # but not while the resting face smiles
    }
    after, calibrated = neutral_probability(client, frame_640)
    assert calibrated and after > before
    streamed, calibrated = neutral_probability(client, frame_640, stream="cam")
    assert calibrated and streamed == pytest.approx(after, abs=1e-3)


@pytest.fixture(scope="module")
def resting_frame_640(astronaut_bgr: npt.NDArray[np.uint8]) -> bytes:
    """``frame_640`` with the astronaut's smile covered: she then reads as resting (a smile given as
    neutral teaches no expressions, see tests/vision/test_calibration31_smile_as_neutral.py)."""
    covered = astronaut_bgr.copy()
    covered[127:166, 183:262] = np.median(astronaut_bgr[61:172, 167:278].reshape(-1, 3), axis=0).astype(np.uint8)
    frame = np.full((480, 640, 3), 90, np.uint8)
    frame[40:440, 120:520] = cv2.resize(covered, (400, 400))
    return encode(frame)


def test_expressions_before_neutral_wait_for_it(
    client: FlaskClient, csrf: dict[str, str], frame_640: bytes, resting_frame_640: bytes
) -> None:
    assert post_calibration(client, frame_640, "happy", csrf)["calibrated"] is False
    status = post_calibration(client, resting_frame_640, "neutral", csrf)
    assert status["calibrated"] is True and status["expressions"] is True  # learnt once neutral is in
    assert status["examples"] == {"happy": 1, "neutral": 1}
    assert status["neutral_reads_as"] is None and status["notes"] == []


def test_other_sessions_are_not_calibrated(
    app: Flask, client: FlaskClient, csrf: dict[str, str], frame_640: bytes
) -> None:
    post_calibration(client, frame_640, "neutral", csrf)
    with app.test_client() as stranger:
        assert stranger.get("/api/calibration").get_json()["calibrated"] is False
        assert neutral_probability(stranger, frame_640)[1] is False


def test_delete_forgets_it(client: FlaskClient, csrf: dict[str, str], frame_640: bytes) -> None:
    post_calibration(client, frame_640, "neutral", csrf)
    assert client.delete("/api/calibration", headers=csrf).get_json() == {"deleted": True, "removed": 1}
    assert client.get("/api/calibration").get_json()["calibrated"] is False
    assert neutral_probability(client, frame_640)[1] is False
    assert client.delete("/api/calibration", headers=csrf).get_json() == {"deleted": False, "removed": 2}


def test_forgetting_the_session_forgets_the_calibration(
    client: FlaskClient, csrf: dict[str, str], frame_640: bytes
) -> None:
    post_calibration(client, frame_640, "neutral", csrf)
    assert client.delete("/api/history?confirm=true", headers=csrf).status_code == 200
    assert client.get("/api/calibration").get_json()["calibrated"] is False


@pytest.mark.parametrize(
    ("method", "url", "body", "status", "code"),
    [
        ("post", "/api/calibration?emotion=joy", "frame", 400, "bad_request"),
        ("post", "/api/calibration", "blank", 422, "no_face"),
        ("post", "/api/calibration", "text", 415, "unsupported_image"),
        ("post", "/api/calibration", "nocsrf", 403, "csrf_failed"),
        ("delete", "/api/calibration", "nocsrf", 403, "csrf_failed"),
    ],
)
def test_bad_requests(
    client: FlaskClient,
    csrf: dict[str, str],
    frame_640: bytes,
    method: str,
    url: str,
    body: str,
    status: int,
    code: str,
) -> None:
    data = {
        "frame": frame_640,
        "nocsrf": frame_640,
        "blank": encode(np.full((240, 320, 3), 90, np.uint8)),
        "text": b"hello",
    }
    headers = {} if body == "nocsrf" else csrf
    reply = getattr(client, method)(url, data=data[body], content_type="image/jpeg", headers=headers)
    assert reply.status_code == status
    assert reply.get_json()["error"]["code"] == code
    assert client.get("/api/calibration").get_json()["calibrated"] is False


# --- the store -------------------------------------------------------------------------------------


def example(seed: int) -> Example:
    rng = np.random.default_rng(seed)
    return Example(rng.dirichlet(np.ones(7)).astype(np.float32), rng.random(512).astype(np.float32), 1)


def test_many_frames_take_constant_space_and_average(real_analyzer: Analyzer) -> None:
    calibration = Calibration(real_analyzer.classifier.model_id)
    examples = [example(seed) for seed in range(20)]
    for item in examples:
        calibration = calibration.add(real_analyzer, "neutral", item)
    tally = calibration.tallies["neutral"]
    assert tally.count == 20 and tally.embedding is not None and tally.embedding.shape == (512,)
    assert calibration.status()["examples"] == {"neutral": 20}
    # The same profile as fitting all 20 examples at once.
    direct = profile_from_examples(real_analyzer, {"neutral": examples})
    assert calibration.profile is not None
    np.testing.assert_allclose(calibration.profile.baseline, direct.baseline, atol=1e-5)
    assert calibration.profile.examples == {"neutral": 20}
    smiles = [example(seed) for seed in range(100, 103)]
    for item in smiles:
        calibration = calibration.add(real_analyzer, "happy", item)
    direct = profile_from_examples(real_analyzer, {"neutral": examples, "happy": smiles})
    assert calibration.profile is not None and calibration.profile.uses_embedding
    for label in ("neutral", "happy"):
        np.testing.assert_allclose(calibration.profile.prototypes[label], direct.prototypes[label], atol=1e-5)


def test_a_calibration_round_trips_through_a_dict(real_analyzer: Analyzer) -> None:
    calibration = Calibration(real_analyzer.classifier.model_id).add(real_analyzer, "neutral", example(0))
    calibration = calibration.add(real_analyzer, "happy", example(1))
    again = Calibration.from_dict(calibration.to_dict(), real_analyzer)
    assert again.status() == calibration.status()
    assert again.profile is not None and calibration.profile is not None
    probabilities: npt.NDArray[np.float32] = np.full((1, 7), 1 / 7, dtype=np.float32)
    embedding = example(2).embedding
    assert embedding is not None
    np.testing.assert_allclose(
        again.profile.apply(probabilities, embedding[None]),
        calibration.profile.apply(probabilities, embedding[None]),
        atol=1e-6,
    )


def test_the_memory_store_is_bounded_and_forgets(real_analyzer: Analyzer) -> None:
    store = MemoryProfileStore(max_profiles=2)
    happy = Calibration(real_analyzer.classifier.model_id).add(real_analyzer, "happy", example(0))
    for name in ("a", "b", "c"):
        store.update(name, lambda _old: happy)
    assert len(store) == 2 and store.get("a") is None
    assert remove_calibration(store, "b") == (True, 1)
    assert remove_calibration(store, "b") == (False, 2)  # no examples left, only the count
    removed = store.get("b")
    assert removed is not None and removed.removed == 2 and not removed.tallies and removed.profile is None
    assert len(store) == 1  # the removal count is kept apart from the calibrations


@pytest.mark.parametrize("where", ["memory", "redis"])
def test_two_examples_sent_at_once_both_count(
    request: pytest.FixtureRequest, make_app: AppFactory, frame_640: bytes, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    """Before: each request read the calibration, added its example and wrote it back; the later
    write dropped the other's example (two tabs, or a client that does not wait for each answer)."""
    settings = {"MOODTAPE_REDIS_URL": request.getfixturevalue("redis_url")} if where == "redis" else {}
    app = make_app(**settings)
    first = app.test_client()
    token = {**csrf_headers(first), "Content-Type": "image/jpeg"}
    second = same_session(app, first)
    both_read = threading.Barrier(2, timeout=3)
    real_add = Calibration.add

    def add_in_step(self: Calibration, *args: Any) -> Calibration:
        # Both requests hold the calibration they read before either writes. An atomic update
        # lets only one in at a time: then the wait times out, and each goes on alone.
        with contextlib.suppress(threading.BrokenBarrierError):
            both_read.wait()
        return real_add(self, *args)

    monkeypatch.setattr(Calibration, "add", add_in_step)
    statuses: list[int] = []
    threads = [
        threading.Thread(
            target=lambda c=client: statuses.append(
                c.post("/api/calibration?emotion=neutral", data=frame_640, headers=token).status_code
            )
        )
        for client in (first, second)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert statuses == [200, 200]
    assert first.get("/api/calibration").get_json()["examples"] == {"neutral": 2}


@pytest.mark.parametrize("frames_before", [1, 0], ids=["calibrated", "first-frame"])
@pytest.mark.parametrize("removal", ["/api/history?confirm=true", "/api/calibration"])
@pytest.mark.parametrize("where", ["memory", "redis", "store"])
def test_a_frame_read_while_the_calibration_is_removed_is_not_kept(
    request: pytest.FixtureRequest,
    make_app: AppFactory,
    frame_640: bytes,
    monkeypatch: pytest.MonkeyPatch,
    where: str,
    removal: str,
    frames_before: int,
) -> None:
    """Before: a calibration frame still being read when the person pressed "Delete everything" (or
    "Remove calibration"), on another thread or instance, was added afterwards and started the
    calibration again: something of the visit outlived its deletion."""
    app = make_app(**({"MOODTAPE_REDIS_URL": request.getfixturevalue("redis_url")} if where == "redis" else {}))
    if where == "store":
        app.extensions["moodtape"].share_state_in_store()  # `serve --processes N` without Redis
    page = app.test_client()
    token = {**csrf_headers(page), "Content-Type": "image/jpeg"}
    for _ in range(frames_before):
        post_calibration(page, frame_640, headers=token)
    reading, go_on = threading.Event(), threading.Event()
    real_read = calibration_api.read_example

    def slow_read(*args: Any, **kwargs: Any) -> Any:
        reading.set()
        assert go_on.wait(30)
        return real_read(*args, **kwargs)

    monkeypatch.setattr(calibration_api, "read_example", slow_read)
    answers: list[Any] = []
    late = threading.Thread(
        target=lambda: answers.append(
            same_session(app, page).post("/api/calibration?emotion=happy", data=frame_640, headers=token)
        )
    )
    late.start()
    assert reading.wait(30)
    removed = page.delete(removal, headers=token)
    assert removed.status_code == 200
    # "Delete everything" goes on in a new session, with the token its answer gives.
    token["X-CSRF-Token"] = removed.get_json().get("csrf_token", token["X-CSRF-Token"])
    go_on.set()
    late.join(timeout=60)
    assert answers[0].status_code == 409 and answers[0].get_json()["error"]["code"] == "calibration_removed"
    assert page.get("/api/calibration").get_json() == {
        "calibrated": False,
        "examples": {},
        "expressions": False,
        "removed": 1,
    }
    monkeypatch.setattr(calibration_api, "read_example", real_read)
    # A frame sent after the removal starts a new calibration, as the person asked.
    assert post_calibration(page, frame_640, headers=token)["examples"] == {"neutral": 1}


def test_a_frame_says_which_removal_it_was_sent_after(
    client: FlaskClient, csrf: dict[str, str], frame_640: bytes
) -> None:
    """A frame the page sent before a removal may reach the server after it (a slow upload, busy
    threads): the removal count the page saw, sent with the frame, decides, not the one at arrival."""
    jpeg = {**csrf, "Content-Type": "image/jpeg"}
    assert client.post("/api/calibration?removed=0", data=frame_640, headers=jpeg).get_json()["removed"] == 0
    assert client.delete("/api/calibration", headers=csrf).get_json() == {"deleted": True, "removed": 1}
    late = client.post("/api/calibration?removed=0", data=frame_640, headers=jpeg)
    assert late.status_code == 409 and late.get_json()["error"]["code"] == "calibration_removed"
    assert client.get("/api/calibration").get_json()["examples"] == {}
    after = client.post("/api/calibration?removed=1", data=frame_640, headers=jpeg)
    assert after.status_code == 200 and after.get_json()["examples"] == {"neutral": 1}
    for bad in ("-1", "x", "1.5"):
        assert client.post(f"/api/calibration?removed={bad}", data=frame_640, headers=jpeg).status_code == 400


def test_a_removal_count_gone_from_a_full_store_does_not_refuse_frames(make_app: AppFactory, frame_640: bytes) -> None:
    """A removal count pushed out of its bounded map cannot tell anything: the frame starts a new
    calibration instead of a 409 that would say "removed" when nothing was."""
    app = make_app()
    app.extensions["moodtape"].profiles = MemoryProfileStore(max_removals=1)
    page, other = app.test_client(), app.test_client()
    jpeg = {**csrf_headers(page), "Content-Type": "image/jpeg"}
    post_calibration(page, frame_640, headers=jpeg)
    assert page.delete("/api/calibration", headers=jpeg).get_json()["removed"] == 1
    assert other.delete("/api/calibration", headers=csrf_headers(other)).status_code == 200  # pushes it out
    reply = page.post("/api/calibration?removed=1", data=frame_640, headers=jpeg)
    assert reply.status_code == 200 and reply.get_json()["removed"] == 1


def test_removals_never_push_a_calibration_out(make_app: AppFactory, frame_640: bytes) -> None:
    """A removal leaves a count behind, even for a session that never calibrated (its first frame
    may be in flight); kept apart from the calibrations, so that a flood of removals from new
    sessions (2,048 would have filled a process's store) never pushes a visitor's calibration out."""
    app = make_app()
    app.extensions["moodtape"].profiles = MemoryProfileStore(max_profiles=2)
    visitor = app.test_client()
    jpeg = {**csrf_headers(visitor), "Content-Type": "image/jpeg"}
    post_calibration(visitor, frame_640, headers=jpeg)
    for _ in range(5):
        stranger = app.test_client()
        assert stranger.delete("/api/calibration", headers=csrf_headers(stranger)).get_json() == {
            "deleted": False,
            "removed": 1,
        }
        assert stranger.delete("/api/history?confirm=true", headers=csrf_headers(stranger)).status_code == 200
    assert visitor.get("/api/calibration").get_json()["calibrated"] is True
    assert len(app.extensions["moodtape"].profiles) == 1


def test_a_new_calibration_starts_from_a_count_the_client_can_send_back(
    client: FlaskClient, csrf: dict[str, str], frame_640: bytes
) -> None:
    jpeg = {**csrf, "Content-Type": "image/jpeg"}
    started = client.post("/api/calibration?removed=999999999999999999", data=frame_640, headers=jpeg).get_json()
    assert started["removed"] == 2**31
    removed = client.delete("/api/calibration", headers=csrf).get_json()["removed"]
    assert client.post(f"/api/calibration?removed={removed}", data=frame_640, headers=jpeg).status_code == 200


def test_only_a_neutral_frame_is_checked_for_a_smile(
    client: FlaskClient, csrf: dict[str, str], frame_640: bytes
) -> None:
    post_calibration(client, frame_640, "neutral", csrf)
    assert post_calibration(client, frame_640, "happy", csrf)["not_resting"] is None

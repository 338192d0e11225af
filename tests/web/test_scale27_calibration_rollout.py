"""A visitor's calibration survives a rollout of a new emotion model.

Mid-rollout, instances on the old and the new model share one Redis, and a visitor's frames reach
either. The calibration document held one model's examples: each step on the other model replaced
them, so with steps alternating neither instance kept a calibration (measured below: after 10
alternating steps, the old model's instance said ``calibrated: false``). Now each model's examples
are kept apart in the document, and removing the calibration removes every model's. The sums are
stored as base64 float32 (20.6 KB a model, was 76.7 KB), and the examples of a model no instance
runs any more are dropped at the next update.
"""

from __future__ import annotations

import base64
import copy
import dataclasses
import json

import numpy as np
from webtools import AppFactory, csrf_headers, post_calibration, same_session

from moodtape.emotions import EMOTIONS
from moodtape.state.connection import connect
from moodtape.state.instances import note_instance
from moodtape.state.profiles import RedisProfileStore
from moodtape.vision.pipeline import Analyzer
from moodtape.web.profiles import Calibration, Tally


def _with_another_model(analyzer: Analyzer) -> Analyzer:
    classifier = copy.copy(analyzer.classifier)
    classifier.model_id = "e" * 64  # the new model's file
    return Analyzer(detector=analyzer.detector, classifier=classifier)


def test_steps_alternating_between_two_models_keep_both_calibrations(
    make_app: AppFactory, redis_url: str, real_analyzer: Analyzer, frame_640: bytes
) -> None:
    settings = {"MOODTAPE_REDIS_URL": redis_url, "MOODTAPE_SECRET_KEY": "k" * 32}
    old = make_app(**settings).test_client()
    csrf_headers(old)  # the visit's cookie
    new = same_session(make_app(analyzer=_with_another_model(real_analyzer), **settings), old)
    for n in range(10):
        post_calibration(old if n % 2 == 0 else new, frame_640)

    for client in (old, new):
        status = client.get("/api/calibration").get_json()
        assert status["calibrated"] is True, "each model's step replaced the other's calibration"
        assert status["examples"] == {"neutral": 5}

    assert old.delete("/api/calibration", headers=csrf_headers(old)).status_code == 200
    for client in (old, new):
        assert client.get("/api/calibration").get_json()["calibrated"] is False, "a removal left a model's examples"


def _sums(model_id: str, seed: int, features: int = 512) -> Calibration:
    rng = np.random.default_rng(seed)
    tallies = {}
    for emotion in EMOTIONS:
        embedding = rng.normal(size=features).astype(np.float32)
        tallies[emotion] = Tally(3, np.log(rng.dirichlet(np.ones(len(EMOTIONS)))), embedding)
    return Calibration(model_id, tallies)


def test_a_calibration_document_is_compact_and_reads_back_exactly(real_analyzer: Analyzer) -> None:
    """Before: the sums were lists of decimal numbers, 76.7 KB a model and 230 KB with three, read
    (json.loads) at every frame."""
    mine = real_analyzer.classifier.model_id
    one = _sums(mine, 0)
    three = dataclasses.replace(_sums("a" * 64, 1).for_model("b" * 64), tallies=_sums("b", 2).tallies).for_model(mine)
    three = dataclasses.replace(three, tallies=one.tallies)

    assert len(one.to_text()) < 22_000, len(one.to_text())
    assert len(three.to_text()) < 64_000, len(three.to_text())
    read = Calibration.from_text(three.to_text(), real_analyzer)
    assert read is not None and set(read.others) == {"a" * 64, "b" * 64}
    for emotion, tally in one.tallies.items():
        assert tally.embedding is not None
        assert np.array_equal(read.tallies[emotion].embedding, tally.embedding)  # type: ignore[arg-type]
        assert np.array_equal(read.tallies[emotion].log_probabilities, tally.log_probabilities)


def test_a_document_written_before_with_lists_is_still_read(real_analyzer: Analyzer) -> None:
    one = _sums(real_analyzer.classifier.model_id, 3, features=8)
    written = one.to_dict()
    for item in written["tallies"].values():  # the form written before: a list of numbers
        item["embedding"] = np.frombuffer(base64.b64decode(item.pop("embedding_f32")), "<f4").tolist()
    read = Calibration.from_text(json.dumps(written), real_analyzer)
    assert read is not None
    for emotion, tally in one.tallies.items():
        assert np.array_equal(read.tallies[emotion].embedding, tally.embedding)  # type: ignore[arg-type]


def test_examples_of_a_model_no_instance_runs_any_more_are_dropped(real_analyzer: Analyzer, redis_url: str) -> None:
    mine, gone, rolling = real_analyzer.classifier.model_id, "a" * 64, "b" * 64
    client = connect(redis_url)
    store = RedisProfileStore(client, lambda: real_analyzer)
    kept = dataclasses.replace(_sums(gone, 4).for_model(rolling), tallies=_sums(rolling, 5).tallies).for_model(mine)
    assert set(kept.others) == {gone, rolling}
    for model in (mine, rolling):  # the instances' readiness polls note the models they run
        note_instance(client, "test", model_id=model, history_limits="", catalog=None)

    stored = store.update("s1", lambda _current: kept)

    assert set(stored.others) == {rolling}, "the examples of a model no instance runs were kept"
    read = store.get("s1")
    assert read is not None and set(read.others) == {rolling}
    assert len(client.get("moodtape:profile:s1") or b"") < 22_000 * 2

"""A calibration frame's answer says whether the model learns expressions at all (session 32).

A model without an embedding output never learns expressions: only the neutral baseline is fitted,
whatever the neutral examples show. The answer's ``neutral_reads_as`` is set for any model, so the
page could not tell "your resting face smiled" from "this model learns only your resting face" but
by the wording of a note. ``learns_expressions`` says it (``learning_expressions_now``, since session
36, says what this calibration does as it stands: false while the resting face smiles too).
"""

from __future__ import annotations

import copy

from flask.testing import FlaskClient
from webtools import AppFactory, post_calibration

from moodtape.vision.pipeline import Analyzer


def _without_embeddings(analyzer: Analyzer) -> Analyzer:
    """The bundled model as one without an embedding output: the same probabilities, no embedding
    (``EmotionClassifier.predict_with_embedding`` then gives none), and its own model ID."""
    classifier = copy.copy(analyzer.classifier)
    classifier.has_embedding = False
    classifier.model_id = "b" * 64
    return Analyzer(detector=analyzer.detector, classifier=classifier)


def _smile_as_neutral_then_smile(client: FlaskClient, frame: bytes) -> dict[str, object]:
    """The smiling astronaut sent as neutral, then as happy: the second answer."""
    post_calibration(client, frame, "neutral")
    return post_calibration(client, frame, "happy")


def test_a_model_with_embeddings_learns_expressions(client: FlaskClient, frame_640: bytes) -> None:
    answer = _smile_as_neutral_then_smile(client, frame_640)
    assert answer["learns_expressions"] is True and answer["learning_expressions_now"] is False
    # It could have learnt them: the smiling resting face is why it did not.
    assert answer["expressions"] is False and answer["neutral_reads_as"] == "happy"


def test_a_model_without_embeddings_says_it_learns_none(
    make_app: AppFactory, real_analyzer: Analyzer, frame_640: bytes
) -> None:
    client = make_app(analyzer=_without_embeddings(real_analyzer)).test_client()
    answer = _smile_as_neutral_then_smile(client, frame_640)
    assert answer["learns_expressions"] is False and answer["learning_expressions_now"] is False
    # The same smile is read (any model), but the fit never considered expressions: no note says it did.
    assert answer["expressions"] is False and answer["neutral_reads_as"] == "happy"
    assert answer["notes"] == []
    assert answer["calibrated"] is True and answer["examples"] == {"neutral": 1, "happy": 1}


def test_the_first_neutral_frame_already_says_it(
    make_app: AppFactory, real_analyzer: Analyzer, frame_640: bytes
) -> None:
    """A property of the model, not of the examples: said before any expression was sent."""
    client = make_app(analyzer=_without_embeddings(real_analyzer)).test_client()
    assert post_calibration(client, frame_640)["learns_expressions"] is False

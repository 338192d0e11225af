"""``moodtape evaluate``: a score with nothing to divide by is undefined, not 0 % (session 36).

A class the model never predicted printed "0.00%" precision (and one with no images 0.00 % recall
and F1), as if the model always got it wrong; scikit-learn's ``zero_division`` warns there. Now
the text report prints a dash and ``--json`` null.
"""

from __future__ import annotations

import json

import numpy as np
import numpy.typing as npt

from moodtape.emotions import emotion_index
from moodtape.vision.evaluate import Evaluation, format_report, score

TRUE = ["angry", "angry", "happy", "happy", "sad"]
PREDICTED = ["angry", "happy", "happy", "happy", "happy"]  # sad never predicted; fear neither true nor predicted


def _scored() -> Evaluation:
    rows: npt.NDArray[np.float32] = np.full((len(PREDICTED), 7), 0.02, dtype=np.float32)
    rows[np.arange(len(PREDICTED)), [emotion_index(n) for n in PREDICTED]] = 0.88
    return score(rows, np.array([emotion_index(n) for n in TRUE], dtype=np.int64))


def _row(report: str, label: str) -> list[str]:
    return next(line.split() for line in report.splitlines() if line.startswith(label))


def test_a_class_never_predicted_has_no_precision() -> None:
    sad = _scored().per_class["sad"]
    assert sad.precision is None  # nothing predicted sad: 0/0
    assert sad.recall == 0.0 and sad.f1 == 0.0  # its one image was missed: a real 0


def test_a_class_neither_present_nor_predicted_has_no_scores() -> None:
    fear = _scored().per_class["fear"]
    assert (fear.precision, fear.recall, fear.f1, fear.support) == (None, None, None, 0)


def test_the_report_prints_a_dash_and_json_null() -> None:
    evaluation = _scored()
    report = format_report(evaluation)
    assert _row(report, "sad") == ["sad", "-", "0.00%", "0.00%", "1"]
    assert _row(report, "fear") == ["fear", "-", "-", "-", "0"]
    assert _row(report, "angry") == ["angry", "100.00%", "50.00%", "66.67%", "2"]
    shown = json.loads(json.dumps(evaluation.to_dict()))["per_class"]
    assert shown["sad"] == {"precision": None, "recall": 0.0, "f1": 0.0, "support": 1}
    assert shown["fear"] == {"precision": None, "recall": None, "f1": None, "support": 0}

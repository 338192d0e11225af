"""The public API: exactly the documented names, each resolving lazily to the object in its module."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys

import pytest

import moodtape

DOCUMENTED = {
    "analyze": "moodtape.vision.pipeline",
    "Analyzer": "moodtape.vision.pipeline",
    "StreamAnalyzer": "moodtape.vision.stream",
    "calibrate": "moodtape.vision.calibrate",
    "Profile": "moodtape.vision.calibration",
    "load_classifier": "moodtape.vision.classifier",
    "recommend": "moodtape.recommender.api",
    "Recommendation": "moodtape.recommender.result",
    "EMOTIONS": "moodtape.emotions",
    "Box": "moodtape.types",
    "Face": "moodtape.types",
    "Mood": "moodtape.types",
    "Track": "moodtape.types",
    "Video": "moodtape.types",
    "MoodtapeError": "moodtape.errors",
    "ImageError": "moodtape.errors",
    "ModelError": "moodtape.errors",
    "DataError": "moodtape.errors",
    "ProviderError": "moodtape.errors",
}


def test_all_is_exactly_the_documented_list() -> None:
    assert sorted(moodtape.__all__) == sorted(DOCUMENTED)
    assert len(set(moodtape.__all__)) == len(moodtape.__all__)


@pytest.mark.parametrize(
    ("name", "module"),
    [(name, module) for name, module in sorted(DOCUMENTED.items())],
)
def test_each_name_resolves_to_its_module_object(name: str, module: str) -> None:
    assert getattr(moodtape, name) is getattr(importlib.import_module(module), name)
    assert name in dir(moodtape)


def test_unknown_names_raise_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'nonexistent'"):
        moodtape.nonexistent  # noqa: B018


def test_version_is_a_string() -> None:
    assert isinstance(moodtape.__version__, str) and moodtape.__version__.count(".") == 2


def _in_fresh_python(code: str) -> object:
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    return json.loads(result.stdout)


def test_verbs_resolve_in_a_fresh_interpreter() -> None:
    code = "import json, moodtape; print(json.dumps([callable(moodtape.analyze), callable(moodtape.recommend)]))"
    assert _in_fresh_python(code) == [True, True]


def test_recommend_verb_survives_an_earlier_subpackage_import() -> None:
    # The engine lives in moodtape.recommender, so importing it never shadows the verb.
    code = "import json, moodtape.recommender.engine, moodtape; print(json.dumps(callable(moodtape.recommend)))"
    assert _in_fresh_python(code) is True

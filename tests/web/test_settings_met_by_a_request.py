"""A bad setting met while answering a request is a 503 with its one line, not a 500.

The settings refuse a store or Redis URL whose password ends early when they are read, so ``serve``
stops at start (tests/test_settings_checks.py). An app built through the Python API can still meet
such a URL on a request: before, the history answered 500 (the status of a bug) with that line.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from moodtape.config import Settings
from moodtape.providers.catalog import Catalog
from moodtape.recommender import api as recommender_api
from moodtape.recommender.engine import Recommender
from moodtape.store import Store
from moodtape.web import create_app

#: The password holds an "@" as is: SQLAlchemy (and so libpq) would take "x1@127.0.0.1" for the host.
BAD_URL = "postgresql://mt:Pw@x1@127.0.0.1:5432/mtdb"


def _recommender_on_a_store_the_settings_never_checked(settings: Settings, **_options: object) -> Recommender:
    store = Store(BAD_URL)  # what the Python API builds from a URL it was given
    return Recommender([], Catalog.from_items(), store=store)


@pytest.mark.parametrize("path", ["/api/history", "/api/history/consent"])
def test_a_store_url_refused_on_a_request_is_a_503_naming_the_fix(
    monkeypatch: pytest.MonkeyPatch, make_settings: Callable[..., Settings], path: str
) -> None:
    monkeypatch.setattr(recommender_api, "build_recommender", _recommender_on_a_store_the_settings_never_checked)
    app = create_app(make_settings(), analyzer=lambda: None)
    answer = app.test_client().get(path)
    error = answer.get_json()["error"]
    assert answer.status_code == 503, answer.text
    assert error["code"] == "bad_setting" and error["message"].startswith("MOODTAPE_DATABASE_URL=")
    assert "percent-encode" in error["message"] and "x1" not in answer.text and "Pw" not in answer.text
    assert "Retry-After" not in answer.headers  # waiting does not mend a setting

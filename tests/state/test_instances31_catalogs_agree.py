"""Instances that recommend from different catalogs are named by readiness.

A list is made from the catalog of the instance that answers. Two instances behind HAProxy, one
with ten tracks imported into its data folder (``moodtape catalog import`` run on one machine
only), both answered ``/readyz`` 200 ``ready`` (session 31's probe), while a list, or a disliked
song's replacement, came from whichever catalog answered. The same
holds for a release whose built-in catalog changed, half rolled out.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest
from flask import current_app
from flask.testing import FlaskClient
from redis.connection import AbstractConnection

from moodtape.providers import catalog_search
from moodtape.providers.catalog import Catalog
from moodtape.types import Track, Video
from moodtape.web import ops
from readiness_instances import offline_instance


def _import(folder: Path, *titles: str) -> None:
    """Add one track per title to the user catalog in ``folder`` (as ``moodtape catalog import`` does)."""
    folder.mkdir(parents=True, exist_ok=True)
    csv = folder / "added.csv"
    rows = "".join(f"{title},Artist of {title},0.8,0.6\n" for title in titles)
    csv.write_text("name,artist,valence,energy\n" + rows)
    with Catalog(folder) as catalog:
        assert catalog.import_csv(csv).added == len(titles)


def _catalog_check(client: FlaskClient) -> tuple[str, str]:
    """Readiness's status and catalog check, once the model, the store and the check have answered.

    The catalog is built first, as ``moodtape serve`` does at start: readiness notes a catalog only
    once it is built, never waiting for it within the second it has for Redis."""
    client.application.extensions["moodtape"].recommender()
    deadline = time.monotonic() + 20
    while True:
        ready = client.get("/readyz").get_json()
        checks = ready["checks"]
        settled = checks["model"] == checks["database"] == "ok" and "catalog" in checks
        if settled or time.monotonic() > deadline:
            return ready["status"], checks.get("catalog", "(no check)")
        time.sleep(0.2)


def test_instances_with_other_catalogs_are_named_on_both_sides(tmp_path: Path, redis_url: str) -> None:
    built_in = offline_instance(tmp_path / "a", MOODTAPE_REDIS_URL=redis_url)
    assert _catalog_check(built_in) == ("ready", "ok")  # alone so far
    same = offline_instance(tmp_path / "b", MOODTAPE_REDIS_URL=redis_url)
    assert _catalog_check(same) == ("ready", "ok")  # the same catalog in another process
    _import(tmp_path / "c", "Only Here")
    imported = offline_instance(tmp_path / "c", MOODTAPE_REDIS_URL=redis_url)
    status, said = _catalog_check(imported)
    assert status == "degraded" and said.startswith("1 other catalog(s) in use"), said
    assert "moodtape catalog import" in said
    status, said = _catalog_check(built_in)
    assert status == "degraded" and said.startswith("1 other catalog(s)"), said  # seen from both sides
    assert imported.get("/readyz?strict=true").status_code == 503  # a monitor that should alert does


def test_an_import_into_a_running_instance_is_seen_at_its_next_poll(tmp_path: Path, redis_url: str) -> None:
    """The digest is kept between polls, and made again when the catalog's items change."""
    for name in ("a", "b"):
        _import(tmp_path / name, "Everywhere")
    first = offline_instance(tmp_path / "a", MOODTAPE_REDIS_URL=redis_url)
    second = offline_instance(tmp_path / "b", MOODTAPE_REDIS_URL=redis_url)
    assert _catalog_check(first) == ("ready", "ok")
    assert _catalog_check(second) == ("ready", "ok")  # the same import on both machines
    _import(tmp_path / "b", "Then Only On B")
    status, said = _catalog_check(second)
    assert status == "degraded" and said.startswith("1 other catalog(s)"), said


def test_an_instance_alone_stays_ready_after_an_import_into_its_running_catalog(tmp_path: Path, redis_url: str) -> None:
    """Its own old digest is not "another catalog": the new one replaces it (noted per instance).

    Before, one instance alone on Redis answered ``degraded`` "1 other catalog(s) in use" for up to
    two minutes after an import into its running catalog, and a ``?strict=true`` monitor alerted.
    """
    _import(tmp_path / "a", "First")
    alone = offline_instance(tmp_path / "a", MOODTAPE_REDIS_URL=redis_url)
    assert _catalog_check(alone) == ("ready", "ok")
    _import(tmp_path / "a", "Second")
    assert _catalog_check(alone) == ("ready", "ok")  # at the next poll
    assert alone.get("/readyz?strict=true").status_code == 200


def test_the_digest_is_made_again_only_when_the_items_change(
    tmp_path: Path, redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    made: list[int] = []
    real = catalog_search.items_digest

    def counted(items: Iterable[Track | Video]) -> str:
        made.append(1)
        return real(items)

    monkeypatch.setattr(catalog_search, "items_digest", counted)
    _import(tmp_path / "a", "First")
    instance = offline_instance(tmp_path / "a", MOODTAPE_REDIS_URL=redis_url)
    for _ in range(4):
        assert _catalog_check(instance) == ("ready", "ok")
    assert len(made) == 1  # hashing 3,600 items takes about 20 ms: once, not at every poll
    _import(tmp_path / "a", "Second")
    assert _catalog_check(instance) == ("ready", "ok")
    assert len(made) == 2


def test_a_readiness_run_asks_redis_four_times(tmp_path: Path, redis_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """PING and ROLE, the secret key's note, and one note of the model, the catalog and the history limits;
    the release note comes after the answer (a fifth round trip before it, in session 36, undid this).

    One round trip per fingerprint (six in all) put a Redis 190 ms away past the 1 s a readiness run
    has: "Redis did not answer within 1 s", where session 30's five said ``ready`` in 0.96 s.
    """
    instance = offline_instance(tmp_path / "a", MOODTAPE_REDIS_URL=redis_url)
    assert _catalog_check(instance) == ("ready", "ok")  # the model loaded, the catalog's digest made
    sent: list[str] = []
    real = AbstractConnection.send_packed_command

    def counted(self: AbstractConnection, *args: Any, **kwargs: Any) -> None:
        if threading.current_thread().name == "moodtape-readyz-redis":
            sent.append(bytes(args[0][0]).split(b"\r\n")[2].decode())  # the command's name
        real(self, *args, **kwargs)

    # The release note (web/versions_here.py) follows the run, once its answer is given: when it
    # comes, the commands sent so far are the answer's, and the run is done.
    before_note: list[tuple[list[str], bool]] = []
    note = ops._note_release

    def noted_after(client: Any) -> None:
        flight = current_app.extensions[ops._READINESS]["redis"]._current
        before_note.append((list(sent), flight.done.is_set()))
        note(client)

    monkeypatch.setattr(AbstractConnection, "send_packed_command", counted)
    monkeypatch.setattr(ops, "_note_release", noted_after)
    ready = instance.get("/readyz").get_json()
    assert ready["status"] == "ready", ready
    assert {"secret_key", "emotion_model", "catalog", "history_limits"} <= set(ready["checks"])
    deadline = time.monotonic() + 5
    while not before_note and time.monotonic() < deadline:
        time.sleep(0.01)
    assert before_note == [(["PING", "ROLE", "EVAL", "EVAL"], True)]

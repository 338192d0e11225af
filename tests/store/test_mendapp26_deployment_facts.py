"""When this deployment began issuing session cookies with an issue time: recorded once, by migration
0005, in the database every instance shares, and read once per process."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from moodtape.errors import StoreUnavailableError
from moodtape.store import Store, deployment_facts
from moodtape.store.database import Database
from moodtape.store.schema import deployment_facts as facts_table

FACT = deployment_facts.COOKIE_ISSUE_TIMES


def test_the_migration_records_the_moment_once_for_every_instance(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(deployment_facts, "now", lambda: 1_830_000_000.0)
    first = Store(url)
    assert deployment_facts.recorded_since(first.database, FACT) == 1_830_000_000.0
    # Another instance (another process, another clock) starting later: the moment stays the first.
    monkeypatch.setattr(deployment_facts, "now", lambda: 1_840_000_000.0)
    later = Database(url)
    later.upgrade()  # migrating again (a restart) records nothing new
    assert deployment_facts.recorded_since(later, FACT) == 1_830_000_000.0
    rows = later.read(lambda connection: connection.execute(sa.select(facts_table)).all())
    assert [tuple(row) for row in rows] == [(FACT, 1_830_000_000.0)]


def test_the_moment_is_read_once_per_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    database = Database(f"sqlite:///{tmp_path}/facts.db")
    reads: list[str] = []
    real = deployment_facts._since

    def counted(connection: sa.Connection, fact: str) -> float | None:
        reads.append(fact)
        return real(connection, fact)

    monkeypatch.setattr(deployment_facts, "_since", counted)
    first = deployment_facts.recorded_since(database, FACT)
    assert [deployment_facts.recorded_since(database, FACT) for _ in range(5)] == [first] * 5
    assert reads == [FACT]


def test_a_row_deleted_by_hand_is_recorded_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path}/facts.db"
    Database(url).write(lambda connection: connection.execute(sa.delete(facts_table)))
    monkeypatch.setattr(deployment_facts, "now", lambda: 1_850_000_000.0)
    assert deployment_facts.recorded_since(Database(url), FACT) == 1_850_000_000.0
    assert deployment_facts.recorded_since(Database(url), FACT) == 1_850_000_000.0


def test_a_database_that_does_not_answer_is_asked_again_only_after_a_pause(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every request with an old-format cookie asks: an outage must cost one wait per 30 s, not one each."""
    database = Database(f"sqlite:///{tmp_path}/facts.db")
    tries: list[int] = []

    def down(*_args: object, **_kwargs: object) -> None:
        tries.append(1)
        raise StoreUnavailableError("down")

    monkeypatch.setattr(database, "read", down)
    clock = [1000.0]
    monkeypatch.setattr(deployment_facts.time, "monotonic", lambda: clock[0])
    assert [deployment_facts.recorded_since(database, FACT) for _ in range(10)] == [None] * 10
    assert len(tries) == 1
    clock[0] += deployment_facts.RETRY_S + 1
    monkeypatch.delattr(database, "read")  # the database answers again: read, and kept
    assert deployment_facts.recorded_since(database, FACT) is not None
    assert len(tries) == 1

"""``moodtape serve`` with one process on PostgreSQL keeps a visit's state where other machines see it.

Session 31: two one-process instances on one PostgreSQL behind HAProxy, no Redis, each kept a
visit's lists in its own memory (every other request a 404 "no such list"): start-up never asked
the store to hold them, as ``serve --processes N`` does.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from moodtape.cli import serve as serve_command
from moodtape.state.in_store import StoreSessionMemory
from moodtape.web.stopping import StopRequests
from services import free_port


@pytest.fixture(autouse=True)
def _handlers_restored() -> Iterator[None]:
    saved = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)
    yield
    signal.signal(signal.SIGINT, saved[0])
    signal.signal(signal.SIGTERM, saved[1])


def _start(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, database_url: str | None) -> serve_command._Started:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MOODTAPE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("MOODTAPE_OFFLINE", "true")
    monkeypatch.delenv("MOODTAPE_REDIS_URL", raising=False)
    if database_url is None:
        monkeypatch.delenv("MOODTAPE_DATABASE_URL", raising=False)
    else:
        monkeypatch.setenv("MOODTAPE_DATABASE_URL", database_url)
    stops = StopRequests()
    stops.install()
    return serve_command._start_up("127.0.0.1", free_port(), 1, None, None, stops)


def test_one_process_on_postgres_keeps_lists_in_the_store_and_says_what_stays_local(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], postgres: str
) -> None:
    started = _start(tmp_path, monkeypatch, postgres)
    try:
        assert isinstance(started.services.memory, StoreSessionMemory)
        err = capsys.readouterr().err
        assert "share session lists and calibrations through the store" in err and "MOODTAPE_REDIS_URL" in err
        # What a client may get, said in words: before, "up to N× MOODTAPE_RATE_LIMIT" with N unsaid.
        assert "one MOODTAPE_RATE_LIMIT per instance" in err and "N×" not in err
    finally:
        started.server.stop(grace=0)


def test_one_process_on_its_own_sqlite_file_keeps_them_in_memory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    started = _start(tmp_path, monkeypatch, None)
    try:
        assert not isinstance(started.services.memory, StoreSessionMemory)
        assert "share session lists" not in capsys.readouterr().err
    finally:
        started.server.stop(grace=0)

"""Instances on one SQLite file must keep visits' state in one place, and the claim must hold.

Session 33's review of the file claim (``moodtape.db.serving``): ``--processes N`` without Redis
(state in the file's ``short_lived`` table) and an instance with ``MOODTAPE_REDIS_URL`` (state in
Redis) both took the shared lock and served together, as did two different Redis URLs: a list made
on one was a 404 on the other. A claim file this user could not write (another user's) was no
claim at all, silently, as was a lock the file system refused; and a symlinked database file got a
lock named after the link, so the real file's instance and the link's both served.
"""

from __future__ import annotations

import errno
import logging
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from moodtape.config import Settings
from moodtape.store.serving_claim import (
    MEMORY,
    SHORT_LIVED,
    FileServedElsewhereError,
    claim_file,
    claim_store_file,
    redis_home,
    release_all,
)

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="the claim is an fcntl lock (POSIX only)")

REDIS = "redis://moodtape:first-secret@cache.internal:6379/0"


@pytest.fixture(autouse=True)
def _released() -> Iterator[None]:
    yield
    release_all()


def _settings(folder: Path, redis_url: str = "") -> Settings:
    return Settings.load({"MOODTAPE_DATA_DIR": str(folder), "MOODTAPE_REDIS_URL": redis_url})


def test_processes_sharing_through_the_file_and_an_instance_with_redis_may_not_share_it(tmp_path: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    claim_store_file(_settings(first), processes=2)  # the file's short_lived table
    with pytest.raises(FileServedElsewhereError, match=r"in the file .*while this one would keep them in Redis"):
        claim_store_file(_settings(first, REDIS), processes=1)
    claim_store_file(_settings(second, REDIS), processes=1)  # and the other way round
    with pytest.raises(FileServedElsewhereError, match=r"in Redis .*while this one would keep them in the file"):
        claim_store_file(_settings(second), processes=4)


def test_two_redis_urls_may_not_share_a_file_and_one_redis_written_two_ways_may(tmp_path: Path) -> None:
    claim_store_file(_settings(tmp_path, REDIS), processes=1)
    claim_store_file(_settings(tmp_path, "redis://moodtape:new-secret@Cache.internal"), processes=3)  # same server
    with pytest.raises(FileServedElsewhereError, match=r"another MOODTAPE_REDIS_URL"):
        claim_store_file(_settings(tmp_path, "redis://moodtape:first-secret@cache.internal:6379/1"), processes=1)
    with pytest.raises(FileServedElsewhereError):
        claim_store_file(_settings(tmp_path, "redis://moodtape:first-secret@other.internal:6379/0"), processes=1)


def test_the_claim_file_holds_no_redis_password(tmp_path: Path) -> None:
    claim_store_file(_settings(tmp_path, REDIS), processes=1)
    written = (tmp_path / "moodtape.db.serving").read_text()
    assert written.strip() == redis_home(REDIS)
    assert "first-secret" not in written and "cache.internal" not in written


_STARTER = """
import sys, time
from moodtape.store.serving_claim import FileServedElsewhereError, claim_file
while time.time() < float(sys.argv[3]):
    pass
try:
    claim_file(sys.argv[1], state=sys.argv[2])
    print("held", flush=True)
except FileServedElsewhereError:
    print("refused", flush=True)
time.sleep(60)
"""


def test_instances_started_at_once_agree_on_one_place(tmp_path: Path) -> None:
    file = str(tmp_path / "moodtape.db")
    homes = [SHORT_LIVED, redis_home(REDIS)] * 3
    start = f"{time.time() + 3:.3f}"  # all of them imported by then, then they race for the lock
    starters = [
        subprocess.Popen([sys.executable, "-c", _STARTER, file, home, start], stdout=subprocess.PIPE, text=True)
        for home in homes
    ]
    try:
        said = [starter.stdout.readline().strip() for starter in starters if starter.stdout is not None]
    finally:
        for starter in starters:
            starter.kill()
            starter.wait(10)
    held = {home for home, answer in zip(homes, said, strict=True) if answer == "held"}
    assert len(held) == 1, said  # before: both places held the file together


def test_a_symlinked_database_file_is_claimed_as_the_file_it_names(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "other").mkdir()
    real = tmp_path / "real" / "moodtape.db"
    real.touch()
    (tmp_path / "other" / "moodtape.db").symlink_to(real)
    claim_file(str(real), state=MEMORY)
    with pytest.raises(FileServedElsewhereError, match=str(tmp_path / "other" / "moodtape.db")):
        claim_file(str(tmp_path / "other" / "moodtape.db"), state=MEMORY)


def test_a_claim_file_this_user_may_not_write_still_claims(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    opened = Path.open

    def another_users(path: Path, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        if path.name.endswith(".serving") and mode != "rb":  # 0644, another user's: no writing (even for root here)
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return opened(path, mode, *args, **kwargs)

    file = str(tmp_path / "moodtape.db")
    Path(f"{file}.serving").touch()
    monkeypatch.setattr(Path, "open", another_users)
    claim_file(file, state=MEMORY)
    with pytest.raises(FileServedElsewhereError):  # before: neither claimed, both served
        claim_file(file, state=MEMORY)


def _no_locks(*_args: object) -> None:
    raise OSError(errno.ENOLCK, "No locks available")


def _no_opening(*_args: object, **_kwargs: object) -> None:
    raise PermissionError(errno.EACCES, "Permission denied")


@pytest.mark.parametrize(("target", "broken"), [("fcntl.flock", _no_locks), ("pathlib.Path.open", _no_opening)])
def test_a_claim_that_cannot_be_taken_is_a_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, target: str, broken: Any
) -> None:
    monkeypatch.setattr(target, broken)
    with caplog.at_level(logging.WARNING, logger="moodtape.store.serving_claim"):
        claim_file(str(tmp_path / "moodtape.db"), state=MEMORY)  # serves on, as before
    warned = [record.getMessage() for record in caplog.records if record.levelno == logging.WARNING]
    assert len(warned) == 1 and str(tmp_path / "moodtape.db.serving") in warned[0], warned  # before: silence


def test_a_refused_serve_stops_before_building_its_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from moodtape.cli import serve
    from moodtape.web import app, logs
    from moodtape.web.stopping import StopRequests

    built: list[Settings] = []
    monkeypatch.setattr(app, "create_app", built.append)
    monkeypatch.setattr(logs, "configure_logging", lambda _format: None)
    monkeypatch.setenv("MOODTAPE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("MOODTAPE_REDIS_URL", "")
    claim_file(str(tmp_path / "moodtape.db"), state=MEMORY)  # another instance's, as far as the lock goes
    with pytest.raises(SystemExit):
        serve._start_up(None, 0, 1, None, None, StopRequests())
    assert built == []  # before: the whole app (models, store, providers) was built, then refused

"""Two ``moodtape serve`` on one SQLite file: refused at start when one keeps visits' state in memory.

Session 33's probe: two one-process instances on one data folder (ports 1 and 2, no Redis), eight
visits made lists on one and used them on the other: 48 of 48 reopenings and 48 of 48 dislikes
were a 404 "no such list", and an undo after a dislike on the other instance a 409. Each kept a
visit's lists in its own memory, as a one-process server on a file does. Now the second instance
stops at start and says what to run instead; instances that share that state (``--processes N``,
Redis) still serve from one file together.
"""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from moodtape.config import Settings
from moodtape.store.serving_claim import (
    MEMORY,
    SHORT_LIVED,
    FileServedElsewhereError,
    claim_file,
    claim_store_file,
    release_all,
)
from services import free_port, start_serve, wait_until

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="the claim is an fcntl lock (POSIX only)")


@pytest.fixture(autouse=True)
def _released() -> Iterator[None]:
    yield
    release_all()


def _settings(folder: Path, **values: str) -> Settings:
    return Settings.load({"MOODTAPE_DATA_DIR": str(folder), "MOODTAPE_REDIS_URL": "", **values})


def _answers(url: str) -> bool:
    try:
        return httpx.get(f"{url}/healthz", timeout=2).status_code == 200
    except httpx.TransportError:
        return False


@pytest.mark.slow
def test_a_second_one_process_serve_on_the_same_file_stops_and_says_why(tmp_path: Path) -> None:
    first_port, second_port = free_port(), free_port()
    first = start_serve(tmp_path, first_port, settings={"MOODTAPE_THREADS": "1"}, log=tmp_path / "first.log")
    try:
        assert wait_until(lambda: _answers(f"http://127.0.0.1:{first_port}"), 60), (tmp_path / "first.log").read_text()
        second = start_serve(tmp_path, second_port, settings={"MOODTAPE_THREADS": "1"})
        try:
            _, said = second.communicate(timeout=60)  # before: it served, and every other request of a visit was a 404
        except subprocess.TimeoutExpired:
            second.kill()
            second.communicate()
            raise AssertionError("the second instance served from the first one's SQLite file") from None
        assert second.returncode == 1, said
        assert "already serving from" in said and "--processes N" in said and "MOODTAPE_REDIS_URL" in said, said
        assert str(tmp_path / "moodtape.db") in said, said
        assert _answers(f"http://127.0.0.1:{first_port}")  # the first one serves on, untouched
    finally:
        first.send_signal(signal.SIGTERM)
        first.wait(30)


def test_instances_keeping_state_in_memory_may_not_share_a_file(tmp_path: Path) -> None:
    file = str(tmp_path / "moodtape.db")
    claim_file(file, state=MEMORY)
    with pytest.raises(FileServedElsewhereError, match=r"started earlier .*each keeps .* in its own memory"):
        claim_file(file, state=MEMORY)  # worded since session 36 (test_readme36_second_serve_says_why.py)
    with pytest.raises(FileServedElsewhereError, match=r"serving from .* in its own memory"):
        claim_file(file, state=SHORT_LIVED)  # --processes N beside it: still split visits
    claim_file(str(tmp_path / "other.db"), state=MEMORY)  # another data folder's file: free


def test_instances_that_keep_the_state_in_one_place_may_share_a_file(tmp_path: Path) -> None:
    file = str(tmp_path / "moodtape.db")
    claim_file(file, state=SHORT_LIVED)
    claim_file(file, state=SHORT_LIVED)
    with pytest.raises(FileServedElsewhereError):
        claim_file(file, state=MEMORY)


def test_an_instance_that_died_leaves_no_claim_behind(tmp_path: Path) -> None:
    file = str(tmp_path / "moodtape.db")
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from moodtape.store.serving_claim import claim_file; "
            f"claim_file({file!r}, state='memory'); print('held', flush=True); time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(FileServedElsewhereError):
            claim_file(file, state=MEMORY)
    finally:
        holder.kill()  # SIGKILL: no clean-up of its own
        holder.wait(10)
    claim_file(file, state=SHORT_LIVED)  # and what it recorded does not bind the next one


def test_serve_claims_the_file_by_where_it_keeps_the_state(tmp_path: Path) -> None:
    claim_store_file(_settings(tmp_path), processes=2)  # the short_lived table: shared
    claim_store_file(_settings(tmp_path), processes=3)
    with pytest.raises(FileServedElsewhereError):
        claim_store_file(_settings(tmp_path), processes=1)  # in memory
    url = "postgresql://moodtape@127.0.0.1:1/moodtape"
    claim_store_file(_settings(tmp_path, MOODTAPE_DATABASE_URL=url), processes=1)  # a server, no file: no claim
    claim_store_file(_settings(tmp_path, MOODTAPE_DATABASE_URL="sqlite:///:memory:"), processes=1)

"""A second plain ``moodtape serve`` on the same data folder says that one is already running.

Session 36's walk through the README: ``make run`` started again while the first still ran (or
another ``moodtape serve`` on the default data folder) stopped with "another moodtape serve ... keeps
visits' lists and calibration in its own memory (one process, no MOODTAPE_REDIS_URL), while this one
would keep them in its own memory (one process, no MOODTAPE_REDIS_URL)": two identical places that
read as no clash at all, and no word of the likeliest cause, a server left running.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from moodtape.config import Settings
from moodtape.store.serving_claim import FileServedElsewhereError, claim_store_file, release_all

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="the claim is an fcntl lock (POSIX only)")


@pytest.fixture(autouse=True)
def _released() -> Iterator[None]:
    yield
    release_all()


def _refusal_of_a_second_serve(folder: Path) -> str:
    settings = Settings.load({"MOODTAPE_DATA_DIR": str(folder), "MOODTAPE_REDIS_URL": ""})
    claim_store_file(settings, processes=1)
    with pytest.raises(FileServedElsewhereError) as refused:
        claim_store_file(settings, processes=1)
    return str(refused.value)


def test_a_second_serve_is_told_one_is_already_running_and_how_to_stop_it(tmp_path: Path) -> None:
    message = _refusal_of_a_second_serve(tmp_path)
    assert message.startswith(f"another moodtape serve is already serving from {tmp_path / 'moodtape.db'}")
    assert "started earlier" in message and "Ctrl+C" in message


def test_it_no_longer_names_the_same_place_twice_as_a_clash(tmp_path: Path) -> None:
    message = _refusal_of_a_second_serve(tmp_path)
    assert "while this one would keep them in its own memory" not in message
    assert message.count("its own memory") == 1
    assert "--processes N" in message and "MOODTAPE_REDIS_URL" in message and "MOODTAPE_DATA_DIR" in message

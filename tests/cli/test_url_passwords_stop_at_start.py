"""``moodtape serve`` and ``moodtape db`` stop at start, with one line, on a store or Redis URL whose
password holds a character that ends it; the line never holds the password.

Before, with such a PostgreSQL URL ``serve`` printed a warning and served, and every history request
answered 503 "not answering", its log naming a piece of the password as the host. With such a Redis
URL ``serve`` stopped with a line not of the settings' form (it did not say where the URL points),
or with a traceback quoting a piece of the password ("Port could not be cast to integer value as
'Pw'"), and ``db status``, which does not use Redis, ran on.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from cli_helpers import assert_one_line_error

#: Seconds a refused start may take: the settings are read before anything loads. A server that
#: started instead would run until killed here.
START_S = 30

URLS = [
    ("MOODTAPE_DATABASE_URL", "postgresql://mt:Pw@x1@127.0.0.1:5432/mtdb"),
    ("MOODTAPE_DATABASE_URL", "postgresql://mt:Pw/x1@x1@127.0.0.1:5432/mtdb"),
    ("MOODTAPE_REDIS_URL", "redis://:Pw/x1@127.0.0.1:6379/0"),
    ("MOODTAPE_REDIS_URL", "redis://:Pw?x1=1@127.0.0.1:6379/0"),  # was a traceback quoting 'Pw'
]


def _moodtape(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("MOODTAPE_")}
    settings = {"MOODTAPE_DATA_DIR": str(tmp_path / "data"), "MOODTAPE_OFFLINE": "true", **env}
    return subprocess.run(
        [sys.executable, "-c", "from moodtape.cli import main; main()", *args],
        capture_output=True,
        text=True,
        timeout=START_S,
        env={**clean, **settings},
        cwd=tmp_path,  # no .env
    )


@pytest.mark.parametrize(
    "command", [["serve", "--port", "0"], ["serve", "--port", "0", "--processes", "2"], ["db", "status"]]
)
@pytest.mark.parametrize(("name", "url"), URLS)
def test_a_url_password_that_ends_early_stops_the_command_with_one_line(
    tmp_path: Path, command: list[str], name: str, url: str
) -> None:
    done = _moodtape(tmp_path, *command, **{name: url})
    assert done.returncode == 1, done.stderr
    assert_one_line_error(done.stderr, f"moodtape: error: {name}='", "percent-encode", "***@127.0.0.1")
    assert "x1" not in done.stderr + done.stdout and "Pw" not in done.stderr + done.stdout

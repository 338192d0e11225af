"""A reader that stops early (``moodtape analyze *.jpg --json | head -1``): quiet, exit 141, as Unix tools.

Each test runs the real entry point with its standard output on a real pipe whose reading end is
already closed, so the first write meets a broken pipe however fast the machine is.
"""

from __future__ import annotations

import os
import select
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import pytest

from moodtape.cli._common import EXIT_ERROR, EXIT_READER_GONE

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX pipes")


@pytest.fixture
def widowed_pipe() -> Iterator[int]:
    """The writing end of a pipe that nobody reads any more, as after ``| head -1`` has its line."""
    reading, writing = os.pipe()
    os.close(reading)
    yield writing
    os.close(writing)


def run_into(stdout: int, *args: str | Path) -> subprocess.CompletedProcess[str]:
    """``moodtape ARGS…`` through the console-script entry point, standard output on ``stdout``."""
    return subprocess.run(
        [sys.executable, "-c", "from moodtape.cli import main; main()", *map(str, args)],
        stdout=stdout,
        stderr=subprocess.PIPE,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize("args", [["--help"], ["--version"], ["analyze", "--help"]], ids=" ".join)
def test_help_into_a_closed_pipe_exits_141_quietly(widowed_pipe: int, args: list[str]) -> None:
    result = run_into(widowed_pipe, *args)
    assert result.returncode == EXIT_READER_GONE
    assert result.stderr == ""


def test_analyze_into_a_closed_pipe_is_not_an_unreadable_image(widowed_pipe: int, astronaut_jpeg: Path) -> None:
    result = run_into(widowed_pipe, "analyze", astronaut_jpeg, astronaut_jpeg, "--json")
    assert result.returncode == EXIT_READER_GONE
    assert "Traceback" not in result.stderr
    assert "Broken pipe" not in result.stderr
    assert "error" not in result.stderr


def test_an_unreadable_image_still_exits_1(tmp_path: Path) -> None:
    """The code a script sees for a broken pipe stays apart from the one for a bad picture."""
    result = subprocess.run(
        [sys.executable, "-c", "from moodtape.cli import main; main()", "analyze", tmp_path / "gone.jpg", "--json"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == EXIT_ERROR
    assert '"error"' in result.stdout


def test_a_reader_that_read_one_line_then_left(astronaut_jpeg: Path) -> None:
    """``| head -1`` itself: the first line arrives whole, then the command stops with 141."""
    command = [sys.executable, "-c", "from moodtape.cli import main; main()", "analyze", "--json"]
    reading, writing = os.pipe()
    with subprocess.Popen([*command, *[str(astronaut_jpeg)] * 200], stdout=writing, stderr=subprocess.PIPE) as process:
        os.close(writing)
        with os.fdopen(reading, "rb") as pipe:
            first = _first_line(pipe, timeout=120)
        _, stderr = process.communicate(timeout=120)
    assert first.startswith(b'{"image": ')
    assert process.returncode == EXIT_READER_GONE
    assert stderr == b""


def _first_line(pipe: BinaryIO, timeout: float) -> bytes:
    """The first line written to ``pipe``, waiting at most ``timeout`` seconds for each piece of it."""
    line = b""
    while not line.endswith(b"\n"):
        ready, _, _ = select.select([pipe], [], [], timeout)
        assert ready, f"no line within {timeout} s"
        piece = os.read(pipe.fileno(), 1)
        if not piece:
            break
        line += piece
    return line


#: A moodtape with one more command, ``probe``, that writes to a pipe of its own whose reader is gone.
_PROBE = """
import os
from moodtape.cli import cli, main

@cli.command("probe")
def probe() -> None:
    reading, writing = os.pipe()
    os.close(reading)
    os.write(writing, b"x")

main()
"""


def test_a_broken_pipe_of_the_command_s_own_is_an_error() -> None:
    """Only standard output's broken pipe is "the reader left"; another one is said, and exits 1."""
    result = subprocess.run([sys.executable, "-c", _PROBE, "probe"], capture_output=True, text=True, timeout=120)
    assert result.returncode == EXIT_ERROR
    assert "moodtape: error: Broken pipe" in result.stderr


def test_a_closed_stderr_is_not_a_closed_stdout(widowed_pipe: int, tmp_path: Path) -> None:
    """With stderr's reader gone, the error it could not carry still exits 1, not 141."""
    result = subprocess.run(
        [sys.executable, "-c", "from moodtape.cli import main; main()", "analyze", tmp_path / "gone.jpg"],
        stdout=subprocess.PIPE,
        stderr=widowed_pipe,
        timeout=120,
    )
    assert result.returncode == EXIT_ERROR

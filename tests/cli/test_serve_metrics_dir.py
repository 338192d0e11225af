"""``serve --processes N`` keeps its workers' metrics in a temporary folder: a server killed without
a chance to clean up (SIGKILL) left its folder behind; the next server removes such folders."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from moodtape.cli.serve import METRICS_PREFIX, fresh_metrics_dir

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="several server processes are POSIX only")


def finished_pid() -> int:
    """The PID of a process that has exited (and been reaped)."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_folders_of_killed_servers_are_removed_and_running_ones_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    killed = tmp_path / f"{METRICS_PREFIX}{finished_pid()}-a1b2"
    running = tmp_path / f"{METRICS_PREFIX}{os.getppid()}-c3d4"
    unrelated = tmp_path / f"{METRICS_PREFIX}old-style"
    for folder in (killed, running, unrelated):
        folder.mkdir()
        (folder / "counter_1.db").write_bytes(b"x")
    made = fresh_metrics_dir()
    assert not killed.exists()
    assert running.exists() and unrelated.exists()
    assert made.is_dir() and made.parent == tmp_path and made.name.startswith(f"{METRICS_PREFIX}{os.getpid()}-")

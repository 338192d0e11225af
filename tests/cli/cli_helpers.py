"""Running the real ``moodtape`` entry point in a subprocess, for exit codes and stdout purity."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def run_moodtape(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """``moodtape ARGS…`` through :func:`moodtape.cli.main`, exactly as the console script runs it."""
    return subprocess.run(
        [sys.executable, "-c", "from moodtape.cli import main; main()", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
    )


def assert_one_line_error(stderr: str, *fragments: str) -> None:
    """stderr ends with one ``moodtape: error: …`` line naming ``fragments``; no traceback.

    Progress messages (``loading …``) may come before it.
    """
    assert "Traceback" not in stderr
    lines = stderr.strip().splitlines()
    errors = [line for line in lines if line.startswith("moodtape: error: ")]
    assert errors == lines[-1:], stderr
    for fragment in fragments:
        assert fragment in errors[0]

"""Run a test's script as another machine: a fresh Python process, its clock patched by the script.

The clock-skew tests (store, Redis markers, YouTube's quota day) each play an instance whose clock
is hours off by patching ``time.time`` before moodtape is imported, which only a new process
allows; they share this one way of starting it and reading what it printed last.
"""

from __future__ import annotations

import os
import subprocess
import sys

import sqlalchemy as sa


def last_line(script: str, *args: object) -> str:
    """The last line ``script`` printed ("" if none), run with ``args`` (as strings) in a new Python
    process; the test fails with the script's error output if it failed."""
    done = subprocess.run(
        [sys.executable, "-c", script, *map(str, args)],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ},
        check=False,
    )
    assert done.returncode == 0, done.stderr
    printed = done.stdout.strip().splitlines()
    return printed[-1] if printed else ""


def database_now(url: str) -> float:
    """PostgreSQL's clock at ``url`` (seconds since the epoch): the one the machines should agree on."""
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        with engine.connect() as connection:
            return float(connection.execute(sa.text("SELECT extract(epoch FROM clock_timestamp())")).scalar_one())
    finally:
        engine.dispose()

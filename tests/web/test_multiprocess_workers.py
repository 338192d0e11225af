"""gunicorn's master stays in charge of the waitress workers: a worker that dies is replaced."""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from flask import Flask
from test_multiprocess import _finish, _start

from moodtape.config import Settings
from moodtape.errors import DataError
from moodtape.web.multiprocess import serve_processes
from services import free_port, wait_ready, wait_until

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="finds the workers through /proc"),
]


def _children(pid: int) -> set[int]:
    """The processes whose parent is ``pid`` (gunicorn's workers, for its master)."""
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue  # ended meanwhile
            if int(stat.rpartition(")")[2].split()[1]) == pid:
                found.add(int(entry.name))
    return found


def test_a_killed_worker_is_replaced_and_the_port_still_answers(tmp_path: Path) -> None:
    port = free_port()
    process = _start(tmp_path, port)  # ready when it returns
    try:
        assert wait_until(lambda: len(_children(process.pid)) == 2, 30)
        first = _children(process.pid)
        victim = min(first)
        os.kill(victim, signal.SIGKILL)
        assert wait_until(lambda: len(_children(process.pid) - first) == 1 and victim not in _children(process.pid), 30)
        with httpx.Client(headers={"Connection": "close"}, timeout=10) as client:
            answers = [client.get(f"http://127.0.0.1:{port}/healthz").status_code for _ in range(10)]
        assert answers == [200] * 10
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = _finish(process)
    assert process.returncode == 0, stderr


def test_https_files_are_checked_before_any_worker_starts(app: Flask, make_settings: Callable[..., Settings]) -> None:
    """Each worker serves HTTPS with one TLS context made in the master: a bad file is a clear error at once."""
    settings = make_settings()
    with pytest.raises(DataError, match="does not exist"):
        serve_processes(
            app,
            settings,
            host="127.0.0.1",
            port=free_port(),
            processes=2,
            threads=1,
            certfile=Path("missing.pem"),
            keyfile=Path("missing.key"),
        )
    with pytest.raises(DataError, match="both --certfile and --keyfile"):
        serve_processes(
            app, settings, host="127.0.0.1", port=free_port(), processes=2, threads=1, certfile=Path("missing.pem")
        )


def test_workers_replaced_on_sighup_serve_and_count_metrics(tmp_path: Path) -> None:
    """Before: a worker leaving (here SIGHUP's graceful replacement) removed the metrics folder: every request a 500."""
    port = free_port()
    process = _start(tmp_path, port)  # ready when it returns
    try:
        assert wait_until(lambda: len(_children(process.pid)) == 2, 30)
        first = _children(process.pid)
        process.send_signal(signal.SIGHUP)
        assert wait_until(lambda: _children(process.pid).isdisjoint(first) and len(_children(process.pid)) == 2, 30)
        wait_ready(f"http://127.0.0.1:{port}", process, 60)
        with httpx.Client(headers={"Connection": "close"}, timeout=10) as client:
            answers = [client.get(f"http://127.0.0.1:{port}/healthz").status_code for _ in range(10)]
            metrics = client.get(f"http://127.0.0.1:{port}/metrics")
        assert answers == [200] * 10
        assert metrics.status_code == 200 and "moodtape_requests_total" in metrics.text
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = _finish(process)
    assert process.returncode == 0, stderr
    assert "Traceback" not in stderr, stderr

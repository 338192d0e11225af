"""A worker that gunicorn starts again (the old one died: OOM, ``kill -9``) takes no connection
while its model loads if a sibling is ready, so ``/readyz`` never says 503 for an instance that
can serve (a probe of session 32).

Measured before (``moodtape serve --processes 2``, one worker SIGKILLed, its sibling stopped with
SIGSTOP so that every connection went to the replacement, as when the sibling is busy): the 4
checks sent at the kill all answered 503 ``loading`` from the replacement (3 runs of 3), and an
analysis landing on it waited 2.0 s for the model; two balancer checks there in a row (HAProxy
``fall 2``) took the instance out.

Also (a review of the change): a load that hangs ends the wait at its limit, the wait is logged,
the replacement is marked ready as soon as it stops waiting, a SIGTERM to the master during the
wait stops the server, and a failing metrics clean-up in the master still frees the dead worker's
slot.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from test_multiprocess import _finish, _start
from test_multiprocess_workers import _children

from services import free_port, wait_until

#: For the tests that start ``moodtape serve --processes 2`` (marked slow too).
linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="finds the workers through /proc")

#: Checks asked of the replacement: more than any balancer's ``fall``.
CHECKS = 4


@contextmanager
def _stopped(pids: set[int]) -> Iterator[None]:
    """``pids`` take no connection meanwhile (SIGSTOP, then SIGCONT): whoever else listens gets them."""
    for pid in pids:
        os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        for pid in pids:
            os.kill(pid, signal.SIGCONT)


def _readyz(port: int) -> int:
    return httpx.get(f"http://127.0.0.1:{port}/readyz", headers={"Connection": "close"}, timeout=60).status_code


@pytest.mark.slow
@linux_only
def test_readyz_stays_200_while_a_replacement_loads_its_model(tmp_path: Path) -> None:
    port = free_port()
    process = _start(tmp_path, port)  # one worker ready when it returns
    try:
        assert wait_until(lambda: len(_children(process.pid)) == 2, 30)
        victim, sibling = sorted(_children(process.pid))
        with _stopped({victim}):  # the sibling alone answers: wait until it has its model
            assert wait_until(lambda: _readyz(port) == 200, 60)
        time.sleep(1.5)  # a worker marks itself ready on the board at its next turn (1 s at most)
        with _stopped({sibling}), ThreadPoolExecutor(CHECKS) as pool:
            # Every connection now goes to whichever other worker accepts: the checks wait in the
            # listening socket's queue from the moment the victim is gone, as a balancer's would.
            os.kill(victim, signal.SIGKILL)
            checks = list(pool.map(lambda _: _readyz(port), range(CHECKS)))
        assert checks == [200] * CHECKS  # before: 503 "loading" from the replacement
        with _stopped({sibling}):  # the replacement serves, with its model, once loaded
            assert _readyz(port) == 200
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = _finish(process)
    assert process.returncode == 0, stderr
    assert "Traceback" not in stderr, stderr


def test_the_board_counts_only_the_other_workers_that_are_ready() -> None:
    from moodtape.web.worker_board import WorkerBoard

    board = WorkerBoard()
    first, second = board.claim(), board.claim()
    assert first is not None and second is not None and first != second
    assert not board.another_ready(first)  # both still load: the first start
    board.mark(second, ready=True)
    assert board.another_ready(first) and not board.another_ready(second)
    board.mark(second, ready=False)  # the sibling stopped serving (it drains or stops)
    assert not board.another_ready(first)
    board.mark(second, ready=True)
    board.release(second)  # killed: the master takes its slot back
    assert not board.another_ready(first)
    assert board.claim() == second  # and hands it to the replacement


@pytest.mark.slow
@linux_only
def test_sigterm_to_the_master_while_a_replacement_waits_stops_it(tmp_path: Path) -> None:
    port = free_port()
    process = _start(tmp_path, port)
    lines: list[str] = []  # stderr, read as it comes: the SIGTERM goes once the replacement waits

    def read() -> None:
        assert process.stderr is not None
        for line in process.stderr:
            lines.append(line)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        assert wait_until(lambda: len(_children(process.pid)) == 2, 30)
        victim = min(_children(process.pid))
        with _stopped({victim}):
            assert wait_until(lambda: _readyz(port) == 200, 60)
        time.sleep(1.5)  # the sibling is marked ready on the board at its next turn
        os.kill(victim, signal.SIGKILL)
        assert wait_until(lambda: any("takes no connection until its model" in line for line in lines), 30), lines
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            raise AssertionError("the server did not stop within 20 s") from None
        reader.join(10)
    stderr = "".join(lines)
    assert process.returncode == 0, stderr
    assert "Traceback" not in stderr, stderr


class _Loading:
    """A model load in this process, as ``web/stopping.py`` runs it: the thread named ``moodtape-warm``."""

    def __init__(self) -> None:
        from moodtape.web.stopping import WARM_THREAD

        self.model_ready = False
        self.done = threading.Event()
        self._thread = threading.Thread(target=self.done.wait, name=WARM_THREAD, daemon=True)

    def __enter__(self) -> _Loading:
        self._thread.start()
        return self

    def finish(self) -> None:
        self.model_ready = True
        self.done.set()

    def __exit__(self, *_: object) -> None:
        self.done.set()
        self._thread.join()


def _replacement(services: _Loading, **attributes: Any) -> Any:
    """A worker forked after its sibling was ready (gunicorn's set-up skipped: only what the wait reads)."""
    from moodtape.web.gunicorn_worker import worker_class
    from moodtape.web.worker_board import WorkerBoard

    board = WorkerBoard()
    sibling, slot = board.claim(), board.claim()
    board.mark(sibling, ready=True)
    cls = worker_class(None, board)
    worker = cls.__new__(cls)
    worker.slot, worker.alive, worker.ppid = slot, True, os.getppid()
    worker.wsgi = SimpleNamespace(extensions={"moodtape": services})
    worker.log = logging.getLogger("test.worker32")
    worker.notify = lambda: None
    for name, value in attributes.items():
        setattr(worker, name, value)
    return worker


def _wait_in_a_thread(worker: Any) -> tuple[threading.Thread, list[bool]]:
    result: list[bool] = []
    thread = threading.Thread(target=lambda: result.append(worker._wait_for_the_model()), daemon=True)
    thread.start()
    return thread, result


def test_a_load_that_hangs_ends_the_wait_at_its_limit(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, "test.worker32")
    with _Loading() as services:
        worker = _replacement(services, wait_limit=0.3)
        thread, result = _wait_in_a_thread(worker)
        thread.join(30)  # before: it waited as long as the load hung
        worker.alive = False  # (so that the old wait ends too)
        thread.join(5)
    assert result == [True]  # it serves, without its model: not marked ready
    sibling = next(slot for slot in range(2) if slot != worker.slot)
    assert not worker.board.another_ready(sibling)
    messages = [(record.levelno, record.getMessage()) for record in caplog.records]
    assert [level for level, _ in messages] == [logging.INFO, logging.WARNING], messages
    assert "takes no connection until its model is loaded" in messages[0][1]
    assert "waited 0.3 s for its model, which still loads" in messages[1][1]


def test_a_replacement_says_when_it_waits_and_is_ready_when_its_model_is(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, "test.worker32")
    with _Loading() as services:
        worker = _replacement(services)
        thread, result = _wait_in_a_thread(worker)
        assert wait_until(lambda: len(caplog.records) == 1, 10)  # it waits, and said so
        services.finish()
        thread.join(10)
    assert result == [True]
    # Ready on the board as soon as it stops waiting, not at its first turn of serving: a second
    # replacement forked now waits too.
    sibling = next(slot for slot in range(2) if slot != worker.slot)
    assert worker.board.another_ready(sibling)
    messages = [record.getMessage() for record in caplog.records]
    assert len(messages) == 2 and messages[1].endswith("its model is loaded"), messages


def test_a_replacement_asked_to_stop_as_its_model_loads_is_not_left_ready(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before: the wait ended with the model loaded marked it ready, and ``run`` returned without
    unmarking it, so a replacement forked then saw a ready sibling that had gone and waited for it."""
    from moodtape.web import gunicorn_worker

    monkeypatch.setattr(gunicorn_worker, "exit_if_native_threads_run", lambda *_: None)
    monkeypatch.setattr(gunicorn_worker.gc, "freeze", lambda: None)  # not this test process
    caplog.set_level(logging.INFO, "test.worker32")
    with _Loading() as services:
        worker = _replacement(services)
        thread = threading.Thread(target=worker.run, daemon=True)
        thread.start()
        assert wait_until(lambda: len(caplog.records) == 1, 10)  # it waits
        worker.alive = False  # asked to stop…
        services.finish()  # …as its model is loaded
        thread.join(10)
    assert not thread.is_alive()
    sibling = next(slot for slot in range(2) if slot != worker.slot)
    assert not worker.board.another_ready(sibling)


def test_a_slot_is_freed_even_when_the_metrics_clean_up_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    from moodtape.web import multiprocess
    from moodtape.web.worker_board import WorkerBoard

    def broken(_server: object, _worker: object) -> None:
        raise OSError("the metrics folder is gone")

    monkeypatch.setattr(multiprocess, "_child_exit", broken)
    board = WorkerBoard()
    dead, waiting = board.claim(), board.claim()
    board.mark(dead, ready=True)
    with pytest.raises(OSError):  # said, as before
        multiprocess._worker_gone(board, None, SimpleNamespace(slot=dead, pid=1))
    assert not board.another_ready(waiting)  # before: marked ready for good, every replacement waited

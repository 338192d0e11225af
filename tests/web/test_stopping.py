"""How a server process stops: signals counted instead of raised, the start-up abort, the exit."""

from __future__ import annotations

import contextlib
import signal
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from moodtape.cli import serve as serve_command
from moodtape.web import app as web_app
from moodtape.web import stopping
from moodtape.web.buffered_server import BufferedServer
from moodtape.web.server import make_server
from moodtape.web.stopping import WARM_THREAD, StopRequests, exit_if_native_threads_run
from services import free_port


@pytest.fixture(autouse=True)
def _handlers_restored() -> Iterator[None]:
    saved = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)
    yield
    signal.signal(signal.SIGINT, saved[0])
    signal.signal(signal.SIGTERM, saved[1])


def test_while_serving_signals_are_counted_and_wake_the_loop_never_raised() -> None:
    stops, wakes = StopRequests(), []
    stops.install()
    stops.serving(lambda: wakes.append(1))
    signal.raise_signal(signal.SIGINT)
    signal.raise_signal(signal.SIGTERM)
    signal.raise_signal(signal.SIGINT)
    assert stops.count == 3 and len(wakes) == 3


def test_during_start_up_the_first_signal_waits_for_a_safe_point_and_a_second_forces_the_way_out() -> None:
    stops = StopRequests()
    stops.install()
    signal.raise_signal(signal.SIGINT)
    assert stops.asked
    with pytest.raises(KeyboardInterrupt):
        signal.raise_signal(signal.SIGINT)


def test_a_ctrl_c_swallowed_by_a_library_during_start_up_still_aborts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Before, Ctrl+C raised KeyboardInterrupt wherever start-up was: inside a library that catches
    every exception (here the app's creation, as a migration tool may) it was lost, and the server
    started and ran on."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MOODTAPE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("MOODTAPE_OFFLINE", "true")
    real_create_app = web_app.create_app

    def create_app_swallowing_everything(*args: Any, **kwargs: Any) -> Flask:
        with contextlib.suppress(BaseException):  # what a careless library does
            signal.raise_signal(signal.SIGINT)  # the person presses Ctrl+C now
        return real_create_app(*args, **kwargs)

    monkeypatch.setattr(web_app, "create_app", create_app_swallowing_everything)
    port = free_port()
    stops = StopRequests()
    stops.install()
    with pytest.raises(SystemExit) as exit_:
        serve_command._start_up("127.0.0.1", port, 1, None, None, stops)
    assert exit_.value.code == 130
    assert "moodtape: aborted" in capsys.readouterr().err
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", port)) != 0, "the server must not be listening"


def test_serve_returns_between_two_turns_once_asked(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each turn waits a minute for sockets here (waitress's default: 1 s), so only the wake can end
    the turn under way within the 5 s the join waits: no bound on how soon, which a loaded machine
    could miss."""
    turn = BufferedServer.poll

    def a_minute_a_turn(self: BufferedServer, timeout: float | None = None) -> None:
        turn(self, 60 if timeout is None else timeout)

    monkeypatch.setattr(BufferedServer, "poll", a_minute_a_turn)
    server = make_server(app, "127.0.0.1", 0, threads=1)
    server.prepare()
    asked = threading.Event()
    thread = threading.Thread(target=server.serve, kwargs={"until": asked.is_set}, daemon=True)
    thread.start()
    time.sleep(0.2)
    asked.set()
    server.wake()
    thread.join(timeout=5)
    assert not thread.is_alive()
    server.stop()


class _ExitError(Exception):
    pass


def _refuse_exit(code: int) -> None:
    raise _ExitError(code)


def test_the_exit_skips_the_teardown_only_while_a_thread_may_be_in_native_code(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stopping.os, "_exit", _refuse_exit)
    exit_if_native_threads_run(0)  # nothing runs: returns, the usual exit follows
    with pytest.raises(_ExitError):
        exit_if_native_threads_run(1)  # a request past its grace
    loading = threading.Event()
    warm = threading.Thread(target=loading.wait, name=WARM_THREAD, daemon=True)
    warm.start()
    try:
        with pytest.raises(_ExitError):
            exit_if_native_threads_run(0)
    finally:
        loading.set()
        warm.join()

"""``moodtape serve`` as a user runs it: binds at once, prints the address, stops cleanly on Ctrl+C."""

from __future__ import annotations

import signal
import socket
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from services import free_port, start_serve


def _stop(process: subprocess.Popen[str], sig: signal.Signals) -> str:
    """Send ``sig`` and return stderr; a server that does not stop in 20 s is killed, never left behind."""
    process.send_signal(sig)
    try:
        return process.communicate(timeout=20)[1]
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        raise


def _wait_for(url: str, process: subprocess.Popen[str], **kwargs: object) -> httpx.Response:
    """``url``'s first answer, whatever it is: not :func:`services.wait_ready`, since these tests
    check that the server answers as soon as it has bound its port, before its model has loaded."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()[1]
        try:
            return httpx.get(url, timeout=2, **kwargs)  # type: ignore[arg-type]
        except httpx.TransportError:
            time.sleep(0.05)
    raise AssertionError(f"{url} never answered")


def test_serve_answers_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    port = free_port()
    process = start_serve(tmp_path, port)
    try:
        assert _wait_for(f"http://127.0.0.1:{port}/healthz", process).json()["status"] == "ok"
    finally:
        stderr = _stop(process, signal.SIGINT)
    assert process.returncode == 0
    assert f"moodtape is running at http://127.0.0.1:{port}/ — press Ctrl+C to stop" in stderr
    assert "Traceback" not in stderr


def test_serve_warns_about_plain_http_off_loopback(tmp_path: Path) -> None:
    port = free_port()
    process = start_serve(tmp_path, port, "--host", "0.0.0.0")
    try:
        _wait_for(f"http://127.0.0.1:{port}/healthz", process)
    finally:
        stderr = _stop(process, signal.SIGTERM)
    assert "browsers allow the camera only on localhost or HTTPS" in stderr


def test_busy_port_is_a_one_line_error(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        process = start_serve(tmp_path, port)
        _, stderr = process.communicate(timeout=30)
    assert process.returncode == 1
    assert stderr.strip().splitlines()[-1].startswith("moodtape: error: cannot listen on 127.0.0.1:")


def test_serve_https_with_cert_and_key(tmp_path: Path, tls_files: tuple[Path, Path]) -> None:
    cert, key = tls_files
    port = free_port()
    process = start_serve(tmp_path, port, "--certfile", str(cert), "--keyfile", str(key))
    try:
        assert _wait_for(f"https://127.0.0.1:{port}/healthz", process, verify=False).status_code == 200
        reply = httpx.get(f"https://127.0.0.1:{port}/api/config", verify=False, timeout=10)  # /healthz sends none
        assert "Secure" in reply.headers["set-cookie"]
    finally:
        stderr = _stop(process, signal.SIGINT)
    assert f"https://127.0.0.1:{port}/" in stderr


def test_serve_stops_on_sigint_even_when_started_with_it_ignored(tmp_path: Path) -> None:
    """A server started from a script with `&` inherits SIGINT as ignored; before, Ctrl+C did nothing."""
    port = free_port()

    def ignore_sigint() -> None:  # what `&` does to a child
        signal.signal(signal.SIGINT, signal.SIG_IGN)

    process = start_serve(tmp_path, port, preexec_fn=ignore_sigint)
    try:
        _wait_for(f"http://127.0.0.1:{port}/healthz", process)
    finally:
        stderr = _stop(process, signal.SIGINT)
    assert process.returncode == 0 and "stopping" in stderr


def _wait_for_line(process: subprocess.Popen[str], words: str) -> list[str]:
    """stderr's lines up to the one holding ``words`` (the process keeps running)."""
    assert process.stderr is not None
    lines: list[str] = []
    for line in process.stderr:
        lines.append(line)
        if words in line:
            return lines
    raise AssertionError(f"{words!r} never printed: {lines}")


def test_a_request_in_flight_at_sigterm_is_still_answered(tmp_path: Path, frame_640: bytes) -> None:
    """Half an upload is in when SIGTERM comes: the server stops taking connections but reads the
    rest and answers it (MOODTAPE_SHUTDOWN_SECONDS). Before, the connection was closed at once."""
    port = free_port()
    process = start_serve(tmp_path, port)
    try:
        _wait_for(f"http://127.0.0.1:{port}/healthz", process)
        head = (
            f"POST /api/analyze HTTP/1.1\r\nHost: x\r\nContent-Type: image/jpeg\r\nContent-Length: {len(frame_640)}\r\n"
        )
        with socket.create_connection(("127.0.0.1", port), timeout=20) as sock:
            sock.sendall(head.encode() + b"Connection: close\r\n\r\n" + frame_640[: len(frame_640) // 2])
            time.sleep(0.3)
            process.send_signal(signal.SIGTERM)
            time.sleep(0.5)
            sock.sendall(frame_640[len(frame_640) // 2 :])
            answer = b""
            while chunk := sock.recv(65536):
                answer += chunk
        stderr = process.communicate(timeout=20)[1]
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert answer.startswith(b"HTTP/1.1 200"), answer[:300]
    assert b'"faces"' in answer
    assert process.returncode == 0 and "Traceback" not in stderr


@pytest.mark.parametrize("delay", [0.05, 0.1, 0.15, 0.2])
def test_a_signal_while_the_model_still_loads_exits_cleanly(tmp_path: Path, delay: float) -> None:
    """Just after the address is printed the model still loads in a thread; stopping then made the
    C++ runtime abort the process at exit ("terminate called without an active exception", -6): two
    times in three with a signal 0.1 s after the line, on the 2-core machine (this test, on that code:
    failed in 2 of 4 runs; a race, so it cannot catch it every time)."""
    process = start_serve(tmp_path, free_port())
    try:
        _wait_for_line(process, "moodtape is running at")
        time.sleep(delay)
        stderr = _stop(process, signal.SIGINT)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, stderr
    assert "terminate called" not in stderr and "Traceback" not in stderr

"""``moodtape serve`` as a user runs it: binds at once, prints the address, stops cleanly on Ctrl+C."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from services import free_port


def _start(tmp_path: Path, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "MOODTAPE_DATA_DIR": str(tmp_path), "MOODTAPE_OFFLINE": "true"}
    command = [sys.executable, "-c", "from moodtape.cli import main; main()", "serve", *args]
    return subprocess.Popen(command, env=env, cwd=tmp_path, stderr=subprocess.PIPE, text=True)


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
    process = _start(tmp_path, "--port", str(port))
    try:
        assert _wait_for(f"http://127.0.0.1:{port}/healthz", process).json()["status"] == "ok"
    finally:
        stderr = _stop(process, signal.SIGINT)
    assert process.returncode == 0
    assert f"moodtape is running at http://127.0.0.1:{port}/ — press Ctrl+C to stop" in stderr
    assert "Traceback" not in stderr


def test_serve_warns_about_plain_http_off_loopback(tmp_path: Path) -> None:
    port = free_port()
    process = _start(tmp_path, "--host", "0.0.0.0", "--port", str(port))
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
        process = _start(tmp_path, "--port", str(port))
        _, stderr = process.communicate(timeout=30)
    assert process.returncode == 1
    assert stderr.strip().splitlines()[-1].startswith("moodtape: error: cannot listen on 127.0.0.1:")


def test_serve_https_with_cert_and_key(tmp_path: Path, tls_files: tuple[Path, Path]) -> None:
    cert, key = tls_files
    port = free_port()
    process = _start(tmp_path, "--port", str(port), "--certfile", str(cert), "--keyfile", str(key))
    try:
        reply = _wait_for(f"https://127.0.0.1:{port}/healthz", process, verify=False)
        assert reply.status_code == 200
        assert "Secure" in reply.headers["set-cookie"]
    finally:
        stderr = _stop(process, signal.SIGINT)
    assert f"https://127.0.0.1:{port}/" in stderr


def test_serve_stops_on_sigint_even_when_started_with_it_ignored(tmp_path: Path) -> None:
    """A server started from a script with `&` inherits SIGINT as ignored; before, Ctrl+C did nothing."""
    port = free_port()
    env = {**os.environ, "MOODTAPE_DATA_DIR": str(tmp_path), "MOODTAPE_OFFLINE": "true"}
    command = [sys.executable, "-c", "from moodtape.cli import main; main()", "serve", "--port", str(port)]
    process = subprocess.Popen(
        command,
        env=env,
        cwd=tmp_path,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),  # what `&` does
    )
    try:
        _wait_for(f"http://127.0.0.1:{port}/healthz", process)
    finally:
        stderr = _stop(process, signal.SIGINT)
    assert process.returncode == 0 and "stopping" in stderr

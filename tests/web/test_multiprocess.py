"""``moodtape serve --processes N`` (gunicorn): answers, adds metrics up, and stops gracefully, never hangs."""

from __future__ import annotations

import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from moodtape.web.multiprocess import ort_threads
from services import free_port, start_serve, wait_ready

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(sys.platform == "win32", reason="gunicorn runs only on POSIX"),
]


def _start(tmp_path: Path, port: int, *, ignore_sigint: bool = False, **env: str) -> subprocess.Popen[str]:
    """``moodtape serve --processes 2``, ready; its stderr piped, for :func:`_finish` to read."""

    def ignore() -> None:  # what `nohup` or a shell's `&` does to a child
        signal.signal(signal.SIGINT, signal.SIG_IGN)

    settings = {"MOODTAPE_THREADS": "1", **env}
    process = start_serve(
        tmp_path, port, "--processes", "2", settings=settings, preexec_fn=ignore if ignore_sigint else None
    )
    try:
        wait_ready(f"http://127.0.0.1:{port}", process, 60)
    except BaseException:
        process.kill()
        process.wait()  # not communicate(): wait_ready may have read the pipe, and its error says what went wrong
        raise
    return process


def _finish(process: subprocess.Popen[str], timeout: float = 20) -> tuple[float, str]:
    """Seconds until the process exited and its stderr; killed (and failed) if it hangs."""
    started = time.monotonic()
    try:
        stderr = process.communicate(timeout=timeout)[1]
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        raise AssertionError(f"the server did not stop within {timeout} s") from None
    return time.monotonic() - started, stderr


def test_processes_answer_share_metrics_and_stop_on_ctrl_c(tmp_path: Path) -> None:
    port = free_port()
    process = _start(tmp_path, port)
    try:
        for _ in range(10):
            assert httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5).status_code == 200
        metrics = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    finally:
        process.send_signal(signal.SIGINT)
        _, stderr = _finish(process)
    assert process.returncode == 0
    assert re.search(r'moodtape_requests_total\{endpoint="views.healthz",status="200"\} 10\.0', metrics), metrics
    assert "with 2 processes" in stderr and "Traceback" not in stderr


def test_an_inherited_ignored_sigint_still_stops_it(tmp_path: Path) -> None:
    port = free_port()
    process = _start(tmp_path, port, ignore_sigint=True)
    process.send_signal(signal.SIGINT)
    seconds, stderr = _finish(process)
    assert process.returncode == 0, stderr
    assert seconds < 10


def _slow_upload(port: int, body: bytes, sent: int) -> socket.socket:
    """A connection whose POST /api/analyze a worker is handling, with only ``sent`` bytes of the body.

    ``Expect: 100-continue`` makes the worker say when it has accepted the connection and read the
    request's headers ("100 Continue"), so the test knows the request is in flight instead of
    sleeping and hoping a busy machine accepted it in time.
    """
    conn = socket.create_connection(("127.0.0.1", port), timeout=30)
    head = (
        f"POST /api/analyze HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: image/jpeg\r\n"
        f"Content-Length: {len(body)}\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n"
    )
    conn.sendall(head.encode())
    interim = b""
    while not interim.endswith(b"\r\n\r\n"):  # byte by byte: nothing after it may be swallowed
        byte = conn.recv(1)
        assert byte, f"closed before the worker took the request: {interim!r}"
        interim += byte
    assert interim == b"HTTP/1.1 100 Continue\r\n\r\n", interim
    conn.sendall(body[:sent])
    return conn


def _read_all(conn: socket.socket) -> bytes:
    chunks = []
    while chunk := conn.recv(65536):
        chunks.append(chunk)
    return b"".join(chunks)


def test_sigterm_lets_a_request_in_flight_finish(tmp_path: Path, astronaut_jpeg_bytes: bytes) -> None:
    port = free_port()
    process = _start(tmp_path, port, MOODTAPE_SHUTDOWN_SECONDS="10")
    conn = _slow_upload(port, astronaut_jpeg_bytes, 1000)  # a worker has the request
    process.send_signal(signal.SIGTERM)
    time.sleep(1.0)
    with pytest.raises(httpx.TransportError):  # no new connections once stopping
        httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
    conn.sendall(astronaut_jpeg_bytes[1000:])
    answer = _read_all(conn)
    conn.close()
    _, stderr = _finish(process)
    assert answer.startswith(b"HTTP/1.1 200"), answer[:300]
    assert b'"faces"' in answer
    assert process.returncode == 0, stderr


def test_a_stuck_request_delays_the_stop_only_up_to_the_bound(tmp_path: Path, astronaut_jpeg_bytes: bytes) -> None:
    port = free_port()
    process = _start(tmp_path, port, MOODTAPE_SHUTDOWN_SECONDS="2")
    conn = _slow_upload(port, astronaut_jpeg_bytes, 1000)  # a worker has the request, and never gets the rest
    process.send_signal(signal.SIGTERM)
    seconds, stderr = _finish(process)
    conn.close()
    assert process.returncode == 0, stderr
    assert seconds < 8, f"took {seconds:.1f} s with a 2 s bound"


@pytest.mark.parametrize(("processes", "cores", "threads"), [(1, 8, 8), (2, 8, 4), (3, 8, 2), (4, 2, 1), (16, 2, 1)])
def test_onnx_threads_share_the_cores(processes: int, cores: int, threads: int) -> None:
    assert ort_threads(processes, cores) == threads


def test_lists_undo_export_and_calibration_work_whichever_process_answers(tmp_path: Path, frame_640: bytes) -> None:
    """Found by an outside probe: without Redis, an undo that reached the other process answered 404."""
    port = free_port()
    process = _start(tmp_path, port)
    failures: list[str] = []
    try:
        # "Connection: close": every request is a new connection, which gunicorn gives to either process.
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers={"Connection": "close"}, timeout=30) as web:
            csrf = {"X-CSRF-Token": web.get("/api/config").json()["csrf_token"]}
            shown = web.post("/api/lists?emotion=neutral&n=6&seed=2", headers=csrf).json()
            list_id = shown["list_id"]
            calibrated = web.post(
                "/api/calibration?emotion=neutral", content=frame_640, headers={**csrf, "Content-Type": "image/jpeg"}
            )
            assert calibrated.status_code == 200 and calibrated.json()["calibrated"] is True
            for round_ in range(8):
                position = round_ % 6
                dislike = {"action": "dislike", "list": list_id, "position": position}
                for name, reply in (
                    ("dislike", web.post("/api/feedback", json=dislike, headers=csrf)),
                    ("open", web.get(f"/api/lists/{list_id}")),
                    ("undo", web.post(f"/api/lists/{list_id}/undo", headers=csrf)),
                    ("export", web.get(f"/api/export?list={list_id}&format=csv")),
                    ("calibration", web.get("/api/calibration")),
                ):
                    ok = reply.status_code == 200 and (name != "calibration" or reply.json()["calibrated"] is True)
                    if not ok:
                        failures.append(f"round {round_} {name}: {reply.status_code} {reply.text[:120]}")
            final = web.get(f"/api/lists/{list_id}").json()
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = _finish(process)
    assert failures == []
    assert [item["title"] for item in final["items"]] == [item["title"] for item in shown["items"]]
    assert "share session lists and calibrations through the store" in stderr

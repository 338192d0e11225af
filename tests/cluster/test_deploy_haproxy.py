"""``deploy/haproxy.cfg``'s rule that keeps ``/metrics`` from the public, in a real HAProxy.

moodtape answers ``//metrics`` and ``/%6Detrics`` as ``/metrics`` (the server decodes the path and
the router merges slashes), so a rule matching the raw path exactly let both through. The rule is
read from the shipped file and put in front of a stand-in backend that answers every path.
"""

from __future__ import annotations

import http.server
import json
import re
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from cluster_topology import haproxy_path
from redis_server import listening
from services import free_port

ROOT = Path(__file__).resolve().parents[2]
RULE = re.compile(r"^\s*http-request deny deny_status 404 if .*metrics.*$", re.MULTILINE)


class _Anything(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args: object) -> None:
        pass


@contextmanager
def _haproxy(tmp_path: Path, backend_port: int, *, defaults: str = "", frontend: str = "") -> Iterator[int]:
    """A real HAProxy on a free port in front of 127.0.0.1:``backend_port``, with the shipped lines
    given (indented) in its defaults and frontend; yields its port."""
    binary = haproxy_path()
    if binary is None:
        pytest.skip("haproxy is not installed (apt-get install haproxy)")
    port = free_port()
    config = tmp_path / "haproxy.cfg"
    config.write_text(
        "defaults\n    mode http\n    timeout connect 2s\n    timeout client 5s\n    timeout server 5s\n"
        f"{defaults}frontend web\n    bind 127.0.0.1:{port}\n{frontend}    default_backend app\n"
        f"backend app\n    server one 127.0.0.1:{backend_port}\n"
    )
    with listening([binary, "-db", "-f", str(config)], port):
        yield port


@pytest.fixture
def balancer(tmp_path: Path) -> Iterator[int]:
    rule = RULE.search((ROOT / "deploy" / "haproxy.cfg").read_text(encoding="utf-8"))
    assert rule is not None, "deploy/haproxy.cfg has no rule that denies /metrics"
    backend = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Anything)
    threading.Thread(target=backend.serve_forever, daemon=True).start()
    try:
        with _haproxy(tmp_path, backend.server_address[1], frontend=f"{rule.group(0)}\n") as port:
            yield port
    finally:
        backend.shutdown()


def _status(port: int, path: str) -> int:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as connection:
        connection.sendall(f"GET {path} HTTP/1.1\r\nHost: moodtape.example.org\r\nConnection: close\r\n\r\n".encode())
        head = connection.recv(256).decode("latin-1")
    return int(head.split(" ", 2)[1])


@pytest.mark.parametrize("path", ["/metrics", "//metrics", "/%6Detrics", "/%2Fmetrics", "/metrics/", "/metrics?x=1"])
def test_every_spelling_of_metrics_is_refused_at_the_balancer(balancer: int, path: str) -> None:
    assert _status(balancer, path) == 404


@pytest.mark.parametrize("path", ["/", "/healthz", "/api/metrics-help", "/static/metrics.js"])
def test_other_paths_pass(balancer: int, path: str) -> None:
    assert _status(balancer, path) == 200


ERRORFILE = re.compile(r"^\s*errorfile (\d{3}) /usr/local/etc/haproxy/(\S+)$", re.MULTILINE)


def _shipped_errorfiles() -> list[tuple[str, Path]]:
    shipped = (ROOT / "deploy" / "haproxy.cfg").read_text(encoding="utf-8")
    return [(status, ROOT / "deploy" / name) for status, name in ERRORFILE.findall(shipped)]


def test_every_answer_haproxy_makes_itself_is_json_in_the_apis_error_shape() -> None:
    """HAProxy's own 502 (an instance that died mid-answer) or 413 was an HTML page before."""
    found = dict(_shipped_errorfiles())
    assert set(found) == {"400", "403", "404", "408", "413", "422", "500", "501", "502", "503", "504"}
    compose = (ROOT / "deploy" / "compose.yaml").read_text(encoding="utf-8")
    for status, path in found.items():
        head, _, body = path.read_text(encoding="utf-8").partition("\n\n")
        assert head.splitlines()[0].startswith(f"HTTP/1.1 {status} ") and "Content-Type: application/json" in head
        error = json.loads(body)["error"]
        assert set(error) == {"code", "message"} and error["message"]
        assert f"./{path.name}:/usr/local/etc/haproxy/{path.name}:ro" in compose, "mounted by compose.yaml"


def test_a_backend_that_drops_the_connection_gives_the_json_502(tmp_path: Path) -> None:
    dropping = socket.create_server(("127.0.0.1", 0))

    def drop_every_connection() -> None:
        while True:
            try:
                connection, _ = dropping.accept()
            except OSError:
                return
            connection.recv(4096)
            connection.close()  # no answer at all: an instance killed while answering

    threading.Thread(target=drop_every_connection, daemon=True).start()
    errorfiles = "".join(f"    errorfile {status} {path}\n" for status, path in _shipped_errorfiles())
    try:
        with (
            _haproxy(tmp_path, dropping.getsockname()[1], defaults=errorfiles) as port,
            socket.create_connection(("127.0.0.1", port), timeout=5) as connection,
        ):
            connection.sendall(b"GET /api/config HTTP/1.1\r\nHost: moodtape.example.org\r\nConnection: close\r\n\r\n")
            answer = b""
            while chunk := connection.recv(4096):
                answer += chunk
        head, _, body = answer.decode("latin-1").partition("\r\n\r\n")
        assert head.startswith("HTTP/1.1 502") and "application/json" in head
        assert json.loads(body)["error"]["code"] == "bad_gateway"
    finally:
        dropping.close()


@pytest.fixture
def shipped_balancer(tmp_path: Path) -> Iterator[int]:
    """The /metrics rule and every shipped error file, in front of a backend that answers anything."""
    rule = RULE.search((ROOT / "deploy" / "haproxy.cfg").read_text(encoding="utf-8"))
    assert rule is not None
    errorfiles = "".join(f"    errorfile {status} {path}\n" for status, path in _shipped_errorfiles())
    backend = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Anything)
    threading.Thread(target=backend.serve_forever, daemon=True).start()
    try:
        with _haproxy(tmp_path, backend.server_address[1], defaults=errorfiles, frontend=f"{rule.group(0)}\n") as port:
            yield port
    finally:
        backend.shutdown()


def test_the_balancers_own_404_is_json(shipped_balancer: int) -> None:
    """Before: HAProxy's HTML 404 page for the /metrics rule, where API clients read JSON.

    (HAProxy before 3.2 answers requests it cannot parse, its 400 and 422, with its built-in HTML
    whatever the errorfile: haproxy/haproxy#3032. The files are shipped for the versions that use them.)
    """
    with socket.create_connection(("127.0.0.1", shipped_balancer), timeout=5) as connection:
        connection.sendall(b"GET //metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        answer = b""
        while chunk := connection.recv(4096):
            answer += chunk
    head, _, body = answer.decode("latin-1").replace("\r\n", "\n").partition("\n\n")
    assert head.startswith("HTTP/1.1 404 ") and "application/json" in head, head
    assert json.loads(body)["error"]["code"] == "not_found"

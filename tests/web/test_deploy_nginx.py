"""docs/deployment.md's nginx block, run in a real nginx in front of the real server.

Before, the documented setup answered its own refusals (an upload over ``client_max_body_size``,
headers over 8 KB, plain HTTP to the TLS port, moodtape stopped) with nginx's HTML pages, and
every answer named nginx's version (``Server: nginx/1.22.1``): the page reads JSON errors, and a
version banner tells a scanner which CVEs to try. The block is read from the docs as a reader
copies it; only its address, certificate and upstream port are changed.
"""

from __future__ import annotations

import http.client
import json
import re
import shutil
import socket
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from webtools import AppFactory, running_server

from redis_server import listening
from services import free_port

ROOT = Path(__file__).resolve().parents[2]
BLOCK = re.compile(r"## Behind a reverse proxy.*?```nginx\n(?P<block>.*?)```", re.DOTALL)


def _documented_block() -> str:
    found = BLOCK.search((ROOT / "docs" / "deployment.md").read_text(encoding="utf-8"))
    assert found is not None, "docs/deployment.md has no nginx block under 'Behind a reverse proxy'"
    return found["block"]


def _nginx() -> str:
    for candidate in (shutil.which("nginx"), "/usr/sbin/nginx"):
        if candidate and Path(candidate).exists():
            return candidate
    pytest.skip("nginx is not installed (apt-get install nginx)")


@contextmanager
def _documented_nginx(tmp_path: Path, tls: tuple[Path, Path], upstream: int) -> Iterator[int]:
    """The documented server block in a real nginx on a free port; yields the port."""
    certificate, key = tls
    port = free_port()
    block = _documented_block()
    replaced = {
        r"listen 443 ssl;": f"listen 127.0.0.1:{port} ssl;",
        r"ssl_certificate\s+\S+;": f"ssl_certificate {certificate};",
        r"ssl_certificate_key\s+\S+;": f"ssl_certificate_key {key};",
        r"proxy_pass http://127\.0\.0\.1:5000;": f"proxy_pass http://127.0.0.1:{upstream};",
    }
    for pattern, line in replaced.items():
        block, count = re.subn(pattern, line, block)
        assert count == 1, f"the documented block changed: {pattern} is not there once"
    temporary = tmp_path / "nginx-temp"
    temporary.mkdir()
    temp_paths = "".join(
        f"  {name}_temp_path {temporary / name};\n" for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    config = tmp_path / "nginx.conf"
    config.write_text(
        f"daemon off;\nworker_processes 1;\npid {tmp_path / 'nginx.pid'};\nerror_log {tmp_path / 'error.log'};\n"
        f"events {{ worker_connections 64; }}\nhttp {{\n  access_log off;\n{temp_paths}{block}}}\n"
    )
    with listening([_nginx(), "-p", str(tmp_path), "-c", str(config)], port):
        yield port


class _Answer:
    def __init__(self, response: http.client.HTTPResponse) -> None:
        self.status = response.status
        self.headers = response.headers
        self.body = response.read()


def _request(
    port: int, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None
) -> _Answer:
    context = ssl._create_unverified_context()
    connection = http.client.HTTPSConnection("127.0.0.1", port, context=context, timeout=10)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        return _Answer(connection.getresponse())
    finally:
        connection.close()


def _error_code(answer: _Answer) -> str:
    assert answer.headers.get("Content-Type", "").startswith("application/json"), answer.body
    error = json.loads(answer.body)["error"]
    assert set(error) == {"code", "message"} and error["message"]
    return str(error["code"])


def test_the_documented_nginx_names_no_version_and_refuses_in_json(
    make_app: AppFactory, tls_files: tuple[Path, Path], tmp_path: Path
) -> None:
    app = make_app(MOODTAPE_PROXY_HOPS="1")
    with running_server(app) as base:
        upstream = int(base.rsplit(":", 1)[1])
        with _documented_nginx(tmp_path, tls_files, upstream) as port:
            healthy = _request(port, "GET", "/healthz")
            assert healthy.status == 200
            assert healthy.headers.get("Server") == "nginx"  # was nginx/1.22.1

            passed = _request(port, "GET", "/no-such-page")  # moodtape's own refusal, untouched
            assert passed.status == 404 and _error_code(passed) == "not_found"

            too_large = _request(
                port, "POST", "/api/analyze", b"\0" * (13 * 1024 * 1024), {"Content-Type": "image/jpeg"}
            )
            assert too_large.status == 413 and _error_code(too_large) == "too_large"
            assert too_large.headers.get("Server") == "nginx"

            long_header = _request(port, "GET", "/healthz", headers={"X-Long": "a" * 9000})
            assert long_header.status == 400 and _error_code(long_header) == "bad_request"

            with socket.create_connection(("127.0.0.1", port), timeout=10) as plain:
                plain.sendall(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
                answer = b""
                while chunk := plain.recv(65536):
                    answer += chunk
            head, _, body = answer.partition(b"\r\n\r\n")
            assert head.startswith(b"HTTP/1.1 400 ") and b"application/json" in head, answer
            assert json.loads(body)["error"]["code"] == "bad_request"


def test_the_documented_nginx_answers_a_stopped_moodtape_in_json(tls_files: tuple[Path, Path], tmp_path: Path) -> None:
    """moodtape restarting or gone: nginx's own 502, which was an HTML page naming its version."""
    with socket.create_server(("127.0.0.1", 0)) as reserved:
        nothing_listens = reserved.getsockname()[1]
    with _documented_nginx(tmp_path, tls_files, nothing_listens) as port:
        gone = _request(port, "GET", "/api/config")
        assert gone.status == 502 and _error_code(gone) == "bad_gateway"
        assert gone.headers.get("Server") == "nginx"

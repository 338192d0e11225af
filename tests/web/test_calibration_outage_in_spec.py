"""With the shared state down, every calibration call's 503 is one the spec documents, Retry-After included.

Before, ``GET`` and ``DELETE /api/calibration`` answered 503 ``shared_state_unavailable`` where the
spec listed no 503 at all, and the 503 of ``POST /api/calibration`` and of a stream's frame was
described as the model or a busy server only: a client generated from the spec had no case for it.
"""

from __future__ import annotations

from pathlib import Path

from spectools import SPEC, resolve, response_contents, schema_errors
from webtools import AppFactory, csrf_headers

from redis_server import redis_of_its_own


def test_every_calibration_503_is_documented_with_its_code(
    make_app: AppFactory, frame_640: bytes, tmp_path: Path
) -> None:
    with redis_of_its_own(tmp_path / "redis") as server:  # to stop: not the shared one
        client = make_app(MOODTAPE_REDIS_URL=server.url).test_client()
        csrf = csrf_headers(client)
        server.stop()
        calls = [
            ("GET", "/api/calibration", {}),
            ("DELETE", "/api/calibration", {"headers": csrf}),
            ("POST", "/api/calibration", {"headers": csrf, "data": frame_640, "content_type": "image/jpeg"}),
        ]
        for method, path, arguments in calls:
            reply = client.open(path, method=method, **arguments)
            assert reply.status_code == 503, (method, reply.get_json())
            assert reply.get_json()["error"]["code"] == "shared_state_unavailable"
            assert response_contents(method, path, 503) is not None, f"{method} {path} documents no 503"
            assert schema_errors(method, path, reply) == []
            response = resolve(SPEC["paths"][path][method.lower()]["responses"]["503"])
            assert "shared_state_unavailable" in response["description"], method
            assert "Retry-After" in response["headers"] and reply.headers["Retry-After"].isdigit()
        frame = client.post("/api/analyze?stream=cam", data=frame_640, content_type="image/jpeg")
        assert frame.status_code == 503
        described = resolve(SPEC["paths"]["/api/analyze"]["post"]["responses"]["503"])["description"]
        assert "shared_state_unavailable" in described

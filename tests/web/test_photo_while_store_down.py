"""``serve --processes N`` without Redis keeps calibrations in the store; its outage spares photos.

A photo needs nothing shared: while Redis is down it is analysed without the session's calibration
(``calibrated: false``). With the calibrations in the store instead, the store's outage was a 503
``store_unavailable`` for every photo of a visitor who had a cookie; the calls that do need the
calibration still say 503, as the spec documents.
"""

from __future__ import annotations

import pytest
from spectools import schema_errors
from webtools import AppFactory

from moodtape.web.multiprocess import share_state
from services import free_port


def test_a_photo_is_analysed_while_the_store_holding_calibrations_is_down(
    make_app: AppFactory, frame_640: bytes
) -> None:
    pytest.importorskip("psycopg", reason="the PostgreSQL driver is not installed (moodtape[postgres])")
    app = make_app(MOODTAPE_DATABASE_URL=f"postgresql://u@127.0.0.1:{free_port()}/none")  # nothing listens
    share_state(app, app.extensions["moodtape"].settings, processes=2)
    client = app.test_client()
    assert client.get("/api/config").status_code == 200  # the visitor has a cookie now
    photo = client.post("/api/analyze", data=frame_640, content_type="image/jpeg")
    assert photo.status_code == 200, photo.get_json()
    assert photo.get_json()["calibrated"] is False and photo.get_json()["faces"]
    status = client.get("/api/calibration")
    assert status.status_code == 503 and status.get_json()["error"]["code"] == "store_unavailable"
    assert status.headers["Retry-After"] == "1"
    assert schema_errors("GET", "/api/calibration", status) == []

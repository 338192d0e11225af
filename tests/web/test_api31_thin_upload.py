"""A picture a pixel or two across, uploaded: no face in it, said as for any picture, not a 500.

Face detection shrinks a picture by a factor, and ``cv2.resize`` rounded a 1-pixel side to 0 and
raised: a 1×3,000 PNG sent to ``POST /api/analyze`` was a 500 ``internal_error``.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from flask.testing import FlaskClient


@pytest.mark.parametrize("shape", [(1, 3_000), (3_000, 1), (2, 4_000)])
def test_a_thin_png_is_read_and_has_no_face(client: FlaskClient, shape: tuple[int, int]) -> None:
    ok, png = cv2.imencode(".png", np.full(shape, 128, np.uint8))
    assert ok
    reply = client.post("/api/analyze", data=png.tobytes(), content_type="image/png")
    assert reply.status_code == 200, reply.get_json()
    body = reply.get_json()
    assert body["faces"] == [] and body["image"] == {"width": shape[1], "height": shape[0]}

"""POST /api/analyze: shapes, every error status, streams, and that pictures stay in memory."""

from __future__ import annotations

import builtins
import io
import tempfile
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
from flask.testing import FlaskClient
from webtools import AppFactory, encode

from heif_pictures import hide_pillow_heif
from moodtape.emotions import EMOTIONS
from moodtape.errors import ModelError
from moodtape.vision.faces import FaceDetector
from moodtape.vision.pipeline import Analyzer
from moodtape.web import streams


def test_raw_jpeg_body_gives_faces_and_mood(client: FlaskClient, astronaut_jpeg_bytes: bytes) -> None:
    reply = client.post("/api/analyze", data=astronaut_jpeg_bytes, content_type="image/jpeg")
    assert reply.status_code == 200
    body = reply.get_json()
    assert body["image"] == {"width": 512, "height": 512}
    assert body["stream"] is None and body["elapsed_ms"] > 0
    assert len(body["faces"]) >= 1
    face = body["faces"][0]
    assert set(face) >= {"box", "emotion", "confidence", "uncertain", "probabilities"}
    assert list(face["probabilities"]) == list(EMOTIONS)
    assert face["probabilities"][face["emotion"]] == face["confidence"]
    x, y, w, h = face["box"]
    assert 0 <= x < 512 and 0 <= y < 512 and w > 20 and h > 20
    assert face["emotion"] == "happy"  # Eileen Collins smiles broadly in this photo
    assert body["mood"]["emotion"] == "happy" and body["mood"]["source"] == "face"
    assert -1 <= body["mood"]["valence"] <= 1 and body["mood"]["valence"] > 0


def test_multipart_upload_is_typed_by_content_not_name(client: FlaskClient, astronaut_bgr: Any) -> None:
    png = encode(astronaut_bgr, ".png")
    reply = client.post(
        "/api/analyze",
        data={"image": (io.BytesIO(png), "holiday.txt", "text/plain")},
        content_type="multipart/form-data",
    )
    assert reply.status_code == 200
    assert reply.get_json()["faces"]


def test_webp_is_accepted(client: FlaskClient, astronaut_bgr: Any) -> None:
    reply = client.post("/api/analyze", data=encode(astronaut_bgr, ".webp"), content_type="application/octet-stream")
    assert reply.status_code == 200


def test_no_face_is_an_empty_list_not_an_error(client: FlaskClient) -> None:
    blank = encode(np.full((240, 320, 3), 200, np.uint8))
    reply = client.post("/api/analyze", data=blank, content_type="image/jpeg")
    assert reply.status_code == 200
    assert reply.get_json()["faces"] == [] and reply.get_json()["mood"] is None


def _error(reply: Any) -> tuple[int, str]:
    body = reply.get_json()
    assert reply.mimetype == "application/json", reply.data[:200]
    assert set(body["error"]) == {"code", "message"} and body["error"]["message"]
    assert "Traceback" not in reply.get_data(as_text=True)
    return reply.status_code, body["error"]["code"]


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"data": b"", "content_type": "image/jpeg"}, (400, "bad_request")),
        # a lone file is read whatever its field's name: this one is no picture
        (
            {"data": {"other": (io.BytesIO(b"x"), "a.jpg")}, "content_type": "multipart/form-data"},
            (415, "unsupported_image"),
        ),
        ({"data": {"other": "text"}, "content_type": "multipart/form-data"}, (400, "bad_request")),
        ({"data": b"GIF? no, plain text pretending", "content_type": "image/gif"}, (415, "unsupported_image")),
        ({"data": b"%PDF-1.7 a document", "content_type": "image/jpeg"}, (415, "unsupported_image")),
    ],
)
def test_bad_uploads(client: FlaskClient, kwargs: dict[str, Any], expected: tuple[int, str]) -> None:
    assert _error(client.post("/api/analyze", **kwargs)) == expected


def test_damaged_picture_is_422(client: FlaskClient, astronaut_jpeg_bytes: bytes) -> None:
    damaged = astronaut_jpeg_bytes[: len(astronaut_jpeg_bytes) // 3]
    assert _error(client.post("/api/analyze", data=damaged, content_type="image/jpeg")) == (422, "bad_image")
    garbage = b"\xff\xd8\xff" + bytes(range(256)) * 4
    assert _error(client.post("/api/analyze", data=garbage, content_type="image/jpeg"))[0] == 422


def test_body_over_the_upload_limit_is_413_json(make_app: AppFactory, astronaut_jpeg_bytes: bytes) -> None:
    client = make_app(MOODTAPE_MAX_UPLOAD_BYTES="20000").test_client()
    assert len(astronaut_jpeg_bytes) > 20000
    raw = client.post("/api/analyze", data=astronaut_jpeg_bytes, content_type="image/jpeg")
    assert _error(raw) == (413, "too_large")
    form = client.post(
        "/api/analyze",
        data={"image": (io.BytesIO(astronaut_jpeg_bytes), "a.jpg")},
        content_type="multipart/form-data",
    )
    assert _error(form) == (413, "too_large")


def test_picture_over_the_pixel_limit_is_413(
    make_app: AppFactory, astronaut_bgr: npt.NDArray[np.uint8], astronaut_jpeg_bytes: bytes
) -> None:
    client = make_app(MOODTAPE_MAX_PIXELS="100000").test_client()  # the photo has 262,144
    png = encode(astronaut_bgr, ".png")
    reply = client.post("/api/analyze", data=png, content_type="image/png")
    assert _error(reply) == (413, "image_too_large")
    # A JPEG is read at half its size instead (test_large_pictures.py has the details).
    shrunk = client.post("/api/analyze", data=astronaut_jpeg_bytes, content_type="image/jpeg")
    assert shrunk.status_code == 200 and shrunk.get_json()["image"] == {"width": 256, "height": 256}


def test_model_that_cannot_load_gives_503(make_app: AppFactory, astronaut_jpeg_bytes: bytes, tmp_path: Path) -> None:
    broken = tmp_path / "broken.onnx"
    broken.write_bytes(b"not a model")
    client = make_app(analyzer=None, MOODTAPE_MODEL=str(broken)).test_client()
    reply = client.post("/api/analyze", data=astronaut_jpeg_bytes, content_type="image/jpeg")
    assert _error(reply) == (503, "model_error")
    assert client.get("/healthz").status_code == 200  # the rest of the app keeps working


def test_loader_failure_is_retried_not_cached(make_app: AppFactory, real_analyzer: Analyzer, frame_640: bytes) -> None:
    calls: list[int] = []

    def flaky() -> Analyzer:
        calls.append(1)
        if len(calls) == 1:
            raise ModelError("the model is still being copied")
        return real_analyzer

    client = make_app(analyzer=flaky).test_client()
    assert client.post("/api/analyze", data=frame_640, content_type="image/jpeg").status_code == 503
    assert client.post("/api/analyze", data=frame_640, content_type="image/jpeg").status_code == 200


class ScriptedClassifier:
    """Stands in for the model: returns the next scripted probability row for every crop."""

    name = "scripted"
    uncertain_below = 0.0

    def __init__(self, rows: list[str]) -> None:
        self.rows = rows

    def predict(self, crops: list[npt.NDArray[np.uint8]]) -> npt.NDArray[np.float32]:
        label = self.rows.pop(0)
        row = np.full(len(EMOTIONS), 0.01, np.float32)
        row[EMOTIONS.index(label)] = 1 - 0.01 * (len(EMOTIONS) - 1)
        return np.tile(row, (len(crops), 1))

    def is_uncertain(self, probabilities: npt.NDArray[np.float32]) -> npt.NDArray[np.bool_]:
        return np.zeros(len(probabilities), dtype=bool)


def _scripted_app(make_app: AppFactory, rows: list[str]) -> FlaskClient:
    analyzer = Analyzer(FaceDetector(), ScriptedClassifier(rows))  # type: ignore[arg-type]
    return make_app(analyzer=analyzer).test_client()


def test_stream_smooths_over_time_and_keeps_track_ids(
    make_app: AppFactory, frame_640: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Frames 80 ms apart on the stream's clock, however slow this machine is.
    ticks = iter(100.0 + 0.08 * n for n in range(1000))
    monkeypatch.setattr(streams, "time", SimpleNamespace(monotonic=lambda: next(ticks)))
    client = _scripted_app(make_app, ["happy", "sad", "sad"])
    first = client.post("/api/analyze?stream=cam-1", data=frame_640, content_type="image/jpeg").get_json()
    second = client.post("/api/analyze?stream=cam-1", data=frame_640, content_type="image/jpeg").get_json()
    assert first["stream"] == "cam-1"
    assert first["faces"][0]["track_id"] == second["faces"][0]["track_id"]
    # A sudden "sad" a fraction of a second after a happy frame moves the smoothed values only a little.
    assert second["faces"][0]["emotion"] == "happy"
    assert 0.01 < second["faces"][0]["probabilities"]["sad"] < 0.5
    assert second["mood"]["emotion"] == "happy"
    # Without a stream the same frame is read as it is.
    single = client.post("/api/analyze", data=frame_640, content_type="image/jpeg").get_json()
    assert single["faces"][0]["emotion"] == "sad" and "track_id" not in single["faces"][0]


def test_streams_are_separate_per_id(make_app: AppFactory, frame_640: bytes) -> None:
    client = _scripted_app(make_app, ["happy", "sad"])
    client.post("/api/analyze?stream=a", data=frame_640, content_type="image/jpeg")
    other = client.post("/api/analyze?stream=b", data=frame_640, content_type="image/jpeg").get_json()
    assert other["faces"][0]["emotion"] == "sad"


def test_bad_stream_id_is_400(client: FlaskClient, frame_640: bytes) -> None:
    reply = client.post("/api/analyze?stream=no/slashes", data=frame_640, content_type="image/jpeg")
    assert _error(reply) == (400, "bad_request")


def test_pictures_are_never_written_anywhere(
    client: FlaskClient, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, astronaut_bgr: Any
) -> None:
    # Larger than Werkzeug's 500 KB spooling threshold, so a default Request would use a temp file.
    noisy = np.random.default_rng(0).integers(0, 255, (900, 900, 3), dtype=np.uint8)
    noisy[200:712, 200:712] = astronaut_bgr
    big = encode(noisy, ".png")
    assert len(big) > 1_000_000
    written: list[str] = []
    real_open: Callable[..., Any] = builtins.open

    def guarded_open(file: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        if any(flag in mode for flag in "wax+"):
            written.append(str(file))
        return real_open(file, mode, *args, **kwargs)

    def no_temp_files(*args: Any, **kwargs: Any) -> Any:
        written.append("tempfile")
        raise AssertionError("a temporary file was requested")

    monkeypatch.setattr(builtins, "open", guarded_open)
    for name in ("TemporaryFile", "NamedTemporaryFile", "SpooledTemporaryFile", "mkstemp", "mkdtemp"):
        monkeypatch.setattr(tempfile, name, no_temp_files)
    before = sorted(tmp_path.rglob("*"))
    form = client.post("/api/analyze", data={"image": (io.BytesIO(big), "big.png")}, content_type="multipart/form-data")
    raw = client.post("/api/analyze", data=big, content_type="image/png")
    assert form.status_code == 200 and raw.status_code == 200
    assert form.get_json()["faces"]
    assert written == []
    assert sorted(tmp_path.rglob("*")) == before


@pytest.mark.parametrize("brand", [b"heic", b"mif1"])
def test_an_iphone_heic_photo_is_refused_with_what_to_do(
    client: FlaskClient, brand: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A HEIC upload was refused as "not a JPEG, PNG, WebP or GIF": the decoder's clearer words never
    reached the client, because the upload was refused on its first bytes before decoding. Without
    pillow-heif it is still refused, naming the fix (tests/web/test_heif_uploads.py: those read)."""
    hide_pillow_heif(monkeypatch)
    heic = b"\x00\x00\x00\x18ftyp" + brand + b"\x00\x00\x00\x00mif1heic" + bytes(500)
    reply = client.post("/api/analyze", data=heic, content_type="image/heic")
    assert _error(reply) == (415, "unsupported_image")
    message = reply.get_json()["error"]["message"]
    assert "HEIC/HEIF" in message and "moodtape[heic]" in message and "Most Compatible" in message


def test_an_mp4_video_is_not_called_a_heic_photo(client: FlaskClient) -> None:
    mp4 = b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2mp41" + bytes(500)
    reply = client.post("/api/analyze", data=mp4, content_type="video/mp4")
    assert _error(reply) == (415, "unsupported_image")
    message = reply.get_json()["error"]["message"]
    assert message.startswith("that file is not a JPEG") and "HEIC/HEIF photo" not in message

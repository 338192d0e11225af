"""The server side of the on-device mode: settings, profile and model files (web/ondevice.py)."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from moodtape.emotions import EMOTIONS
from moodtape.vision.models import bundled_model_bytes
from moodtape.vision.yunet import yunet_path
from moodtape.web.ondevice import RUNTIME_DIR, RUNTIME_FILES, runtime_installed


def test_runtime_installed_needs_every_file(tmp_path: Path) -> None:
    assert not runtime_installed(tmp_path)
    folder = tmp_path / RUNTIME_DIR
    folder.mkdir(parents=True)
    for name in RUNTIME_FILES[:-1]:
        (folder / name).write_bytes(b"x")
    assert not runtime_installed(tmp_path)  # the .wasm is missing
    (folder / RUNTIME_FILES[-1]).write_bytes(b"x")
    assert runtime_installed(tmp_path)


def test_config_describes_the_server_pipeline(app: Flask, client: FlaskClient) -> None:
    body = client.get("/api/ondevice").get_json()
    classifier = body["classifier"]
    assert classifier["model_id"] == hashlib.sha256(bundled_model_bytes()).hexdigest()
    assert classifier["input"] == {"height": 48, "width": 48, "layout": "nchw"}
    assert sorted(classifier["order"]) == list(range(len(EMOTIONS)))
    assert classifier["temperature"] > 0 and 0 <= classifier["uncertain_below"] < 1
    assert body["mood"]["labels"] == list(EMOTIONS)
    assert body["smoothing"]["time_constant"] == 0.6
    assert body["available"] == runtime_installed(str(app.static_folder))


def test_config_is_unavailable_without_the_runtime(app: Flask, client: FlaskClient, tmp_path: Path) -> None:
    app.static_folder = str(tmp_path)  # a fresh clone where make could not run npm
    assert client.get("/api/ondevice").get_json()["available"] is False


@pytest.mark.parametrize(
    ("name", "data"), [("emotion", bundled_model_bytes), ("yunet", lambda: yunet_path().read_bytes())]
)
def test_model_files_are_served(client: FlaskClient, name: str, data: object) -> None:
    urls = client.get("/api/ondevice").get_json()["models"]
    reply = client.get(urls[name])
    assert reply.status_code == 200 and reply.data == data()  # type: ignore[operator]
    assert "immutable" in reply.headers["Cache-Control"]


def test_unknown_model_is_a_404(client: FlaskClient) -> None:
    assert client.get("/ondevice/other.onnx").status_code == 404


def test_profile_is_null_before_calibration(client: FlaskClient) -> None:
    assert client.get("/api/ondevice/profile").get_json() == {"profile": None}


@pytest.mark.parametrize(("value", "default"), [("device", "device"), ("server", "server"), ("auto", "auto")])
def test_default_path_comes_from_the_setting(make_app: Any, value: str, default: str) -> None:
    with make_app(MOODTAPE_FRAMES=value).test_client() as client:
        assert client.get("/api/ondevice").get_json()["default"] == default

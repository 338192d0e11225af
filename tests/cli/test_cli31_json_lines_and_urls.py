"""``moodtape`` output stays UTF-8 whatever the file names; a URL reaches the message that refuses it intact.

CliRunner's stdout is strict UTF-8, as Python's is under an ``en_US.UTF-8`` locale: a name that is
not UTF-8, written as it came, crashed the command with ``UnicodeEncodeError``.
"""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from moodtape.cli import cli
from moodtape.errors import ImageError

LATIN1_NAME = b"caf\xe9.jpg"  # "café.jpg" as an old Latin-1 archive holds it


def _latin1_file(folder: Path, data: bytes, name: bytes = LATIN1_NAME) -> Path:
    """A file named by the Latin-1 bytes ``name``; skip where the file system takes UTF-8 names only (macOS)."""
    path = folder / os.fsdecode(name)
    try:
        path.write_bytes(data)
    except (OSError, UnicodeEncodeError):
        pytest.skip("this file system takes UTF-8 names only")
    return path


def test_json_lines_are_utf8_and_give_a_latin1_name_as_its_bytes(tmp_path: Path, astronaut_jpeg_bytes: bytes) -> None:
    picture = _latin1_file(tmp_path, astronaut_jpeg_bytes)
    (tmp_path / "other").mkdir()
    broken = _latin1_file(tmp_path / "other", b"no picture")
    result = CliRunner().invoke(cli, ["analyze", "--json", str(picture), str(broken)])
    assert result.exit_code == 1, result.output  # one picture could not be read
    found, refused = (json.loads(line) for line in result.stdout_bytes.decode("utf-8").splitlines())
    assert found["image"] == f"{tmp_path}/caf\ufffd.jpg"  # valid Unicode: every JSON reader takes it
    assert base64.b64decode(found["image_bytes"]) == os.fsencode(picture)  # the very file, to open it
    assert found["faces"][0]["emotion"] == "happy"
    assert base64.b64decode(refused["image_bytes"]) == os.fsencode(broken)
    assert "not an image" in refused["error"] and "caf\ufffd.jpg" in refused["error"]


def test_a_utf8_name_has_no_image_bytes(tmp_path: Path, astronaut_jpeg_bytes: bytes) -> None:
    picture = tmp_path / "café.jpg"
    picture.write_bytes(astronaut_jpeg_bytes)
    result = CliRunner().invoke(cli, ["analyze", "--json", str(picture)])
    assert result.exit_code == 0, result.output
    assert set(json.loads(result.stdout)) == {"image", "faces"}
    assert json.loads(result.stdout)["image"] == str(picture)


def test_the_plain_table_names_a_latin1_file_without_crashing(tmp_path: Path, astronaut_jpeg_bytes: bytes) -> None:
    picture = _latin1_file(tmp_path, astronaut_jpeg_bytes)
    result = CliRunner().invoke(cli, ["analyze", str(picture)])
    assert result.exception is None, repr(result.exception)
    assert result.stdout.startswith(f"{tmp_path}/caf\ufffd.jpg: 1 face")


def test_catalog_import_names_a_latin1_file_without_crashing(tmp_path: Path) -> None:
    csv = _latin1_file(tmp_path, b"track_name,artists,valence,energy\nSong,Band,0.9,0.1\n", b"caf\xe9.csv")
    result = CliRunner().invoke(cli, ["catalog", "import", str(csv)], env={"MOODTAPE_DATA_DIR": str(tmp_path / "data")})
    assert result.exception is None, repr(result.exception)
    assert f"added 1 track(s) from {tmp_path}/caf\ufffd.csv to " in result.stdout


def test_a_url_given_to_analyze_is_named_in_full(astronaut_jpeg: Path) -> None:
    """click's Path type folded the "//": "https:/example.com/me.jpg" in the output and the message."""
    url = "https://example.com/me.jpg"
    result = CliRunner().invoke(cli, ["analyze", "--json", url, str(astronaut_jpeg)])
    assert result.exit_code == 1
    refused, found = (json.loads(line) for line in result.stdout.splitlines())
    assert refused["image"] == url
    assert refused["error"].startswith(f"{url}: no such file, and moodtape reads no URL (it downloads nothing)")
    assert found["faces"][0]["emotion"] == "happy"
    assert f"moodtape: error: {url}: no such file" in result.stderr


def test_a_url_given_to_recommend_is_named_in_full() -> None:
    url = "https://example.com/me.jpg"
    result = CliRunner().invoke(cli, ["recommend", "--image", url])
    assert isinstance(result.exception, ImageError)  # main() turns it into "moodtape: error: …"
    assert str(result.exception).startswith(f"{url}: no such file, and moodtape reads no URL")


def test_analyze_reads_a_file_url(astronaut_jpeg: Path) -> None:
    result = CliRunner().invoke(cli, ["analyze", "--json", astronaut_jpeg.as_uri()])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["faces"][0]["emotion"] == "happy"

"""``moodtape analyze``: table, JSON lines, annotated output, and bad files."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from cli_helpers import assert_one_line_error, run_moodtape
from click.testing import CliRunner

from moodtape.cli import cli
from moodtape.cli._models import parse_labels
from moodtape.emotions import EMOTIONS


@pytest.fixture
def blank_png(tmp_path: Path) -> Path:
    path = tmp_path / "blank.png"
    cv2.imwrite(str(path), np.full((240, 320, 3), 90, dtype=np.uint8))
    return path


@pytest.fixture
def truncated_jpeg(tmp_path: Path, astronaut_jpeg_bytes: bytes) -> Path:
    path = tmp_path / "cut.jpg"
    path.write_bytes(astronaut_jpeg_bytes[: len(astronaut_jpeg_bytes) // 2])
    return path


def test_table_names_the_emotion(astronaut_jpeg: Path) -> None:
    result = CliRunner().invoke(cli, ["analyze", str(astronaut_jpeg)])
    assert result.exit_code == 0, result.output
    assert f"{astronaut_jpeg}: 1 face" in result.stdout
    assert "happy" in result.stdout
    assert "box (x, y, w, h)" in result.stdout


def test_no_face_is_not_an_error(blank_png: Path) -> None:
    result = CliRunner().invoke(cli, ["analyze", str(blank_png)])
    assert result.exit_code == 0
    assert "no face found" in result.stdout


def test_json_prints_one_object_per_image(astronaut_jpeg: Path, blank_png: Path) -> None:
    result = CliRunner().invoke(cli, ["analyze", "--json", str(astronaut_jpeg), str(blank_png)])
    assert result.exit_code == 0, result.output
    documents = [json.loads(line) for line in result.stdout.splitlines()]
    assert [d["image"] for d in documents] == [str(astronaut_jpeg), str(blank_png)]
    (face,) = documents[0]["faces"]
    assert set(face) == {"box", "emotion", "confidence", "uncertain", "probabilities"}
    assert len(face["box"]) == 4 and all(isinstance(v, int) for v in face["box"])
    assert face["emotion"] == "happy"
    assert list(face["probabilities"]) == list(EMOTIONS)
    assert sum(face["probabilities"].values()) == pytest.approx(1.0, abs=1e-3)
    assert face["confidence"] == max(face["probabilities"].values())
    assert face["uncertain"] is False
    assert documents[1] == {"image": str(blank_png), "faces": []}


def test_out_writes_an_annotated_image(astronaut_jpeg: Path, tmp_path: Path) -> None:
    target = tmp_path / "out" / "annotated.png"
    result = CliRunner().invoke(cli, ["analyze", str(astronaut_jpeg), "--out", str(target)])
    assert result.exit_code == 0, result.output
    assert f"wrote {target}" in result.stderr
    annotated = cv2.imread(str(target))
    original = cv2.imread(str(astronaut_jpeg))
    assert annotated is not None and annotated.shape == original.shape
    changed = np.any(annotated.astype(int) != original.astype(int), axis=2)
    # The box is drawn around the face: pixels change there, not in the far corner.
    assert changed[60:180, 160:290].any()
    assert not changed[400:, :100].any()


def test_out_with_several_images_is_a_folder(astronaut_jpeg: Path, blank_png: Path, tmp_path: Path) -> None:
    folder = tmp_path / "annotated"
    result = CliRunner().invoke(cli, ["analyze", str(astronaut_jpeg), str(blank_png), "--out", str(folder)])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in folder.iterdir()) == ["astronaut-annotated.jpg", "blank-annotated.jpg"]


def test_missing_file_is_one_line_on_stderr_and_exit_1(tmp_path: Path) -> None:
    missing = tmp_path / "missing.jpg"
    result = CliRunner().invoke(cli, ["analyze", str(missing)])
    assert result.exit_code == 1
    assert result.stdout == ""
    assert_one_line_error(result.stderr, str(missing), "not found")


def test_json_reports_errors_as_objects_and_goes_on(astronaut_jpeg: Path, truncated_jpeg: Path) -> None:
    result = CliRunner().invoke(cli, ["analyze", "--json", str(truncated_jpeg), str(astronaut_jpeg)])
    assert result.exit_code == 1
    first, second = (json.loads(line) for line in result.stdout.splitlines())
    assert set(first) == {"image", "error"} and first["image"] == str(truncated_jpeg)
    assert "truncated or corrupt" in first["error"]
    assert second["faces"][0]["emotion"] == "happy"
    assert_one_line_error(result.stderr, str(truncated_jpeg))


@pytest.mark.slow
def test_real_process_keeps_stdout_pure_and_prints_no_traceback(
    astronaut_jpeg: Path, tmp_path: Path, truncated_jpeg: Path
) -> None:
    not_an_image = tmp_path / "notes.jpg"
    not_an_image.write_text("hello")
    good = run_moodtape("analyze", "--json", astronaut_jpeg)
    assert good.returncode == 0, good.stderr
    assert json.loads(good.stdout)["faces"][0]["emotion"] == "happy"
    bad = run_moodtape("analyze", "--json", not_an_image)
    assert bad.returncode == 1
    assert set(json.loads(bad.stdout)) == {"image", "error"}
    assert_one_line_error(bad.stderr, str(not_an_image), "not an image")
    # An error outside the per-image loop (a missing model) goes through the same one-line path.
    no_model = run_moodtape("analyze", astronaut_jpeg, "--model", tmp_path / "missing.onnx")
    assert no_model.returncode == 1 and no_model.stdout == ""
    assert_one_line_error(no_model.stderr, "model file not found")


def test_images_are_required() -> None:
    result = CliRunner().invoke(cli, ["analyze"])
    assert result.exit_code == 2
    assert "Missing argument" in result.stderr


def test_pixel_limit_comes_from_the_setting(astronaut_jpeg: Path) -> None:
    result = CliRunner().invoke(cli, ["analyze", "--json", str(astronaut_jpeg)], env={"MOODTAPE_MAX_PIXELS": "100000"})
    assert result.exit_code == 1
    (document,) = (json.loads(line) for line in result.stdout.splitlines())
    assert "512×512" in document["error"] and "MOODTAPE_MAX_PIXELS" in document["error"]
    assert_one_line_error(result.stderr, str(astronaut_jpeg), "megapixels")


@pytest.mark.parametrize(
    ("text", "expected"),
    [(None, None), ("Happy, sad ,neutral", ("happy", "sad", "neutral")), ("angry,,fear,", ("angry", "fear"))],
)
def test_labels_option_is_parsed(text: str | None, expected: tuple[str, ...] | None) -> None:
    assert parse_labels(text) == expected


@pytest.mark.parametrize("detector", ["yunet", "haar"])
def test_either_detector_finds_the_astronaut(astronaut_jpeg: Path, detector: str) -> None:
    result = CliRunner().invoke(cli, ["analyze", str(astronaut_jpeg), "--json", "--detector", detector])
    assert result.exit_code == 0, result.output
    assert len(json.loads(result.output.splitlines()[0])["faces"]) == 1


def test_an_unknown_detector_is_refused_with_the_choices(astronaut_jpeg: Path) -> None:
    result = CliRunner().invoke(cli, ["analyze", str(astronaut_jpeg), "--detector", "mtcnn"])
    assert result.exit_code == 2 and "'yunet', 'haar'" in result.output


def test_a_folder_stands_for_the_pictures_in_it(astronaut_jpeg_bytes: bytes, tmp_path: Path) -> None:
    photos = tmp_path / "photos"
    (photos / "older").mkdir(parents=True)
    for name in ("b.JPG", "a.jpeg", "older/c.jpg"):
        (photos / name).write_bytes(astronaut_jpeg_bytes)
    (photos / "notes.txt").write_text("not a picture")
    (photos / ".hidden.jpg").write_bytes(b"")
    result = CliRunner().invoke(cli, ["analyze", "--json", str(photos)])
    assert result.exit_code == 0, result.output
    read = [json.loads(line) for line in result.stdout.splitlines()]
    assert [Path(entry["image"]).name for entry in read] == ["a.jpeg", "b.JPG"]
    assert all(entry["faces"][0]["emotion"] == "happy" for entry in read)


def test_a_folder_without_pictures_is_named(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["analyze", str(tmp_path)])
    assert result.exit_code == 1
    assert_one_line_error(result.stderr, str(tmp_path), "folder")


def test_a_dash_reads_the_picture_from_standard_input(astronaut_jpeg_bytes: bytes) -> None:
    result = CliRunner().invoke(cli, ["analyze", "--json", "-"], input=astronaut_jpeg_bytes)
    assert result.exit_code == 0, result.output
    (line,) = result.stdout.splitlines()
    assert json.loads(line)["image"] == "<stdin>" and json.loads(line)["faces"][0]["emotion"] == "happy"


def test_standard_input_that_is_not_a_picture_is_named_stdin() -> None:
    result = CliRunner().invoke(cli, ["analyze", "-"], input=b"not a picture")
    assert result.exit_code == 1
    assert "<stdin>: not an image" in result.stderr

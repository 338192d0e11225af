"""The page's on-device crop (``imaging.js`` ``cropSquare``) matches ``Framing.crop`` byte for byte.

Where a face's square runs off the picture, the server fills the missing part with the picture
mirrored about its edge (``framing.mirrored``); the page must fill it the same way, or the emotion
model reads different pixels on the two paths. The browser's own parity test (tests/e2e) needs
Chromium and only reaches the crop through whole photos; this one runs ``cropSquare`` itself under
node on boxes crossing each edge, lying more than a picture's length outside, and on 1-px pictures.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

from moodtape.types import Box
from moodtape.vision.framing import Framing

IMAGING_JS = Path(__file__).resolve().parents[2] / "src/moodtape/web/static/js/ondevice/imaging.js"

#: Reads ``[{width, height, data, box, scale, shift}]`` on stdin, writes each crop's side and bytes.
RUNNER = """
import { cropSquare } from "./imaging.mjs";
let text = "";
for await (const chunk of process.stdin) text += chunk;
const crops = JSON.parse(text).map((c) => {
  const crop = cropSquare({ width: c.width, height: c.height, data: Uint8Array.from(c.data) }, c.box, c);
  return { side: crop.width, data: Array.from(crop.data) };
});
process.stdout.write(JSON.stringify(crops));
"""


def _boxes(width: int, height: int) -> list[Box]:
    """Boxes crossing each edge and corner, inside, and more than a picture's length outside."""
    w, h = max(2, width // 2), max(2, height // 2)
    return [
        Box(width // 4, height // 4, w, h),  # inside (or as near as a tiny picture allows)
        Box(-w // 2, height // 4, w, h),  # left edge
        Box(width - w // 2, height // 4, w, h),  # right edge
        Box(width // 4, -h // 2, w, h),  # top edge
        Box(width // 4, height - h // 2, w, h),  # bottom edge
        Box(-w // 2, -h // 2, w, h),  # top-left corner
        Box(width - w // 2, height - h // 2, w, h),  # bottom-right corner
        Box(-3 * width - 2, height // 4, w, h),  # far left, past several mirror periods
        Box(4 * width + 1, 5 * height + 3, w, h),  # far right and below
        Box(-width, -height, 3 * width, 3 * height),  # larger than the picture on every side
    ]


def _cases() -> list[dict[str, Any]]:
    rng = np.random.default_rng(26)
    cases = []
    for height, width in ((9, 13), (1, 1), (1, 7), (6, 1), (2, 2)):
        image = rng.integers(0, 256, (height, width), dtype=np.uint8)
        for box in _boxes(width, height):
            for scale, shift in ((1.0, 0.0), (1.25, 0.1), (0.5, -0.5)):
                cases.append(
                    {
                        "width": width,
                        "height": height,
                        "data": image.ravel().tolist(),
                        "box": {"x": box.x, "y": box.y, "w": box.w, "h": box.h},
                        "scale": scale,
                        "shift": shift,
                    }
                )
    return cases


def _server_crop(case: dict[str, Any]) -> npt.NDArray[np.uint8]:
    image = np.asarray(case["data"], np.uint8).reshape(case["height"], case["width"])
    return Framing(scale=case["scale"], shift=case["shift"]).crop(image, Box(**case["box"]))


def _edge_repeated(case: dict[str, Any], side: int) -> npt.NDArray[np.uint8]:
    """The crop as it was before session 26: the edge pixel repeated outward (``BORDER_REPLICATE``)."""
    image = np.asarray(case["data"], np.uint8).reshape(case["height"], case["width"])
    box = Box(**case["box"])
    cx = box.x + box.w / 2
    cy = box.y + box.h / 2 + case["shift"] * box.h
    left, top = round(cx - side / 2), round(cy - side / 2)
    rows = np.clip(np.arange(top, top + side), 0, case["height"] - 1)
    columns = np.clip(np.arange(left, left + side), 0, case["width"] - 1)
    return image[np.ix_(rows, columns)]


def _page_crops(cases: list[dict[str, Any]], folder: Path) -> list[dict[str, Any]]:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    # Copied as .mjs: node reads it as an ES module whatever its version and the nearest package.json say.
    shutil.copyfile(IMAGING_JS, folder / "imaging.mjs")
    (folder / "runner.mjs").write_text(RUNNER, encoding="utf-8")
    done = subprocess.run(
        [node, "runner.mjs"],
        cwd=folder,
        input=json.dumps(cases),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    crops: list[dict[str, Any]] = json.loads(done.stdout)
    return crops


def test_the_pages_crop_is_the_servers_byte_for_byte(tmp_path: Path) -> None:
    cases = _cases()
    page = _page_crops(cases, tmp_path)
    assert len(page) == len(cases)
    mismatched = []
    for case, crop in zip(cases, page, strict=True):
        expected = _server_crop(case)
        got = np.asarray(crop["data"], np.uint8)
        if expected.shape != (crop["side"], crop["side"]) or not np.array_equal(got, expected.ravel()):
            mismatched.append((case["width"], case["height"], case["box"], case["scale"], case["shift"]))
    assert not mismatched, f"{len(mismatched)} of {len(cases)} crops differ, first: {mismatched[:3]}"


def test_the_cases_tell_mirroring_from_repeating_the_edge() -> None:
    """Guards the test above: most of its crops run off the picture, where the two fills differ."""
    cases = _cases()
    differing = [
        case
        for case in cases
        if not np.array_equal(_server_crop(case), _edge_repeated(case, _server_crop(case).shape[0]))
    ]
    assert len(differing) >= len(cases) // 2
    assert any(case["width"] == 1 and case["height"] > 1 for case in differing)

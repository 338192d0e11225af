"""Print the parity figures that test_ondevice.py asserts (for docs/page.md):

.venv/bin/python tests/e2e/parity_figures.py
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from browsertools import camera_flags, chromium_path, open_page, start_server, stop_server, write_face_video
from test_ondevice import _browser_gray_and_probs, _load_reader, _scenes

from moodtape.emotions import EMOTIONS
from moodtape.types import Box
from moodtape.vision.pipeline import Analyzer


def main() -> None:
    from PIL import Image
    from playwright.sync_api import sync_playwright

    analyzer = Analyzer()
    with tempfile.TemporaryDirectory() as tmp:
        server = start_server(Path(tmp))
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path=chromium_path(), args=camera_flags(write_face_video(Path(tmp) / "f.y4m"))
                )
                context, page, _ = open_page(browser, server)
                _load_reader(page)
                diffs, agree, gray_diff = [], 0, 0
                for rgb in _scenes():
                    gray = np.asarray(Image.fromarray(rgb).convert("L"))
                    boxes = analyzer.detector.detect(gray) or [
                        Box(gray.shape[0] // 8, gray.shape[0] // 8, gray.shape[0] * 3 // 4, gray.shape[0] * 3 // 4)
                    ]
                    browser_gray, rows = _browser_gray_and_probs(page, rgb, boxes)
                    gray_diff = max(gray_diff, int(np.abs(browser_gray.astype(int) - gray.astype(int)).max()))
                    for face, row in zip(analyzer.classify_boxes(gray, boxes), rows, strict=True):
                        want = np.array([face.probabilities[label] for label in EMOTIONS])
                        agree += int(np.argmax(want) == np.argmax(row))
                        diffs.append(float(np.abs(want - np.asarray(row)).max()))
                print(
                    f"faces {len(diffs)}, same top label {agree} ({agree / len(diffs):.1%}), gray max diff {gray_diff}"
                )
                print(
                    f"max |Δp| {max(diffs):.4f}, median {np.median(diffs):.4f}, 95th pct {np.percentile(diffs, 95):.4f}"
                )
                context.close()
                browser.close()
        finally:
            stop_server(server)


if __name__ == "__main__":
    main()

"""Face boxes are drawn where the faces are, small ones too (session 27).

The boxes are placed by a translation (no layout when they move). A translation in percent of the
box's own size put small boxes far off: a box is never drawn narrower than its borders (6 px, 8 px
for the main face), so a 40-px face in a 4032-px group photo shown about 556 px wide, a face in the
phone's small preview or a face cut by the frame's edge landed tens to thousands of px from its face,
or off the picture. Now the translation is a share of the layer (cqw, cqh), and every box's drawn
left and top edges are within a pixel of the face's, its size too where the face is wider than the
borders.
"""

from __future__ import annotations

import json
from typing import Any

from browsertools import Server, astronaut_rgb, jpeg_bytes, watched_page

EMOTIONS = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
#: A box drawn narrower than this is drawn this wide (its borders, main face's 4 px each side).
BORDERS_PX = 8
TOLERANCE_PX = 1.0

CAMERA = {"width": 640, "height": 480}
#: Corners, a face 8x10 px in the frame, a face cut by the frame's left edge (4 px of it in view,
#: drawn at the right of the mirrored selfie view), one at the top right corner.
CAMERA_FACES = [
    [200, 100, 150, 150],
    [0, 0, 100, 120],
    [540, 360, 100, 120],
    [300, 200, 8, 10],
    [0, 150, 4, 120],
    [630, 5, 10, 12],
]
PHOTO = {"width": 4032, "height": 3024}
#: A group photo's small faces, one at the right edge, one of 5x5 px.
PHOTO_FACES = [[0, 0, 300, 300], [3950, 2900, 37, 41], [2000, 1500, 5, 5], [3600, 1000, 40, 40], [3990, 10, 41, 40]]

#: Each box's drawn edges against the face's place in the layer, in px.
MEASURE = """([selector, W, H, mirrored, faces]) => {
  const layer = document.querySelector(selector).getBoundingClientRect();
  return [...document.querySelector(selector).children].map((box, i) => {
    const drawn = box.getBoundingClientRect();
    const [x, y, w, h] = faces[i];
    const left = layer.left + ((mirrored ? W - x - w : x) / W) * layer.width;
    const top = layer.top + (y / H) * layer.height;
    return { face: faces[i].join(","), left: drawn.left - left, top: drawn.top - top,
             width: drawn.width - (w / W) * layer.width, height: drawn.height - (h / H) * layer.height,
             faceWidth: (w / W) * layer.width, faceHeight: (h / H) * layer.height };
  });
}"""


def answer(image: dict[str, int], boxes: list[list[int]]) -> str:
    faces = [
        {
            "box": box,
            "emotion": "happy",
            "confidence": 0.9,
            "uncertain": False,
            "probabilities": {e: (0.9 if e == "happy" else 0.1 / 6) for e in EMOTIONS},
        }
        for box in boxes
    ]
    mood = {"valence": 0.5, "arousal": 0.3, "emotion": "happy", "source": "face"}
    return json.dumps({"faces": faces, "image": image, "mood": mood, "stream": "s", "elapsed_ms": 1.0})


def misplaced(measured: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The boxes whose edges are off by more than a pixel (size only where the face is wider than the
    borders: a smaller one is drawn as wide as its borders, from its face's left and top edges)."""
    off = []
    for box in measured:
        errors = [abs(box["left"]), abs(box["top"])]
        if box["faceWidth"] > BORDERS_PX:
            errors.append(abs(box["width"]))
        if box["faceHeight"] > BORDERS_PX:
            errors.append(abs(box["height"]))
        if max(errors) > TOLERANCE_PX:
            off.append({k: round(v, 1) if isinstance(v, float) else v for k, v in box.items()})
    return off


def test_camera_boxes_are_where_the_faces_are_in_the_mirrored_view(browser: Any, server: Server) -> None:
    with watched_page(browser, server) as page:
        page.route(
            "**/api/analyze?stream=*",
            lambda r: r.fulfill(status=200, content_type="application/json", body=answer(CAMERA, CAMERA_FACES)),
        )
        page.get_by_role("button", name="Start camera").click()
        page.wait_for_selector(f"#camera-overlay .face-box:nth-child({len(CAMERA_FACES)})")
        for width in (1280, 390):  # the desktop's picture and the phone's small preview
            page.set_viewport_size({"width": width, "height": 900})
            page.wait_for_timeout(400)
            measured = page.evaluate(
                MEASURE, ["#camera-overlay", CAMERA["width"], CAMERA["height"], True, CAMERA_FACES]
            )
            assert len(measured) == len(CAMERA_FACES)
            assert misplaced(measured) == [], f"at {width} px wide"


def test_photo_boxes_are_where_the_faces_are_small_faces_too(browser: Any, server: Server) -> None:
    with watched_page(browser, server) as page:
        page.route(
            "**/api/analyze*",
            lambda r: r.fulfill(status=200, content_type="application/json", body=answer(PHOTO, PHOTO_FACES)),
        )
        page.get_by_role("tab", name="Photo").click()
        photo = {"name": "f.jpg", "mimeType": "image/jpeg", "buffer": jpeg_bytes(astronaut_rgb())}
        page.locator("#photo-input").set_input_files(photo)
        page.wait_for_selector(f"#photo-overlay .face-box:nth-child({len(PHOTO_FACES)})")
        page.wait_for_timeout(300)
        measured = page.evaluate(MEASURE, ["#photo-overlay", PHOTO["width"], PHOTO["height"], False, PHOTO_FACES])
        assert len(measured) == len(PHOTO_FACES)
        assert misplaced(measured) == []

"""Photo shapes users bring, session 29: far faces beside near ones, and noise beside a clipped window.

Before: a group photo's far faces (about 50 px beside sure faces of 100 px and more) were dropped for
being under ``min_face``, though the first copy had shown them sure (the small-face search runs only
when nothing is sure); and a noisy photo whose middle was a window clipped white read as quiet
(the noise was judged on the centre square, clipped pixels and all), so it was never searched
smoothed. Fixtures are built in code from scikit-image's astronaut.
"""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt
import pytest
from tests.vision.vision_scenes import ASTRONAUT_FACE, iou

from moodtape.types import Box
from moodtape.vision import dark_photos, noisy_photos
from moodtape.vision.pipeline import Analyzer

Gray = npt.NDArray[np.uint8]


def near_and_far(astronaut: Gray, far_scale: float) -> tuple[Gray, Box, Box]:
    """A 1600 × 1200 photo: the astronaut near the camera (face about 110 px) and again far back at
    ``far_scale`` of that; the two faces' expected places."""
    photo = np.full((1200, 1600), 128, np.uint8)
    photo[600:1112, 100:612] = astronaut
    far = cv2.resize(astronaut, None, fx=far_scale, fy=far_scale, interpolation=cv2.INTER_AREA)
    photo[200 : 200 + far.shape[0], 1000 : 1000 + far.shape[1]] = far
    near_face = Box(ASTRONAUT_FACE.x + 100, ASTRONAUT_FACE.y + 600, ASTRONAUT_FACE.w, ASTRONAUT_FACE.h)
    far_face = Box(
        round(ASTRONAUT_FACE.x * far_scale) + 1000,
        round(ASTRONAUT_FACE.y * far_scale) + 200,
        round(ASTRONAUT_FACE.w * far_scale),
        round(ASTRONAUT_FACE.h * far_scale),
    )
    return photo, near_face, far_face


@pytest.mark.parametrize("far_scale", [0.45, 0.55])
def test_a_far_face_beside_a_near_one_is_found(
    bundled_analyzer: Analyzer, astronaut_gray: Gray, far_scale: float
) -> None:
    photo, near_face, far_face = near_and_far(astronaut_gray, far_scale)
    faces = bundled_analyzer.analyze_gray(photo)
    # Before: only the near face.
    assert len(faces) == 2, faces
    assert iou(faces[0].box, near_face) > 0.5 and iou(faces[1].box, far_face) > 0.4, faces


def test_a_far_face_under_the_small_face_size_is_still_left_out(
    bundled_analyzer: Analyzer, astronaut_gray: Gray
) -> None:
    """The rule keeps sure faces down to ``small_face`` (40 px), as the search for small faces does."""
    photo, _, _ = near_and_far(astronaut_gray, 0.3)
    assert len(bundled_analyzer.analyze_gray(photo)) == 1


def test_a_live_frame_keeps_its_smallest_face(bundled_analyzer: Analyzer, astronaut_gray: Gray) -> None:
    """A stream's frames keep ``min_face``: no face more to track or classify each frame."""
    photo, near_face, _ = near_and_far(astronaut_gray, 0.55)
    located = bundled_analyzer.locate(photo, frame=True)
    assert [iou(box, near_face) > 0.5 for box, _ in located] == [True]


def noisy_beside_a_clipped_window(astronaut: Gray, seed: int) -> Gray:
    """The astronaut at 35 % of the light, noise σ 30, JPEG quality 70, on the left of a 1536-px-wide
    photo whose other two thirds are a window blown out white (255, no noise)."""
    dimmed = astronaut.astype(np.float32) * 0.35 + np.random.default_rng(seed).normal(0, 30, astronaut.shape)
    ok, encoded = cv2.imencode(".jpg", np.clip(dimmed, 0, 255).astype(np.uint8), [cv2.IMWRITE_JPEG_QUALITY, 70])
    assert ok
    photo = np.full((512, 1536), 255, np.uint8)
    photo[:, :512] = cv2.imdecode(encoded, cv2.IMREAD_GRAYSCALE)
    return photo


@pytest.mark.parametrize("seed", [0, 1])
def test_a_noisy_photo_beside_a_clipped_window_is_searched_smoothed(
    bundled_analyzer: Analyzer, astronaut_gray: Gray, seed: int
) -> None:
    photo = noisy_beside_a_clipped_window(astronaut_gray, seed)
    assert not dark_photos.dark_all_over(photo)
    # Before: read 0.0 (its centre square is all window), so no smoothed search and no face.
    assert noisy_photos.noise_level(photo) >= noisy_photos.NOISY_FROM
    faces = bundled_analyzer.analyze_gray(photo)
    assert len(faces) == 1 and iou(faces[0].box, ASTRONAUT_FACE) > 0.6, faces


def test_clipped_pixels_do_not_count_as_quiet() -> None:
    """The noise of the unclipped part is what is read, wherever the clipped part lies."""
    noise = np.clip(128 + np.random.default_rng(0).normal(0, 10, (600, 900)), 0, 255).astype(np.uint8)
    alone = noisy_photos.noise_level(noise)
    for clipped in (0, 255):
        blown = noise.copy()
        blown[:, 200:800] = clipped
        assert abs(noisy_photos.noise_level(blown) - alone) < 0.1 * alone
    assert noisy_photos.noise_level(np.full((600, 900), 255, np.uint8)) == 0.0


def in_silhouette(astronaut: Gray, light: float) -> Gray:
    """The astronaut at ``light`` of its light before a window (gray 250) twice its size that glows
    into its outline."""
    height, width = astronaut.shape
    canvas = np.full((height * 2, width * 2), 250, np.float32)
    canvas[height // 2 : height // 2 + height, width // 2 : width // 2 + width] = astronaut * light
    glow = cv2.GaussianBlur(canvas, (0, 0), 12)
    noisy = 0.75 * canvas + 0.25 * glow + np.random.default_rng(0).normal(0, 2, canvas.shape)
    return np.clip(noisy, 0, 255).astype(np.uint8)


@pytest.mark.parametrize("light", [0.045, 0.035])
def test_a_face_in_silhouette_before_a_window_is_found(
    bundled_analyzer: Analyzer, astronaut_gray: Gray, light: float
) -> None:
    photo = in_silhouette(astronaut_gray, light)
    assert not dark_photos.dark_all_over(photo) and dark_photos.backlit(photo)
    faces = bundled_analyzer.analyze_gray(photo)
    # Before: no face (not dark all over, so the brightened copy was never searched).
    expected = Box(ASTRONAUT_FACE.x + 256, ASTRONAUT_FACE.y + 256, ASTRONAUT_FACE.w, ASTRONAUT_FACE.h)
    assert len(faces) == 1 and iou(faces[0].box, expected) > 0.6, faces


def test_a_page_of_text_in_silhouette_shows_no_face(bundled_analyzer: Analyzer) -> None:
    """Only sure faces count in a backlit photo's brightened copy: the whole search there (faces that
    fill the photo from 0.5) found a 0.63 "face" in printed text before a window."""
    from skimage import data

    text = cv2.resize(np.asarray(data.text(), np.uint8), (640, 480))
    photo = np.where(np.arange(640)[None, :] < 320, 250, text // 4).astype(np.uint8)
    assert dark_photos.backlit(photo)
    assert bundled_analyzer.analyze_gray(photo) == []


def test_an_ordinary_photo_is_not_backlit(astronaut_gray: Gray) -> None:
    assert not dark_photos.backlit(astronaut_gray)
    assert not dark_photos.backlit(np.full((480, 640), 250, np.uint8))


def test_a_starfield_before_a_window_at_12_megapixels_shows_no_face(bundled_analyzer: Analyzer) -> None:
    """A backlit photo's brightened copy counts faces from ``BACKLIT_SURE_FROM`` only: from the usual
    0.7, scikit-image's Hubble deep field at a quarter of its light before a window, at 4,000 × 3,000,
    showed a 0.76 "face" (faces in silhouette scored 0.802 and more)."""
    from skimage import data

    stars = cv2.cvtColor(np.asarray(data.hubble_deep_field(), np.uint8), cv2.COLOR_RGB2GRAY)
    height, width = stars.shape
    window = np.full((height * 2, width * 2), 250, np.uint8)
    window[height // 2 : height // 2 + height, width // 2 : width // 2 + width] = (stars * 0.25).astype(np.uint8)
    photo = cv2.resize(window, (4000, 3000))
    assert dark_photos.backlit(photo) and not dark_photos.dark_all_over(photo)
    assert bundled_analyzer.analyze_gray(photo) == []

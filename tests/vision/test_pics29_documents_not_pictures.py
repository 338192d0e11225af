"""A PDF, an SVG or a saved web page given as a picture: the error names what the file is and what to send."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
from PIL import Image

from moodtape.errors import UnsupportedImageError
from moodtape.vision.images import load_image

_SVG = b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="9" height="9"></svg>'
_PAGE = b"\xef\xbb\xbf\n<!DOCTYPE html><html><body><img src='me.jpg'></body></html>"


def _pdf(rgb: npt.NDArray[np.uint8]) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, "PDF")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("make", "named", "advice"),
    [
        (_pdf, "a PDF document, not an image", "export the page with the face as a JPEG or PNG"),
        (lambda _: _SVG, "an SVG drawing, not an image", "export it as a PNG"),
        (lambda _: _PAGE, "a web page (HTML)", "open the picture itself in the browser"),
    ],
)
def test_a_document_is_named_with_what_to_do(
    tmp_path: Path, astronaut_rgb: npt.NDArray[np.uint8], make: object, named: str, advice: str
) -> None:
    path = tmp_path / "me photo.jpg"
    path.write_bytes(make(astronaut_rgb))  # type: ignore[operator]
    with pytest.raises(UnsupportedImageError) as caught:
        load_image(path)
    assert str(caught.value).startswith(f"{path}: {named}")
    assert advice in str(caught.value)


def test_other_unreadable_bytes_say_to_save_a_jpeg_or_png() -> None:
    with pytest.raises(UnsupportedImageError) as caught:
        load_image(b"\x00\x01 a format nobody reads")
    assert str(caught.value) == (
        "image data: not an image (or a format moodtape cannot read); save it as a JPEG or PNG and try again"
    )


def test_a_real_picture_whose_bytes_mention_svg_is_still_read(astronaut_rgb: npt.NDArray[np.uint8]) -> None:
    """Only the file's start decides: a PNG with "<svg" in a text chunk is a PNG."""
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    info.add_text("Comment", "<?xml <svg <html %PDF-")
    buffer = io.BytesIO()
    Image.fromarray(astronaut_rgb).save(buffer, "PNG", pnginfo=info)
    assert load_image(buffer.getvalue()).shape == (*astronaut_rgb.shape[:2], 3)

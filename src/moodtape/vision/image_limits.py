"""How large a picture moodtape agrees to decode, judged from its header before any pixel is decoded.

A tiny file can declare a gigapixel image (a "decompression bomb"), so the declared size is checked
against a pixel limit. The side and the aspect ratio are bounded too: a 1 × 39,000,000 PNG is under
a pixel limit yet costs gigabytes in the decoder's row buffers. Pillow's own bomb guard
(``Image.MAX_IMAGE_PIXELS``) stays as it is, for every other user of Pillow in the process; ours is
stricter and fires first.
"""

from __future__ import annotations

from typing import Final

from moodtape.errors import ImageError, ImageTooLargeError

#: 40 megapixels: larger than any phone or DSLR photo people upload, small enough to decode safely.
DEFAULT_MAX_PIXELS: Final = 40_000_000
#: Longest side accepted: above any camera's (a 100-megapixel sensor is 11,648 px wide).
MAX_SIDE: Final = 20_000
#: Longest over shortest side: a phone panorama is about 4:1; 1 × 39,000,000 is a decoder attack.
MAX_ASPECT: Final = 16.0
#: Images with no side longer than this are cheap whatever their shape (a 300 × 1 strip is fine).
THIN_CHECK_FROM: Final = 4096


def check_size(size: tuple[int, int], max_pixels: int, name: str = "image") -> None:
    """Refuse a declared size before any pixel is decoded: too many pixels, too long a side, too thin.

    Raises:
        ImageTooLargeError: the message says which bound and how to change the pixel limit.
    """
    width, height = size
    if width < 1 or height < 1:
        raise ImageError(f"{name}: the image declares no pixels ({width}×{height})")
    if width * height > max_pixels:
        raise ImageTooLargeError(
            f"{name}: {width}×{height} is {width * height / 1e6:.1f} megapixels; the limit is "
            f"{max_pixels / 1e6:.1f} (set MOODTAPE_MAX_PIXELS to change it)"
        )
    longest = max(width, height)
    if longest > MAX_SIDE or (longest > THIN_CHECK_FROM and longest > MAX_ASPECT * min(width, height)):
        raise ImageTooLargeError(
            f"{name}: {width}×{height} is too long or too thin; moodtape reads images up to {MAX_SIDE} pixels "
            f"a side, and no thinner than {MAX_ASPECT:g}:1 past {THIN_CHECK_FROM} pixels — crop the photo and try again"
        )

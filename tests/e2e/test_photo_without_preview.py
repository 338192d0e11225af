"""A photo the server reads but the browser cannot show (a HEIC outside Safari): its faces boxed on an
empty frame that says why, not a broken-image icon; the next photo that the browser can show clears it."""

from __future__ import annotations

from typing import Any

import pytest
from browsertools import astronaut_rgb, jpeg_bytes

from heif_pictures import encode, needs_pillow_heif

pytestmark = [pytest.mark.e2e, needs_pillow_heif]
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install -e .[dev])")
expect = sync_api.expect

SHOWN = "() => { const img = document.getElementById('photo'); return img.complete && img.naturalWidth > 0; }"


def _upload(page: Any, name: str, mime: str, data: bytes) -> None:
    page.get_by_role("tab", name="Photo").click()
    page.set_input_files("#photo-input", files=[{"name": name, "mimeType": mime, "buffer": data}])
    expect(page.locator("#photo-overlay .face-box")).to_have_count(1)
    page.wait_for_function("() => document.getElementById('photo').complete")


def test_a_heic_this_browser_cannot_show_is_boxed_on_an_empty_frame(page: Any) -> None:
    wrap = page.locator("#photo-stage .media-wrap")
    _upload(page, "IMG_0001.HEIC", "image/heic", encode(astronaut_rgb(), "HEIF"))
    if page.evaluate(SHOWN):
        pytest.skip("this browser shows HEIC pictures itself")
    expect(wrap).to_have_class("media-wrap no-preview")
    expect(page.locator("#photo-message")).to_contain_text("1 face")
    hint = page.evaluate(
        "() => getComputedStyle(document.querySelector('#photo-stage .media-wrap'), '::before').content"
    )
    assert "cannot show" in hint
    assert page.evaluate("() => getComputedStyle(document.getElementById('photo')).visibility") == "hidden"

    _upload(page, "astronaut.jpg", "image/jpeg", jpeg_bytes(astronaut_rgb()))
    page.wait_for_function(SHOWN)
    expect(wrap).to_have_class("media-wrap")

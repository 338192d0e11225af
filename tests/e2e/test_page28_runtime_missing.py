"""The runtime's WebAssembly missing on the server: plain words, and no uncaught error (session 28).

Before: with ``ort-wasm-simd-threaded.wasm`` answered 404 (a proxy or a copy of the server without
it), ONNX Runtime Web's worker fetched it, aborted, and threw inside that worker, where the page's
code cannot catch it: the console showed an uncaught "Aborted(CompileError: WebAssembly.instantiate():
expected magic word 00 61 73 6d, found 6e 6f 74 20 @+0). Build with -sASSERTIONS for more info."
(Playwright's ``pageerror``). The page now reads the file's first 4 bytes first (a Range request)
and says in plain words that the reader is not installed, for a 404 and for a page that is not
WebAssembly (a proxy's HTML, answered 200); the server reads the frames.

A first version asked with HEAD and took any answer but 2xx for "not installed": a proxy that
refuses HEAD or ranges (405) turned the on-device reader off with a false reason, where the runtime
itself would have loaded. Such an answer proves nothing now, and the device path is taken.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from browsertools import TIMEOUT_MS, Server, open_page

from moodtape.web.ondevice import runtime_installed

STATIC = Path(__file__).resolve().parents[2] / "src" / "moodtape" / "web" / "static"

pytestmark = pytest.mark.skipif(
    not runtime_installed(STATIC), reason="ONNX Runtime Web is not in static/vendor/ort (run make, which needs npm)"
)


NOT_INSTALLED_NOTE = (
    "Frames are read on this moodtape server, in memory. The on-device reader is not installed on this server."
)


def start_with_the_wasm_routed(
    browser: Any, server: Server, answer: Callable[[Any], None], uncaught: list[str]
) -> tuple[Any, Any, Any]:
    """Open the page with on-device frames asked for, ``answer`` serving the runtime's .wasm, and
    start the camera; errors uncaught in the page go to ``uncaught``."""
    context, page, watch = open_page(browser, server)
    page.on("pageerror", lambda exc: uncaught.append(str(exc)[:200]))
    page.route("**/vendor/ort/*.wasm", answer)
    page.goto(server.url + "?frames=device")
    page.wait_for_selector("body[data-ready='true']")
    page.get_by_role("button", name="Start camera").click()
    return context, page, watch


def assert_plain_words_and_nothing_uncaught(page: Any, watch: Any, uncaught: list[str]) -> None:
    page.wait_for_selector("#camera-mode[data-path=server]", state="attached", timeout=60_000)
    page.wait_for_selector("#faces-summary:has-text('1 face')", timeout=TIMEOUT_MS)
    page.wait_for_timeout(1000)  # a worker's late abort would be reported by now
    assert page.inner_text("#camera-mode") == NOT_INSTALLED_NOTE
    assert uncaught == [], uncaught
    watch.errors.clear()  # asserted above, with its own message
    watch.check(page)


@pytest.mark.parametrize(
    ("status", "body", "content_type"),
    [
        (404, "not found", "text/plain"),
        (200, "<!doctype html><title>Sign in</title><p>Sign in to continue.</p>", "text/html"),
    ],
    ids=["404", "html-page-200"],
)
def test_a_missing_runtime_file_is_said_in_plain_words_without_an_uncaught_error(
    browser: Any, server: Server, status: int, body: str, content_type: str
) -> None:
    uncaught: list[str] = []

    def answer(route: Any) -> None:
        route.fulfill(status=status, body=body, content_type=content_type)

    context, page, watch = start_with_the_wasm_routed(browser, server, answer, uncaught)
    try:
        assert_plain_words_and_nothing_uncaught(page, watch, uncaught)
    finally:
        context.close()


def refuse_head_and_ranges(route: Any) -> None:
    """A proxy that answers 405 to HEAD and to a Range request, and serves a plain GET."""
    request = route.request
    if request.method == "HEAD" or "range" in request.headers:
        route.fulfill(status=405, body="Method Not Allowed", content_type="text/plain")
    else:
        route.continue_()


def ignore_ranges(route: Any) -> None:
    """A server that answers a Range request with the whole file (200)."""
    if "range" not in route.request.headers:
        route.continue_()
        return
    headers = {k: v for k, v in route.request.headers.items() if k.lower() != "range"}
    whole = route.fetch(headers=headers)
    assert whole.status == 200, whole.status
    route.fulfill(response=whole)


@pytest.mark.parametrize("answer", [refuse_head_and_ranges, ignore_ranges], ids=["405", "range-ignored"])
def test_a_proxy_that_refuses_the_check_does_not_turn_the_reader_off(
    browser: Any, server: Server, answer: Callable[[Any], None]
) -> None:
    uncaught: list[str] = []
    context, page, watch = start_with_the_wasm_routed(browser, server, answer, uncaught)
    try:
        page.wait_for_selector("#camera-mode[data-path=device]", state="attached", timeout=60_000)
        assert "not installed" not in page.inner_text("#camera-mode")
        assert uncaught == [], uncaught
        watch.check(page)
    finally:
        context.close()

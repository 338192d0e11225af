"""Missing static files count against the client's rate limit; the page's own files never do.

Before session 27 every path under ``/static/`` was exempt from the limit, so a client looping over
``/static/nope-1.js``, ``/static/nope-2.js``… got a 404 for each, without end (under
``MOODTAPE_RATE_LIMIT=2``: 60 in a row, 60 404s), while any other missing path was refused from
the third. Now only files that are in the static folder are exempt: one page load asks for about
35 of them at once, all there, and none of them may be refused.
"""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from webtools import AppFactory

#: Every static URL a page names: stylesheet, icons, module preloads and scripts.
STATIC_URL = re.compile(r"""(?:href|src)="(/static/[^"]+)\"""")


@pytest.fixture
def limited(make_app: AppFactory, still_limiter_clock: None) -> FlaskClient:
    """A client of an app limited to 2 requests a second, with the limiter's clock held still."""
    app: Flask = make_app(MOODTAPE_RATE_LIMIT="2")
    return app.test_client()


@pytest.mark.parametrize("prefix", ["/static/", "/static/js/", "/static/v/0123456789ab/", "/static/v/x/js/"])
def test_a_loop_over_missing_static_files_is_refused(limited: FlaskClient, prefix: str) -> None:
    statuses = [limited.get(f"{prefix}nope-{n}.js").status_code for n in range(60)]
    assert statuses.count(404) == 2 and statuses.count(429) == 58
    refused = limited.get(f"{prefix}nope-60.js")
    assert refused.json is not None and refused.json["error"]["code"] == "rate_limited"


def test_odd_spellings_of_a_real_file_are_counted(limited: FlaskClient) -> None:
    """``web/static_names.py`` answers them 404: they are no file's name, so they count."""
    statuses = [
        limited.get(path).status_code for path in ("/static/./style.css", "/static/style.css/", "/static//style.css")
    ]
    assert statuses == [404, 404, 429]


def test_one_page_load_is_never_refused_by_its_own_files(limited: FlaskClient) -> None:
    """The page, then every static file it names, under a limit of 2 a second: nothing is refused."""
    page = limited.get("/")
    assert page.status_code == 200
    names = STATIC_URL.findall(page.get_data(as_text=True))
    assert len(names) >= 30, names  # the stylesheet, icons and every module, preloaded together
    for _ in range(3):  # reloads too
        statuses = {url: limited.get(url).status_code for url in names}
        assert set(statuses.values()) == {200}, statuses
    for path in ("/static/style.css", "/static/vendor/ort/ort.wasm.min.mjs", "/static/js/ondevice/engine.js"):
        assert limited.get(path).status_code == 200, path
        assert limited.head(path).status_code == 200, path
    assert limited.get("/api/config").status_code == 200  # the page's second counted request
    assert limited.get("/api/config").status_code == 429


def test_a_page_still_loads_after_the_budget_went_on_missing_files(limited: FlaskClient) -> None:
    """Misses spend the budget, but the files that are there stay exempt."""
    assert [limited.get(f"/static/miss-{n}.css").status_code for n in range(3)] == [404, 404, 429]
    assert limited.get("/static/style.css").status_code == 200
    assert limited.get("/static/js/app.js").status_code == 200
    assert limited.get("/api/config").status_code == 429  # one budget, whatever the misses were
    assert limited.get("/static/js").status_code == 429  # a folder is no file

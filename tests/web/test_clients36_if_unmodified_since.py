"""``If-Unmodified-Since`` on static files (RFC 9110 §13.1.4 and §13.2.2).

Before: Werkzeug never reads the header, so a file changed after the date was served anyway: 200 of
the whole file, or with a ``Range`` (a download resumed with it) a 206 of the new file's bytes for
the client to splice onto the old file's first ones. Now a 412, before ``If-None-Match`` and the
range, as the JSON error; the header is ignored beside ``If-Match``, when it is no valid date, and
on files that have no ``Last-Modified``.
"""

from __future__ import annotations

from datetime import timedelta
from email.utils import format_datetime, parsedate_to_datetime

import pytest
from flask.testing import FlaskClient

PATHS = ["/static/style.css", "/static/v/0123456789ab/style.css"]
LONG_AGO = "Mon, 07 Dec 2020 15:41:37 GMT"
LATER = "Fri, 07 Dec 2040 15:41:37 GMT"


def _last_modified(client: FlaskClient, path: str) -> str:
    return client.get(path).headers["Last-Modified"]


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("more", [{}, {"Range": "bytes=0-9"}, {"If-None-Match": "*"}, {"Accept-Encoding": "gzip"}])
def test_a_file_changed_after_the_date_is_a_412(client: FlaskClient, path: str, more: dict[str, str]) -> None:
    answer = client.get(path, headers={"If-Unmodified-Since": LONG_AGO, **more})
    assert answer.status_code == 412
    assert answer.get_json()["error"]["code"] == "precondition_failed"
    assert "If-Unmodified-Since" in answer.get_json()["error"]["message"]
    assert answer.headers["Last-Modified"] == _last_modified(client, path)


@pytest.mark.parametrize("path", PATHS)
def test_a_head_is_refused_alike(client: FlaskClient, path: str) -> None:
    assert client.head(path, headers={"If-Unmodified-Since": LONG_AGO}).status_code == 412


@pytest.mark.parametrize("path", PATHS)
def test_a_file_unchanged_since_the_date_is_served_and_its_range_too(client: FlaskClient, path: str) -> None:
    exactly = _last_modified(client, path)
    for date in (exactly, LATER):
        assert client.get(path, headers={"If-Unmodified-Since": date}).status_code == 200
        ranged = client.get(path, headers={"If-Unmodified-Since": date, "Range": "bytes=0-9"})
        assert (ranged.status_code, len(ranged.data)) == (206, 10)


@pytest.mark.parametrize(
    "headers",
    [
        {"If-Unmodified-Since": "yesterday"},
        {"If-Unmodified-Since": f"{LONG_AGO}, {LONG_AGO}"},  # a list of dates is no valid date
        {"If-Unmodified-Since": LONG_AGO, "If-Match": "*"},  # If-Match is there: this one is ignored
    ],
)
def test_the_header_is_ignored_where_the_rfc_says(client: FlaskClient, headers: dict[str, str]) -> None:
    assert client.get("/static/style.css", headers=headers).status_code == 200


def test_if_match_still_decides_beside_it(client: FlaskClient) -> None:
    tag = client.get("/static/style.css").headers["ETag"]
    met = client.get("/static/style.css", headers={"If-Match": tag, "If-Unmodified-Since": LONG_AGO})
    assert met.status_code == 200
    failed = client.get("/static/style.css", headers={"If-Match": '"other"', "If-Unmodified-Since": LATER})
    assert failed.status_code == 412 and "If-Match" in failed.get_json()["error"]["message"]


def test_a_file_without_last_modified_ignores_it(client: FlaskClient) -> None:
    model = client.get("/api/ondevice").get_json()["models"]["emotion"]
    answer = client.get(model, headers={"If-Unmodified-Since": LONG_AGO, "Range": "bytes=0-9"})
    assert "Last-Modified" not in answer.headers and answer.status_code == 206


def test_a_date_a_second_before_the_change_is_a_412(client: FlaskClient) -> None:
    changed = parsedate_to_datetime(_last_modified(client, "/static/style.css"))
    just_before = format_datetime(changed - timedelta(seconds=1), usegmt=True)
    assert client.get("/static/style.css", headers={"If-Unmodified-Since": just_before}).status_code == 412

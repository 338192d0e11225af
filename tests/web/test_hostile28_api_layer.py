"""Hostile (and merely unusual) clients at the API layer, session 28: a developer's source-map
requests never spend the rate limit, a JSON picture field of the wrong kind and a form that cannot
be read are 400s that say why, a model address with two versions is not kept for a year, and the
spec refuses the undo ``item`` the server refuses (found by Schemathesis)."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from jsonschema import Draft202012Validator
from spectools import SPEC
from webtools import AppFactory

import moodtape.web

#: ``ort.wasm.min.mjs`` ends with ``//# sourceMappingURL=ort.wasm.min.mjs.map``; the map is not shipped.
NAMED_MAP = "/static/vendor/ort/ort.wasm.min.mjs.map"
#: The script that names it, copied in by ``make`` from npm's onnxruntime-web (git-ignored).
NAMING_SCRIPT = Path(moodtape.web.__file__).parent / "static" / "vendor" / "ort" / "ort.wasm.min.mjs"
#: Chrome 135 and later ask for it on each page load while DevTools are open.
CHROME_DEVTOOLS_JSON = "/.well-known/appspecific/com.chrome.devtools.json"


@pytest.fixture
def limited(make_app: AppFactory, still_limiter_clock: None) -> FlaskClient:
    """A client of an app limited to 2 requests a second, with the limiter's clock held still."""
    app: Flask = make_app(MOODTAPE_RATE_LIMIT="2")
    return app.test_client()


def _versioned(client: FlaskClient, path: str) -> str:
    """``path`` under the page's current static digest (``/static/v/<digest>/…``)."""
    page = client.get("/").get_data(as_text=True)
    start = page.index("/static/v/")
    digest = page[start:].split("/")[3]
    return path.replace("/static/", f"/static/v/{digest}/", 1)


def test_devtools_source_maps_do_not_spend_the_rate_limit(limited: FlaskClient) -> None:
    """Before, 60 map requests under a limit of 2 a second were two 404s and 58 429s, and the page's
    own next API call was refused too."""
    versioned = _versioned(limited, "/static/js/app.js.map")  # the page: one of the two
    maps = ["/static/js/app.js.map", "/static/style.css.map", versioned]
    statuses = [limited.get(maps[n % len(maps)]).status_code for n in range(60)]
    assert set(statuses) == {404}, statuses
    assert limited.get("/api/config").status_code == 200  # the second, as after the page alone
    assert limited.get("/api/config").status_code == 429


@pytest.mark.skipif(not NAMING_SCRIPT.is_file(), reason="static/vendor/ort is copied from npm by make (not run here)")
def test_the_map_a_vendored_script_names_does_not_spend_the_rate_limit(limited: FlaskClient) -> None:
    """The one map a browser asks for by itself here: ``ort.wasm.min.mjs`` names it."""
    assert NAMED_MAP.removesuffix(".map").rsplit("/", 1)[1] + ".map" in NAMING_SCRIPT.read_text("utf-8")[-200:]
    assert [limited.get(NAMED_MAP).status_code for _ in range(10)] == [404] * 10
    assert [limited.get("/api/config").status_code for _ in range(3)] == [200, 200, 429]


def test_chrome_devtools_probe_does_not_spend_the_rate_limit(limited: FlaskClient) -> None:
    """Before, each page load with DevTools open spent one request on it: under a limit of 2 a
    second, the page, the probe, then the page's first API call was a 429."""
    assert limited.get("/").status_code == 200
    assert [limited.get(CHROME_DEVTOOLS_JSON).status_code for _ in range(10)] == [404] * 10
    assert limited.get("/api/config").status_code == 200
    assert limited.get("/api/config").status_code == 429


@pytest.mark.parametrize(
    "path",
    [
        CHROME_DEVTOOLS_JSON + "x",  # only the one path Chrome asks for
        "/.well-known/appspecific/other.json",
        "/static/nope.js.map",  # the map of no file
        "/static/js/app.js.map.map",
        "/static/favicon.svg.map",  # a picture has no source map
        "/static/js/app.map",  # not a file's name with .map added
        "/static/./js/app.js.map",  # an odd spelling
    ],
)
def test_other_map_names_still_count_as_misses(limited: FlaskClient, path: str) -> None:
    assert [limited.get(path).status_code for _ in range(3)] == [404, 404, 429]


@pytest.mark.parametrize(
    ("body", "kind"),
    [
        ('{"image": 5}', "a number"),
        ('{"image": null}', "null"),
        ('{"image": [1, 2]}', "a list"),
        ('{"image": {"data": "x"}}', "an object"),
        ('{"image": true}', "true/false"),
        ('{"image": ""}', "an empty string"),
        ('{"image": "   "}', "only white space"),
        ('{"image": "\\n"}', "only white space"),
        ('{"image": "\\r\\n\\t \\u3000"}', "only white space"),
        ('{"photo": 3.5, "stream": "cam1"}', "a number"),
    ],
)
@pytest.mark.parametrize("path", ["/api/analyze", "/api/calibration"])
def test_a_picture_field_holding_no_picture_is_a_400_that_names_it(
    client: FlaskClient, csrf: dict[str, str], path: str, body: str, kind: str
) -> None:
    """It was the 415 for "text with no picture in it", which named neither the field nor its kind."""
    query = "?emotion=happy" if path == "/api/calibration" else ""
    reply = client.post(path + query, data=body, content_type="application/json", headers=csrf)
    assert reply.status_code == 400, reply.get_json()
    error = reply.get_json()["error"]
    field = "photo" if "photo" in body else "image"
    assert error["code"] == "bad_request"
    assert f"the JSON field {field!r} holds {kind}" in error["message"]


def test_a_picture_in_another_picture_field_is_still_read(client: FlaskClient, frame_640: bytes) -> None:
    """``{"image": 5, "photo": "<base64>"}``: the field that holds the picture wins, as before."""
    body = json.dumps({"image": 5, "photo": base64.b64encode(frame_640).decode("ascii")})
    assert client.post("/api/analyze", data=body, content_type="application/json").status_code == 200


@pytest.mark.parametrize("body", ["{}", '{"stream": "cam1"}', "[]", "5"])
def test_json_with_no_picture_field_stays_the_documented_415(client: FlaskClient, body: str) -> None:
    reply = client.post("/api/analyze", data=body, content_type="application/json")
    assert reply.status_code == 415 and reply.get_json()["error"]["code"] == "unsupported_image"


BOUNDARY = "XyZb"
FORM = f"multipart/form-data; boundary={BOUNDARY}"
IMAGE_PART = 'Content-Disposition: form-data; name="image"\r\n\r\n'


def _form(*parts: str) -> str:
    return "".join(f"--{BOUNDARY}\r\n{part}\r\n" for part in parts) + f"--{BOUNDARY}--\r\n"


@pytest.mark.parametrize(
    ("content_type", "body", "said"),
    [
        ("multipart/form-data", _form('Content-Disposition: form-data; name="image"\r\n\r\nv'), "has no boundary"),
        ("multipart/form-data; boundary=", "abc", "has no boundary"),
        (FORM, _form("Content-Disposition: form-data\r\n\r\nv"), "a part of the form has no name"),
        (FORM, _form('Content-Disposition: form-data; name=""\r\n\r\naGVsbG8='), "a part of the form has no name"),
        (FORM, _form("Content-Type: image/jpeg\r\n\r\nv"), "has no Content-Disposition header"),
        (
            f"multipart/form-data; boundary = {BOUNDARY}",
            _form(IMAGE_PART + "v"),
            "boundary parameter that is not valid",
        ),
        (f"multipart/form-data; boundary ={BOUNDARY}", _form(IMAGE_PART + "v"), "boundary parameter that is not valid"),
        ('multipart/form-data; boundary="\u00e9"', "--\u00e9\r\n", "has a boundary that is not ASCII"),
    ],
    ids=[
        "no-boundary",
        "empty-boundary",
        "nameless-field",
        "empty-name-base64",
        "no-disposition",
        "spaced-boundary",
        "space-before-equals",
        "non-ascii-boundary",
    ],
)
@pytest.mark.parametrize("path", ["/api/analyze", "/api/calibration?emotion=happy"])
def test_a_form_that_cannot_be_read_says_why(
    client: FlaskClient, csrf: dict[str, str], path: str, content_type: str, body: str, said: str
) -> None:
    """Each was "the form could not be read: it is cut short or its boundary does not match"."""
    headers = {**csrf, "Content-Type": content_type.encode("utf-8").decode("latin-1")}  # "é" as UTF-8 on the wire
    reply = client.post(path, data=body.encode("utf-8"), headers=headers)
    assert reply.status_code == 400, reply.get_json()
    assert said in reply.get_json()["error"]["message"]


def _binary_form(*parts: tuple[str, bytes]) -> bytes:
    """A multipart body of ``(headers, data)`` parts, with :data:`BOUNDARY`."""
    body = b"".join(f"--{BOUNDARY}\r\n{headers}\r\n\r\n".encode() + data + b"\r\n" for headers, data in parts)
    return body + f"--{BOUNDARY}--\r\n".encode()


IMAGE_FILE = 'Content-Disposition: form-data; name="image"; filename="me.jpg"\r\nContent-Type: image/jpeg'
NAMELESS = ["Content-Disposition: form-data", 'Content-Disposition: form-data; name=""']


@pytest.mark.parametrize("nameless", NAMELESS, ids=["no-name", "empty-name"])
@pytest.mark.parametrize("nameless_first", [False, True], ids=["image-first", "nameless-first"])
@pytest.mark.parametrize("path", ["/api/analyze", "/api/calibration?emotion=happy"])
def test_a_nameless_part_beside_the_picture_is_passed_over(
    client: FlaskClient, csrf: dict[str, str], frame_640: bytes, path: str, nameless: str, nameless_first: bool
) -> None:
    """``curl -F image=@me.jpg -F '=x'``: a 200 until session 28's first try, then "has no name"."""
    parts = [(IMAGE_FILE, frame_640), (nameless, b"hello")]
    body = _binary_form(*(parts[::-1] if nameless_first else parts))
    reply = client.post(path, data=body, headers={**csrf, "Content-Type": FORM})
    assert reply.status_code == 200, reply.get_json()


@pytest.mark.parametrize("nameless", NAMELESS, ids=["no-name", "empty-name"])
def test_a_lone_nameless_picture_file_is_the_picture(client: FlaskClient, frame_640: bytes, nameless: str) -> None:
    """``curl -F '=@me.jpg'``: a form's only file is its picture whatever the field is called (see
    the spec), no name included, as before session 28."""
    body = _binary_form((f'{nameless}; filename="me.jpg"\r\nContent-Type: image/jpeg', frame_640))
    reply = client.post("/api/analyze", data=body, content_type=FORM)
    assert reply.status_code == 200, reply.get_json()


def test_a_nameless_part_with_no_picture_anywhere_says_it_has_no_name(client: FlaskClient) -> None:
    """Before session 28 a 500: the form's fields, ``None`` among them, could not be sorted for the
    message "the form holds only text fields (...)"."""
    body = _binary_form((NAMELESS[0], b"aGVsbG8="), ('Content-Disposition: form-data; name="stream"', b"cam1"))
    reply = client.post("/api/analyze", data=body, content_type=FORM)
    assert reply.status_code == 400 and "has no name" in reply.get_json()["error"]["message"]


def test_a_form_cut_short_is_still_told_so(client: FlaskClient) -> None:
    body = f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="image"\r\n\r\nvvvv'
    reply = client.post("/api/analyze", data=body, content_type=FORM)
    assert reply.status_code == 400 and "cut short" in reply.get_json()["error"]["message"]


@pytest.mark.parametrize("extra", ["&v=000000000000", "&v={current}"])
def test_a_model_address_with_two_versions_is_not_cached_for_a_year(client: FlaskClient, extra: str) -> None:
    """Only ``v`` naming one version, today's, is immutable; a wrong one was already ``no-cache``, but
    ``?v=<current>&v=<other>`` (or the current one twice) was kept for a year like the real address."""
    current = client.get("/api/ondevice").get_json()["models"]["emotion"]
    digest = current.split("v=")[1]
    assert "immutable" in client.get(current).headers["Cache-Control"]
    twice = client.get(current + extra.format(current=digest))
    assert twice.status_code == 200 and twice.headers["Cache-Control"] == "no-cache"
    assert twice.headers["ETag"] == client.get(current).headers["ETag"]  # the same bytes, revalidated


UNDO_BODY = SPEC["paths"]["/api/lists/{list_id}/undo"]["post"]["requestBody"]["content"]["application/json"]["schema"]


@pytest.mark.parametrize(
    ("body", "valid"),
    [
        ({"item": ""}, False),
        ({"item": " \u3000"}, False),
        ({"item": "k" * 501}, False),
        ({"item": "track:1"}, True),
        ({"item": "k" * 500}, True),
    ],
)
def test_undo_item_is_as_strict_in_the_spec_as_on_the_server(
    client: FlaskClient, csrf: dict[str, str], body: dict[str, Any], valid: bool
) -> None:
    """Schemathesis (ST202): the spec let ``{"item": ""}`` through, which the server refuses with a 400."""
    assert Draft202012Validator(UNDO_BODY).is_valid(body) is valid
    reply = client.post(f"/api/lists/{'0' * 32}/undo", json=body, headers=csrf)
    assert (reply.status_code != 400) is valid, reply.get_json()  # a valid one: 404, no such list

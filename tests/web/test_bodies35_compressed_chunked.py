"""A compressed body sent chunked is refused by its head, and dropped as it comes (session 35).

A body with a ``Content-Encoding`` other than ``identity`` is refused by the app unread (415). Sent
by its ``Content-Length`` it was refused from its head and drained, none of it held (session 34);
sent chunked without waiting for ``100 Continue`` it was still read and held for the app, up to
the upload limit: 5 MB of a gzipped picture, all 5,000,000 bytes in the body buffer, for the 415.
Now the server reads such a body to its last chunk keeping none of it, then answers the app's 415
in the words a client waiting for ``100 Continue`` hears, and closes.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest
from flask import Flask
from tests.web.raw_http import serving_raw
from tests.web.test_bodies34_chunked_small_json import BODY_LIMIT, READ, _chunked, _read_until_done, _session
from tests.web.test_bodies34_length_refused import _answers, _auth, _counting_held, _everything_sent
from waitress.adjustments import Adjustments

from moodtape.web.buffered_server import MAX_HEADER_BYTES, _DrainingParser
from moodtape.web.refusals import ENCODED_BODY

#: What the client sends: far under the upload limit (10 MiB).
SENT = 5_000_000
#: The app's 415 for a compressed body, as the server says it (the coding is not named).
REFUSED = (415, {"error": {"code": "unsupported_media_type", "message": ENCODED_BODY}})
#: A gzipped body's first bytes, then filler: its content is never looked at.
GZIPPED = b"\x1f\x8b\x08\x00" + b"a" * (SENT - 4)


def _head(method: str, path: str, headers: str) -> bytes:
    return f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n{headers}\r\n".encode()


def _parser(app: Flask, body_limit: int = BODY_LIMIT) -> _DrainingParser:
    parser = _DrainingParser(Adjustments(max_request_header_size=MAX_HEADER_BYTES, max_request_body_size=body_limit))
    parser.application = app
    return parser


@pytest.mark.parametrize(
    ("method", "path", "headers"),
    [
        ("POST", "/api/analyze", "Content-Type: image/jpeg\r\nContent-Encoding: gzip\r\n"),
        # On a small-JSON endpoint the drain ends at 64 KiB (test_mends35_compressed_small_json.py).
        ("POST", "/api/analyze", "Content-Type: image/jpeg\r\nContent-Encoding: br\r\n"),
        ("OPTIONS", "/api/feedback", "Content-Type: application/json\r\nContent-Encoding: gzip\r\n"),
    ],
)
def test_a_compressed_chunked_body_is_read_to_its_end_and_none_of_it_held(
    app: Flask, monkeypatch: pytest.MonkeyPatch, method: str, path: str, headers: str
) -> None:
    """Before: the 5,000,000 bytes held, then the app's 415 naming the coding. Now none held, the 415
    in the server's words, and a request pipelined after the body is not served (the connection
    closes, as after any refusal). The app answers it without the body (web/refusals.py,
    ``install_server_refusals``)."""
    with serving_raw(app, None) as target, _counting_held(monkeypatch) as held:
        head = _head(method, path, headers + _auth(target.port))
        pipelined = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
        data = _everything_sent(target, head + b"".join(_chunked(GZIPPED)) + pipelined)
    assert _answers(data) == [REFUSED]
    assert b"\r\nx-request-id: " in data.lower()  # answered by the app, as every refusal by the head
    assert held[0] == 0, held


def test_the_parser_reads_the_whole_body_and_keeps_none(app: Flask) -> None:
    """The answer waits for the last chunk (a client that reads only once it has sent all, as Python's
    urllib, reads it rather than a broken pipe); all of it is read, nothing is held."""
    parser = _parser(app)
    stream = [_head("POST", "/api/analyze", "Content-Encoding: gzip\r\n"), *_chunked(GZIPPED)]
    assert _read_until_done(parser, stream) == sum(map(len, stream))
    assert parser.completed and parser.error is not None
    assert (parser.error.code, parser.error.api_code, parser.error.body) == (
        415,
        "unsupported_media_type",
        ENCODED_BODY,
    )
    assert len(parser.body_rcv) == 0 and parser.body_bytes_received == sum(map(len, stream[1:]))


@pytest.mark.parametrize(
    ("body", "why"),
    [
        (b"".join(_chunked(GZIPPED)), "over the body limit: read no further than it"),
        (b"10\r\n" + b"a" * 16 + b"XX", "a chunk not ended by CR LF"),
        (b"5\nabcde\r\n", "a chunk-size line ended by a bare LF"),
    ],
)
def test_a_drain_cut_short_is_still_the_415(app: Flask, body: bytes, why: str) -> None:
    """However the drain ends, the answer is the refusal decided from the head (the connection closes)."""
    parser = _parser(app, body_limit=1_000_000)
    stream = [_head("POST", "/api/analyze", "Content-Encoding: gzip\r\n"), body]
    taken = _read_until_done(parser, stream)
    assert parser.completed and parser.error is not None and parser.error.code == 415, why
    assert taken <= len(stream[0]) + 1_000_000 + READ, why


def test_an_identity_coded_chunked_body_is_still_read_for_the_app(app: Flask) -> None:
    """``identity`` is no coding: the body goes to the app, as before."""
    parser = _parser(app)
    body = b"a" * 200_000
    stream = [_head("POST", "/api/analyze", "Content-Encoding: identity\r\n"), *_chunked(body)]
    assert _read_until_done(parser, stream) == sum(map(len, stream))
    assert parser.completed and parser.error is None and parser.get_body_stream().read() == body


def test_another_sites_compressed_body_is_told_so_and_dropped(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    """The 403 ``csrf_failed`` a client waiting for ``100 Continue`` hears; before, the body held
    for the app to say so."""
    with serving_raw(app, None) as target, _counting_held(monkeypatch) as held:
        headers = "Content-Encoding: gzip\r\nSec-Fetch-Site: cross-site\r\n" + _auth(target.port)
        data = _everything_sent(target, _head("POST", "/api/analyze", headers) + b"".join(_chunked(GZIPPED)))
    [(status, shown)] = _answers(data)
    assert status == 403 and shown is not None and shown["error"]["code"] == "csrf_failed", shown
    assert held[0] == 0, held


def _pieces() -> Iterator[bytes]:
    for at in range(0, SENT, 64 * 1024):
        yield GZIPPED[at : at + 64 * 1024]


def test_urllib_sending_chunked_reads_the_415_without_its_body_held(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    """urllib sends an iterable body chunked, all of it, before it reads the answer. Before: the
    app's 415 naming the coding, after 5,000,000 bytes held."""
    with serving_raw(app, None) as target, _counting_held(monkeypatch) as held:
        cookie, token = _session(target.port)
        request = urllib.request.Request(
            f"http://127.0.0.1:{target.port}/api/analyze",
            data=_pieces(),
            headers={
                "Content-Type": "image/jpeg",
                "Content-Encoding": "gzip",
                "Transfer-Encoding": "chunked",
                "Cookie": cookie,
                "X-CSRF-Token": token,
            },
        )
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=30)
        # Read while the server runs: its body may still be on the way when urlopen has the head.
        said = json.loads(refused.value.read())
    assert (refused.value.code, said) == REFUSED
    assert held[0] == 0, held

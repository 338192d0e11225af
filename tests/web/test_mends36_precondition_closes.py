"""A 412 on a static file closes the file ``send_file`` opened for the answer it replaces.

Before: :func:`~moodtape.web.delivery.answer_failed_preconditions` put the JSON error in place of
``send_file``'s answer without closing it (the 304 path closed it), so each ``If-Unmodified-Since``
or ``If-Match`` refused left an open file to the garbage collector (``ResourceWarning: unclosed
file``).
"""

from __future__ import annotations

import gc
import warnings

import pytest
from flask import Flask, Response
from flask.testing import FlaskClient

from moodtape.web.delivery import answer_failed_preconditions

REFUSED = [{"If-Unmodified-Since": "Sun, 06 Nov 1994 08:49:37 GMT"}, {"If-Match": '"not-this-one"'}]


@pytest.mark.parametrize("headers", REFUSED)
def test_no_file_is_left_open_by_a_412(client: FlaskClient, headers: dict[str, str]) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        answer = client.get("/static/style.css", headers=headers)
        assert answer.status_code == 412
        answer.close()
        gc.collect()
    unclosed = [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)]
    assert unclosed == []


def test_the_replaced_answer_is_closed(app: Flask) -> None:
    closed: list[bool] = []
    replaced = Response(status=412)
    replaced.call_on_close(lambda: closed.append(True))
    with app.test_request_context("/static/style.css", headers={"If-Match": '"not-this-one"'}):
        answer = answer_failed_preconditions(replaced)
    assert answer.status_code == 412
    assert closed == [True]

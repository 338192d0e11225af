"""A static file is asked for by its one name: no trailing slash, no ``.``, ``..`` or empty segment.

Flask serves ``/static/<path>`` through Werkzeug's ``safe_join``, which keeps a path inside the
folder but normalises it first, so ``/static/style.css/``, ``/static/style.css/.``,
``/static/./style.css``, ``/static/js//app.js`` and ``/static/js/../style.css`` were all answered
200 with ``style.css``, and under a current versioned URL (``/static/v/<digest>/style.css/``)
with ``Cache-Control: public, max-age=31536000, immutable``. Nothing escaped the folder, but each
odd spelling is another cache key for the same bytes, and a proxy rule written for the real name
(``location ~ \\.css$``) does not see it. Such a path is a 404 now, as a file server answers a name
that is no file's.
"""

from __future__ import annotations

from typing import Final

from flask import Flask, Response, request

from moodtape.web.errors import HTTP_CODES, error_response

#: The endpoints that serve files from the static folder by a path taken from the URL.
STATIC_ENDPOINTS: Final[frozenset[str]] = frozenset({"static", "delivery.versioned_static"})
ODD_NAME_MESSAGE: Final = "nothing here: ask for a static file by its name, without '.', '..', '//' or a trailing '/'"


def install_static_name_check(app: Flask) -> None:
    """Answer 404 for a static path that only normalising would turn into a file's name."""
    app.before_request(_refuse_odd_static_names)


def plain_file_path(path: str) -> bool:
    """True when ``path`` is ``a/b/c`` with no empty, ``.`` or ``..`` segment and no backslash."""
    return "\\" not in path and all(segment not in ("", ".", "..") for segment in path.split("/"))


def _refuse_odd_static_names() -> Response | None:
    if request.endpoint not in STATIC_ENDPOINTS or request.view_args is None:
        return None
    filename = request.view_args.get("filename")
    if isinstance(filename, str) and not plain_file_path(filename):
        return error_response(404, HTTP_CODES[404], ODD_NAME_MESSAGE)
    return None

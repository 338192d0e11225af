"""Fast delivery of the page: content-versioned static URLs cached for a year, and gzip for text.

- **Versioned URLs.** The page links ``/static/v/<digest>/style.css`` and so on, where ``digest``
  hashes every file in ``static/``. Because the ES modules import each other by relative paths
  (``./api.js``), the whole module graph lives under the same versioned folder, so one digest
  versions all of it and every file can be cached as ``immutable`` for a year. A new release (any
  changed byte) gives a new digest, hence new URLs. A digest another live instance serves with other
  code (a fleet mid-upgrade) is a 404 here, for the balancer to retry there (web/versions_here.py); any other
  digest still gets today's files, but with ``no-cache``, so a page from before a deploy keeps working.
- **Preloading.** The template lists every module as ``<link rel="modulepreload">``, so the browser
  fetches them in parallel right after the HTML instead of one import level at a time.
- **Compression.** Text responses over 1 KiB are gzipped when the client accepts it (standard
  library only; ``Vary: Accept-Encoding`` keeps shared caches honest).
"""

from __future__ import annotations

import gzip
import hashlib
import math
import os
import re
import threading
import time
from pathlib import Path
from typing import Any, Final

from flask import Blueprint, Flask, Response, current_app, request, send_from_directory
from werkzeug.http import parse_date, parse_range_header
from werkzeug.security import safe_join
from werkzeug.wrappers import Request as WerkzeugRequest

from moodtape.web.errors import error_response

#: A year: the longest lifetime browsers honour; the URL changes whenever a byte does.
IMMUTABLE: Final[str] = "public, max-age=31536000, immutable"
COMPRESSIBLE: Final[frozenset[str]] = frozenset(
    {
        "text/html",
        "text/css",
        "text/javascript",
        "text/plain",
        "text/csv",
        "application/javascript",
        "application/json",
        "application/yaml",
        "application/xspf+xml",
        "audio/x-mpegurl",
        "image/svg+xml",
    }
)
#: Below this, gzip's header costs more than it saves.
MIN_COMPRESS_BYTES: Final[int] = 1024
#: The folder of files copied in by ``make`` (the ONNX runtime), not part of a commit: outside the code digest.
VENDOR_PREFIX: Final[str] = "vendor/"
#: Seconds between two looks at the static folder for changed files.
RECHECK_SECONDS: Final[float] = 1.0
#: ``Range: bytes=-0``: the last zero bytes, which RFC 9110 (section 14.1.1) calls unsatisfiable.
ZERO_SUFFIX: Final[re.Pattern[str]] = re.compile(r"[ \t]*bytes[ \t]*=[ \t]*-0+[ \t]*", re.IGNORECASE)

blueprint = Blueprint("delivery", __name__)


class StaticVersion:
    """The digest of the static folder, recomputed only when a file's size or mtime changes.

    Checking the stat of the ~20 files costs microseconds per page; hashing happens after an edit
    (``make run`` while someone changes the CSS) and at the first page view.
    """

    def __init__(self, folder: Path, recheck_seconds: float = RECHECK_SECONDS) -> None:
        self.folder = folder
        self.recheck_seconds = recheck_seconds
        self._lock = threading.Lock()
        self._stamp: tuple[tuple[str, int, int], ...] = ()
        self._digest = ""
        self._code = ""
        self._checked_at = -math.inf

    def _files(self) -> list[Path]:
        return sorted(p for p in self.folder.rglob("*") if p.is_file())

    def digest(self) -> str:
        """12 hex digits of SHA-256 over every static file's path and bytes.

        The folder is looked at again at most once every ``recheck_seconds``: the page asks
        for the digest once per file it links (about 30 times), and walking and stat-ing every
        file each time cost 45 ms of CPU per page. An edited file still shows within a second.
        """
        now = time.monotonic()
        with self._lock:
            if now - self._checked_at < self.recheck_seconds:
                return self._digest
        files = self._files()
        stamp = tuple((p.relative_to(self.folder).as_posix(), p.stat().st_size, p.stat().st_mtime_ns) for p in files)
        with self._lock:
            self._checked_at = now
            if stamp != self._stamp:
                hasher, code = hashlib.sha256(), hashlib.sha256()
                for path in files:
                    name = path.relative_to(self.folder).as_posix()
                    data = path.read_bytes()
                    for each in (hasher,) if name.startswith(VENDOR_PREFIX) else (hasher, code):
                        each.update(name.encode())
                        each.update(data)
                self._stamp, self._digest, self._code = stamp, hasher.hexdigest()[:12], code.hexdigest()[:12]
            return self._digest

    def code_digest(self) -> str:
        """12 hex digits of SHA-256 over the static files outside ``vendor/``: this release's own code.

        ``vendor/`` (the ONNX runtime) is copied in by ``make``, not committed, so two hosts built from
        one commit may differ there alone: the URL's digest (:meth:`digest`) differs, and must, for the
        year-long caching, but the pages' code is the same (web/versions_here.py serves it then).
        """
        self.digest()
        with self._lock:
            return self._code

    def modules(self) -> list[str]:
        """The ES modules, as paths relative to the static folder (``js/api.js``, ...)."""
        return [p.relative_to(self.folder).as_posix() for p in self._files() if p.suffix == ".js"]


def _version() -> StaticVersion:
    found: StaticVersion = current_app.extensions["moodtape-static"]
    return found


def static_url(filename: str) -> str:
    """The versioned URL of a file in ``static/``."""
    return f"/static/v/{_version().digest()}/{filename}"


def _may_be_a_release(digest: str, current: str) -> bool:
    """Whether ``digest`` has a digest's shape (hex, as long as this one's): any other text is no
    release's, so Redis is not asked who serves it (web/versions_here.py)."""
    return len(digest) == len(current) and all(c in "0123456789abcdef" for c in digest)


def _is_a_file(folder: str, filename: str) -> bool:
    """Whether ``filename`` is a file in the static folder: a missing one is a 404 without asking Redis."""
    path = safe_join(folder, filename)
    return path is not None and os.path.isfile(path)


@blueprint.get("/static/v/<digest>/<path:filename>")
def versioned_static(digest: str, filename: str) -> Response:
    """A static file under a versioned URL: immutable when the digest is current, a 404 when another live
    instance serves that digest with other code (web/versions_here.py), else today's file, revalidated.

    Redis is asked only for a digest of the right shape whose file is here: these paths are not rate
    limited, and any other text could be no release's."""
    from moodtape.web.versions_here import not_here

    folder = current_app.static_folder
    assert folder is not None  # Flask's default; create_app never removes it
    current = _version().digest()
    if digest != current and _may_be_a_release(digest, current) and _is_a_file(folder, filename):
        refused = not_here("static", digest, current)
        if refused is not None:
            return refused
    response = send_from_directory(folder, filename)
    response.headers["Cache-Control"] = IMMUTABLE if digest == current else "no-cache"
    return response


def gzip_response(response: Response) -> Response:
    """Gzip a finished text response when the client accepts it (an ``after_request`` hook).

    The gzipped copy has an ETag of its own (the bytes differ from the file's). A browser revalidating
    that copy sends it back in ``If-None-Match``; send_file, which knows only the file's ETag, never
    matched it, so every reload got the whole file. It is matched here, before the file is read
    and compressed for nothing.
    """
    response.vary.add("Accept-Encoding")
    if (
        response.status_code != 200
        or response.mimetype not in COMPRESSIBLE
        or "Content-Encoding" in response.headers
        or not request.accept_encodings.quality("gzip")
    ):
        return response
    etag, weak = response.get_etag()
    if etag and request.if_none_match.contains_weak(f"{etag}-gzip"):
        return _not_modified(response, f"{etag}-gzip", weak=bool(weak))
    response.direct_passthrough = False  # send_file's file wrapper: read it here
    data = response.get_data()
    if len(data) < MIN_COMPRESS_BYTES:
        return response
    response.set_data(gzip.compress(data, compresslevel=6))
    response.headers["Content-Encoding"] = "gzip"
    if etag:
        response.set_etag(f"{etag}-gzip", weak=bool(weak))
    return response


class PreconditionsFirstResponse(Response):
    """The app's response class: its ``make_conditional`` (which ``send_file`` and the model files
    call) answers a byte range only after the request's preconditions, and as RFC 9110 means it.

    Werkzeug's alone answered the range first: a cache revalidating a current copy with a range
    (``If-None-Match`` with its ETag, or ``If-Modified-Since`` with the file unchanged) got a 206 of
    the bytes again, and one asking a range past the end a 416, where RFC 9110 (section 13.2.2) has
    the 304 come first. It also called a suffix longer than the file (``bytes=-99999999``)
    unsatisfiable (416), where section 14.1.3 has it select the whole file, and took a weak
    ``If-Range`` (``W/"..."``) as matching, where section 13.1.5 has it never match (the whole file).
    """

    def make_conditional(
        self,
        request_or_environ: dict[str, Any] | WerkzeugRequest,
        accept_ranges: bool | str = False,
        complete_length: int | None = None,
    ) -> PreconditionsFirstResponse:
        environ = request_or_environ.environ if isinstance(request_or_environ, WerkzeugRequest) else request_or_environ
        if self.status_code == 200 and self._changed_since_asked(environ):
            self.status_code = 412  # before If-None-Match and Range (RFC 9110 section 13.2.2, step 2)
            return self
        if not accept_ranges or "HTTP_RANGE" not in environ:
            super().make_conditional(environ, accept_ranges, complete_length)
            return self
        super().make_conditional(environ)  # the preconditions alone: a 304 or 412 comes before any range
        if self.status_code != 200:
            return self
        if self._revalidates_the_gzipped_copy():
            self.accept_ranges = "bytes"
            return self  # a 200, which gzip_response answers with its gzipped copy's 304
        super().make_conditional(_range_as_meant(environ, complete_length), accept_ranges, complete_length)
        return self

    def _changed_since_asked(self, environ: dict[str, Any]) -> bool:
        """Whether the file changed after the request's ``If-Unmodified-Since`` (RFC 9110 section
        13.1.4), which Werkzeug does not read: a download resumed with it and a ``Range`` got a 206 of
        the new file to splice onto the old one's first bytes.

        Ignored, as that section says, beside an ``If-Match``, when the date is not one valid
        HTTP-date, and for a file without ``Last-Modified`` (the on-device models).
        """
        if environ["REQUEST_METHOD"] not in ("GET", "HEAD") or "HTTP_IF_MATCH" in environ:
            return False
        asked = environ.get("HTTP_IF_UNMODIFIED_SINCE", "")
        # Werkzeug reads the first of a list of dates; no HTTP-date holds more than one comma.
        since = parse_date(asked) if asked.count(",") <= 1 else None
        return since is not None and self.last_modified is not None and self.last_modified > since

    def _revalidates_the_gzipped_copy(self) -> bool:
        """Whether the request's ``If-None-Match`` names the gzipped copy that :func:`gzip_response`
        would make of this response: left a 200, that hook answers it with a 304."""
        etag, _ = self.get_etag()
        return bool(
            etag
            and self.mimetype in COMPRESSIBLE
            and request.accept_encodings.quality("gzip")
            and request.if_none_match.contains_weak(f"{etag}-gzip")
        )


def _range_as_meant(environ: dict[str, Any], complete_length: int | None) -> dict[str, Any]:
    """``environ`` with its ``Range`` as RFC 9110 reads it, for Werkzeug to answer: none after a weak
    ``If-Range`` (section 13.1.5: a weak tag never matches, so the whole file), ``bytes=0-`` for
    a suffix longer than the file (section 14.1.3: the whole file, as a 206), and a range that begins
    at the end for ``bytes=-0`` (section 14.1.1: a suffix of zero bytes is unsatisfiable, a 416 with
    ``Content-Range: bytes */<length>``; Werkzeug could not parse it, and the whole file went out)."""
    if environ.get("HTTP_IF_RANGE", "").lstrip().startswith("W/"):
        return {name: value for name, value in environ.items() if name != "HTTP_RANGE"}
    if complete_length and ZERO_SUFFIX.fullmatch(environ["HTTP_RANGE"]):
        return {**environ, "HTTP_RANGE": f"bytes={complete_length}-"}  # begins past the end: a 416
    asked = parse_range_header(environ["HTTP_RANGE"])
    if asked is not None and complete_length and len(asked.ranges) == 1:
        start, stop = asked.ranges[0]
        if stop is None and start < -complete_length:
            return {**environ, "HTTP_RANGE": "bytes=0-"}
    return environ


def _not_modified(response: Response, etag: str, *, weak: bool) -> Response:
    """A 304 for ``response``'s gzipped copy, with the headers a cache refreshes from it."""
    answer = Response(status=304)
    answer.set_etag(etag, weak=weak)
    _copy_headers(response, answer, ("Cache-Control", "Expires", "Vary"))
    response.close()  # the file send_file opened
    return answer


def ignore_unknown_ranges() -> None:
    """Drop a ``Range`` header that does not ask for bytes (a ``before_request`` hook).

    RFC 9110 (section 14.2) says a server must ignore a range unit it does not know and may ignore
    a malformed one; Werkzeug answers both with 416, which tells a client that asked for
    ``items=0-5`` that the file is unavailable. A well-formed ``bytes=`` range still gets its 206
    or, past the end, its 416.
    """
    asked = request.environ.get("HTTP_RANGE")
    if asked is not None and ZERO_SUFFIX.fullmatch(asked):
        return  # well-formed, but no parser takes it: the answer's 416 (_range_as_meant)
    if asked is not None and (
        request.range is None or request.range.units != "bytes" or len(request.range.ranges) != 1
    ):
        # Several ranges would need a multipart answer, which send_file does not make; Werkzeug
        # called them unsatisfiable (416). Ignoring them is allowed and sends the whole file.
        del request.environ["HTTP_RANGE"]
        request.__dict__.pop("range", None)  # the cached parse, so send_file reads no range


def drop_star_if_match() -> None:
    """Drop ``If-Match: *`` from every request (a ``before_request`` hook), as if it were not sent.

    RFC 9110 (section 13.1.1) makes ``*`` true whenever the resource has a current representation;
    Werkzeug compares it as if it were an entity tag and answered a static file that was there with
    412. The answers that read ``If-Match`` at all (static files through ``send_file``, the
    on-device model files) exist whenever they are answered, so ``*`` always holds there; a
    missing file is a 404 either way, and no other route looks at the header.
    """
    if request.if_match.star_tag:
        del request.environ["HTTP_IF_MATCH"]
        request.__dict__.pop("if_match", None)  # the cached parse
        # Section 13.1.4 ignores If-Unmodified-Since beside any If-Match, this true one included.
        request.environ.pop("HTTP_IF_UNMODIFIED_SINCE", None)
        request.__dict__.pop("if_unmodified_since", None)


def answer_failed_preconditions(response: Response) -> Response:
    """A 412 (``If-Match`` or ``If-Unmodified-Since`` not met) as the JSON error, not the file's bytes
    under an error status (an ``after_request`` hook)."""
    if response.status_code != 412:
        return response
    said = (
        "the file is not the one the request's If-Match names"
        if "If-Match" in request.headers
        else "the file changed after the date in the request's If-Unmodified-Since"
    )
    answer = error_response(412, "precondition_failed", said)
    _copy_headers(response, answer, ("ETag", "Last-Modified", "Cache-Control", "Vary"))
    response.close()  # the file send_file opened, as for a 304: left to the garbage collector before
    return answer


def _copy_headers(source: Response, target: Response, names: tuple[str, ...]) -> None:
    """The headers ``names`` of ``source`` that it has, set on ``target`` (which replaces it)."""
    for name in names:
        if name in source.headers:
            target.headers[name] = source.headers[name]


def install_delivery(app: Flask) -> None:
    """Register the versioned static route, the template helpers and compression on ``app``."""
    assert app.static_folder is not None
    version = StaticVersion(Path(app.static_folder))
    app.extensions["moodtape-static"] = version

    def helpers() -> dict[str, Any]:
        from moodtape.web.versions_here import note_now_and_then

        note_now_and_then()  # the page about to link this release's files: other instances must know
        modules = [m for m in version.modules() if m != "js/app.js"]
        return {"static_url": static_url, "js_modules": modules}

    app.response_class = PreconditionsFirstResponse  # send_file answers ranges through it
    app.context_processor(helpers)
    app.register_blueprint(blueprint)
    app.before_request(ignore_unknown_ranges)
    app.before_request(drop_star_if_match)
    # Flask runs these last-registered first: the 412 is answered after compression has had its say.
    app.after_request(answer_failed_preconditions)
    app.after_request(gzip_response)

"""The anonymous session: a random id in the ``moodtape_session`` cookie, and its CSRF check.

Over HTTPS the cookie is ``__Host-moodtape_session``: browsers accept a cookie of that name only
from this very host, over HTTPS, for the whole site, so a sibling subdomain or a network attacker
cannot plant one (a planted cookie that this server signed would otherwise put the visitor in the
planter's session, where the planter can read what the visitor does). Over plain HTTP (a local
install) the prefix is not allowed; there, several validly signed cookies naming *different*
sessions mean one was planted, and since nothing tells which, neither is trusted: the visit goes
on in a session of their own, whose id is an HMAC of both under the secret key. The planter
cannot compute it (it knows neither the key nor the visitor's id), and it is the same on every
request while the planted cookie stays, so the page keeps working (a fresh id on each request
would refuse every change with a CSRF error).

The cookie carries the id and an HMAC of it under the app's secret key, so only ids this server
made are accepted. The id ties history, feedback and "not my mood" corrections together and to nothing else: no
account, no name. It is made on the first request that lacks one and sent back as an HttpOnly,
SameSite=Lax cookie, so the page's JavaScript never handles it and other sites' forms do not
carry it on cross-site POSTs.

"Delete everything" (``DELETE /api/history``) ends the session: its answer sends the cookie of a
new, empty one and that session's CSRF token (:func:`renew_session`). The old id is *retired*
(``web/retired.py``): a copy of its cookie (left on a shared computer, written in a log) is taken
as no cookie at all, and starts a session of its own, never the new one; an answer never sends a
retired id's cookie, not even one still in flight during a key rotation. The check is made when the
request first uses its session (static files pay nothing); while the shared state that keeps the
marks is away, it lets the session through, since nothing of it can be read from there anyway.

During a key rotation (``MOODTAPE_SECRET_KEY_FALLBACKS``) a cookie or CSRF token signed with an
earlier key is still accepted, and the cookie is signed again with the current key, so a visit
keeps its history while the new key rolls out machine by machine.

``/healthz``, ``/readyz`` and ``/metrics`` read no session and send no cookie: balancers and
Prometheus poll them without the rate limit, and nothing there belongs to a visit. Nor does a
cookieless ``OPTIONS``, 404 or 405 start a session: a scanner probing paths would collect one cookie
per probe. The planted-cookie
warning is written once, then summed up once a minute (signed cookies are free, so a client could
otherwise write one warning per request).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import re
import secrets
from typing import Final

from flask import Flask, Response, current_app, g, request

from moodtape.errors import MoodtapeError
from moodtape.web.logs import OncePerInterval
from moodtape.web.lru import BoundedLRU
from moodtape.web.security import CSRF_HEADER, csrf_token, csrf_valid, foreign_request

COOKIE_NAME: Final[str] = "moodtape_session"
#: The name over HTTPS: the ``__Host-`` prefix makes browsers refuse it from anywhere but this host.
SECURE_COOKIE_NAME: Final[str] = "__Host-moodtape_session"
#: 180 days: long enough that history survives closing the browser, short enough to expire.
COOKIE_MAX_AGE: Final[int] = 180 * 24 * 3600
#: The cookie is ``<id>.<signature>``: 24 URL-safe characters of randomness, then an HMAC of them.
_COOKIE: Final = re.compile(r"(?P<id>[A-Za-z0-9_-]{24})\.(?P<signature>[0-9a-f]{32})")

#: Paths that never read a session nor send its cookie: health, readiness and metrics.
SESSIONLESS_PATHS: Final[frozenset[str]] = frozenset({"/healthz", "/readyz", "/metrics"})
_PLANTED: Final = "signed session cookies name %d different sessions (one was planted?)"

#: A change sent with a session cookie that is not one this server signed: the token may be right
#: for the session the client meant, so saying only "out-of-date token" sent it looking there.
REFUSED_COOKIE_MESSAGE: Final = (
    "the session cookie sent is not one this server signed (altered, cut short, or signed with another "
    "secret key), so it was ignored and the request is in a new, empty session whose token differs; "
    "nothing was changed: reload the page (an API client: GET /api/config for a new cookie and csrf_token)"
)
#: A change sent with the cookie of a session "Delete everything" ended (a copy left elsewhere, a
#: replay): its token is that old session's, and the request runs in a new, empty one.
RETIRED_COOKIE_MESSAGE: Final = (
    'the session cookie sent names a session that "Delete everything" ended, so the request is in a '
    "new, empty session whose token differs; nothing was changed: reload the page (an API client: "
    "GET /api/config for a new cookie and csrf_token)"
)

_log = logging.getLogger(__name__)
#: The planted-cookie warning, at most once a minute with a count: one pair of freely obtained
#: signed cookies per request wrote 1,770 warnings in 3.6 s.
PLANTED_WARNINGS: Final = OncePerInterval(
    "%(count)d more requests carried signed session cookies naming different sessions "
    "in the last %(seconds)g s (one was planted?)",
    matches=lambda record: record.msg == _PLANTED,
)
_log.addFilter(PLANTED_WARNINGS)

#: Merged sessions already logged: a warning once each, not on every request of the visit.
_planted_seen: BoundedLRU[str, bool] = BoundedLRU(1024)


class CsrfError(MoodtapeError):
    """A state-changing request without this session's CSRF token, or from another origin."""

    status = 403
    code = "csrf_failed"


def install_session(app: Flask) -> None:
    """Give every request ``g.session_id`` and send the cookie when it is new."""
    app.before_request(_load_session)
    app.after_request(_save_session)


def session_id() -> str:
    """This request's anonymous session id."""
    _settle()
    return str(g.session_id)


def is_new_session() -> bool:
    """Whether this request's session is new (no cookie, or a retired one): nothing of it is kept yet."""
    _settle()
    return bool(g.get("new_session", True))


def used_cookie_session() -> str | None:
    """The session this request's cookie named, when the request used it and it was not retired then."""
    found = g.get("cookie_session")
    return str(found) if found is not None and found == g.get("session_id") else None


def is_retired(session: str) -> bool:
    """Whether "Delete everything" ended ``session`` (``web/retired.py``); False while that is unknown.

    Unknown means the shared state is away: requests that need the session's state fail with their
    own 503 then, and a page or a photo (which need none) still work.
    """
    retired = getattr(current_app.extensions.get("moodtape"), "retired", None)
    if retired is None:
        return False
    try:
        return bool(retired.is_retired(session))
    except MoodtapeError as exc:  # unavailable, or a store whose setup failed: the page must still load
        _log.debug("could not tell whether a session was retired: %s", exc)
        return False


def _settle() -> None:
    """On the first use of a session named by a cookie: a retired one gives way to a fresh session."""
    if not g.pop("unsettled", False):
        return
    if is_retired(g.session_id):
        renew_session(new_session_id())
        g.retired_cookie = True  # require_csrf says why the token no longer fits
        # Only a page hands out the replacement's cookie (with its CSRF token). An API answer of a
        # request sent before the deletion (a camera frame in flight) would otherwise replace the
        # cookie the deletion's own answer set, and the page's next change would get a 403.
        g.send_cookie = not request.path.startswith("/api/")
    else:
        g.cookie_session = g.session_id


def current_csrf_token() -> str:
    """The CSRF token the page must send back in ``X-CSRF-Token``."""
    return csrf_token(current_app.config["SECRET_KEY"], session_id())


def new_session_id() -> str:
    """A fresh random session id (144 bits)."""
    return secrets.token_urlsafe(18)


def renew_session(new_id: str) -> None:
    """Move this request to the session ``new_id``, whose cookie (and so CSRF token) this answer sends.

    Used once everything of the old session is deleted: whoever learned the old cookie (a shared
    computer, a log line, an earlier copy) must not be tied to what the person does next. The old
    id stays validly signed, but names an empty session from then on.
    """
    g.session_id = new_id
    g.new_session = True  # nothing of it is in the shared state but a removal count: reads may skip it
    g.send_cookie = True


def accepted_keys() -> list[str]:
    """The current secret key first, then the earlier ones still accepted during a rotation."""
    return [str(current_app.config["SECRET_KEY"]), *current_app.config.get("SECRET_KEY_FALLBACKS", ())]


def require_csrf() -> None:
    """Raise :class:`CsrfError` unless the request carries this session's token from our own origin."""
    foreign = foreign_request(request.headers, request.host_url)
    if foreign is not None:
        raise CsrfError(f"this request came from another site ({foreign}); reload moodtape and try again")
    sent = request.headers.get(CSRF_HEADER)
    if not any(csrf_valid(key, session_id(), sent) for key in accepted_keys()):
        if g.get("refused_cookie"):
            raise CsrfError(REFUSED_COOKIE_MESSAGE)
        if g.get("retired_cookie"):
            raise CsrfError(RETIRED_COOKIE_MESSAGE)
        # Out of date too when everything was deleted in another tab (a new session, a new token).
        raise CsrfError(
            f"missing or out-of-date {CSRF_HEADER} header; reload the page to get a fresh token (an API client: "
            f"take csrf_token from GET /api/config and send it in {CSRF_HEADER}, with the session cookie that "
            "answer sets)"
        )


def _signature(session: str, key: str) -> str:
    return hmac.new(key.encode(), f"session:{session}".encode(), hashlib.sha256).hexdigest()[:32]


def _signed_with(cookie: str) -> tuple[str, int] | None:
    """The session id in ``cookie`` and the index of the accepted key that signed it, or None."""
    match = _COOKIE.fullmatch(cookie)
    if match is None:
        return None
    for index, key in enumerate(accepted_keys()):
        if hmac.compare_digest(match["signature"], _signature(match["id"], key)):
            return match["id"], index
    return None


def cookie_name() -> str:
    """The session cookie's name for this request: ``__Host-`` prefixed over HTTPS."""
    return SECURE_COOKIE_NAME if request.is_secure else COOKIE_NAME


def _load_session() -> None:
    if request.path in SESSIONLESS_PATHS:
        return  # no g.session_id: nothing reads it there, and no cookie is sent
    # Only ids this server made (and signed) are taken: a client cannot choose its own id, nor
    # plant a guessable one in someone else's browser.
    sent = request.cookies.getlist(cookie_name())
    signed = _one_session(sent)
    g.new_session = signed is None
    g.refused_cookie = bool(sent) and signed is None  # require_csrf says so rather than blame the token
    g.session_id = signed[0] if signed is not None else new_session_id()
    # Signed with an earlier key: the same session, its cookie signed again with the current key.
    g.send_cookie = signed is None or signed[1] > 0
    g.unsettled = signed is not None  # checked against retired sessions on first use (_settle)


def _one_session(sent: list[str]) -> tuple[str, int] | None:
    """The session the validly signed cookies among ``sent`` name, or None when there is none.

    Unsigned or forged ones are skipped: a junk cookie planted for a parent domain or a sub-path
    (browsers send those first) must not cut the visitor off from their own session. Signed ones
    naming different sessions mean one was planted: the visit goes on in a session derived from
    all of them (the module docstring), and no cookie is sent (index 0: signed with the current key).
    """
    signed = [found for found in map(_signed_with, sent) if found is not None]
    sessions = sorted({session for session, _ in signed})
    if not sessions:
        return None
    if len(sessions) == 1:
        return min(signed, key=lambda found: found[1])  # the newest key's signature, if both are there
    merged = _merged_session(sessions)
    if _planted_seen.get(merged) is None:
        _planted_seen.put(merged, True)
        _log.warning(_PLANTED, len(sessions))
    return merged, 0


def _asked_nothing_of_a_new_session(response: Response) -> bool:
    """A cookieless ``OPTIONS``, 404 or 405: no session to begin (a scanner's probes got one each)."""
    return bool(g.get("new_session")) and (request.method == "OPTIONS" or response.status_code in (404, 405))


def _merged_session(sessions: list[str]) -> str:
    """A session id only this server can derive from ``sessions`` (sorted), in the cookie id's alphabet."""
    key = str(current_app.config["SECRET_KEY"]).encode()
    digest = hmac.new(key, ("merged:" + ",".join(sessions)).encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest)[:24].decode()


def _save_session(response: Response) -> Response:
    # Never on an answer any cache may keep (versioned static files, the on-device model): a shared
    # cache that stored it with the cookie would hand one session to every visitor.
    if "session_id" not in g or response.cache_control.public or _asked_nothing_of_a_new_session(response):
        return response
    if g.get("send_cookie"):
        _settle()  # a cookie re-signed during a key rotation, on a request that did not use it
    # Retired while this request ran (a deletion in another tab): its cookie must not come back.
    if g.get("send_cookie") and not (used_cookie_session() and is_retired(g.session_id)):
        response.set_cookie(
            cookie_name(),
            f"{g.session_id}.{_signature(g.session_id, str(current_app.config['SECRET_KEY']))}",
            max_age=COOKIE_MAX_AGE,
            httponly=True,
            samesite="Lax",
            secure=request.is_secure,
        )
    return response

"""The anonymous session: a random id in the ``moodtape_session`` cookie, and its CSRF check.

The cookie carries the id and an HMAC of it under the app's secret key, so only ids this server
made are accepted. The id ties history, feedback and "not my mood" corrections together and to nothing else: no
account, no name. It is made on the first request that lacks one and sent back as an HttpOnly,
SameSite=Lax cookie, so the page's JavaScript never handles it and other sites' forms do not
carry it on cross-site POSTs.

During a key rotation (``MOODTAPE_SECRET_KEY_FALLBACKS``) a cookie or CSRF token signed with an
earlier key is still accepted, and the cookie is signed again with the current key, so a visit
keeps its history while the new key rolls out machine by machine.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from typing import Final

from flask import Flask, Response, current_app, g, request

from moodtape.errors import MoodtapeError
from moodtape.web.security import CSRF_HEADER, csrf_token, csrf_valid, same_origin

COOKIE_NAME: Final[str] = "moodtape_session"
#: 180 days: long enough that history survives closing the browser, short enough to expire.
COOKIE_MAX_AGE: Final[int] = 180 * 24 * 3600
#: The cookie is ``<id>.<signature>``: 24 URL-safe characters of randomness, then an HMAC of them.
_COOKIE: Final = re.compile(r"(?P<id>[A-Za-z0-9_-]{24})\.(?P<signature>[0-9a-f]{32})")


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
    return str(g.session_id)


def current_csrf_token() -> str:
    """The CSRF token the page must send back in ``X-CSRF-Token``."""
    return csrf_token(current_app.config["SECRET_KEY"], session_id())


def accepted_keys() -> list[str]:
    """The current secret key first, then the earlier ones still accepted during a rotation."""
    return [str(current_app.config["SECRET_KEY"]), *current_app.config.get("SECRET_KEY_FALLBACKS", ())]


def require_csrf() -> None:
    """Raise :class:`CsrfError` unless the request carries this session's token from our own origin."""
    if not same_origin(request.headers.get("Origin"), request.host_url):
        raise CsrfError("this request came from another site; reload moodtape and try again")
    sent = request.headers.get(CSRF_HEADER)
    if not any(csrf_valid(key, session_id(), sent) for key in accepted_keys()):
        raise CsrfError(f"missing or wrong {CSRF_HEADER} header; reload the page to get a fresh token")


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


def _load_session() -> None:
    # Only ids this server made (and signed) are taken: a client cannot choose its own id, nor
    # plant a guessable one in someone else's browser.
    # The first validly signed one when several are sent: a cookie planted for a parent domain or a
    # sub-path (sent first) must not cut the visitor off from their own session.
    sent = request.cookies.getlist(COOKIE_NAME)
    signed = next((found for found in map(_signed_with, sent) if found is not None), None)
    g.new_session = signed is None
    g.session_id = signed[0] if signed is not None else secrets.token_urlsafe(18)
    # Signed with an earlier key: the same session, its cookie signed again with the current key.
    g.send_cookie = signed is None or signed[1] > 0


def _save_session(response: Response) -> Response:
    # Never on an answer any cache may keep (versioned static files, the on-device model): a shared
    # cache that stored it with the cookie would hand one session to every visitor.
    if g.get("send_cookie") and "session_id" in g and not response.cache_control.public:
        response.set_cookie(
            COOKIE_NAME,
            f"{g.session_id}.{_signature(g.session_id, str(current_app.config['SECRET_KEY']))}",
            max_age=COOKIE_MAX_AGE,
            httponly=True,
            samesite="Lax",
            secure=request.is_secure,
        )
    return response

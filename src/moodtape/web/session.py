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

The cookie carries the id, the time it was issued, and an HMAC of both under the app's secret key,
so only ids this server made are accepted, and only for :data:`COOKIE_MAX_AGE` after they were
issued: the browser drops the cookie then (its ``Max-Age``), and a copy kept elsewhere (a log, a
backup, a stolen cookie jar) is refused by the server from then on too, with the same 403 and
fresh session as any other refused cookie. The age is read on this server's clock, with
:data:`CLOCK_SKEW_SECONDS` of slack for instances behind one balancer whose clocks differ a little.
A cookie dated ahead of this clock is no threat (the date is signed: only an instance of this
deployment wrote it), only a sign that another instance's clock runs ahead: up to
:data:`MAX_FUTURE_SECONDS` ahead it is kept, and past the skew it is sent back dated by this clock
(refusing it logged the visitor out each time the balancer crossed from the instance ahead), with
a warning at most once a minute. Cookies of the earlier format (``<id>.<signature>``, no issue
time) are still taken for :data:`COOKIE_MAX_AGE` after this deployment first issued the new
format (a moment recorded once in the store, ``store/deployment_facts.py``), when the last of them
has expired in any browser, and each is sent back in the new format on its next answer, with the
issue time of that answer.

The id ties history, feedback and "not my mood" corrections together and to nothing else: no
account, no name. It is made on the first request that lacks one and sent back as an HttpOnly,
SameSite=Lax cookie, so the page's JavaScript never handles it and other sites' forms do not
carry it on cross-site POSTs.

"Delete everything" (``DELETE /api/history``) ends the session: its answer sends the cookie of a
new, empty one and that session's CSRF token (:func:`renew_session`). The old id is *retired*
(``web/retired.py``): a copy of its cookie (left on a shared computer, written in a log) is taken
as no cookie at all, and starts a session of its own, never the new one; an answer never sends a
retired id's cookie, not even one still in flight during a key rotation. One request names the
retired id still: "Delete everything" sent again with that session's own token (a double click's
second copy, a retry after a lost answer), answered as a deletion that found nothing left (``deleted:
0``) with a new session, where it was a 403 that left the client no token. The check is made when the
request first uses its session (static files pay nothing); while the shared state that keeps the
marks is away, it lets the session through, since nothing of it can be read from there anyway.

During a key rotation (``MOODTAPE_SECRET_KEY_FALLBACKS``) a cookie or CSRF token signed with an
earlier key is still accepted, and the cookie is signed again with the current key, so a visit
keeps its history while the new key rolls out machine by machine.

``/healthz``, ``/readyz`` and ``/metrics`` read no session and send no cookie: balancers and
Prometheus poll them without the rate limit, and nothing there belongs to a visit. Nor do files
served alike to everyone (static files, versioned or not, and the on-device model files), whatever
their ``Cache-Control``: a cache in front may keep such an answer, and with it one visitor's cookie
(until session 34 a file under an old digest, revalidated with ``no-cache``, began a session). Nor
does a cookieless ``OPTIONS``, 404 or 405 start a session: a scanner probing paths would collect one
cookie per probe. The planted-cookie warning is written once, then summed up once a minute (signed
cookies are free, so a client could otherwise write one warning per request).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import math
import re
import secrets
import time
from dataclasses import dataclass
from typing import Final

from flask import Flask, Response, current_app, g, request

from moodtape.errors import MoodtapeError
from moodtape.store import deployment_facts
from moodtape.web.logs import OncePerInterval
from moodtape.web.lru import BoundedLRU
from moodtape.web.security import CSRF_HEADER, csrf_token, csrf_valid, foreign_request, only_the_scheme_differs, own_url
from moodtape.web.static_names import STATIC_ENDPOINTS

COOKIE_NAME: Final[str] = "moodtape_session"
#: The name over HTTPS: the ``__Host-`` prefix makes browsers refuse it from anywhere but this host.
SECURE_COOKIE_NAME: Final[str] = "__Host-moodtape_session"
#: 180 days: long enough that history survives closing the browser, short enough to expire.
COOKIE_MAX_AGE: Final[int] = 180 * 24 * 3600
#: Instances behind one balancer keep their clocks close, not equal: a cookie is still taken this long
#: past its age (issued by a clock behind this one's), and one dated more than this ahead of this clock
#: is sent back dated by it (and logged: the clocks disagree).
CLOCK_SKEW_SECONDS: Final[int] = 5 * 60
#: A cookie dated up to this far ahead of this server's clock is kept (and re-dated by it): the date
#: is signed, so only an instance whose clock runs ahead of this one's (or this one's behind) can have
#: written it. Further ahead it is refused: no instance's clock should be a day off.
MAX_FUTURE_SECONDS: Final[int] = 24 * 3600
#: The cookie is ``<id>.<issued>.<signature>``: 24 URL-safe characters of randomness, the Unix time
#: it was issued, then an HMAC of both (so the issue time cannot be moved without the key). The time
#: is written one way only (no leading zero), so one cookie has one spelling.
_COOKIE: Final = re.compile(r"(?P<id>[A-Za-z0-9_-]{24})\.(?P<issued>[1-9][0-9]{0,11})\.(?P<signature>[0-9a-f]{32})")
#: The format before session 26, ``<id>.<signature>``: no issue time, so its age cannot be told.
_LEGACY_COOKIE: Final = re.compile(r"(?P<id>[A-Za-z0-9_-]{24})\.(?P<signature>[0-9a-f]{32})")
#: Without a store (an engine built without one, through the Python API) nothing records when this
#: deployment first issued the new format: the process's start stands in for that moment.
PROCESS_STARTED: Final[float] = time.time()

#: Paths that never read a session nor send its cookie: health, readiness and metrics.
SESSIONLESS_PATHS: Final[frozenset[str]] = frozenset({"/healthz", "/readyz", "/metrics"})
#: Endpoints that serve a file, the same bytes to everyone, and never read a session nor send its
#: cookie: not only under their current digest (``public``), where the cookie was already left off,
#: but under an old one too, whose ``no-cache`` answer a shared cache may store all the same.
FILE_ENDPOINTS: Final[frozenset[str]] = STATIC_ENDPOINTS | {"ondevice.model"}
#: A request refused as another site's whose Origin differs from this server's view only in the
#: scheme: a TLS proxy not trusted or not counted, so every frame the page posts is refused.
_SCHEME_ONLY: Final = (
    "a request from this very host was refused as another site's: its Origin differs only in the scheme "
    "from the %s this server sees. Behind a TLS proxy, set MOODTAPE_TRUSTED_PROXIES to its address and "
    "MOODTAPE_PROXY_HOPS to the number of proxies (docs/deployment.md)"
)
_PLANTED: Final = "signed session cookies name %d different sessions (one was planted?)"
_AHEAD: Final = (
    "a session cookie is dated %d s ahead of this server's clock: the clock of the instance that issued it "
    "runs ahead of this one's, or this one's behind (the cookie is %s); keep the instances' clocks in step (NTP)"
)

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
#: A change sent with a validly signed cookie that is past its age (a copy kept after the browser
#: dropped it).
EXPIRED_COOKIE_MESSAGE: Final = (
    "the session cookie sent has expired (issued more than 180 days ago), so it was ignored and the request "
    "is in a new, empty session whose token differs; nothing was changed: reload the page (an API client: "
    "GET /api/config for a new cookie and csrf_token)"
)
#: A change sent with a validly signed cookie dated more than :data:`MAX_FUTURE_SECONDS` ahead of this
#: server's clock: a server's clock is a day or more off, which the visitor cannot mend.
FAR_AHEAD_COOKIE_MESSAGE: Final = (
    "the session cookie sent is dated more than a day ahead of this server's clock (a server's clock is "
    "wrong), so it was ignored and the request is in a new, empty session whose token differs; nothing was "
    "changed: reload the page (an API client: GET /api/config for a new cookie and csrf_token)"
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
#: The warning that a cookie came dated ahead of this clock, at most once a minute with a count: the
#: only visible sign that instances' clocks disagree, and every request of such a visit carries one.
AHEAD_WARNINGS: Final = OncePerInterval(
    "%(count)d more session cookies came dated more than 5 min ahead of this server's clock in the last "
    "%(seconds)g s (at most %(peak)d s ahead): the instances' clocks disagree",
    matches=lambda record: record.msg == _AHEAD,
    value=lambda record: _seconds_ahead(record.args),
)
_log.addFilter(AHEAD_WARNINGS)
#: The proxy-settings warning, at most once a minute with a count: every frame the page posts brings one.
SCHEME_ONLY_WARNINGS: Final = OncePerInterval(
    "%(count)d more requests from this very host were refused in the last %(seconds)g s: the scheme differs "
    "(see MOODTAPE_TRUSTED_PROXIES and MOODTAPE_PROXY_HOPS)",
    matches=lambda record: record.msg == _SCHEME_ONLY,
)
_log.addFilter(SCHEME_ONLY_WARNINGS)


def _seconds_ahead(args: object) -> int:
    """How far ahead the cookie of an ``_AHEAD`` warning was dated (its first argument)."""
    first = args[0] if isinstance(args, tuple) and args else 0
    return int(first) if isinstance(first, int | float) else 0


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
        g.retired_session = g.session_id  # a repeat of the deletion that ended it may name it (lists_api.py)
        renew_session(new_session_id())
        g.retired_cookie = True  # require_csrf says why the token no longer fits
        # Only a page hands out the replacement's cookie (with its CSRF token). An API answer of a
        # request sent before the deletion (a camera frame in flight) would otherwise replace the
        # cookie the deletion's own answer set, and the page's next change would get a 403.
        g.send_cookie = not request.path.startswith("/api/")
    else:
        g.cookie_session = g.session_id


def retired_cookie_session() -> str | None:
    """The session this request's cookie named when "Delete everything" had already ended it, else None.

    Only a repeat of that deletion uses it (``DELETE /api/history``, ``web/lists_api.py``): the copy of
    a double click that arrived after the first copy's answer, or a client that sends the request again
    after losing the answer, carries the ended session's cookie and token.
    """
    _settle()
    found = g.get("retired_session")
    return str(found) if found is not None else None


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
    g.pop("cookie_issued", None)  # the new session's cookie is issued now
    g.new_session = True  # nothing of it is in the shared state but a removal count: reads may skip it
    g.send_cookie = True


def accepted_keys() -> list[str]:
    """The current secret key first, then the earlier ones still accepted during a rotation."""
    return [str(current_app.config["SECRET_KEY"]), *current_app.config.get("SECRET_KEY_FALLBACKS", ())]


def refuse_other_sites() -> None:
    """Raise :class:`CsrfError` when the browser says the request came from another site.

    For a route that takes no token, as API clients call it without a page (``/api/analyze``): a
    program sends none of ``Origin``, ``Referer`` or ``Sec-Fetch-Site`` and is not affected. A page
    elsewhere can make a visitor's browser post a form there (a simple request needs no CORS
    preflight): until session 27 such a post was analysed (200), and with ``stream`` fed a frame
    into the visitor's stream whenever their cookie went along (a sibling subdomain's page).
    """
    foreign = foreign_request(request.headers, _own_url())
    if foreign is None:
        return
    if _scheme_alone_differs():
        raise CsrfError(
            "this page's address is not the one this server sees (https and http differ): reload moodtape "
            "from its own address; if it was, the server's proxy settings are wrong (its log says which)"
        )
    raise CsrfError(f"this request came from another site ({foreign}): reload moodtape from its own address")


def _scheme_alone_differs() -> bool:
    """Whether this request, refused as another site's, is this very host's by another scheme (then
    logged, once a minute at most with a count, naming the proxy settings that would fix it)."""
    if not only_the_scheme_differs(request.headers.get("Origin"), _own_url()):
        return False
    _log.warning(_SCHEME_ONLY, request.scheme)
    return True


def _own_url() -> str:
    """This server's own address as a browser names it in ``Origin`` (:func:`~moodtape.web.security.own_url`).

    ``request.host_url`` turned a punycode host into Unicode, so on ``xn--bcher-kva.example`` every
    change the page sent was a 403 ``csrf_failed`` (session 32).
    """
    return own_url(request.scheme, request.host)


def require_csrf(session: str | None = None) -> None:
    """Raise :class:`CsrfError` unless the request carries the token of ``session`` (None: this
    request's session) from our own origin."""
    foreign = foreign_request(request.headers, _own_url())
    if foreign is not None:
        _scheme_alone_differs()  # logged for the operator; the page's advice stays the same
        raise CsrfError(f"this request came from another site ({foreign}); reload moodtape and try again")
    sent = request.headers.get(CSRF_HEADER)
    owner = session_id() if session is None else session
    if not any(csrf_valid(key, owner, sent) for key in accepted_keys()):
        if g.get("cookie_far_ahead"):
            raise CsrfError(FAR_AHEAD_COOKIE_MESSAGE)
        if g.get("expired_cookie"):
            raise CsrfError(EXPIRED_COOKIE_MESSAGE)
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


@dataclass(frozen=True)
class _Signed:
    """A validly signed session cookie: whose session, which accepted key signed it, and when."""

    session: str
    key_index: int
    #: Unix seconds; None for a legacy cookie (no issue time in it).
    issued: int | None


def _now() -> float:
    """This server's wall clock (Unix seconds): a cookie's issue time must mean the same on every instance."""
    return time.time()


def _signature(session: str, key: str, issued: int | None = None) -> str:
    """The HMAC of a cookie; legacy cookies (``issued`` None) sign the id alone, under another message."""
    message = f"session:{session}" if issued is None else f"session:{session}:{issued}"
    return hmac.new(key.encode(), message.encode(), hashlib.sha256).hexdigest()[:32]


def signed_cookie(session: str, issued: int, key: str) -> str:
    """The cookie value for ``session`` issued at ``issued`` (Unix seconds), signed with ``key``."""
    return f"{session}.{issued}.{_signature(session, key, issued)}"


def _signed_with(cookie: str) -> _Signed | None:
    """What ``cookie`` says, when one of the accepted keys signed it (either format), else None."""
    match = _COOKIE.fullmatch(cookie) or _LEGACY_COOKIE.fullmatch(cookie)
    if match is None:
        return None
    issued = int(match["issued"]) if "issued" in match.re.groupindex else None
    for index, key in enumerate(accepted_keys()):
        if hmac.compare_digest(match["signature"], _signature(match["id"], key, issued)):
            return _Signed(match["id"], index, issued)
    return None


def _fresh(signed: _Signed, now: float) -> bool:
    """Whether a signed cookie is within its age on this clock (with the allowed skew), and not
    dated further ahead than any instance's clock should be."""
    if signed.issued is None:
        return now < legacy_cookies_until()
    age = now - signed.issued
    return -MAX_FUTURE_SECONDS <= age <= COOKIE_MAX_AGE + CLOCK_SKEW_SECONDS


def legacy_cookies_until() -> float:
    """Until when cookies without an issue time are taken: :data:`COOKIE_MAX_AGE` after this deployment
    first issued the new format, when every browser that held one has dropped it (its ``Max-Age``).

    The moment is the store's (``store/deployment_facts.py``), the same on every instance; infinite
    while the store cannot say (an outage must not log returning visitors out).
    """
    since = _new_format_since()
    return since + COOKIE_MAX_AGE if since is not None else math.inf


def _new_format_since() -> float | None:
    """When this deployment first issued cookies with an issue time, or None while that is unknown."""
    services = current_app.extensions.get("moodtape")
    try:
        engine = services.recommender() if services is not None else None
    except MoodtapeError as exc:  # the engine could not be built: nothing to read the store through
        _log.debug("could not reach the store to date the cookie format: %s", exc)
        return None
    store = getattr(engine, "store", None)
    if store is None:
        return PROCESS_STARTED
    return deployment_facts.recorded_since(store.database, deployment_facts.COOKIE_ISSUE_TIMES)


def cookie_name() -> str:
    """The session cookie's name for this request: ``__Host-`` prefixed over HTTPS."""
    return SECURE_COOKIE_NAME if request.is_secure else COOKIE_NAME


def _load_session() -> None:
    if request.path in SESSIONLESS_PATHS or request.endpoint in FILE_ENDPOINTS:
        return  # no g.session_id: nothing reads it there, and no cookie is sent
    # Only ids this server made (and signed), within their age, are taken: a client cannot choose
    # its own id, nor plant a guessable one in someone else's browser, nor keep a copy forever.
    sent = request.cookies.getlist(cookie_name())  # two Cookie lines: joined by buffered_server
    signed_ones = [found for found in map(_signed_with, sent) if found is not None]
    now = _now()
    fresh = [found for found in signed_ones if _fresh(found, now)]
    signed = _one_session(fresh, now)
    g.new_session = signed is None
    g.refused_cookie = bool(sent) and signed is None  # require_csrf says so rather than blame the token
    g.expired_cookie = signed is None and len(signed_ones) > len(fresh)  # ... and that it was too old
    g.cookie_far_ahead = g.expired_cookie and any(_far_ahead(found, now) for found in signed_ones)
    g.session_id = signed.session if signed is not None else new_session_id()
    if signed is not None and signed.issued is not None:
        g.cookie_issued = signed.issued  # a cookie signed again keeps its age
    # Signed with an earlier key, in the legacy format, or dated ahead of this clock: the same
    # session, its cookie sent again signed with the current key and dated by this clock.
    ahead = signed is not None and _ahead(signed, now)
    g.send_cookie = signed is None or signed.key_index > 0 or signed.issued is None or ahead
    g.unsettled = signed is not None  # checked against retired sessions on first use (_settle)


def _ahead(signed: _Signed, now: float) -> bool:
    """Whether ``signed`` is dated ahead of this clock by more than the skew (logged, once a minute at most).

    Its cookie is sent again, dated by this clock (:func:`_save_session` takes the earlier of its
    date and now), so the visit goes on here with a date this instance can read.
    """
    if signed.issued is None or signed.issued <= now + CLOCK_SKEW_SECONDS:
        return False
    _log.warning(_AHEAD, round(signed.issued - now), "kept and sent back dated by this clock")
    return True


def _far_ahead(signed: _Signed, now: float) -> bool:
    """Whether ``signed`` was refused for a date more than :data:`MAX_FUTURE_SECONDS` ahead (logged too)."""
    if signed.issued is None or signed.issued - now <= MAX_FUTURE_SECONDS:
        return False
    _log.warning(_AHEAD, round(signed.issued - now), "refused: no instance's clock should be a day ahead")
    return True


def _one_session(signed: list[_Signed], now: float) -> _Signed | None:
    """The session the fresh, validly signed cookies ``signed`` name, or None when there is none.

    Unsigned, forged or expired ones were skipped: a junk cookie planted for a parent domain or a
    sub-path (browsers send those first) must not cut the visitor off from their own session.
    Signed ones naming different sessions mean one was planted: the visit goes on in a session
    derived from all of them (the module docstring), and no cookie is sent (signed with the current
    key, issued now).
    """
    sessions = sorted({found.session for found in signed})
    if not sessions:
        return None
    if len(sessions) == 1:
        # The newest key's signature, and the new format, if several are there.
        return min(signed, key=lambda found: (found.key_index, found.issued is None))
    merged = _merged_session(sessions)
    if _planted_seen.get(merged) is None:
        _planted_seen.put(merged, True)
        _log.warning(_PLANTED, len(sessions))
    return _Signed(merged, 0, int(now))


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
        now = int(_now())
        issued = min(int(g.get("cookie_issued", now)), now)
        response.set_cookie(
            cookie_name(),
            signed_cookie(g.session_id, issued, str(current_app.config["SECRET_KEY"])),
            # Signed again during a key rotation: the browser drops it when the server would refuse it.
            max_age=max(COOKIE_MAX_AGE - (now - issued), 0),
            httponly=True,
            samesite="Lax",
            secure=request.is_secure,
        )
    return response

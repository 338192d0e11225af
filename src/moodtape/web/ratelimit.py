"""The per-client rate limit, by Flask-Limiter: in this process by default, in Redis when shared.

``MOODTAPE_RATE_LIMIT`` requests a second per client address, counted over a sliding one-second
window (rates below 1/s become "1 per N seconds", so the first request always goes through). With
``MOODTAPE_REDIS_URL`` every instance counts in the same Redis keys, so a client gets the limit
once, not once per instance; without it, the workers of ``serve --processes N`` count in one
table of shared memory (``web/ratelimit_processes.py``). Should Redis go away, each process counts
in its own memory until it is back: the limit stays on, just per instance, rather than refusing
everyone (:class:`SharedOrLocalStorage`). It goes on from the hits the process counted in Redis
over the current and the previous window, which it keeps a plain copy of (:class:`RecentHits`),
rather than from zero.

Whether Redis is away is the process's Redis circuit breaker's word (``state/breaker.py``), the
same one every other Redis call asks: while it is open no request waits on Redis for the limit,
and once a probe (the limit's own or another request's) finds Redis answering in time, the limit
is shared again within that second. Before, Flask-Limiter kept its own count of failures and asked
Redis again only after 1, 2, 4… 32 s: measured with a Redis stopped (SIGSTOP) for 40 s, then
resumed, every process kept counting alone for up to 32 s after Redis was back, while requests that
needed Redis used it again within a second.

Each limit call waits at most the breaker's bound for one round trip (``MOODTAPE_REDIS_SLOW_MS``,
0.25 s by default) as its socket timeout: every request but health checks and static files is
counted, so a Redis answering each call in 0.9 s (under the 1 s the rest of moodtape allows) made
every page wait that long, and with four request threads the instance served 0.3 pages and 0.5
``/healthz`` a second. At 0.5 s, a Redis answering in 0.3 s still held every page 0.3 s (2.2 pages
and 7 ``/healthz`` a second). A request thread kept from its CPU meanwhile does not trip it once the
answer is in. A limit call that times out is counted in this process instead, and tells the breaker
of one slow call (three in a row open it, as anyone's slow calls do), not of an outage: a Redis
that paused a quarter of a second once does not turn every request that needs it away.

The client address is ``request.remote_addr``: the socket's peer, or, with
``MOODTAPE_PROXY_HOPS`` > 0, the address the trusted proxies put in ``X-Forwarded-For`` (werkzeug's
``ProxyFix`` takes exactly that many hops, so a client cannot spoof its way past the limit by
sending its own header; with ``MOODTAPE_TRUSTED_PROXIES``, only for connections from those proxies:
``web/proxies.py``). A client on loopback (a local script, ``curl`` on the host) is limited like any
other: it is one client, and an exemption would let one local loop flood the instance; only the
paths below are exempt, for every address. Behind a proxy whose ``X-Forwarded-For`` is not used
(``MOODTAPE_PROXY_HOPS`` left at 0 or set above the proxies in front, or a peer outside
``MOODTAPE_TRUSTED_PROXIES``), every visitor has the proxy's address and shares one budget: with a
limit of 5 a second, 40 visitors forwarded by one proxy got 5 answers between them. The limit is
not loosened for it (the header is then anyone's to write), but the first such refusal is logged,
naming the settings, and the following ones summed up once a minute
(:data:`SHARED_BY_A_PROXY_WARNINGS`): before, the only sign was the visitors' 429s. The log cannot
tell a proxy's header from one a client wrote itself, and says so: setting the hops for a header
no proxy wrote, without ``MOODTAPE_TRUSTED_PROXIES``, would let any client pick its address. An
IPv6 address counts by its /64, as everywhere else in moodtape (``web/owners.py``): a client
usually holds a whole /64 and can send from any address in it, and 40 addresses of one /64 got 40
answers under a limit of 5. Health, readiness and metrics are never
limited: balancers and Prometheus poll them from one address. Nor are the page's static files,
but only the files that are there (:func:`_an_existing_static_file`): until session 27 the
exemption was every path under ``/static/``, so a client asking for ``/static/nope-1.js``,
``/static/nope-2.js``… was answered 404 without end (under ``MOODTAPE_RATE_LIMIT=2``, 60 of them
in a row were 60 404s) while every other missing path was refused after the second. The source
map of a script or stylesheet that is there (``…/app.js.map``) is a 404 that is not counted either,
nor is Chrome's ``/.well-known/appspecific/com.chrome.devtools.json``: a browser with its developer
tools open asks for them (:func:`_a_source_map_of_a_static_file`, :data:`DEVELOPER_TOOL_PATHS`).

A request that matches no route counts too (:func:`_request_identity`): a path with no route (a
scanner's ``/wp-login.php``, ``/.env``), a method the path does not take (405), a redirect the
routing answers. Flask-Limiter passes over any request without an endpoint, and until session 26
every such request was answered: under ``MOODTAPE_RATE_LIMIT=2``, 60 ``GET /nope`` in a row were
60 404s, 60 ``DELETE /api/config`` 60 405s (``GET /api/config``: 2 answers, 58 429s). The exemptions
above are by path, so they hold for any method (``POST /healthz`` is still its 405, never a 429),
but not for a request the HTTP server refused by its head (a ``Content-Length`` over the upload
limit, a compressed body): that counts on any path (:func:`_exempt`).
"""

from __future__ import annotations

import logging
import math
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final, TypeVar

from flask import Flask, Response, current_app, request
from flask_limiter import Limiter, RequestLimit
from limits.storage import MemoryStorage, RedisStorage, SlidingWindowCounterSupport, Storage
from werkzeug.security import safe_join

from moodtape.metrics import RATE_LIMITED
from moodtape.state.breaker import SLOW_CALL_S, BreakerOpen, breaker_for
from moodtape.state.connection import client_for, forget_settings_trouble
from moodtape.web.errors import error_response
from moodtape.web.logs import OncePerInterval
from moodtape.web.owners import client_of
from moodtape.web.ratelimit_processes import LocalStorage
from moodtape.web.refusals import REFUSED_BY_THE_SERVER
from moodtape.web.static_names import STATIC_ENDPOINTS, plain_file_path

log = logging.getLogger(__name__)

#: Seconds one rate-limit call to Redis may take by default before the request is counted in this
#: process instead: a healthy Redis answers in well under a millisecond, and the count is worth less
#: than the request's time. ``MOODTAPE_REDIS_SLOW_MS`` changes it with the breaker's bound.
REDIS_TIMEOUT_S: Final[float] = SLOW_CALL_S
#: Without Redis: Flask-Limiter's memory, shared by ``serve --processes N``'s workers (``web/ratelimit_processes.py``).
LOCAL_URI: Final[str] = f"{LocalStorage.STORAGE_SCHEME[0]}://"
#: Put before a Redis URL's scheme, it names :class:`SharedOrLocalStorage` to Flask-Limiter.
SCHEME_PREFIX: Final[str] = "moodtape+"
#: The limit's Redis keys start with this, like every other key of moodtape's (limits' own default,
#: ``LIMITS``, fell outside a Redis ACL user's ``~moodtape:*`` and a ``moodtape:*`` key scan).
REDIS_KEY_PREFIX: Final[str] = "moodtape:limits"
EXEMPT_PATHS: Final[frozenset[str]] = frozenset({"/healthz", "/readyz", "/metrics"})
#: The page's own files: one visit loads about 35 of them at once (modules are preloaded together),
#: and they are versioned and cached for a year (not all small: ONNX Runtime's ``vendor/ort/*.wasm``
#: is 11 MB), so counting them would refuse a page load, not an abuser. Only files that exist are
#: exempt (a miss counts like any 404); API calls and the model downloads stay limited.
EXEMPT_PREFIX: Final[str] = "/static/"
#: Paths a browser's developer tools ask for by themselves, answered 404 and not counted: Chrome
#: 135 and later ask for this one on each page load while DevTools are open, which spent one of the
#: developer's counted requests a load (under ``MOODTAPE_RATE_LIMIT=2``, the page's first API call
#: after it was a 429). One fixed
#: path, so a client looping over it gets 404s no scanner learns anything from, as ``/healthz``'s 200s.
DEVELOPER_TOOL_PATHS: Final[frozenset[str]] = frozenset({"/.well-known/appspecific/com.chrome.devtools.json"})
#: A source map's name is its file's with this added; only scripts and stylesheets have one.
SOURCE_MAP_SUFFIX: Final[str] = ".map"
SOURCE_MAPPED_SUFFIXES: Final[tuple[str, ...]] = (".js", ".mjs", ".css")
#: What the limit calls a request that matched no route (it has no endpoint). Only the limit sees
#: it: the limit is one budget per client whatever the endpoint, and the request metrics count such
#: requests under an ``unmatched`` endpoint of their own, never by path.
UNMATCHED: Final[str] = "unmatched"
#: What the limit calls a request for a static file that is not there (or one the server refused by its
#: head), so that Flask-Limiter counts it:
#: it never counts an endpoint named ``static`` (Flask's own static route), missing file or not.
STATIC_MISS: Final[str] = "static_miss"
#: The most client keys :class:`RecentHits` keeps per window (about 150 bytes each: 15 MB at most
#: for the two windows); a client first seen beyond them starts from zero at the switch, as all did.
RECENT_HITS_KEPT: Final[int] = 50_000

#: A refusal of a request that names a forwarded client this server does not use: behind a proxy,
#: every visitor shares its address, and one budget. The header may as well be the client's own
#: (nothing tells them apart), so the advice is for the proxy case only, and never without the
#: trusted proxies: the hops alone would let any client write its own address.
_SHARED_BY_A_PROXY: Final[str] = (
    "rate limit: refused a request that carries X-Forwarded-For (from a proxy in front, or written by the "
    "client itself) but was counted by its connection's address; if a proxy is in front, every visitor "
    "behind it shares that one limit of MOODTAPE_RATE_LIMIT a second: set MOODTAPE_PROXY_HOPS to the number "
    "of proxies in front (with MOODTAPE_TRUSTED_PROXIES set to their addresses, or any client can pick its "
    "own) (docs/deployment.md)"
)
#: That warning, at most once a minute with a count: past the limit, every visitor's request brings one.
SHARED_BY_A_PROXY_WARNINGS: Final = OncePerInterval(
    "rate limit: %(count)d more requests carrying an X-Forwarded-For that is not used were refused in the "
    "last %(seconds)g s (if a proxy is in front, see MOODTAPE_PROXY_HOPS, with MOODTAPE_TRUSTED_PROXIES)",
    matches=lambda record: record.msg == _SHARED_BY_A_PROXY,
)
log.addFilter(SHARED_BY_A_PROXY_WARNINGS)


def limit_text(rate: float) -> str:
    """``rate`` requests a second as a Flask-Limiter limit, e.g. ``200 per 1 second``.

    Below 1/s the window grows so that it holds one request: 0.5/s is ``1 per 2 second``.
    """
    if rate <= 0:
        raise ValueError("rate must be positive")
    window = max(1, math.ceil(1 / rate))
    return f"{max(1, round(rate * window))} per {window} second"


def retry_after_header(wait: float) -> str:
    """``Retry-After`` takes whole seconds; never say 0, or clients retry at once."""
    return str(max(1, math.ceil(wait)))


def install_rate_limit(
    app: Flask, rate: float, redis_url: str = "", redis_timeout_s: float = REDIS_TIMEOUT_S
) -> Limiter | None:
    """Limit every client address of ``app`` to ``rate`` requests a second; ``rate <= 0``: no limit.

    With ``redis_url`` the count is shared through Redis, each call waiting at most
    ``redis_timeout_s`` (``MOODTAPE_REDIS_SLOW_MS``).
    """
    if rate <= 0:
        return None
    options: dict[str, float] = {}
    if redis_url:
        options = {"socket_timeout": redis_timeout_s, "socket_connect_timeout": redis_timeout_s}
    return Limiter(
        _client_address,
        app=app,
        application_limits=[limit_text(rate)],
        application_limits_exempt_when=_exempt,
        strategy="sliding-window-counter",
        storage_uri=SCHEME_PREFIX + redis_url if redis_url else LOCAL_URI,
        storage_options=options,  # type: ignore[arg-type]  # redis-py takes float seconds; the hint says int
        key_prefix="moodtape",
        request_identifier=_request_identity,
        headers_enabled=False,
        swallow_errors=True,
        on_breach=_refuse,
    )


_Counted = TypeVar("_Counted")


@dataclass
class _TwoWindows:
    """The hits of one window length: the window holding ``at`` and the one before it."""

    index: int
    at: float
    current: dict[str, int] = field(default_factory=dict)
    previous: dict[str, int] = field(default_factory=dict)

    def moved_to(self, index: int, at: float) -> _TwoWindows:
        """The windows once the one of ``index`` began: the current one becomes the previous one
        when it is just before, and is dropped whole otherwise."""
        return _TwoWindows(index, at, previous=self.current if index == self.index + 1 else {})


class RecentHits:
    """This process's hits counted in Redis over the current and the previous sliding window.

    Loaded into the in-memory counter only when Redis goes away, so that a client who used its
    window in Redis does not get another one there. Two plain dicts per window length, the older
    dropped whole when a new window begins: counted straight into limits' ``MemoryStorage``, every
    request in Redis made it start a timer thread (about every 10 ms under load) that went over
    every key, and 20,000 client addresses cost 40 % more CPU than counting in Redis alone.
    """

    def __init__(self, kept: int = RECENT_HITS_KEPT) -> None:
        self._kept = kept
        self._lock = threading.Lock()
        self._windows: dict[int, _TwoWindows] = {}

    def add(self, key: str, expiry: int, amount: int) -> None:
        """Note ``amount`` hits of ``key`` in the window of ``expiry`` seconds holding now."""
        now = time.time()
        index = int(now / expiry)  # limits' window number (``Storage.sliding_window_keys``)
        with self._lock:
            windows = self._windows.get(expiry)
            if windows is None:
                windows = self._windows[expiry] = _TwoWindows(index, now)
            elif windows.index != index:
                windows = self._windows[expiry] = windows.moved_to(index, now)
            hits = windows.current
            if key in hits or len(hits) < self._kept:
                hits[key] = hits.get(key, 0) + amount

    def load_into(self, storage: MemoryStorage) -> None:
        """Count the hits kept in ``storage`` (under limits' own window keys), and forget them."""
        with self._lock:
            windows, self._windows = self._windows, {}
        for expiry, two in windows.items():
            for key in two.current.keys() | two.previous.keys():
                previous_key, current_key = storage.sliding_window_keys(key, expiry, two.at)
                for window_key, hits in ((previous_key, two.previous.get(key)), (current_key, two.current.get(key))):
                    if hits:
                        storage.incr(window_key, 2 * expiry, hits)  # the lifetime limits gives a window's count

    def forget(self, key: str | None = None) -> None:
        """Forget ``key``'s hits (every key's with None)."""
        with self._lock:
            if key is None:
                self._windows.clear()
                return
            for two in self._windows.values():
                two.current.pop(key, None)
                two.previous.pop(key, None)


class SharedOrLocalStorage(Storage, SlidingWindowCounterSupport):
    """The limit's counts in Redis while the Redis breaker lets calls through, else in this process.

    Flask-Limiter's own fallback judged Redis by itself (and came back to it only after up to 32 s);
    this storage never fails: a call turned away by the breaker, or one that fails, is counted in
    memory instead, and the next call asks the breaker again.
    """

    STORAGE_SCHEME = [SCHEME_PREFIX + scheme for scheme in ("redis", "rediss", "unix")]  # noqa: RUF012 (limits' own annotation)

    def __init__(self, uri: str, wrap_exceptions: bool = False, **options: float | str | bool) -> None:
        super().__init__(uri, wrap_exceptions=wrap_exceptions)
        url = uri.removeprefix(SCHEME_PREFIX)
        # A pool of its own, with the limit's short timeouts (the options are redis-py's socket timeouts).
        self._shared = RedisStorage(url, key_prefix=REDIS_KEY_PREFIX, **options)  # type: ignore[arg-type]
        self._local = MemoryStorage()
        self._recent = RecentHits()  # this process's hits in Redis, for the switch to counting here
        client = client_for(url)
        assert client is not None
        self._client = client  # whose breaker (looked up per call: a forked worker gets a fresh one) is asked
        self._counting_locally = False

    @property
    def base_exceptions(self) -> type[Exception] | tuple[type[Exception], ...]:
        import redis

        return redis.RedisError

    def _counted(
        self,
        count: Callable[[Storage], _Counted],
        reads_only: bool = False,
        wrote: Callable[[_Counted], bool] = bool,
        remember: Callable[[], None] | None = None,
    ) -> _Counted:
        """``count`` done in Redis when the breaker allows and Redis answers, else in this process.

        Once a count went to memory, reads stay there until a write goes through in Redis again
        (``wrote`` says whether one did: an acquire that Redis refused wrote nothing). A Redis out of
        memory still answers reads and refuses over-limit acquires without writing, and going back to
        it on either logged the fall to memory again on the next allowed request.

        ``remember``: called once a count was written in Redis, to keep this process's copy of its
        hits (see :meth:`acquire_sliding_window_entry`).
        """
        import redis

        if reads_only and self._counting_locally:
            return count(self._local)
        try:
            with breaker_for(self._client).call(timeout_opens=False):
                counted = count(self._shared)
        except (BreakerOpen, redis.RedisError) as exc:
            self._note_local(exc)
            return count(self._local)
        forget_settings_trouble(self._client)  # answered: a breaker it opens now is opened by slowness
        if self._counting_locally and not reads_only and wrote(counted):
            self._back_in_redis()
        if remember is not None and wrote(counted):
            remember()
        return counted

    def _note_local(self, cause: Exception) -> None:
        if not self._counting_locally:
            self._counting_locally = True
            self._recent.load_into(self._local)
            why = "its breaker is open" if isinstance(cause, BreakerOpen) else type(cause).__name__
            log.warning("rate limit: Redis unavailable (%s); counting in this process until it answers again", why)

    def _back_in_redis(self) -> None:
        """Count in Redis again, and forget the counts of the outage: kept, they refused a client
        that had been counted alone here once the next outage began. (The hits Redis counts from now
        on are kept in :class:`RecentHits` again.)"""
        self._counting_locally = False
        self._local.reset()
        log.info("rate limit: counted in Redis again, for every instance together")

    def acquire_sliding_window_entry(self, key: str, limit: int, expiry: int, amount: int = 1) -> bool:
        """One hit of ``key``, in Redis and, once Redis took it, in this process's :class:`RecentHits`.

        Before, the memory started from zero when Redis went away: a client that had used its whole
        window in Redis got another full window here at the switch (a limit of 3: 3 more answered at
        once when Redis stopped). Now it gets what is left of its window as this process counted
        it; hits that other instances counted in Redis are not known here, as before. (Only the
        sliding window counter, the strategy moodtape uses, is kept so.)
        """
        return self._counted(  # type: ignore[no-any-return]
            lambda storage: storage.acquire_sliding_window_entry(key, limit, expiry, amount),  # type: ignore[attr-defined]
            remember=lambda: self._recent.add(key, expiry, amount),
        )

    def get_sliding_window(self, key: str, expiry: int) -> tuple[int, float, int, float]:
        return self._counted(lambda storage: storage.get_sliding_window(key, expiry), reads_only=True)  # type: ignore[attr-defined, no-any-return]

    def clear_sliding_window(self, key: str, expiry: int) -> None:
        self._recent.forget(key)
        self._counted(lambda storage: storage.clear_sliding_window(key, expiry), wrote=_proves_nothing)  # type: ignore[attr-defined]

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        return self._counted(lambda storage: storage.incr(key, expiry, amount))

    def get(self, key: str) -> int:
        return self._counted(lambda storage: storage.get(key), reads_only=True)

    def get_expiry(self, key: str) -> float:
        return self._counted(lambda storage: storage.get_expiry(key), reads_only=True)

    def check(self) -> bool:
        """Whether Redis answers a PING (False, counting in this process, when it does not).

        ``RedisStorage.check`` answers any failure with False rather than an error: taken as an
        answer, it said "counted in Redis again" and told the breaker that Redis had answered in
        time, a timeout included. The PING is sent here, so that its error reaches the breaker.
        """
        import redis

        def answers(storage: Storage) -> bool:
            if storage is self._local:
                return False
            if not self._shared.get_connection().ping():
                raise redis.ConnectionError("Redis did not answer the rate limit's PING")
            return True

        return self._counted(answers, wrote=_proves_nothing)

    def reset(self) -> int | None:
        self._local.reset()
        self._recent.forget()
        return self._counted(lambda storage: storage.reset(), wrote=_proves_nothing)

    def clear(self, key: str) -> None:
        self._local.clear(key)
        self._counted(lambda storage: storage.clear(key), wrote=_proves_nothing)


def _proves_nothing(_: object) -> bool:
    """For :meth:`SharedOrLocalStorage._counted`: a PING or a delete goes through on a Redis out of
    memory too, so neither says that counts can be written there again."""
    return False


def _exempt() -> bool:
    """Whether the request is left out of the limit: by its path (above), unless the server refused it.

    A request the HTTP server refused by its head (:data:`~moodtape.web.refusals.REFUSED_BY_THE_SERVER`)
    always counts, whatever its path: no poller or page load sends a body to ``/healthz`` or a static
    file, and until session 35 a client sending ``POST /healthz`` with a ``Content-Length`` over the
    upload limit got its 413 without end (one client, 3 s: 1,858 refusals, never a 429).
    """
    if REFUSED_BY_THE_SERVER in request.environ:
        return False
    return (
        request.path in EXEMPT_PATHS
        or request.path in DEVELOPER_TOOL_PATHS
        or _an_existing_static_file()
        or _a_source_map_of_a_static_file()
    )


def _an_existing_static_file() -> bool:
    """Whether the request asks for a file that is in the static folder, by its plain name.

    The page only ever asks for files that are there, so exempting just those keeps a page load
    whole; a missing name (``/static/nope-1.js``) or an odd spelling of a real one (which
    ``web/static_names.py`` answers 404) is counted like any other path with nothing behind it.
    One or two ``stat`` calls a static request (the limit may ask twice): far less than the file's
    own sending.
    """
    filename = _static_filename()
    return filename is not None and _in_static_folder(filename)


def _a_source_map_of_a_static_file() -> bool:
    """Whether the request asks for the source map of a script or stylesheet that is there.

    A browser with its developer tools open asks for a file's source map when the file names one
    (a ``//# sourceMappingURL=`` comment or a ``SourceMap`` header): here only ONNX Runtime's
    ``vendor/ort/ort.wasm.min.mjs`` does, once per page load in on-device mode, and others a
    developer's own build or an extension may ask for. None is shipped, so each is a 404, and until
    session 28 each spent the client's budget like a scanner's miss. Only the map of a file that is
    there is exempt, so ``/static/nope-1.js.map`` still counts.
    """
    filename = _static_filename()
    if filename is None:
        return False
    source, dot_map = os.path.splitext(filename)
    return dot_map == SOURCE_MAP_SUFFIX and source.endswith(SOURCE_MAPPED_SUFFIXES) and _in_static_folder(source)


def _static_filename() -> str | None:
    """The plain file name a static request asks for (``js/app.js``), or ``None`` for any other request."""
    if not request.path.startswith(EXEMPT_PREFIX) or request.endpoint not in STATIC_ENDPOINTS:
        return None
    filename = (request.view_args or {}).get("filename")
    return filename if isinstance(filename, str) and plain_file_path(filename) else None


def _in_static_folder(filename: str) -> bool:
    folder = current_app.static_folder
    found = safe_join(folder, filename) if folder is not None else None
    return found is not None and os.path.isfile(found)


def _request_identity() -> str:
    """The request's endpoint for Flask-Limiter, or :data:`UNMATCHED` when routing found none.

    A static request that is counted (a missing file, or one the server refused by its head: see
    :func:`_exempt`) is :data:`STATIC_MISS`, which Flask-Limiter does not pass over.

    Flask-Limiter counts no request whose identity is empty, and its default identity is the
    endpoint, which a request that matched no route lacks: a scanner probing thousands of missing
    paths a second was never refused. The limit is one budget per client (an application limit,
    shared by every endpoint), so the identity only has to be non-empty; it names no path.
    """
    endpoint = request.endpoint
    if endpoint in STATIC_ENDPOINTS and (REFUSED_BY_THE_SERVER in request.environ or not _an_existing_static_file()):
        return STATIC_MISS  # Flask-Limiter passes over an endpoint named ``static`` whatever it holds
    return endpoint or UNMATCHED


def _client_address() -> str:
    """The limit's key: the client's address, an IPv6 one as its /64."""
    return client_of(request.remote_addr or "unknown")


def _refuse(limit: RequestLimit) -> Response:
    RATE_LIMITED.inc()
    if _forwarded_but_unused():
        log.warning(_SHARED_BY_A_PROXY)
    response = error_response(429, "rate_limited", "too many requests from this address; slow down and retry")
    response.headers["Retry-After"] = retry_after_header(limit.reset_at - time.time())
    return response


def _forwarded_but_unused() -> bool:
    """Whether the request names a forwarded client that the limit did not count it by.

    werkzeug's ``ProxyFix`` notes the original address in ``werkzeug.proxy_fix.orig`` whenever it
    runs (``web/proxies.py`` runs it for the trusted proxies' connections only), but changes
    ``REMOTE_ADDR`` only when the header has at least ``MOODTAPE_PROXY_HOPS`` entries: with the
    hops set above the proxies in front, the address stays the proxy's, and the header is unused
    all the same. (A forwarded client with the proxy's own address counts as unused too: a
    warning at worst, and only on a refusal.)
    """
    if "X-Forwarded-For" not in request.headers:
        return False
    environ = request.environ
    original = environ.get("werkzeug.proxy_fix.orig", {}).get("REMOTE_ADDR", environ.get("REMOTE_ADDR"))
    return bool(original == environ.get("REMOTE_ADDR"))

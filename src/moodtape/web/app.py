"""The application factory: ``create_app(settings)`` builds a Flask app; nothing happens at import.

Creating the app is fast: the emotion model and the recommender are built on first use (or by
:meth:`Services.warm`, which ``moodtape serve`` runs in the background right after binding its
port). Tests pass their own analyzer and recommender.

With ``MOODTAPE_REDIS_URL`` the state that requests share (rate limits, streams, session lists,
provider caches) lives in Redis (see :mod:`moodtape.state`), so instances behind a balancer are
interchangeable; without it, in this process, except that ``moodtape serve --processes N`` keeps
session lists and calibrations in the store (:meth:`Services.share_state_in_store`).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from flask import Flask, Response, current_app, request
from werkzeug.exceptions import UnsupportedMediaType

from moodtape.config import Settings
from moodtape.errors import DataError, ModelError, shown
from moodtape.metrics import DETECTOR_SECONDS, MODEL_SECONDS
from moodtape.playlists import Playlists
from moodtape.recommender.engine import Recommender
from moodtape.session_state import LocalSessionMemory, SessionMemory
from moodtape.sessions import SessionService
from moodtape.state.connection import client_for
from moodtape.state.profiles import RedisProfileStore
from moodtape.state.retired import RedisRetiredSessions
from moodtape.state.sessions import RedisSessionMemory
from moodtape.state.turns import RedisTurnMarks
from moodtape.store import data_dir
from moodtape.store.database import Database, StoreWaits
from moodtape.vision.pipeline import Analyzer
from moodtape.vision.stream import StreamAnalyzer
from moodtape.vision.yunet import YuNetDetector
from moodtape.web.delivery import install_delivery
from moodtape.web.errors import register_error_handlers
from moodtape.web.hosts import install_host_checks
from moodtape.web.large_pictures import LargePictureGate
from moodtape.web.owners import client_owner, client_pseudonym
from moodtape.web.params import check_query
from moodtape.web.profiles import MemoryProfileStore, ProfileStore
from moodtape.web.proxies import TrustedProxyFix
from moodtape.web.ratelimit import install_rate_limit
from moodtape.web.refusals import install_server_refusals
from moodtape.web.retired import MemoryRetiredSessions, RetiredSessions, retired_seconds
from moodtape.web.secret_key import stored_secret_key
from moodtape.web.security import HSTS, SECURITY_HEADERS, redact_secrets_in
from moodtape.web.server_wide import install_server_wide_endpoint, install_server_wide_options
from moodtape.web.session import install_session
from moodtape.web.session_turns import LocalTurnMarks, TurnMarks
from moodtape.web.static_names import install_static_name_check
from moodtape.web.streams import STREAM_DETECT_EVERY, RedisStreamRegistry, StreamRegistry, Streams
from moodtape.web.uploads import MAX_FORM_PARTS, InMemoryRequest

if TYPE_CHECKING:
    import redis
    from prometheus_client import Histogram

    from moodtape.state.process_pauses import PauseTable

AnalyzerSource = Analyzer | Callable[[], Analyzer]
BUNDLED_MODEL_NAME = "moodtape model"
MODEL_UNAVAILABLE = (
    "the emotion model is not available; the server's log says why (its operator should check MOODTAPE_MODEL)"
)
_log = logging.getLogger(__name__)


class Services:
    """What the views need, each built once on first use and shared by the request threads.

    Args:
        settings: the resolved settings.
        analyzer: an analyzer, or a function that builds one; None loads the model the settings name.
        recommender: the engine; None builds one from the settings.
    """

    def __init__(self, settings: Settings, analyzer: AnalyzerSource | None, recommender: Recommender | None) -> None:
        self.settings = settings
        self._analyzer_source = analyzer
        self._analyzer = _timed(analyzer) if isinstance(analyzer, Analyzer) else None
        self._recommender = recommender
        # Two locks: /healthz building the recommender must not wait for the model to load.
        self._analyzer_lock = threading.Lock()
        self._recommender_lock = threading.Lock()
        #: Redis for shared state, or None: everything stays in this process.
        self.redis: redis.Redis | None = client_for(
            settings.get("MOODTAPE_REDIS_URL"), slow_s=settings.get_int("MOODTAPE_REDIS_SLOW_MS") / 1000
        )
        factory = self._new_stream
        self.streams: Streams = RedisStreamRegistry(self.redis, factory) if self.redis else StreamRegistry(factory)
        # Each session's short-lived lists (export, undo, restore): in Redis when shared.
        self.memory: SessionMemory = (
            RedisSessionMemory(self.redis) if self.redis else LocalSessionMemory(owner=client_owner)
        )
        #: Each session's personal calibration (web/profiles.py): in Redis when shared.
        self.profiles: ProfileStore = (
            RedisProfileStore(self.redis, self.analyzer) if self.redis else MemoryProfileStore()
        )
        #: Sessions ended by "Delete everything" (web/retired.py): in Redis when shared.
        self.retired_keep_s = keep = retired_seconds(settings.get_float("MOODTAPE_HISTORY_DAYS"))
        self.retired: RetiredSessions = (
            RedisRetiredSessions(self.redis, keep) if self.redis else MemoryRetiredSessions(keep)
        )
        #: Whose turn it is to make a session's list (web/session_turns.py): in Redis when shared.
        self.turn_marks: TurnMarks = RedisTurnMarks(self.redis) if self.redis else LocalTurnMarks()
        #: Large pictures worked on at once in this process (web/large_pictures.py).
        self.large_pictures = LargePictureGate(settings.get_int("MOODTAPE_LARGE_PICTURES"))
        #: The database holding the two above after :meth:`share_state_in_store`; None otherwise.
        self.state_database: Database | None = None
        #: The live services' pauses shared by the workers after :meth:`share_pauses_between_processes`.
        self.pause_table: PauseTable | None = None
        #: Request threads that may wait on the database at once: half of them, so that a frozen
        #: database cannot hold every thread (store/database.py); the server sets its real count.
        self.store_waits = StoreWaits(store_turns(settings.get_int("MOODTAPE_WORKERS")))
        self._bound_store(recommender)

    def set_request_threads(self, threads: int) -> None:
        """Size the bound on threads waiting on the database for a server of ``threads`` request threads."""
        self.store_waits.resize(store_turns(threads))

    def _bound_store(self, recommender: Recommender | None) -> None:
        store = recommender.store if recommender is not None else None
        if store is not None and store.database.waits is None:
            store.database.waits = self.store_waits
        if store is not None:
            # History is counted per client address and day (store/write_budget.py): the request's.
            store.writer = client_pseudonym

    def share_state_in_store(self) -> None:
        """Keep session lists, calibrations, retired ids and turn marks in the store, for processes sharing no memory.

        ``moodtape serve --processes N`` calls this (before forking) when there is no Redis; the
        store's database opens no connection until a worker uses it, so none crosses a fork.
        """
        from moodtape.state.in_store import StoreProfileStore, StoreSessionMemory
        from moodtape.state.retired import StoreRetiredSessions
        from moodtape.state.turns import StoreTurnMarks
        from moodtape.store import database_url

        database = self.state_database = Database(database_url(self.settings))
        database.waits = self.store_waits
        self.memory = StoreSessionMemory(database)
        self.profiles = StoreProfileStore(database, self.analyzer)
        self.retired = StoreRetiredSessions(database, self.retired_keep_s)
        self.turn_marks = StoreTurnMarks(database)

    def share_pauses_between_processes(self) -> None:
        """Keep the live services' pauses (a 429, refused credentials) where every worker process
        forked from now on sees them: ``moodtape serve --processes N`` calls this before forking,
        with Redis or without (``state/process_pauses.py``)."""
        from moodtape.state.process_pauses import PauseTable

        self.pause_table = PauseTable()

    def _new_stream(self) -> StreamAnalyzer:
        return StreamAnalyzer(self.analyzer(), detect_every=STREAM_DETECT_EVERY)

    @property
    def model_ready(self) -> bool:
        """True once the emotion model is loaded (the first analysis will not wait for it)."""
        return self._analyzer is not None

    @property
    def model_name(self) -> str:
        if self._analyzer is not None:
            return self._analyzer.classifier.name
        configured = self.settings.get("MOODTAPE_MODEL").strip()
        return Path(configured).name if configured else BUNDLED_MODEL_NAME

    def analyzer(self) -> Analyzer:
        """The shared analyzer, loading the model on first call.

        Raises:
            ModelError: the model cannot be loaded (the API answers 503).
        """
        if self._analyzer is not None:
            return self._analyzer
        with self._analyzer_lock:
            if self._analyzer is None:
                self._analyzer = _timed(self._load_analyzer())
            return self._analyzer

    def _load_analyzer(self) -> Analyzer:
        try:
            return self._build_analyzer()
        except (ModelError, OSError, ValueError, RuntimeError) as exc:
            # The detail (file paths, ONNX Runtime's words) is for the operator's log, not the client.
            _log.error("the emotion model could not be loaded: %s", exc)
            raise ModelError(MODEL_UNAVAILABLE) from None

    def _build_analyzer(self) -> Analyzer:
        source = self._analyzer_source
        if callable(source):
            return source()
        from moodtape.vision.pipeline import get_analyzer

        return get_analyzer(
            self.settings.get("MOODTAPE_MODEL").strip() or None,
            self.settings.get("MOODTAPE_MODEL_PRESET").strip().lower() or None,
            self.settings.get_int("MOODTAPE_THREADS"),
            self.settings.get_int("MOODTAPE_MAX_PIXELS"),
            self.settings.get("MOODTAPE_DETECTOR").strip().lower() or "yunet",
        )

    def recommender(self) -> Recommender:
        """The shared recommender, built from the settings on first call."""
        if self._recommender is None:
            with self._recommender_lock:
                if self._recommender is None:
                    from moodtape.recommender.api import build_recommender

                    self._recommender = build_recommender(self.settings, pauses=self.pause_table)
                    self._bound_store(self._recommender)
        return self._recommender

    def built_recommender(self) -> Recommender | None:
        """The shared recommender if it is built already, else None: never waits for it to be built."""
        return self._recommender

    def sessions(self) -> SessionService:
        """The session shell over the shared recommender: validates, ranks, then records."""
        return SessionService.of(self.recommender(), self.memory)

    def playlists(self) -> Playlists:
        """Saved-list operations (reuse, dislike-replace, undo) for the session shell."""
        return Playlists(self.sessions())

    def warm(self) -> None:
        """Load the model and the catalog, run the model once and migrate the store, so the first request is fast."""
        analyzer = self.analyzer()
        analyzer.classify_boxes(np.full((96, 96), 128, np.uint8), [])
        analyzer.analyze_gray(np.full((480, 640), 128, np.uint8))
        store = self.recommender().store
        if store is not None:
            store.database.ensure_ready()  # schema migrations run at start, not on a first request
        if self.state_database is not None:
            self.state_database.ensure_ready()


def store_turns(threads: int) -> int:
    """How many of ``threads`` request threads may use the database at once: half, at least one."""
    return max(1, threads // 2)


def services() -> Services:
    """The current app's :class:`Services`."""
    found: Services = current_app.extensions["moodtape"]
    return found


def _warn_if_machines_disagree_on_the_key(settings: Settings) -> None:
    """Redis means several machines share state; a key generated per machine would split them.

    The generated key lives in each machine's data folder, so a visit whose next request reaches
    another machine loses its session and has its CSRF token refused (403), silently from the
    operator's side. Nothing stops: one machine with Redis is a fine setup too.
    """
    if settings.get("MOODTAPE_REDIS_URL").strip() and not settings.get("MOODTAPE_SECRET_KEY"):
        _log.warning(
            "MOODTAPE_REDIS_URL is set but MOODTAPE_SECRET_KEY is not: each machine signs sessions "
            "with its own generated key, so a visit that reaches another machine starts afresh and "
            "its changes are refused (403); give every machine the same MOODTAPE_SECRET_KEY"
        )


class MoodtapeFlask(Flask):
    """Flask with one change: the automatic answer to ``OPTIONS``.

    Flask answers ``OPTIONS`` with an empty body typed ``text/html``; here it is an empty answer
    with ``Allow`` and no type, and it carries no session cookie (see
    :func:`moodtape.web.session.install_session`): nothing was asked of a session. It stays a 200
    with ``Content-Length: 0`` rather than a 204, as clients have long been answered (a 204 closed
    the connection until session 36: waitress closes after any answer without a length, and Werkzeug
    drops the length of a 204; bodiless answers now keep it, web/buffered_server.py).
    """

    def make_default_options_response(self) -> Response:
        """``200`` with the ``Allow`` header Flask works out for the path, and nothing else."""
        response = super().make_default_options_response()
        response.headers.pop("Content-Type", None)
        return response


def create_app(
    settings: Settings | None = None,
    *,
    analyzer: AnalyzerSource | None = None,
    recommender: Recommender | None = None,
) -> Flask:
    """Build the moodtape web app.

    Args:
        settings: None reads the environment and ``.env`` (:meth:`Settings.load`).
        analyzer: an :class:`Analyzer` or a function that builds one; None loads the configured model
            on first use.
        recommender: None builds the default engine (catalog, live providers when keys are set).
    """
    settings = settings or Settings.load()
    app = MoodtapeFlask(__name__)
    app.request_class = InMemoryRequest
    max_upload = settings.get_int("MOODTAPE_MAX_UPLOAD_BYTES")
    _warn_if_machines_disagree_on_the_key(settings)
    app.config.update(
        # Unset: a key generated once and kept in the data folder, so a restart keeps pages' tokens valid.
        SECRET_KEY=settings.get("MOODTAPE_SECRET_KEY") or stored_secret_key(data_dir(settings)),
        # Earlier keys during a rotation: sessions and CSRF tokens signed with one are still accepted.
        SECRET_KEY_FALLBACKS=list(settings.get_list("MOODTAPE_SECRET_KEY_FALLBACKS")),
        MAX_CONTENT_LENGTH=max_upload,
        MAX_FORM_MEMORY_SIZE=max_upload,
        MAX_FORM_PARTS=MAX_FORM_PARTS,
    )
    app.json.sort_keys = False  # type: ignore[attr-defined]  # keep labels in FER2013 order
    app.extensions["moodtape"] = Services(settings, analyzer, recommender)
    redact_secrets_in(app.logger, settings.secret_values())
    hops = settings.get_int("MOODTAPE_PROXY_HOPS")
    proxies = settings.get_networks("MOODTAPE_TRUSTED_PROXIES")
    if hops > 0:  # web/proxies.py: X-Forwarded-For and -Proto of the trusted proxies' connections only
        app.wsgi_app = TrustedProxyFix(app.wsgi_app, hops, proxies)  # type: ignore[method-assign]
    elif proxies:
        _log.warning(
            "MOODTAPE_TRUSTED_PROXIES is set but MOODTAPE_PROXY_HOPS is 0: no X-Forwarded-* header is used, "
            "every client counts by its connection's address; set MOODTAPE_PROXY_HOPS to the proxies in front"
        )

    from moodtape.web import api, calibration_api, lists_api, ondevice, ops, views

    ops.install_ops(app)  # first, so the request id and timing cover every other hook
    install_server_wide_endpoint(app)  # web/server_wide.py: OPTIONS * named, for the limit and the metrics
    install_rate_limit(
        app,
        settings.get_float("MOODTAPE_RATE_LIMIT"),
        settings.get("MOODTAPE_REDIS_URL").strip(),
        settings.get_int("MOODTAPE_REDIS_SLOW_MS") / 1000,
    )
    install_server_refusals(app)  # web/refusals.py: bodies the server refused by their head, after the limit
    install_host_checks(app)  # web/hosts.py: 400 for a bad Host, redirects that name no host
    install_server_wide_options(app)  # web/server_wide.py: OPTIONS *, after the checks above
    install_static_name_check(app)  # web/static_names.py: 404 for /static/style.css/ and the like
    app.before_request(_check_api_query)
    app.before_request(_refuse_encoded_bodies)
    install_session(app)
    app.after_request(_add_security_headers)
    install_delivery(app)
    register_error_handlers(app)

    app.register_blueprint(views.blueprint)
    app.register_blueprint(api.blueprint)
    app.register_blueprint(lists_api.blueprint)
    app.register_blueprint(calibration_api.blueprint)
    app.register_blueprint(ondevice.blueprint)
    return app


def _timed(analyzer: Analyzer) -> Analyzer:
    """``analyzer`` with its full-frame detector and its model timed into the metrics.

    Each part is wrapped at most once, whichever analyzer brings it: several apps of one process (as in
    tests) and analyzers built around another's detector or model share them, and a second wrapper
    would count every search twice.
    """
    # YuNet's every search goes through detect_landmarks (detect too): timing that one counts each
    # search once, with or without alignment.
    entry = "detect_landmarks" if isinstance(analyzer.detector, YuNetDetector) else "detect"
    setattr(analyzer.detector, entry, _observed(getattr(analyzer.detector, entry), DETECTOR_SECONDS))
    analyzer.classifier.predict = _observed(analyzer.classifier.predict, MODEL_SECONDS)  # type: ignore[method-assign]
    return analyzer


def _observed(function: Callable[..., Any], seconds: Histogram) -> Callable[..., Any]:
    """``function``, with the seconds of every call observed in ``seconds``, also when it raises;
    ``function`` itself when it is already observed there.

    (prometheus-client's own ``Histogram.time()`` decorator refuses bound methods.)
    """
    if getattr(function, "observed_in", None) is seconds:
        return function

    def observed(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            seconds.observe(time.perf_counter() - started)

    observed.observed_in = seconds  # type: ignore[attr-defined]
    return observed


#: The parameters ``/readyz`` takes: a monitor's misspelt ``stict=true`` must not go unnoticed.
READYZ_PARAMETERS = frozenset({"strict"})


def _check_api_query() -> None:
    """Every API parameter once, non-empty (``params.check_query``), before a session is even read.

    ``/readyz`` too, and it takes ``strict`` only: ``strict=1&strict=0`` answered by the first value,
    and an unknown parameter ignored, let a monitor believe it asked for what it did not.
    A request that routing already refused (no such path, or a method the path does not take) gets
    that answer, 404 or 405, rather than a complaint about its parameters.
    """
    if request.routing_exception is not None:
        return
    if request.path.startswith("/api/"):
        check_query(request.args)
    elif request.path == "/readyz":
        check_query(request.args)
        unknown = sorted(set(request.args) - READYZ_PARAMETERS)
        if unknown:
            raise DataError(f"/readyz takes strict only, not {shown(unknown[0], 32)}")


def _refuse_encoded_bodies() -> None:
    """A request body sent compressed (``Content-Encoding: gzip``) is refused with 415, as RFC 9110
    (section 8.4) asks of a server that does not decode it: read as it is, a gzipped picture was
    "not a picture" and gzipped JSON "not UTF-8", which sent the client looking in the wrong place.
    A request without a body has nothing encoded, and one that routing refused gets its 404 or 405."""
    coding = request.headers.get("Content-Encoding", "").strip().lower()
    has_body = bool(request.content_length) or "Transfer-Encoding" in request.headers
    if coding and coding != "identity" and has_body and request.routing_exception is None:
        raise UnsupportedMediaType(
            f"request bodies sent with Content-Encoding {shown(coding, 32)} are not accepted; send it uncompressed"
        )


def _add_security_headers(response: Response) -> Response:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    if request.is_secure:
        # Only over HTTPS (browsers ignore it on plain HTTP): stay on HTTPS for two years.
        response.headers.setdefault("Strict-Transport-Security", HSTS)
    if request.path.startswith("/api/") or request.path in ("/healthz", "/readyz"):
        response.headers.setdefault("Cache-Control", "no-store")
    elif response.mimetype == "text/html":
        # The page carries the session's CSRF token: browsers revalidate it, shared caches keep none.
        response.headers.setdefault("Cache-Control", "private, no-cache")
    return response

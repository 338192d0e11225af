"""Operations endpoints and hooks: ``/readyz``, ``/metrics``, request metrics and the request id.

- ``/healthz`` (in ``views.py``) says the process is alive; ``/readyz`` says whether it can serve
  now. 503 only for this instance's own state: while the model loads, and while the database's
  schema is not this instance's version (newer: a rolling upgrade, whose newer instances work, so
  the balancer should send the requests there; older: moved back under it by a restore), and while
  the SQLite file it opened was replaced under it (store/database.py), and while one key it does
  not accept is held by a strict majority of the live instances (web/secret_key.py; kept for 30 s
  while Redis cannot be asked, or does not answer in time). The store and Redis (when
  set) are shared by every instance, so when one of them is down every instance sees it: failing
  readiness then would take the whole site off the balancer, pages and photo analysis included,
  which need neither. Instead the answer is 200 ``degraded`` naming what is down (the requests
  that need it get their own 503s); ``?strict=true`` makes any failed check a 503, for monitors
  that alert on it. And 503 ``draining`` from the first SIGTERM for ``MOODTAPE_DRAIN_SECONDS``, while
  every other request is still served, so the balancer stops sending new requests before the port
  closes (``web/draining.py``).
- ``/readyz`` answers within :data:`CHECK_WITHIN_S` (1 s) whatever the database or Redis does,
  well inside a balancer's check timeout (3 to 5 s): a database host that is gone costs libpq
  its 5 s connect timeout, and a frozen one never answers, and either made every instance fail
  its check at once, the whole-site outage the rule above avoids. The checks run in threads of
  their own, at most one per kind at a time (a stuck check is waited on by the next poll, never
  started again beside it); one that has not answered in time is reported as such ("the history
  store did not answer within 1 s"), a degraded 200 like any other shared outage; while the
  recommender is not built yet and while the check that builds it pings the store (the instance
  is starting: its first database check builds it), a late database check says the instance is
  starting instead, for :data:`OPENING_GRACE_S` (it said
  the database did not answer, at every start), then how long it has waited ("within 10 s"). So is a Redis
  that is full (``maxmemory`` reached, writes refused): named under ``checks.redis``, not under the
  secret key check whose write it refused first.
- ``/metrics`` is Prometheus' text format. Who may read it is ``MOODTAPE_METRICS``: ``off``;
  ``local`` (the default), clients on a loopback address only, so a server on a public address
  does not show its metrics to the world; ``open``, anyone. With ``MOODTAPE_METRICS_TOKEN`` set, a
  request carrying ``Authorization: Bearer <token>`` may read it from anywhere. Others get 404, as
  if there were no such page. Behind a balancer, ``remote_addr`` is the client's address only
  when ``MOODTAPE_PROXY_HOPS`` trusts the balancer; otherwise it is the balancer's, which is why
  the balancer must not forward ``/metrics`` (docs/deployment.md).
- Every request gets an id: the ``X-Request-ID`` header when it is a short token (balancers set
  one), else a fresh one; it is sent back in ``X-Request-ID`` and put in every log line.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import ipaddress
import logging
import math
import os
import re
import secrets
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

from flask import Blueprint, Flask, Response, abort, current_app, g, jsonify, request

from moodtape.errors import MoodtapeError
from moodtape.metrics import REQUEST_SECONDS, REQUESTS
from moodtape.web.app import services
from moodtape.web.draining import drain_mark, install_drain_mark
from moodtape.web.logs import STORE_NOTE_FAILED, STORE_NOTE_WORKS
from moodtape.web.params import flag
from moodtape.web.versions_here import mark_start

if TYPE_CHECKING:
    from moodtape.state.instances import Others

blueprint = Blueprint("ops", __name__)
log = logging.getLogger("moodtape.web")

METRICS_MODES: Final = ("off", "local", "open")
REQUEST_ID_HEADER: Final = "X-Request-ID"
_REQUEST_ID: Final = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
#: Seconds ``/readyz`` waits for its database and Redis checks: well inside a balancer's check
#: timeout (3 s in tests/cluster_topology.py, 5 s in deploy/haproxy.cfg).
CHECK_WITHIN_S: Final[float] = 1.0
#: Seconds a late database check is said to be starting, not late, while the recommender is not built
#: yet (an instance's first check builds it: the catalog loads and the store opens): a start takes 1 to
#: 2 s, while a database that hangs at start is named as such once this has passed.
OPENING_GRACE_S: Final[float] = 10.0
#: What a late database check says while the recommender is not built yet: the instance is starting.
OPENING_WORDS: Final = "the history store is being opened: this instance is starting"
_READINESS: Final = "moodtape.readiness"
_KEY_VERDICT: Final = "moodtape.key-verdict"


def install_ops(app: Flask) -> None:
    """Register ``/readyz``, ``/metrics`` and the per-request id and metrics hooks."""
    mode = app.extensions["moodtape"].settings.get("MOODTAPE_METRICS").strip().lower()
    if mode not in METRICS_MODES:
        raise ValueError(f"MOODTAPE_METRICS must be one of {', '.join(METRICS_MODES)}, got {mode!r}")
    app.before_request(_start_request)
    app.after_request(_finish_request)
    app.extensions[_READINESS] = {"database": _SingleFlight("database"), "redis": _SingleFlight("redis")}
    app.extensions[_KEY_VERDICT] = _KeyVerdict()
    app.extensions[_INSTANCE] = secrets.token_hex(8)  # before any fork: one id for all workers
    mark_start(app)  # with the id: a release note from before it is a process gone (web/versions_here.py)
    install_drain_mark(app)  # here, in the app's creation: before gunicorn forks, so its workers share it
    app.register_blueprint(blueprint)


def request_id() -> str | None:
    """This request's id, or None outside a request."""
    from flask import has_request_context

    return str(g.request_id) if has_request_context() and "request_id" in g else None


def request_id_for(given: str) -> str:
    """The id of a request whose ``X-Request-ID`` said ``given``: that one when it is a plausible id
    (a balancer's), else a new one. The HTTP server's own refusals take theirs here too."""
    return given if _REQUEST_ID.fullmatch(given) else secrets.token_hex(8)


def _start_request() -> None:
    g.started = time.perf_counter()
    g.request_id = request_id_for(request.headers.get(REQUEST_ID_HEADER, ""))


def _finish_request(response: Response) -> Response:
    endpoint = request.endpoint or "unmatched"
    if "started" in g:
        REQUEST_SECONDS.labels(endpoint=endpoint).observe(time.perf_counter() - g.started)
    REQUESTS.labels(endpoint=endpoint, status=str(response.status_code)).inc()
    if "request_id" in g:
        response.headers[REQUEST_ID_HEADER] = g.request_id
    return response


@blueprint.get("/readyz")
def readyz() -> tuple[Response, int]:
    """503 while the model loads, the schema is not this instance's version (newer, or moved back), or
    the instance drains before a stop; 200 ``ready``, or ``degraded`` when a shared part is down."""
    state = services()
    # Read once: the model may finish loading during the checks below, and the answer must not
    # say 200 with "loading" in it.
    model_ready = state.model_ready
    # A monitor that sends strict=True (Python's requests writes True so) must not get lenient
    # answers unnoticed: anything but true/1/false/0 is a 400.
    strict = flag(request.args, "strict") or False
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    mark = drain_mark(app)
    if mark is not None and mark.is_set:  # no checks: whatever they say, this instance is leaving
        return jsonify(status="draining", checks={"instance": "stopping (SIGTERM): send new requests elsewhere"}), 503
    kinds: dict[str, _SingleFlight] = app.extensions[_READINESS]
    deadline = time.monotonic() + CHECK_WITHIN_S
    flights = [kinds["database"].start(app, _database_checks)]
    client = state.redis
    if client is not None:
        from moodtape.state.connection import no_answer_in_time

        redis_flight = kinds["redis"].start(app, lambda flight: _redis_checks(flight, client, model_ready))
        # Worded as the ping's own timeout and the breaker's 503: which of them an instance meets
        # first is chance, and instances compared side by side must name one condition alike.
        redis_flight.late_words = no_answer_in_time(client, CHECK_WITHIN_S)
        flights.append(redis_flight)
    checks: dict[str, Any] = {"model": "ok" if model_ready else "loading"}
    this_instance = False  # a failure of this instance's own, not shared by every one
    operator = _may_read_metrics(state.settings.get("MOODTAPE_METRICS"), state.settings.get("MOODTAPE_METRICS_TOKEN"))
    for flight in flights:
        if flight.done.wait(max(0.0, deadline - time.monotonic())):
            checks.update(flight.checks)
            if operator:  # the words that may name Redis's ACL user, for whoever may read /metrics
                checks.update(flight.for_operators)
            this_instance |= flight.this_instance
        else:
            # Read now, not when the check began: a recommender built meanwhile by another thread
            # (a request) leaves a database that hangs in this check named as such (it said the
            # instance was starting, for 10 s); one this check built keeps it starting (opening).
            starting = flight.kind == "database" and flight.opening(built=state.built_recommender() is not None)
            checks[flight.kind] = flight.late(starting=starting)
            this_instance |= flight.kind == "redis" and _kept_verdict_stands(checks, _key_verdict())
    if not model_ready or this_instance or (strict and any(value != "ok" for value in checks.values())):
        return jsonify(status="not_ready", checks=checks), 503
    degraded = any(value != "ok" for value in checks.values())
    return jsonify(status="degraded" if degraded else "ready", checks=checks), 200


#: What each kind of check asks, as the answer names it when it is late.
_PARTS: Final = {"database": "the history store", "redis": "Redis"}


@dataclass
class _Flight:
    """One run of a kind of readiness check; :attr:`checks` holds its answers once :attr:`done` is set."""

    kind: str
    done: threading.Event = field(default_factory=threading.Event)
    checks: dict[str, str] = field(default_factory=dict)
    #: Answers of :attr:`checks` that say more to operators (Redis's own words, which may name the
    #: ACL user): shown by ``/readyz`` only to a request that may read ``/metrics``.
    for_operators: dict[str, str] = field(default_factory=dict)
    #: Work the run does after :attr:`done` is set, so that the answer never waits for it (the release
    #: note: a fifth round trip put a Redis 190 ms away past the 1 s a readiness run has).
    afterwards: list[Callable[[], None]] = field(default_factory=list)
    #: A check failed for a reason of this instance's own: ``/readyz`` says 503 ``not_ready``.
    this_instance: bool = False
    #: What :meth:`late` says instead of its own words: Redis's, shared with the call that times out.
    late_words: str | None = None
    started: float = field(default_factory=time.monotonic)
    #: This run built the recommender: it is the instance's start (see :meth:`opening`).
    built_here: bool = False
    #: What :meth:`late` said first (and logged): said again by every later poll of this run.
    _late_said: str | None = None

    def note(self, name: str, answer: tuple[str, str]) -> None:
        """Keep a check's answer (the public one, and the one for operators where it says more)."""
        public, detailed = answer
        self.checks[name] = public
        if detailed != public:
            self.for_operators[name] = detailed

    def opening(self, *, built: bool) -> bool:
        """Whether this run is still the instance's start: the recommender is not ``built`` yet, or
        this run built it, so that its store's first ping is the start's last step. The build has
        just opened the store: a slow ping then is a new process on a loaded machine, not a
        database gone (an allowance of 0.5 s for that ping still named, and logged, the pings of
        starts under CI's load as not answering within 2 or 3 s). :meth:`late` bounds the start by
        :data:`OPENING_GRACE_S`, after which a database that hangs is named all the same."""
        return not built or self.built_here

    def late(self, *, starting: bool = False) -> str:
        """The answer for a run that did not finish in time, logged once per run and then said alike
        by every poll of it (operators compare instances by these words). While the instance is
        ``starting`` (the recommender not built yet) and for :data:`OPENING_GRACE_S`, it says so
        instead, unlogged. Its words name how long the run had waited when first said: 1 s for a
        run this poll began, more after the grace (it said "within 1 s" after 10 s)."""
        waited = time.monotonic() - self.started
        if starting and waited < OPENING_GRACE_S:
            return OPENING_WORDS
        if self._late_said is None:
            within = max(CHECK_WITHIN_S, math.floor(waited))
            self._late_said = self.late_words or f"{_PARTS[self.kind]} did not answer within {within:g} s"
            log.warning("readiness: %s", self._late_said)
        return self._late_said


class _SingleFlight:
    """Runs one kind of readiness check in a thread of its own, never two at once.

    A poll that finds the previous run still going waits on that run instead of starting another:
    a database that never answers holds one thread, not one more per balancer poll.
    """

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._lock = threading.Lock()
        self._current: _Flight | None = None

    def start(self, app: Flask, work: Callable[[_Flight], None]) -> _Flight:
        """The run in progress, or a new run of ``work`` (in ``app``'s context) when there is none."""
        with self._lock:
            if self._current is not None and not self._current.done.is_set():
                return self._current
            flight = self._current = _Flight(self.kind)

        def run() -> None:
            try:
                with app.app_context():
                    work(flight)
            except Exception as exc:  # a readiness probe reports any failure; it must never raise
                flight.checks.setdefault(self.kind, f"failing ({type(exc).__name__})")
            finally:
                flight.done.set()
            threading.current_thread().name += "-afterwards"  # told apart from the next run's thread
            for later in flight.afterwards:
                try:
                    with app.app_context():
                        later()
                except Exception:  # best effort, as the work it follows: answered already
                    log.debug("a readiness run's follow-up failed", exc_info=True)

        threading.Thread(target=run, name=f"moodtape-readyz-{self.kind}", daemon=True).start()
        return flight


def _database_checks(flight: _Flight) -> None:
    from moodtape.store.database import StoreFileReplacedError
    from moodtape.store.migrate import SchemaMismatchError

    def probe() -> None:
        try:
            if services().built_recommender() is None:  # a start: this run builds it, then pings
                services().recommender()
                flight.built_here = True
            _ping_store()
        except (SchemaMismatchError, StoreFileReplacedError):
            # Instances of the version the schema is at use this database, and a process started
            # now opens the SQLite file at its path: only this one cannot.
            flight.this_instance = True
            raise

    flight.checks["database"] = _check(probe)
    if flight.checks["database"] == "ok" and services().redis is None and _shared_postgresql() is not None:
        flight.checks["history_limits"] = _check(_same_history_limits_in_the_store)


def _redis_checks(flight: _Flight, client: Any, model_ready: bool) -> None:
    from moodtape.state.connection import SharedStateFullError, ping

    checks = flight.checks
    verdict = _key_verdict()
    try:
        flight.note("redis", _outcome(lambda: ping(client)))
        if checks["redis"] != "ok":
            return
        flight.afterwards.append(functools.partial(_note_release, client))  # not waited for by the answer
        others = _NotedThisRun(client, model_ready)  # the checks after the key's: one round trip for the three
        fingerprints = {
            "secret_key": functools.partial(_same_key_everywhere, client),
            "emotion_model": functools.partial(_same_model_everywhere, others),
            "catalog": functools.partial(_same_catalog_everywhere, others),
            "history_limits": functools.partial(_same_history_limits_everywhere, others),
        }
        for name, probe in fingerprints.items():
            if name == "emotion_model" and not model_ready:
                continue
            try:
                flight.note(name, _outcome(probe, passing=(SharedStateFullError, _OutOfStepError)))
            except _OutOfStepError as fault:  # this instance's own setting: out of rotation until it is fixed
                checks[name] = str(fault)
                flight.this_instance = True
            except SharedStateFullError:
                # Noting this instance's fingerprint is each check's only write: refused, it said the
                # check failed, where the fault is Redis's and every instance shares it. That check is
                # left out (it could not be made), the ones made before it stay, and none runs after.
                checks["redis"] = _full(client)
                return
            if name == "secret_key" and checks["redis"] == "ok" and not checks[name].startswith("failing"):
                verdict.made(checks[name], flight.this_instance)
    finally:
        _keep_key_verdict(flight, verdict)


def _key_verdict() -> _KeyVerdict:
    """This app's last secret-key answer (a fresh one when called outside the app, as tests do)."""
    from flask import has_app_context

    kept = current_app.extensions.get(_KEY_VERDICT) if has_app_context() else None
    return kept if isinstance(kept, _KeyVerdict) else _KeyVerdict()


def _keep_key_verdict(flight: _Flight, verdict: _KeyVerdict) -> None:
    """When the secret-key check could not be made (Redis down, full or failing), an out-of-step
    answer of the last :data:`KEEP_VERDICT_S` stands: a Redis outage must not put back into rotation
    the instance that signs with the wrong key."""
    checks = flight.checks
    if checks.get("redis") == "ok" and "secret_key" in checks and not str(checks["secret_key"]).startswith("failing"):
        return
    flight.this_instance |= _kept_verdict_stands(checks, verdict)


def _kept_verdict_stands(checks: dict[str, Any], verdict: _KeyVerdict) -> bool:
    """Put ``verdict``'s out-of-step answer of the last :data:`KEEP_VERDICT_S`, if any, in ``checks``
    for a secret-key check that could not be made (or missed the deadline: a Redis that hangs rather
    than refuses, whose first late check else put the instance back into rotation). True when it stands."""
    kept = verdict.kept()
    if kept is None:
        return False
    checks["secret_key"] = kept
    return True


def _full(client: Any) -> str:
    """What readiness says of a Redis at its ``maxmemory`` that refuses writes (with its figures when
    it gives them): a degraded 200, like any outage of a part every instance shares."""
    import redis

    try:
        memory = client.info("memory")
        figures = (
            f" ({memory['used_memory_human']} used of {memory['maxmemory_human']}, policy {memory['maxmemory_policy']})"
        )
    except (redis.RedisError, KeyError):
        figures = ""
    return (
        f"full: Redis reached its maxmemory{figures} and refuses writes, so requests that change a session, "
        "a calibration or a list get 503; give it more memory or --maxmemory-policy volatile-lru (docs/deployment.md)"
    )


def _note_release(client: Any) -> None:
    """Note the release files this instance serves, so that another instance asked for them sends the
    request back to the balancer instead of answering with its own (web/versions_here.py). Best effort:
    a failure here is the ping's or the fingerprints' to report, and only means no 404 for a while."""
    from moodtape.web.versions_here import note_if_answering

    note_if_answering(client, current_app._get_current_object())  # type: ignore[attr-defined]


class _NotedThisRun:
    """What the other instances sharing Redis run (model, catalog, history limits), asked once per
    readiness run: the first check to need it notes this instance's three fingerprints in one round
    trip (:func:`moodtape.state.instances.note_instance`), and the others reuse the answer, or the error.

    One round trip each put a Redis 190 ms away past the 1 s a readiness run has.
    """

    def __init__(self, client: Any, model_ready: bool) -> None:
        self._client = client
        self._model_ready = model_ready
        self._answer: Others | Exception | None = None

    def found(self) -> Others:
        """The :class:`~moodtape.state.instances.Others` of this run; raises what the note raised."""
        if self._answer is None:
            try:
                self._answer = self._note()
            except Exception as exc:  # kept, so each check says it failed, as it would have on its own
                self._answer = exc
        if isinstance(self._answer, Exception):
            raise self._answer
        return self._answer

    def _note(self) -> Others:
        from moodtape.state.connection import redis_errors
        from moodtape.state.instances import note_instance

        app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
        with redis_errors(self._client):
            return note_instance(
                self._client,
                instance_id(app),
                model_id=services().analyzer().classifier.model_id if self._model_ready else None,
                history_limits=_history_limits(),
                catalog=_catalog_digest(),
            )


def _same_model_everywhere(others: _NotedThisRun) -> None:
    """Raise when other instances sharing this Redis run another emotion model.

    A calibration belongs to the model that made it: each model's examples are kept apart (a
    visitor's frames crossing two models took turns starting it afresh), so a visitor calibrated on
    one model is not calibrated on the other until they calibrate there too.
    """
    count = others.found().models
    if count:
        raise MoodtapeError(
            f"{count} other emotion model(s) in use among the instances: a visitor's calibration made with "
            "one does not apply on the other; run the same MOODTAPE_MODEL everywhere (during a rollout "
            "this clears two minutes after the last instance on the old model stops)"
        )


def _same_catalog_everywhere(others: _NotedThisRun) -> None:
    """Raise when other instances sharing this Redis recommend from another catalog.

    A list is made from the catalog of the instance that answers, and a disliked song is replaced
    from it: behind a balancer, which catalog a visitor's songs came from depended on the instance.
    A release with another built-in catalog, or a ``moodtape catalog import`` run on one machine
    only, did this while every instance said ``ready``. Shared by all (neither side is wrong on its
    own), so a degraded 200, like a model rollout.
    """
    count = others.found().catalogs
    if count:
        raise MoodtapeError(
            f"{count} other catalog(s) in use among the instances: a list, or a disliked song's replacement, "
            "comes from the catalog of the instance that answers; give every instance the same release and "
            "the same `moodtape catalog import`s (during a rollout this clears two minutes after the last "
            "instance with the old catalog stops)"
        )


def _catalog_digest() -> str | None:
    """The digest of the catalog this instance recommends from (kept by the catalog until its items
    change); None for a provider that cannot list its items, and while the recommender is still being
    built: the readiness run has 1 s for Redis, and waiting for the catalog to load would be taken for
    a Redis that does not answer."""
    digest = getattr(getattr(services().built_recommender(), "catalog", None), "digest", None)
    return str(digest()) if callable(digest) else None


def _same_history_limits_everywhere(others: _NotedThisRun) -> None:
    """Raise when other instances sharing this Redis keep history for another time or up to another count.

    Both act on every session, whichever instance it visits: the one with the shortest
    ``MOODTAPE_HISTORY_DAYS`` deletes everyone's older history at its next sweep, the one with the
    lowest ``MOODTAPE_HISTORY_MAX_LISTS`` trims each session it writes for. Nothing said so before:
    every instance answered ``ready`` while the history went. Shared by all, so a degraded 200.
    """
    _refuse_other_history_limits(_history_limits(), others.found().history_limits)


def _history_limits() -> str:
    """This instance's history limits as words ("30 days, 50 lists"): what instances compare."""
    settings = services().settings
    return (
        f"{settings.get_float('MOODTAPE_HISTORY_DAYS'):g} days, {settings.get_int('MOODTAPE_HISTORY_MAX_LISTS')} lists"
    )


def _refuse_other_history_limits(mine: str, others: set[str]) -> None:
    if others:
        raise MoodtapeError(
            f"the instances keep history differently (this one {mine}; others {'; '.join(sorted(others))}): "
            "the shortest MOODTAPE_HISTORY_DAYS deletes everyone's older history and the lowest "
            "MOODTAPE_HISTORY_MAX_LISTS trims every session it writes for; set both the same everywhere "
            "(this clears two minutes after the last instance with other values stops)"
        )


#: Seconds between two notes of this process's history limits in the store (without Redis): a
#: readiness poll comes every half second or so, and a write at each would queue behind SQLite's
#: one writer. A note lives :data:`moodtape.state.instances.NOTED_FOR_S`, far longer; so after a
#: rolling change of the limits, the old ones are seen up to that plus this (about 140 s).
NOTE_IN_STORE_EVERY_S: Final[float] = 20.0


@dataclass
class _StoreNote:
    """What this process's last note of its history limits in one database found."""

    at: float
    #: The others' limits, or the public answer of a note that failed (kept until the next note).
    found: set[str] | str


#: Per database: this process's last note of its limits there.
_noted_in_store: weakref.WeakKeyDictionary[object, _StoreNote] = weakref.WeakKeyDictionary()


def _shared_postgresql() -> Any:
    """The store when it is PostgreSQL (what several machines share), else None: a SQLite file is
    one machine's, whose ``serve --processes N`` share one environment, and a note at every poll
    would queue behind its one writer."""
    store = services().recommender().store
    return store if store is not None and store.database.engine.dialect.name == "postgresql" else None


def _same_history_limits_in_the_store() -> None:
    """:func:`_same_history_limits_everywhere` without Redis: through the store every instance shares.

    Several machines on one PostgreSQL with no Redis compared nothing, and each answered ``ready``
    while the shortest retention deleted everyone's history.
    Each instance notes its limits in the store's ``short_lived`` table (kind ``history-limits``, one
    row per distinct value, alive :data:`NOTED_FOR_S` by the database's clock) and reads the others,
    every :data:`NOTE_IN_STORE_EVERY_S`, with one plain upsert outside the request threads' turns.
    """
    store = _shared_postgresql()
    if store is None:
        return
    mine = _history_limits()
    last = _noted_in_store.get(store.database)
    if last is None or time.monotonic() - last.at >= NOTE_IN_STORE_EVERY_S:
        last = _noted_in_store[store.database] = _note_in_store(store.database, mine, last)
    if isinstance(last.found, str):
        raise MoodtapeError(last.found)
    _refuse_other_history_limits(mine, last.found)


def _note_in_store(database: Any, mine: str, last: _StoreNote | None) -> _StoreNote:
    """Note ``mine`` and read the others' limits; a failure other than a 503 (a ``short_lived`` table
    dropped, say) is kept as the answer until the next note and logged at each note, which the
    served log filters (web/logs.py) let out once per cause and then sum up: before, every poll
    logged "readiness check failed" with the whole SQL statement. A note that works again after
    one failed says so, which ends the summing up."""
    from moodtape.state.instances import NOTED_FOR_S
    from moodtape.store.short_lived import ShortLived

    notes = ShortLived(database, "history-limits", NOTED_FOR_S)
    try:
        notes.note(hashlib.sha256(mine.encode()).hexdigest()[:32], mine)
        found = _StoreNote(time.monotonic(), set(notes.live()) - {mine})
    except MoodtapeError:
        raise  # the store's 503s: answered as they are, and tried again at the next poll
    except Exception as exc:
        cause = (str(getattr(exc, "orig", exc)).splitlines() or [type(exc).__name__])[0][:200]
        log.warning(STORE_NOTE_FAILED, cause)
        return _StoreNote(time.monotonic(), f"failing ({type(exc).__name__})")
    if last is not None and isinstance(last.found, str):
        log.warning(STORE_NOTE_WORKS)
    return found


class _OutOfStepError(MoodtapeError):
    """This instance signs with a key most of the others do not accept: a fault of its own (503)."""


#: How many unaccepted keys this process last saw, and whether it was out of step (so that a
#: disagreement is logged once per change, not at every balancer poll).
_keys_logged: object = 0
_INSTANCE: Final = "moodtape.instance"
_HEARTBEAT: Final = "moodtape.key-heartbeat"
_heartbeat_lock = threading.Lock()


def instance_id(app: Flask) -> str:
    """This instance's id: made with the app, before gunicorn forks, so its workers count as one."""
    return str(app.extensions[_INSTANCE])


def _same_key_everywhere(client: Any) -> None:
    """Raise when other instances sharing this Redis sign sessions with a key this one does not accept:
    :class:`_OutOfStepError` when one such key is held by a strict majority of the live instances
    (web/secret_key.py)."""
    from moodtape.state.connection import redis_errors
    from moodtape.web.secret_key import check_keys
    from moodtape.web.session import accepted_keys

    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    keys = accepted_keys()
    with redis_errors(client):
        found = check_keys(client, instance_id(app), keys)
    _key_heartbeat(app, client, keys[0]).ensure_running()
    global _keys_logged
    generated = not services().settings.get("MOODTAPE_SECRET_KEY")
    count = found.other_keys
    said = (
        _out_of_step(found.strangers, found.live, generated)
        if found.out_of_step
        else _keys_disagree(count, generated=generated)
    )
    seen = (found.out_of_step, count)
    if count and seen != _keys_logged:  # once per change, not at every balancer poll
        log.error("instances sharing Redis sign sessions with keys that disagree: %s", said)
    _keys_logged = seen
    if found.out_of_step:
        raise _OutOfStepError(said)
    if count:
        raise MoodtapeError(said)


def _key_heartbeat(app: Flask, client: Any, key: str) -> Any:
    """This app's :class:`~moodtape.web.secret_key.KeyHeartbeat`, made at its first readiness check."""
    from moodtape.web.secret_key import KeyHeartbeat

    with _heartbeat_lock:
        heartbeat = app.extensions.get(_HEARTBEAT)
        if heartbeat is None:
            mark = drain_mark(app)
            heartbeat = app.extensions[_HEARTBEAT] = KeyHeartbeat(
                client, instance_id(app), key, lambda: mark is not None and mark.is_set
            )
    return heartbeat


def _out_of_step(strangers: int, live: int, generated: bool) -> str:
    """What readiness says (503) on an instance most of whose peers sign with keys it does not accept.
    Names the settings, never a key."""
    setting = (
        "MOODTAPE_SECRET_KEY is unset on this instance, so it signs sessions with a key it generated itself"
        if generated
        else "this instance's MOODTAPE_SECRET_KEY is not the one most instances use"
    )
    return (
        f"{setting}: {strangers} of the {live} live instances sign with one key it accepts neither as its key nor in "
        "MOODTAPE_SECRET_KEY_FALLBACKS, so visits reaching it would start afresh and their changes be refused; it "
        "stays out of rotation until it is given the same MOODTAPE_SECRET_KEY as the others "
        "(docs/deployment.md, Rotating the secret key)"
    )


#: How long an instance found out of step stays so while Redis cannot be asked: the balancer must
#: not put it back into rotation at the first failed check, nor keep it out for good.
KEEP_VERDICT_S: Final[float] = 30.0


@dataclass
class _KeyVerdict:
    """The secret-key check's last answer in this process, and when it was made (monotonic)."""

    out_of_step: str | None = None
    at: float = -math.inf

    def made(self, answer: str, out_of_step: bool) -> None:
        self.out_of_step = answer if out_of_step else None
        self.at = time.monotonic()

    def kept(self) -> str | None:
        """The out-of-step answer while it is recent enough to stand in for a check that could not be made."""
        age = time.monotonic() - self.at
        if self.out_of_step is None or age > KEEP_VERDICT_S:
            return None
        return f"{self.out_of_step} (found {age:.0f} s ago; Redis cannot be asked now)"


def _keys_disagree(count: int, *, generated: bool) -> str:
    """What readiness says when ``count`` keys in use elsewhere are not accepted here.

    ``generated``: this instance has no MOODTAPE_SECRET_KEY and signs with the key it generated
    into its data folder; telling its operator of "other MOODTAPE_SECRET_KEY(s)" sent them looking
    for a setting they never made.
    """
    lost = "visits that cross them start afresh and their changes are refused"
    if generated:
        return (
            f"MOODTAPE_SECRET_KEY is unset on this instance, so it signs sessions with a key it generated "
            f"itself, and {count} other key(s) are in use among the instances: {lost}; set the same "
            "MOODTAPE_SECRET_KEY on every instance (openssl rand -hex 32)"
        )
    return (
        f"{count} other MOODTAPE_SECRET_KEY(s) in use among the instances, not accepted here: {lost}; give "
        "every instance the same key, or during a rotation the old one in MOODTAPE_SECRET_KEY_FALLBACKS"
    )


def _ping_store() -> None:
    store = services().recommender().store
    if store is not None:
        store.ping()


def _check(probe: Any, passing: type[Exception] | tuple[type[Exception], ...] = ()) -> str:
    """Say "ok", or what ``probe`` raised; the errors in ``passing`` are the caller's to handle."""
    return _outcome(probe, passing)[0]


def _outcome(probe: Any, passing: type[Exception] | tuple[type[Exception], ...] = ()) -> tuple[str, str]:
    """What :func:`_check` says, and what it says to operators: the shared state's errors keep
    Redis's own words (which may name the ACL user) for them, as ``/readyz`` is public."""
    try:
        probe()
    except passing:
        raise
    except MoodtapeError as exc:
        return str(exc), str(getattr(exc, "for_operators", exc))
    except Exception as exc:  # a readiness probe reports any failure; it must never raise
        log.warning("readiness check failed: %s", exc)
        return f"failing ({type(exc).__name__})", f"failing ({type(exc).__name__})"
    return "ok", "ok"


@blueprint.get("/metrics")
def metrics() -> Response:
    """Prometheus metrics of this instance (all its worker processes), for allowed clients only."""
    settings = services().settings
    if not _may_read_metrics(settings.get("MOODTAPE_METRICS"), settings.get("MOODTAPE_METRICS_TOKEN")):
        abort(404)
    from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        body = generate_latest(registry)
    else:
        body = generate_latest()
    response = Response(body, content_type=CONTENT_TYPE_LATEST)
    response.headers["Cache-Control"] = "no-store"
    return response


def _may_read_metrics(mode: str, token: str) -> bool:
    mode = mode.strip().lower()
    if mode == "off":
        return False
    if token:
        sent = request.headers.get("Authorization", "")
        if hmac.compare_digest(sent.encode(), f"Bearer {token}".encode()):
            return True
    if mode == "open":
        return True
    from moodtape.web.hosts import loopback_host

    # A loopback client asking for a loopback name: a DNS-rebinding page comes from loopback too,
    # but names its own host (web/hosts.py).
    try:
        return ipaddress.ip_address(request.remote_addr or "").is_loopback and loopback_host(request.host)
    except ValueError:
        return False

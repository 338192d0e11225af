"""Server log lines: plain text (the default) or one JSON object a line, each with the request id.

``MOODTAPE_LOG_FORMAT=json`` suits log collectors: every line has ``time``, ``level``, ``logger``,
``message`` and, inside a request, ``request_id`` (the one sent back in ``X-Request-ID``), so a
client's complaint can be matched to the server's lines across instances.

Lines a client can cause at will are summed up instead of written one by one
(:class:`OncePerInterval`): waitress's "Task queue depth is N" (one per request that waits for a
thread: 10,000 pipelined ``/healthz`` wrote 9,991 lines, three page loads 21), Flask-Limiter's
line per refused request, the planted-cookie warning (``web/session.py``), and the store's
"database unavailable" (one per request during an outage: 357 in a few seconds on a full disk), its
"database refuses writes" (a read-only PostgreSQL), Redis turning moodtape away (full, or a
setting it refuses: a line per request), a readiness note of the history limits that the store
refuses (a table or a grant missing: a line per note), and the app's line for each request the HTTP
server refused by its head (``web/refusals.py``: until session 35 one a request, 1,858 lines in 3 s
from one client posting to ``/healthz``).
The first goes out as it is; then one line a minute says how many more there were (and the
deepest queue); the store's, Redis's and the refusals' are counted per cause, and summed up at once when it is back (for
refused writes: when a write succeeds, not a read).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Final

from moodtape.state.connection import REFUSAL_MARK

LOG_FORMATS: Final = ("text", "json")
TEXT_FORMAT: Final = "moodtape: %(levelname)s: %(message)s"
#: Seconds between two summaries of a kind of line that :class:`OncePerInterval` holds back.
SUMMARY_SECONDS: Final[float] = 60.0
#: Set on a summary's record, so that the filter that wrote it lets it through.
_SUMMARY: Final = "moodtape_summary"


class OncePerInterval(logging.Filter):
    """Lets the first record of a kind through, then at most one summary line every ``seconds``.

    Put on the logger that writes the kind (``logger.addFilter``). While records keep coming, they
    are counted (with the largest ``value`` of them) and a timer writes one record a ``seconds``
    through the same logger, at the same level, from ``summary`` (a %-format with ``count``,
    ``seconds`` and ``peak``). An interval with nothing held back writes nothing and ends the
    run: the next record goes out at once again.

    Args:
        summary: the summary line, e.g. ``"%(count)d more in the last %(seconds)g s"``.
        seconds: the interval.
        matches: which records are of the kind (None: all the logger writes).
        value: a number of each record whose largest is ``peak`` (None: ``peak`` is None).
        drops: records of the kind not worth a line, left out and not counted (None: none).
    """

    def __init__(
        self,
        summary: str,
        *,
        seconds: float = SUMMARY_SECONDS,
        matches: Callable[[logging.LogRecord], bool] | None = None,
        value: Callable[[logging.LogRecord], int] | None = None,
        drops: Callable[[logging.LogRecord], bool] | None = None,
    ) -> None:
        super().__init__()
        self.summary = summary
        self.seconds = seconds
        self._matches = matches
        self._value = value
        self._drops = drops
        self._lock = threading.Lock()
        self._opened: float | None = None  # when the current run's interval began; None: no run
        self._count = 0
        self._peak: int | None = None
        self._last: logging.LogRecord | None = None
        self._timer: threading.Timer | None = None

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, _SUMMARY, False) or (self._matches is not None and not self._matches(record)):
            return True
        if self._drops is not None and self._drops(record):
            return False
        peak = self._value(record) if self._value is not None else None
        with self._lock:
            now = time.monotonic()
            # A timer that never fired (the process forked after a run began) must not hold every line back.
            if self._opened is None or now - self._opened > 2 * self.seconds:
                self._opened, self._count, self._peak, self._last = now, 0, None, None
                self._start_timer()
                if isinstance(record.msg, str):
                    record.msg += f" (more like this are counted and summed up every {self.seconds:g} s)"
                return True
            self._count += 1
            self._last = record
            if peak is not None:
                self._peak = peak if self._peak is None else max(self._peak, peak)
            return False

    @property
    def idle(self) -> bool:
        """No run under way: the next record goes out at once."""
        with self._lock:
            return self._opened is None or time.monotonic() - self._opened > 2 * self.seconds

    def flush(self) -> None:
        """Write the summary of what was held back so far (the timer calls this every ``seconds``)."""
        with self._lock:
            count, peak, last = self._count, self._peak, self._last
            self._count, self._peak, self._last = 0, None, None
            if self._timer is not None:
                self._timer.cancel()  # harmless from the timer itself
                self._timer = None
            if count:
                self._opened = time.monotonic()  # the summary is this interval's line
                self._start_timer()
            else:
                self._opened = None
        if count and last is not None:
            values = {"count": count, "seconds": self.seconds, "peak": peak}
            logging.getLogger(last.name).log(last.levelno, self.summary, values, extra={_SUMMARY: True})

    def close(self) -> None:
        """Stop the timer, dropping what was held back (for a filter taken off its logger)."""
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
            self._timer, self._opened, self._count = None, None, 0

    def _start_timer(self) -> None:
        self._timer = threading.Timer(self.seconds, self.flush)
        self._timer.name = "moodtape-log-summary"
        self._timer.daemon = True
        self._timer.start()


class OncePerCause(logging.Filter):
    """:class:`OncePerInterval` for each cause of a kind of line, and an end to all of them.

    For a failure that every request meets while it lasts (the store's "database unavailable:
    <cause>"): one line per cause goes out at once, then a summary per cause every ``seconds``. A
    record that ``ends`` matches (the line saying the failure is over) first writes what is held
    back and forgets every cause, so the summary comes before it and the next failure is written
    at once again.

    Args:
        summary: as :class:`OncePerInterval`'s, where ``%(cause)s`` is the cause.
        cause: the cause of a record of the kind.
        ends: which records end the failure.
        seconds: the interval.
        matches: which records are of the kind (None: all the logger writes, but ``ends``').
        causes: at most this many causes are told apart; the rest are counted as one.
    """

    #: The cause that the causes past ``causes`` are counted as.
    OTHER: Final = "other causes"

    def __init__(
        self,
        summary: str,
        *,
        cause: Callable[[logging.LogRecord], str],
        ends: Callable[[logging.LogRecord], bool],
        seconds: float = SUMMARY_SECONDS,
        matches: Callable[[logging.LogRecord], bool] | None = None,
        causes: int = 8,
    ) -> None:
        super().__init__()
        self.summary = summary
        self.seconds = seconds
        self._cause = cause
        self._ends = ends
        self._matches = matches
        self._causes = causes
        self._lock = threading.Lock()
        self._runs: dict[str, OncePerInterval] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, _SUMMARY, False):
            return True
        if self._ends(record):
            self.flush()
            return True
        if self._matches is not None and not self._matches(record):
            return True
        return self._run(self._cause(record)).filter(record)

    def flush(self) -> None:
        """Write the summaries of what was held back, and forget every cause."""
        with self._lock:
            runs, self._runs = list(self._runs.values()), {}
        for run in runs:
            run.flush()
            run.close()

    def close(self) -> None:
        """Stop every timer, dropping what was held back."""
        with self._lock:
            runs, self._runs = list(self._runs.values()), {}
        for run in runs:
            run.close()

    def _forget_idle(self) -> None:
        """Forget the causes whose run is over (called with the lock held, when ``causes`` are known).

        An idle cause's next line goes out at once whether it is remembered or not, so forgetting it
        changes nothing for it. Kept, the causes of a process's whole life filled the ``causes``
        places where nothing ends them (Redis's refusals): after 8 causes met once each, days
        apart, a new one (a wrong password) was only ever counted under "other causes".
        """
        for cause, run in list(self._runs.items()):
            if run.idle:
                del self._runs[cause]

    def _run(self, cause: str) -> OncePerInterval:
        with self._lock:
            if cause not in self._runs and len(self._runs) >= self._causes:
                self._forget_idle()
            if cause not in self._runs and len(self._runs) >= self._causes:
                cause = self.OTHER
            run = self._runs.get(cause)
            if run is None:
                literal_cause = cause.replace("%", "%%")  # the summary is a %-format; the cause is text
                run = self._runs[cause] = OncePerInterval(
                    self.summary.replace("%(cause)s", literal_cause), seconds=self.seconds
                )
            return run


def _limiter_refusal(record: logging.LogRecord) -> bool:
    return isinstance(record.msg, str) and record.msg.startswith("ratelimit ") and "exceeded" in record.msg


def _queue_depth(record: logging.LogRecord) -> int:
    args = record.args
    return int(args[0]) if isinstance(args, tuple) and args and isinstance(args[0], int) else 0


#: The deepest waitress queue left out of the log: a browser opens at most 6 connections to one
#: host, so one person's page load (39 requests: the page, its scripts, styles and first API calls)
#: never has more waiting. With the default 4 threads one page load reached a depth of 3 and
#: logged "Task queue depth is 1" at every start; two page loads at once reached 8, four 21.
QUIET_QUEUE_DEPTH: Final[int] = 6


def _one_page_load(record: logging.LogRecord) -> bool:
    """A queue no deeper than one browser's connections: a page load's burst, not overload."""
    return _queue_depth(record) <= QUIET_QUEUE_DEPTH


def _store_outage(record: logging.LogRecord) -> bool:
    return isinstance(record.msg, str) and record.msg.startswith(("store: database unavailable", "store: no free"))


def _store_outage_cause(record: logging.LogRecord) -> str:
    """The driver's words for an unavailable database (their first line), or what the line says."""
    message = record.getMessage().removeprefix("store: ").removeprefix("database unavailable: ").strip()
    return (message.splitlines() or ["(no detail)"])[0][:200]


def _store_back(record: logging.LogRecord) -> bool:
    return isinstance(record.msg, str) and record.msg.startswith("store: database available again")


def _store_refuses_writes(record: logging.LogRecord) -> bool:
    return isinstance(record.msg, str) and record.msg.startswith("store: database refuses writes")


def _store_refusal_cause(record: logging.LogRecord) -> str:
    """The driver's words for a refused write (their first line)."""
    message = record.getMessage().removeprefix("store: database refuses writes: ").strip()
    return (message.splitlines() or ["(no detail)"])[0][:200]


def _store_takes_writes(record: logging.LogRecord) -> bool:
    return isinstance(record.msg, str) and record.msg.startswith("store: database takes writes again")


def _redis_refusal(record: logging.LogRecord) -> bool:
    """The lines ``state/connection.py`` marks as Redis turning moodtape away (its REFUSAL_MARK)."""
    return bool(getattr(record, REFUSAL_MARK, False))


def _redis_refusal_cause(record: logging.LogRecord) -> str:
    return record.getMessage().removeprefix("shared state: ").strip()[:200]


#: The line ``web/ops.py`` logs when a readiness note of the history limits in the store fails, and
#: the one it logs when a note works again after that. Defined here, where the filter below matches
#: them, and imported there: one text, so a reword cannot leave the filter matching nothing (this
#: module cannot import ``web/ops.py``, which imports the app, at load time).
STORE_NOTE_FAILED: Final = "readiness: cannot compare history limits in the store: %s"
STORE_NOTE_WORKS: Final = "readiness: history limits compared in the store again"


def _store_note_failed(record: logging.LogRecord) -> bool:
    """A readiness note of the history limits in the store that failed (``web/ops.py``)."""
    return record.msg == STORE_NOTE_FAILED


def _store_note_cause(record: logging.LogRecord) -> str:
    return record.getMessage().removeprefix(STORE_NOTE_FAILED.removesuffix("%s")).strip()[:200]


def _store_note_works(record: logging.LogRecord) -> bool:
    return record.msg == STORE_NOTE_WORKS


def _never(record: logging.LogRecord) -> bool:
    return False


#: The line ``web/refusals.py`` logs for each request the HTTP server refused by its head (its status,
#: code, method and endpoint). Defined here, where its filter below is, and imported there.
REFUSED_BY_ITS_HEAD: Final = "refused by its headers, none of its body kept: %d %s, %s %s"
#: The line it logs for an upload the server let go of for the budget of unfinished bodies (the
#: 503 ``busy``, web/buffered_server.py's ``shed_body``): the same arguments, the same filter.
LET_GO_FOR_THE_BUDGET: Final = "let go of for the upload budget, none of its body kept: %d %s, %s %s"
#: The line it logs for each refusal the HTTP server answers alone, the app never reading the request
#: (a 400 for broken framing, 414, 431, 501, 505, ...): its status and code only.
ANSWERED_ALONE: Final = "refused by the server before the app read it: %d %s"


def _refused_by_its_head(record: logging.LogRecord) -> bool:
    return record.msg in (REFUSED_BY_ITS_HEAD, LET_GO_FOR_THE_BUDGET, ANSWERED_ALONE)


def _refusal_cause(record: logging.LogRecord) -> str:
    """What was refused, and why: the line's words, status, code and endpoint (each a fixed text), not
    the method. Keyed by the method too, nine kinds met in a minute (POST, PUT, PATCH, DELETE and
    others to /healthz, then GET to four paths) filled the places told apart, and the first line of a
    new kind (a gzip body to /api/feedback, 415) was never written, only counted under "other causes"."""
    args = record.args
    if isinstance(args, tuple) and len(args) == 4 and isinstance(record.msg, str):
        status, code, _method, endpoint = args
        return f"{record.msg.partition(': ')[0]}: {status} {code}, {endpoint}"[:200]
    return record.getMessage().strip()[:200]


#: Causes the refusals' filter tells apart: every status and code a head is refused with (413
#: too_large, 413 and 415 of a small JSON body, 403 csrf_failed), and the budget's 503 busy, for
#: each of the app's 27 endpoints and "unmatched" is 5 x 28 = 140, and the statuses the server
#: answers alone about 10 more, so no kind's first line is only counted.
REFUSAL_KINDS: Final = 192


#: The flood-prone lines of other libraries and of the store: logger name, and its filter.
_FLOODS: Final[dict[str, Callable[[], logging.Filter]]] = {
    # waitress, once per request that finds no idle thread (waitress/task.py); a depth one page
    # load can reach is left out.
    "waitress.queue": lambda: OncePerInterval(
        "Task queue depth was up to %(peak)d in the last %(seconds)g s (%(count)d more such lines left out)",
        value=_queue_depth,
        drops=_one_page_load,
    ),
    # Flask-Limiter, once per refused request, at INFO; its other lines (storage errors) stay as they are.
    "flask-limiter": lambda: OncePerInterval(
        "the rate limit refused %(count)d more requests in the last %(seconds)g s (not logged one by one)",
        matches=_limiter_refusal,
    ),
    # The store, once per request while the database is down (a restart, a full disk): 357 lines
    # in a few seconds. One per cause, summed up, and summed up at once when it is back.
    "moodtape.store.database": lambda: OncePerCause(
        "store: database unavailable: %(cause)s, and %(count)d more times in the last %(seconds)g s",
        cause=_store_outage_cause,
        ends=_store_back,
        matches=_store_outage,
    ),
    # A read-only PostgreSQL refusing every write (a standby): reads go on, and only a write that
    # succeeds ends it (store/database.py logs it on a logger of its own for that).
    "moodtape.store.database.writes": lambda: OncePerCause(
        "store: database refuses writes: %(cause)s, and %(count)d more times in the last %(seconds)g s",
        cause=_store_refusal_cause,
        ends=_store_takes_writes,
        matches=_store_refuses_writes,
    ),
    # Redis turning moodtape away (full, a wrong password, an ACL refusal): a line per request that
    # meets it, as long as it lasts. One per cause, summed up; nothing ends it but the timer, and
    # a cause idle for an interval makes room for a new one.
    "moodtape.state.connection": lambda: OncePerCause(
        "shared state: %(cause)s, and %(count)d more times in the last %(seconds)g s",
        cause=_redis_refusal_cause,
        ends=_never,
        matches=_redis_refusal,
    ),
    # The readiness note of the history limits in the store (web/ops.py), every 20 s while a table
    # is gone or a grant is missing: one line per cause, summed up, ended by a note that works.
    "moodtape.web": lambda: OncePerCause(
        STORE_NOTE_FAILED.replace("%s", "%(cause)s") + ", and %(count)d more times in the last %(seconds)g s",
        cause=_store_note_cause,
        ends=_store_note_works,
        matches=_store_note_failed,
    ),
    # A request the HTTP server refused by its head, or let go of for the upload budget, answered by
    # the app (web/refusals.py), and a refusal the server answers alone: a line each. The rate limit
    # bounds one client's refusals by the head, but not a crowd's (nor any with the limit off), and
    # nothing bounds the others. One line per kind, status, code and endpoint, summed up; nothing
    # ends it but the timer. Its own logger: a filter on "moodtape.web" does not see its children's.
    "moodtape.web.refusals": lambda: OncePerCause(
        "%(cause)s, and %(count)d more times in the last %(seconds)g s",
        cause=_refusal_cause,
        ends=_never,
        matches=_refused_by_its_head,
        causes=REFUSAL_KINDS,
    ),
}


def flood_loggers() -> list[logging.Logger]:
    """The loggers :func:`quiet_floods` puts a summing filter on."""
    return [logging.getLogger(name) for name in _FLOODS]


def quiet_floods() -> None:
    """Sum up the lines of waitress, Flask-Limiter, the store, Redis and the app's refusals by the head
    that a client can cause at will (see above)."""
    for name, make in _FLOODS.items():
        logger = logging.getLogger(name)
        for old in [found for found in logger.filters if isinstance(found, OncePerInterval | OncePerCause)]:
            old.close()
            logger.removeFilter(old)
        logger.addFilter(make())


class RequestIdFilter(logging.Filter):
    """Adds ``record.request_id`` (None outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        from moodtape.web.ops import request_id

        found = request_id()
        if found is not None or not hasattr(record, "request_id"):
            # Outside a request, an id the record was given (the HTTP server's refusals) stays.
            record.request_id = found
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per record."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = getattr(record, "request_id", None)
        if request_id:
            entry["request_id"] = request_id
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(log_format: str, level: int = logging.INFO) -> None:
    """Send log records to stderr as ``text`` or ``json`` (replaces the root logger's handlers).

    Lines a client can cause at will are summed up once a minute (:func:`quiet_floods`).

    Raises:
        ValueError: an unknown format.
    """
    log_format = log_format.strip().lower() or "text"
    if log_format not in LOG_FORMATS:
        raise ValueError(f"MOODTAPE_LOG_FORMAT must be text or json, got {log_format!r}")
    handler = logging.StreamHandler()
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # Alembic writes a dozen INFO lines at every start ("setup plugin …", "Context impl SQLiteImpl.",
    # one per migration with its whole docstring); store/migrate.py says in one line what changed.
    logging.getLogger("alembic").setLevel(max(level, logging.WARNING))
    quiet_floods()

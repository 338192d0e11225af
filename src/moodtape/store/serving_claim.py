"""Which ``moodtape serve`` instances serve from one SQLite file, and whether they may do so together.

A visit's short-lived state (the lists on screen, undo steps, its calibration) lives in one of
three places: a one-process ``serve`` without Redis keeps it in its own memory; ``--processes N``
without Redis in the file's ``short_lived`` table; any instance with ``MOODTAPE_REDIS_URL`` in that
Redis. Instances behind one balancer must keep it in the same place, else a list made on one is a
404 "no such list" on the other. Measured with two one-process instances on one data folder, no
Redis: 48 of 48 reopenings of a list on the other instance were a 404, as were 48 of 48 dislikes of
its rows; ``--processes 2`` beside an instance with Redis, or two Redis URLs, split visits the same.

So each ``serve`` on a SQLite file claims it, for as long as it runs, with an advisory lock on a
file beside it (``moodtape.db.serving``, named after the file's real path, symlinks resolved):

- in memory: an exclusive lock, so no other instance may serve from the file beside it;
- otherwise a shared lock, and the file holds where the state is kept: ``short_lived``, or
  ``redis`` and a digest of the Redis URL without its password. The first instance takes the lock
  exclusive for a moment, writes that, and keeps it shared; a later one reads it under its shared
  lock and is refused when it would keep the state elsewhere. Only an exclusive holder writes, so
  what the shared holders read cannot change under them: two started at once cannot both win with
  different answers.

A clashing claim stops the new instance at start with :class:`FileServedElsewhereError`, which
says what to run instead. The kernel drops a lock when its process ends (a crash, ``kill -9``
included), so nothing is ever left to clean up. A claim that cannot be taken (a file system without
locks, a folder this user may not write) is logged as a warning and the instance serves on, as
before. Not on Windows (no ``fcntl``): there the claim is skipped.
"""

from __future__ import annotations

import hashlib
import logging
import os
import sys
import time
from pathlib import Path
from typing import IO, TYPE_CHECKING, Final
from urllib.parse import parse_qsl, urlsplit

from moodtape.errors import MoodtapeError

if TYPE_CHECKING:
    from moodtape.config import Settings

log = logging.getLogger(__name__)

#: Added to the SQLite file's name for the file whose lock is the claim.
CLAIM_SUFFIX: Final[str] = ".serving"
#: Where a one-process instance without Redis keeps visits' state: its own memory.
MEMORY: Final[str] = "memory"
#: Where ``--processes N`` without Redis keeps it: the file's ``short_lived`` table.
SHORT_LIVED: Final[str] = "short_lived"
#: How long a shared claim waits for another instance that holds the lock exclusive while it
#: records where it keeps the state (a moment; an instance keeping it in memory holds it for good).
SETTLE_S: Final[float] = 1.0

#: The claims this process holds: each open file keeps its lock until the process exits.
_held: list[IO[bytes]] = []


class FileServedElsewhereError(MoodtapeError):
    """Another running ``moodtape serve`` uses the same SQLite file in a way this one cannot share."""

    status = 500
    code = "database_file_in_use"


def claim_store_file(settings: Settings, processes: int) -> None:
    """Claim the store's SQLite file for this ``serve`` of ``processes`` processes; nothing on PostgreSQL.

    Raises:
        FileServedElsewhereError: another running instance keeps visits' state elsewhere.
    """
    from moodtape.store import database_url
    from moodtape.store.database import engine_url, sqlite_file

    try:
        file = sqlite_file(engine_url(database_url(settings)))
    except MoodtapeError:  # a refused URL: the store says so in its own words, at start and in its 503s
        return
    if file is not None:
        claim_file(file, state=state_home(settings, processes))


def state_home(settings: Settings, processes: int) -> str:
    """Where an instance of ``processes`` processes keeps visits' state: :data:`MEMORY`,
    :data:`SHORT_LIVED`, or :func:`redis_home` of its Redis URL."""
    redis_url = settings.get("MOODTAPE_REDIS_URL").strip()
    if redis_url:
        return redis_home(redis_url)
    return SHORT_LIVED if processes > 1 else MEMORY


def redis_home(redis_url: str) -> str:
    """``redis`` and a digest of the Redis ``redis_url`` names, its password left out (the claim file
    is readable by others): the same server and database give the same answer however written."""
    parts = urlsplit(redis_url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port or (6379 if scheme in ("redis", "rediss") else 0)
    except ValueError:  # refused at start by the settings (moodtape.url_passwords); never shown here
        port = 0
    query = sorted((name, value) for name, value in parse_qsl(parts.query) if name.lower() != "password")
    database = parts.path if scheme == "unix" else parts.path.strip("/") or "0"
    names = f"{scheme} {parts.username or ''} {(parts.hostname or '').lower()} {port} {database} {query}"
    return f"redis {hashlib.sha256(names.encode()).hexdigest()[:16]}"


def claim_file(database_file: str, *, state: str) -> None:
    """Claim ``database_file`` for this process's ``serve`` until it exits (see the module docstring).

    ``state``: where this instance keeps visits' state (:func:`state_home`).

    Raises:
        FileServedElsewhereError: another running instance keeps it elsewhere.
    """
    if sys.platform == "win32":  # no fcntl
        return
    path = Path(os.path.realpath(database_file) + CLAIM_SUFFIX)
    claim = _open(path)
    if claim is None:
        return
    try:
        if state == MEMORY:
            _claim_alone(claim, database_file)
        else:
            _claim_together(claim, database_file, state)
    except FileServedElsewhereError:
        claim.close()
        raise
    except OSError as error:  # a file system without locks (some network mounts)
        claim.close()
        log.warning("store: cannot lock %s (%s): %s", path, error.strerror or error, _UNGUARDED)
        return
    _held.append(claim)  # gunicorn's workers, forks of this process, hold it with it


def release_all() -> None:
    """Give up this process's claims (tests; a server's claims end with its process)."""
    while _held:
        _held.pop().close()


#: What a warning about a claim that could not be taken adds.
_UNGUARDED: Final[str] = (
    "nothing stops another moodtape serve on this SQLite file from keeping visits' lists elsewhere "
    "(404 'no such list' across instances; docs/deployment.md)"
)


def _open(path: Path) -> IO[bytes] | None:
    """The claim file, for reading and writing; read-only when another user made it (a lock on a
    read-only handle works on local disks); None, with a warning, when neither opens."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        return path.open("a+b")
    except OSError as error:
        refused = error  # why it cannot be written (or made): the cause worth naming
    try:
        return path.open("rb")
    except OSError:
        log.warning("store: cannot open %s (%s): %s", path, refused.strerror or refused, _UNGUARDED)
        return None


def _claim_alone(claim: IO[bytes], database_file: str) -> None:
    if not _try_lock(claim, exclusive=True):
        raise FileServedElsewhereError(_clash(database_file, theirs=_recorded(claim), ours=MEMORY))
    _record(claim, MEMORY)  # for the words of a later instance's refusal only


def _claim_together(claim: IO[bytes], database_file: str, state: str) -> None:
    checked = True
    if _try_lock(claim, exclusive=True):  # the first instance here: it says where the state is kept
        checked = _record(claim, state)
    deadline = time.monotonic() + SETTLE_S
    # From exclusive, a downgrade; flock's is not atomic, so another instance may come between.
    while not _try_lock(claim, exclusive=False):
        if time.monotonic() > deadline:  # held exclusive for good: an instance keeping state in memory
            raise FileServedElsewhereError(_clash(database_file, theirs=MEMORY, ours=state))
        time.sleep(0.02)
    theirs = _recorded(claim)  # stable: only an exclusive holder writes, and this one holds it shared
    if not checked:
        log.warning("store: cannot write %s (another user's file): %s", claim.name, _UNGUARDED)
    elif theirs != state:
        raise FileServedElsewhereError(_clash(database_file, theirs=theirs, ours=state))


def _try_lock(claim: IO[bytes], *, exclusive: bool) -> bool:
    """Take (or convert to) the lock without waiting; False when another instance's lock clashes."""
    import fcntl

    mode = fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH
    try:
        fcntl.flock(claim.fileno(), mode | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _record(claim: IO[bytes], state: str) -> bool:
    """Write ``state`` as the claim file's whole content; False when this handle may not write."""
    if not claim.writable():
        return False
    claim.seek(0)
    claim.truncate()
    claim.write(f"{state}\n".encode())
    claim.flush()
    return True


def _recorded(claim: IO[bytes]) -> str:
    claim.seek(0)
    return claim.read(100).decode("ascii", errors="replace").strip()


def _place(state: str, *, other_redis: bool = False) -> str:
    if state == MEMORY:
        return "its own memory (one process, no MOODTAPE_REDIS_URL)"
    if state == SHORT_LIVED:
        return "the file (--processes N, no MOODTAPE_REDIS_URL)"
    if state.startswith("redis "):
        return f"Redis ({'another ' if other_redis else ''}MOODTAPE_REDIS_URL)"
    return "a place of its own"


def _clash(database_file: str, *, theirs: str, ours: str) -> str:
    if theirs == ours == MEMORY:
        return _second_alone(database_file)
    both_redis = theirs.startswith("redis ") and ours.startswith("redis ")
    return (
        f"another moodtape serve is already serving from {database_file} and keeps visits' lists and "
        f"calibration in {_place(theirs)}, while this one would keep them in {_place(ours, other_redis=both_redis)}: "
        "a list made on one instance would be a 404 'no such list' on the other. Give every instance on this "
        "file the same MOODTAPE_REDIS_URL, or on one machine run a single 'moodtape serve --processes N' (it "
        "shares them through the file); or give this one its own MOODTAPE_DATA_DIR (docs/deployment.md)"
    )


def _second_alone(database_file: str) -> str:
    """The refusal of a second plain ``moodtape serve``: most often one still running from earlier
    (``make run`` in another terminal), so it says so first. Worded as :func:`_clash`'s "its own
    memory ..., while this one would keep them in its own memory" it read as no clash at all."""
    return (
        f"another moodtape serve is already serving from {database_file}, perhaps one you started earlier "
        "(make run or moodtape serve in another terminal): open its address, or stop it with Ctrl+C there "
        "and start again. Two one-process instances without MOODTAPE_REDIS_URL cannot share the file: "
        "each keeps visits' lists and calibration in its own memory, so a list made on one would be a 404 "
        "'no such list' on the other. To serve more people, run a single 'moodtape serve --processes N', "
        "or give every instance the same MOODTAPE_REDIS_URL; or give this one its own MOODTAPE_DATA_DIR "
        "(docs/deployment.md)"
    )


__all__ = [
    "CLAIM_SUFFIX",
    "MEMORY",
    "SETTLE_S",
    "SHORT_LIVED",
    "FileServedElsewhereError",
    "claim_file",
    "claim_store_file",
    "redis_home",
    "release_all",
    "state_home",
]

"""The Flask secret key when ``MOODTAPE_SECRET_KEY`` is unset: generated once, kept in the data folder.

A key that changed at every start would make every open page's CSRF token wrong after a restart
(403 until the page is reloaded). So the first start writes a random key to
``MOODTAPE_DATA_DIR/secret_key`` (readable by its owner only) and later starts read it back.
Several machines behind one load balancer must still share one ``MOODTAPE_SECRET_KEY``; one
started with another key makes every visit that crosses it start afresh, with its changes refused
(403). :func:`check_keys` lets readiness notice: each instance notes a fingerprint of its key in
Redis, and a fingerprint seen lately of a key this instance does not accept (as its key or as one of
``MOODTAPE_SECRET_KEY_FALLBACKS``) means the instances disagree.

Both sides of such a disagreement said 200 "degraded", so a balancer kept sending visitors to both.
Now each instance (not each process: every worker of one ``--processes N`` server shares its id)
holds its key's fingerprint in Redis, noted by a heartbeat (:class:`KeyHeartbeat`) every
:data:`~moodtape.state.instances.HEARTBEAT_S` and forgotten
:data:`~moodtape.state.instances.HELD_FOR_S` after its last beat, or at once when it starts to
drain (SIGTERM). Nothing else is stored: after Redis lost its data, the next beats say the same
again. An instance is *out of step* (readiness 503) only when one key it accepts neither as its key
nor as a fallback is held by a strict majority of the live instances: the odd one out beside a
majority that agrees. Keys are counted one by one: counted together, three instances that each
generated a key of their own (or keys a, b, c, a, b) each found the others a majority, and the whole
site answered 503. (Such a majority is always two instances or more, this one being live too.) A
tie (one old instance and one new during a restart), a split where no key has a strict majority, or
an instance alone says 200 "degraded", as it cannot tell which side is right.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import re
import secrets
import threading
import time
import weakref
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    import redis

FILE_NAME: Final[str] = "secret_key"
#: Where each instance holds its key's fingerprint (a hash: instance id -> fingerprint).
HOLDERS_KEY: Final[str] = "moodtape:secret-key-holders"
#: When each instance last noted its fingerprint (a sorted set scored by Redis's time).
BEATS_KEY: Final[str] = "moodtape:secret-key-beats"
#: How often a heartbeat looks whether its instance drains (then it lets go of its key at once).
DRAIN_LOOK_S: Final[float] = 0.5
#: When a draining instance lets go of its key a second time: longer than a readiness check's note
#: can take to reach Redis before its client gives up (``SOCKET_TIMEOUT``, 1 s).
LET_GO_AGAIN_S: Final[float] = 1.5
_KEY: Final = re.compile(r"[0-9a-f]{64}")
_log = logging.getLogger(__name__)


def stored_secret_key(folder: Path) -> str:
    """The key kept in ``folder``, written there first when missing or unreadable as a key.

    When the folder cannot be written, a key for this start only is returned and a warning logged:
    the app still runs, pages just need a reload after a restart.
    """
    path = folder / FILE_NAME
    try:
        existing = path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        existing = ""
    if _KEY.fullmatch(existing):
        return existing
    key = secrets.token_hex(32)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        temporary = folder / f".{FILE_NAME}.{os.getpid()}.tmp"
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="ascii") as handle:
            handle.write(key + "\n")
        # Two processes starting together: link() refuses to replace, so the first one wins and
        # both read the winner's key.
        try:
            os.link(temporary, path)
        except FileExistsError:
            pass
        finally:
            temporary.unlink(missing_ok=True)
        kept = path.read_text(encoding="ascii").strip()
    except OSError as exc:
        _log.warning("cannot keep a secret key in %s (%s); using one for this start only", folder, exc.strerror)
        return key
    return kept if _KEY.fullmatch(kept) else key


def fingerprint(key: str) -> str:
    """A short HMAC of a constant under ``key``: equal for equal keys, and telling nothing of the key."""
    return hmac.new(key.encode(), b"moodtape secret-key fingerprint", hashlib.sha256).hexdigest()[:16]


@dataclass(frozen=True)
class KeyCheck:
    """What readiness learns of the keys the live instances sign with (fingerprints only, never a key)."""

    #: Live instances, this one included.
    live: int
    #: For each key this one accepts neither as its key nor as a fallback, how many live instances
    #: hold it, most held first (counts only: which key is which is not kept).
    strangers_by_key: tuple[int, ...]

    @property
    def other_keys(self) -> int:
        """How many keys not accepted here are in use (what readiness names: "1 other key(s)")."""
        return len(self.strangers_by_key)

    @property
    def strangers(self) -> int:
        """The live instances holding the one not-accepted key held most (what an out-of-step answer names)."""
        return max(self.strangers_by_key, default=0)

    @property
    def out_of_step(self) -> bool:
        """One key not accepted here is held by a strict majority of the live instances.

        Per key, not all strangers together: three instances with three keys are no majority
        against any of them. Always two or more instances, as this one is live too.
        """
        return self.strangers >= 2 and 2 * self.strangers > self.live


def check_keys(client: redis.Redis, instance_id: str, accepted: list[str]) -> KeyCheck:
    """Note this instance's key, and compare the keys the live instances sign with with ``accepted``.

    ``accepted`` is this instance's key first, then its fallbacks. Mid-rotation, an instance that
    already has the new key with the old one as a fallback finds no stranger (it reads every
    visit), while one still on the old key alone finds the new key's instances strangers (visits
    begun on the new key are lost on it). One round trip.
    """
    from moodtape.state.instances import hold

    held = hold(client, HOLDERS_KEY, BEATS_KEY, instance_id, fingerprint(accepted[0]))
    mine = {fingerprint(key) for key in accepted}
    strange = Counter(value for value in held if value not in mine)
    return KeyCheck(live=len(held), strangers_by_key=tuple(sorted(strange.values(), reverse=True)))


class KeyHeartbeat:
    """Notes this instance's key every :data:`~moodtape.state.instances.HEARTBEAT_S`, between readiness polls too.

    Noted only at polls, an instance the balancer polled seldom (or not yet, after Redis lost its
    data) was missing from the count. One thread per process, started at the first readiness check
    (a thread does not survive ``fork``, so each worker starts its own; they note the same instance
    id). When ``draining()`` turns true (SIGTERM), it lets go of the key and stops: the others stop
    counting this instance at once.
    """

    def __init__(self, client: redis.Redis, instance_id: str, key: str, draining: Callable[[], bool]) -> None:
        self._client = client
        self.instance_id = instance_id
        self._fingerprint = fingerprint(key)
        self._draining = draining
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._pid = 0

    def ensure_running(self) -> None:
        """Start the heartbeat in this process unless it runs here already."""
        with self._lock:
            if self._pid == os.getpid() and self._thread is not None and self._thread.is_alive():
                return
            self._pid = os.getpid()
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="moodtape-key-heartbeat", daemon=True)
            _running.add(self)
            self._thread.start()

    def stop(self) -> None:
        """Stop beating (the holder then expires); for tests, whose instances go without a SIGTERM."""
        self._stop.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(2)

    def _run(self) -> None:
        import redis

        from moodtape.state.instances import HEARTBEAT_S, hold, release

        next_beat = time.monotonic() + HEARTBEAT_S  # the readiness check that started it has just noted it
        while not self._stop.wait(DRAIN_LOOK_S):
            try:
                if self._draining():
                    self._let_go(release)
                    return
                if time.monotonic() >= next_beat:
                    next_beat = time.monotonic() + HEARTBEAT_S
                    hold(self._client, HOLDERS_KEY, BEATS_KEY, self.instance_id, self._fingerprint)
            except redis.RedisError:  # readiness says what is wrong with Redis; the next beat tries again
                continue

    def _let_go(self, release: Callable[[redis.Redis, str, str, str], None]) -> None:
        """Let go of the key, and again :data:`LET_GO_AGAIN_S` later: a readiness check begun just
        before SIGTERM may note it after the first time, which else kept this draining instance
        counted among the live ones for :data:`~moodtape.state.instances.HELD_FOR_S`."""
        release(self._client, HOLDERS_KEY, BEATS_KEY, self.instance_id)
        if not self._stop.wait(LET_GO_AGAIN_S):
            release(self._client, HOLDERS_KEY, BEATS_KEY, self.instance_id)


#: The heartbeats started in this process (:func:`stop_heartbeats`).
_running: weakref.WeakSet[KeyHeartbeat] = weakref.WeakSet()


def stop_heartbeats() -> None:
    """Stop every heartbeat of this process: a test's instances must not go on noting keys in the next test's Redis."""
    for heartbeat in list(_running):
        heartbeat.stop()
    _running.clear()

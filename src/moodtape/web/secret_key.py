"""The Flask secret key when ``MOODTAPE_SECRET_KEY`` is unset: generated once, kept in the data folder.

A key that changed at every start would make every open page's CSRF token wrong after a restart
(403 until the page is reloaded). So the first start writes a random key to
``MOODTAPE_DATA_DIR/secret_key`` (readable by its owner only) and later starts read it back.
Several machines behind one load balancer must still share one ``MOODTAPE_SECRET_KEY``; one
started with another key makes every visit that crosses it start afresh, with its changes refused
(403). :func:`keys_in_use` lets readiness notice: each instance notes a fingerprint of its key in
Redis, and a fingerprint seen lately of a key this instance does not accept (as its key or as one of
``MOODTAPE_SECRET_KEY_FALLBACKS``) means the instances disagree.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import re
import secrets
from pathlib import Path
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    import redis

FILE_NAME: Final[str] = "secret_key"
#: Where instances note their key's fingerprint (a sorted set scored by the time each was last seen).
FINGERPRINTS_KEY: Final[str] = "moodtape:secret-key-fingerprints"
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


def keys_in_use(client: redis.Redis, key: str) -> set[str]:
    """Note this instance's key and return the fingerprints of the keys instances noted in the last two minutes.

    One round trip (a transaction). Old fingerprints age out, so a completed rotation stops
    counting the old key two minutes after the last instance that used it.
    """
    from moodtape.state.instances import note_and_list

    return note_and_list(client, FINGERPRINTS_KEY, fingerprint(key))


def keys_not_accepted(client: redis.Redis, accepted: list[str]) -> int:
    """How many keys other instances sign with that this one accepts neither as its key nor as a fallback.

    ``accepted`` is this instance's key first, then its fallbacks. Mid-rotation, an instance that
    already has the new key with the old one as a fallback counts 0 (it reads every visit), while
    one still on the old key alone counts 1 (visits begun on the new key are lost on it).
    """
    in_use = keys_in_use(client, accepted[0])
    return len(in_use - {fingerprint(key) for key in accepted})

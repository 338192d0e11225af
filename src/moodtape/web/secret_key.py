"""The Flask secret key when ``MOODTAPE_SECRET_KEY`` is unset: generated once, kept in the data folder.

A key that changed at every start would make every open page's CSRF token wrong after a restart
(403 until the page is reloaded). So the first start writes a random key to
``MOODTAPE_DATA_DIR/secret_key`` (readable by its owner only) and later starts read it back.
Several machines behind one load balancer must still share one ``MOODTAPE_SECRET_KEY``.
"""

from __future__ import annotations

import logging
import os
import re
import secrets
from pathlib import Path
from typing import Final

FILE_NAME: Final[str] = "secret_key"
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

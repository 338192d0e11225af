"""The Redis commands this thread sends, by name: what a test asserts instead of how long a call took.

"Redis was not asked" is what a short wall-clock bound stood for (a breaker that turns a call away
answers at once), and a bound under a second fails on a loaded machine or under a collection pause;
counting the commands sent says the same thing whatever the machine's load.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest
from redis.connection import AbstractConnection


def commands_sent(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """A list that fills with the name of each command this thread sends to any Redis from now on.

    Only the calling thread's: a Flask test client answers in it, and another thread's calls
    (a background writer, a readiness run) are no part of what the test looks at.
    """
    sent: list[str] = []
    here = threading.current_thread()
    real = AbstractConnection.send_packed_command

    def counted(self: AbstractConnection, *args: Any, **kwargs: Any) -> None:
        if threading.current_thread() is here:
            packed = args[0] if args else kwargs["command"]
            first = packed if isinstance(packed, (bytes, str, memoryview)) else packed[0]
            sent.append(bytes(first).split(b"\r\n")[2].decode())  # "*N\r\n$len\r\nNAME\r\n…"
        real(self, *args, **kwargs)

    monkeypatch.setattr(AbstractConnection, "send_packed_command", counted)
    return sent


def connections_tried(monkeypatch: pytest.MonkeyPatch) -> list[AbstractConnection]:
    """A list that fills with each connection this thread tries to open (a TCP connect, and a TLS
    handshake for ``rediss://``) from now on, whether or not it succeeds."""
    tried: list[AbstractConnection] = []
    here = threading.current_thread()
    real = AbstractConnection.connect

    def counted(self: AbstractConnection) -> None:
        if threading.current_thread() is here:
            tried.append(self)
        real(self)

    monkeypatch.setattr(AbstractConnection, "connect", counted)
    return tried

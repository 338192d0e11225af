"""The shared clock's reading rides in the write's (or read's) own transaction.

Before: once a minute per process, the first write read PostgreSQL's clock on a connection of its
own and then made its own. During an outage where the database host is gone, that write waited
libpq's connect timeout twice (measured 4.1 s with a 2 s timeout, 10 s with the default 5 s): the
reading's connect, then the write's. Now the reading is a statement at the start of the write's
transaction, so the outage costs the write one connect timeout, and one extra round trip a minute
when the database is up. The write that takes the reading is stamped by it, not by the one before
(an hour off after a virtual machine was suspended for an hour).
"""

from __future__ import annotations

import math
import time
from urllib.parse import urlsplit, urlunsplit

import pytest
import sqlalchemy as sa

from moodtape.errors import StoreUnavailableError
from moodtape.store import SavedList, Store, database
from moodtape.store.clock import SharedClock
from tcp_relay import TcpRelay

TIMEOUT_S = 2  # libpq's smallest connect_timeout


def _through(url: str, port: int) -> str:
    parts = urlsplit(url)
    netloc = parts.netloc.rsplit("@", 1)
    host = f"127.0.0.1:{port}"
    return urlunsplit(parts._replace(netloc=f"{netloc[0]}@{host}" if len(netloc) == 2 else host))


def _saved(list_id: str) -> SavedList:
    return SavedList(list_id, "tracks", "happy", {"items": [{"key": "k1"}]})


@pytest.fixture
def store_and_relay(postgres: str, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setattr(database, "CONNECT_TIMEOUT_S", TIMEOUT_S)
    upstream = urlsplit(postgres).port
    assert upstream is not None
    with TcpRelay(upstream) as relay:
        store = Store(_through(postgres, relay.port))
        try:
            yield store, relay
        finally:
            store.close()


def test_a_write_due_to_read_the_clock_waits_one_connect_timeout_when_the_database_is_gone(store_and_relay) -> None:  # type: ignore[no-untyped-def]
    store, relay = store_and_relay
    store.lists("s1")  # the first reading of the database's clock, while it answers
    clock = store._clock
    assert isinstance(clock, SharedClock)
    clock._next_read = -math.inf  # due to read it again: the write a minute that reads it
    relay.freeze()
    relay.cut()  # the database host is gone: each new connection waits for connect_timeout

    started = time.monotonic()
    with pytest.raises(StoreUnavailableError):
        store.save_list("s1", _saved("a" * 32))
    waited = time.monotonic() - started

    assert waited < 1.5 * TIMEOUT_S, f"the write waited {waited:.1f} s: a connect timeout for the clock's reading too"


def test_the_reading_in_the_transaction_keeps_the_database_clock(store_and_relay, postgres: str) -> None:  # type: ignore[no-untyped-def]
    store, _relay = store_and_relay
    clock = store._clock
    assert isinstance(clock, SharedClock)
    store.lists("s1")
    clock._next_read = -math.inf
    clock._base = clock._base._replace(epoch=clock._base.epoch - 3600.0)  # a reading an hour wrong

    at = store.save_list("s1", _saved("b" * 32)).created_at  # reads the clock again, in its transaction

    engine = sa.create_engine(postgres)
    with engine.connect() as connection:
        now = float(connection.execute(sa.text("SELECT extract(epoch FROM clock_timestamp())")).scalar_one())
    engine.dispose()
    assert abs(clock() - now) < 5, "the reading in the write's transaction did not replace the wrong one"
    assert abs(at - now) < 5, f"the write was stamped {now - at:.0f} s off: by the reading it replaced"

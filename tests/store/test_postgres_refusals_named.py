"""A PostgreSQL that turns moodtape away for a reason of its settings: the 503 says what to change.

Probed with ``moodtape serve``: a wrong password, a database name the server lacks and a server
at its ``max_connections`` all made ``/readyz`` and every history request say "the history store is
not answering right now; try again in a moment"; the cause was only in the log. Now the message
names it (the password never appears: libpq does not repeat it, and neither does moodtape).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import psycopg
import psycopg.sql
import pytest

from moodtape.errors import SettingsError, StoreUnavailableError
from moodtape.store import Store
from moodtape.web.logs import quiet_floods
from services import PostgresServer, free_port, missing_reason

PASSWORD = "Pg-Secret-6631"


@pytest.fixture(scope="module")
def guarded() -> Iterator[PostgresServer]:
    """A server where role ``mt`` (owner of ``mtdb``) logs in with :data:`PASSWORD` over TCP,
    and at most 4 connections are allowed in all; ``nologin`` may not log in, ``noconnect`` may not
    connect to ``mtdb``, ``one`` and ``onedb`` allow one connection each."""
    reason = missing_reason()
    if reason:
        pytest.skip(reason)
    server = PostgresServer()
    server.start()
    with psycopg.connect(server.url(), autocommit=True) as admin:
        admin.execute(f"CREATE ROLE mt LOGIN PASSWORD '{PASSWORD}'")
        admin.execute("CREATE DATABASE mtdb OWNER mt")
        admin.execute(f"CREATE ROLE nologin NOLOGIN PASSWORD '{PASSWORD}'")
        admin.execute(f"CREATE ROLE noconnect LOGIN PASSWORD '{PASSWORD}'")
        admin.execute(f"CREATE ROLE one LOGIN PASSWORD '{PASSWORD}' CONNECTION LIMIT 1")
        admin.execute("REVOKE CONNECT ON DATABASE mtdb FROM PUBLIC")
        admin.execute("GRANT CONNECT ON DATABASE mtdb TO one")
        admin.execute("CREATE DATABASE onedb OWNER mt CONNECTION LIMIT 1")
        admin.execute("ALTER SYSTEM SET max_connections = 4")
        admin.execute("ALTER SYSTEM SET superuser_reserved_connections = 0")
    (server.data / "pg_hba.conf").write_text(
        "local all all trust\nhost all postgres 127.0.0.1/32 trust\nhost all all 127.0.0.1/32 scram-sha-256\n"
    )
    server.stop()
    server.start()
    try:
        yield server
    finally:
        server.cleanup()


def _refusal(url: str) -> str:
    store = Store(url)
    with pytest.raises(StoreUnavailableError) as refused:
        store.lists("s")
    return str(refused.value)


def test_a_wrong_password_is_named_and_the_log_keeps_postgresql_s_words(
    guarded: PostgresServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    said = _refusal(f"postgresql://mt:Wrong-Pw-2290@127.0.0.1:{guarded.port}/mtdb")
    assert "refused moodtape's login" in said and "password in MOODTAPE_DATABASE_URL" in said, said
    assert "Wrong-Pw-2290" not in said
    assert 'password authentication failed for user "mt"' in caplog.text  # the operator's detail


def test_a_url_without_the_password_the_server_asks_for_is_named(guarded: PostgresServer) -> None:
    """libpq's own "fe_sendauth: no password supplied" has no FATAL in it: before, it read
    "the history store is not answering right now; try again in a moment"."""
    said = _refusal(f"postgresql://mt@127.0.0.1:{guarded.port}/mtdb")
    assert "refused moodtape's login" in said and "password in MOODTAPE_DATABASE_URL" in said, said


@pytest.mark.parametrize(
    ("user", "told"),
    [
        ("nologin", "may not log in (NOLOGIN): as a superuser, ALTER ROLE <user> LOGIN"),
        ("noconnect", "may not connect to that database: as its owner, GRANT CONNECT ON DATABASE"),
    ],
)
def test_a_role_that_may_not_log_in_or_connect_is_named(guarded: PostgresServer, user: str, told: str) -> None:
    """Both read "not answering right now; try again in a moment", which no wait mends."""
    said = _refusal(f"postgresql://{user}:{PASSWORD}@127.0.0.1:{guarded.port}/mtdb")
    assert told in said, said


@pytest.mark.parametrize(
    ("user", "database", "told"),
    [
        ("one", "mtdb", "the user in MOODTAPE_DATABASE_URL is at its own connection limit"),
        ("mt", "onedb", "the database in MOODTAPE_DATABASE_URL is at its own connection limit"),
    ],
)
def test_a_role_or_database_at_its_own_connection_limit_is_named(
    guarded: PostgresServer, user: str, database: str, told: str
) -> None:
    """A role's limit was told to raise max_connections or add PgBouncer (neither helps: ALTER ROLE
    does); a database's limit matched nothing and read "not answering right now"."""
    url = f"postgresql://{user}:{PASSWORD}@127.0.0.1:{guarded.port}/{database}"
    held = psycopg.connect(url)
    try:
        said = _refusal(url)
    finally:
        held.close()
    assert told in said and "CONNECTION LIMIT" in said and "max_connections" not in said, said


@pytest.fixture
def served_log_filters() -> Iterator[None]:
    """The log filters ``moodtape serve`` installs (``web/logs.py``), taken off afterwards."""
    quiet_floods()
    yield
    logger = logging.getLogger("moodtape.store.database")
    for found in [f for f in logger.filters if hasattr(f, "flush")]:
        found.close()
        logger.removeFilter(found)


def test_a_refusal_is_logged_once_a_minute_and_another_at_once(
    guarded: PostgresServer, caplog: pytest.LogCaptureFixture, served_log_filters: None
) -> None:
    """The store writes "store: database unavailable" at every request with a wrong password (20: 20
    lines); the server's log filter, summing up the store's lines per cause, lets one through."""
    caplog.set_level(logging.WARNING, logger="moodtape.store.database")
    store = Store(f"postgresql://mt:Wrong-Pw-2290@127.0.0.1:{guarded.port}/mtdb")
    for _ in range(20):
        with pytest.raises(StoreUnavailableError):
            store.lists("s")
    unavailable = [r.getMessage() for r in caplog.records if "database unavailable" in r.getMessage()]
    assert len(unavailable) == 1 and "password authentication failed" in unavailable[0], unavailable
    _refusal(f"postgresql://mt:{PASSWORD}@127.0.0.1:{guarded.port}/nodb")  # another problem: logged at once
    unavailable = [r.getMessage() for r in caplog.records if "database unavailable" in r.getMessage()]
    assert len(unavailable) == 2 and 'database "nodb" does not exist' in unavailable[1], unavailable


@pytest.mark.parametrize("password", ["Pw@x1", "Pw/x@1", "Pw?x@1"])
def test_a_password_with_a_character_that_ends_it_is_refused_without_showing_it(
    guarded: PostgresServer, password: str
) -> None:
    """Before, ``mt:Pw@x1@host`` was read with host ``x1@127.0.0.1`` and logged ("failed to resolve
    host 'x1@127.0.0.1'"): a piece of the password. Only an ``@`` as is ends it (SQLAlchemy's reading)."""
    with pytest.raises(SettingsError, match="percent-encode") as refused:
        Store(f"postgresql://mt:{password}@127.0.0.1:{guarded.port}/mtdb")
    assert "x1" not in str(refused.value) and "Pw" not in str(refused.value)
    encoded = password.replace("@", "%40").replace("/", "%2F").replace("?", "%3F")
    Store(f"postgresql://mt:{encoded}@127.0.0.1:{guarded.port}/mtdb")  # taken: it is only wrong


def test_a_database_the_server_lacks_is_named(guarded: PostgresServer) -> None:
    said = _refusal(f"postgresql://mt:{PASSWORD}@127.0.0.1:{guarded.port}/nodb")
    assert "does not exist on that server" in said, said


def test_a_server_at_max_connections_is_named_and_the_store_recovers(guarded: PostgresServer) -> None:
    url = f"postgresql://mt:{PASSWORD}@127.0.0.1:{guarded.port}/mtdb"
    store = Store(url)
    assert store.lists("s") == []  # set up, with a pooled connection
    store.database.dispose()  # the pool let go: the next use needs a new connection
    held = [psycopg.connect(url) for _ in range(4)]  # other instances took every slot
    try:
        with pytest.raises(StoreUnavailableError, match="max_connections is reached") as refused:
            store.lists("s")
        assert "try again" in str(refused.value)
    finally:
        for connection in held:
            connection.close()
    assert store.lists("s") == []  # a slot free again: served at once, no restart


def test_a_plain_outage_still_says_try_again() -> None:
    store = Store(f"postgresql://mt:{PASSWORD}@127.0.0.1:{free_port()}/mtdb")  # nothing listens there
    with pytest.raises(StoreUnavailableError, match="not answering right now; try again"):
        store.lists("s")


@pytest.mark.parametrize("password", ["ab/cd?ef#gh", "ab/c", "a?b", "a#b"])
def test_a_password_with_slash_question_mark_or_hash_as_is_connects(guarded: PostgresServer, password: str) -> None:
    """SQLAlchemy reads the password up to the last ``@`` before the host: ``/``, ``?`` and ``#`` as
    is worked, and were refused at start by a check that took them for its end."""
    _set_password_of_mt(guarded, PASSWORD, password)
    try:
        store = Store(f"postgresql://mt:{password}@127.0.0.1:{guarded.port}/mtdb")
        assert store.lists("s") == []
        store.database.dispose()
    finally:
        _set_password_of_mt(guarded, password, PASSWORD)


def _set_password_of_mt(server: PostgresServer, old: str, new: str) -> None:
    """Role ``mt`` changes its own password (given apart from any URL: no reading of one to trust)."""
    with psycopg.connect(
        host="127.0.0.1", port=server.port, user="mt", password=old, dbname="mtdb", autocommit=True
    ) as mt:
        mt.execute(psycopg.sql.SQL("ALTER ROLE mt PASSWORD {}").format(psycopg.sql.Literal(new)))

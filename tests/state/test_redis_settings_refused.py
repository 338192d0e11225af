"""A Redis that turns moodtape away for a reason of its settings: the 503 names the setting to change.

Before, a wrong or missing password said "not answering (AuthenticationError); retry in a few
seconds", an untrusted TLS certificate "not answering (ConnectionError)", an ACL user without a
command and a database number the server lacks "refused the request (…); the Redis server's log
says why" (it does not). None of these mends with a retry.
"""

from __future__ import annotations

import contextlib
import json
import logging
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis
from flask.testing import FlaskClient

from moodtape.config import Settings
from moodtape.errors import SettingsError
from moodtape.state import connection
from moodtape.state.breaker import BreakerOpen, breaker_for
from moodtape.state.connection import SharedStateError, SharedStateFullError, connect, ping, redis_errors
from moodtape.web.app import create_app
from moodtape.web.errors import _moodtape_error
from moodtape.web.logs import quiet_floods
from redis_commands import connections_tried
from redis_server import listening, missing_reason, redis_of_its_own
from services import free_port

PASSWORD = "Zq9-not-for-logs-7781"


@pytest.fixture(autouse=True)
def _needs_redis() -> None:
    reason = missing_reason()
    if reason:
        pytest.skip(reason)


@pytest.fixture
def served_log_filters() -> Iterator[Callable[[], None]]:
    """The log filters ``moodtape serve`` installs (``web/logs.py``), taken off afterwards; yields what
    their timers do once a minute for this logger (write the summaries)."""
    quiet_floods()
    served = [found for found in logging.getLogger("moodtape.state.connection").filters if hasattr(found, "flush")]

    def flush() -> None:
        for found in served:
            found.flush()  # type: ignore[attr-defined]

    yield flush
    for name in (
        "moodtape.state.connection",
        "moodtape.store.database",
        "moodtape.store.database.writes",
        "waitress.queue",
        "flask-limiter",
    ):
        for found in [f for f in logging.getLogger(name).filters if hasattr(f, "flush")]:
            found.close()
            logging.getLogger(name).removeFilter(found)


@pytest.fixture
def guarded(tmp_path: Path) -> Iterator[int]:
    """A Redis whose default user needs :data:`PASSWORD`, and a user ``narrow`` who may only GET."""
    acl = tmp_path / "users.acl"
    acl.write_text(f"user default on >{PASSWORD} ~* &* +@all\nuser narrow on >narrowpw ~* -@all +get +hello +auth\n")
    port = free_port()
    command = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--aclfile", str(acl)]
    with listening(command, port):
        yield port


def _refusal(url: str) -> str:
    client = connect(url)
    with pytest.raises(SharedStateError) as refused, redis_errors(client):
        client.set("moodtape:probe", "1")
    return str(refused.value)


@pytest.mark.parametrize("credentials", [":Bad-Pw-4417@", "", "someone:Bad-Pw-4417@"])
def test_a_refused_login_names_the_url_password_and_is_logged_without_it(
    guarded: int, credentials: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="moodtape.state.connection")
    said = _refusal(f"redis://{credentials}127.0.0.1:{guarded}/0")
    assert "refused moodtape's login" in said and "password in MOODTAPE_REDIS_URL" in said, said
    assert "retry in a few seconds" not in said
    assert any("refused moodtape's login" in record.getMessage() for record in caplog.records)
    assert "Bad-Pw-4417" not in said and all("Bad-Pw-4417" not in record.getMessage() for record in caplog.records)


def test_the_right_password_with_a_database_number_works(guarded: int) -> None:
    client = connect(f"redis://:{PASSWORD}@127.0.0.1:{guarded}/2")
    with redis_errors(client):
        client.set("moodtape:probe", "1")
    ping(client)  # readiness's check: answers and takes writes
    assert redis.Redis(port=guarded, password=PASSWORD, db=2).get("moodtape:probe") == b"1"


def test_the_log_line_for_one_problem_comes_once_not_at_every_request(
    guarded: int, caplog: pytest.LogCaptureFixture, served_log_filters: Callable[[], None]
) -> None:
    caplog.set_level(logging.WARNING, logger="moodtape.state.connection")
    url = f"redis://:{PASSWORD}x@127.0.0.1:{guarded}/3"
    for _ in range(5):
        _refusal(url)
    assert sum("refused moodtape's login" in record.getMessage() for record in caplog.records) == 1
    assert all(PASSWORD not in record.getMessage() for record in caplog.records)


def test_the_served_filter_counts_every_refusal_and_another_goes_out_at_once(
    guarded: int, caplog: pytest.LogCaptureFixture, served_log_filters: Callable[[], None]
) -> None:
    """Before: a second once-a-minute throttle in ``state/connection.py`` dropped the lines before the
    server's filter saw them, so its summary never came (20 refusals: 1 line, and no count of 19)."""
    caplog.set_level(logging.WARNING, logger="moodtape.state.connection")
    for _ in range(20):
        _refusal(f"redis://:Bad-Pw-5150@127.0.0.1:{guarded}/0")
    _refusal(f"redis://:{PASSWORD}@127.0.0.1:{guarded}/99")  # a database the server lacks
    lines = [record.getMessage() for record in caplog.records]
    assert sum("refused moodtape's login" in line for line in lines) == 1, lines
    assert sum("has no such database" in line for line in lines) == 1, lines  # another cause: at once
    served_log_filters()  # what the timer does once a minute
    summaries = [record.getMessage() for record in caplog.records][len(lines) :]
    assert len(summaries) == 1 and "refused moodtape's login" in summaries[0], summaries
    assert "and 19 more times in the last 60 s" in summaries[0], summaries
    assert all("Bad-Pw-5150" not in line and PASSWORD not in line for line in lines + summaries)


def test_an_acl_user_without_a_command_is_told_which_to_operators_only(
    guarded: int, caplog: pytest.LogCaptureFixture
) -> None:
    """Redis's words may name the ACL user ("User narrow has no permissions to run the 'set' command"):
    the log and ``/readyz`` (operators) keep them, the 503 a visitor reads does not (it did)."""
    caplog.set_level(logging.WARNING, logger="moodtape.state.connection")
    client = connect(f"redis://narrow:narrowpw@127.0.0.1:{guarded}/0")
    with pytest.raises(SharedStateError) as refused, redis_errors(client):
        client.set("moodtape:probe", "1")
    public, operators = str(refused.value), refused.value.for_operators
    assert "refused a command" in public and "ACL LOG" in public and "docs/deployment.md" in public, public
    assert "narrow" not in public and "'set'" not in public, public
    assert "has no permissions to run the 'set' command" in operators, operators  # Redis 7.2+: "User narrow has…"
    assert any("'set'" in record.getMessage() for record in caplog.records)
    body = json.loads(_moodtape_error(refused.value).get_data())  # the 503's body, as web/errors.py sends it
    assert body["error"]["message"] == public
    with pytest.raises(SharedStateError) as readiness:  # what readiness asks
        ping(connect(f"redis://narrow:narrowpw@127.0.0.1:{guarded}/0"))
    assert "'ping'" in readiness.value.for_operators and "'ping'" not in str(readiness.value)
    assert "narrowpw" not in operators + public


def _readyz_redis(client: FlaskClient, **request: object) -> str:
    """``/readyz``'s Redis check once its run has answered (a first poll may answer before)."""
    deadline = time.monotonic() + 20
    while True:
        checks = client.get("/readyz", **request).get_json()["checks"]  # type: ignore[arg-type]
        if ("redis" in checks and "did not answer" not in checks["redis"]) or time.monotonic() > deadline:
            return str(checks.get("redis"))
        time.sleep(0.1)


def test_readiness_shows_redis_own_words_only_to_who_may_read_metrics(guarded: int, tmp_path: Path) -> None:
    """``/readyz`` is public: before, anyone read there "User narrow has no permissions to run the
    'ping' command", the ACL user's name. Now only a request that may read ``/metrics`` (loopback
    here, or one with the metrics token) does; others get the 503's words."""
    values = {
        "MOODTAPE_DATA_DIR": str(tmp_path),
        "MOODTAPE_OFFLINE": "true",
        "MOODTAPE_REDIS_URL": f"redis://narrow:narrowpw@127.0.0.1:{guarded}/0",
        "MOODTAPE_SECRET_KEY": "k" * 32,
        "MOODTAPE_METRICS_TOKEN": "t" * 32,
    }
    app = create_app(Settings.load(overrides=values, environ={}, dotenv=None), analyzer=lambda: None)
    client = app.test_client()
    operators = _readyz_redis(client)  # the test client asks from 127.0.0.1 for localhost
    assert "has no permissions to run the 'ping' command" in operators, operators
    public = _readyz_redis(client, environ_base={"REMOTE_ADDR": "203.0.113.5"})
    assert "refused a command" in public and "ACL LOG" in public, public
    assert "narrow" not in public and "'ping'" not in public, public
    with_token = _readyz_redis(
        client, environ_base={"REMOTE_ADDR": "203.0.113.5"}, headers={"Authorization": f"Bearer {'t' * 32}"}
    )
    assert with_token == operators


def test_a_database_number_the_server_lacks_is_named(guarded: int) -> None:
    said = _refusal(f"redis://:{PASSWORD}@127.0.0.1:{guarded}/99")
    assert "has no such database" in said and "databases" in said, said


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    if shutil.which("openssl") is None:
        pytest.skip("needs the openssl command to make a test certificate")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    command = ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert)]
    command += ["-days", "2", "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"]
    subprocess.run(command, check=True, capture_output=True)
    return cert, key


def _certificate(folder: Path, names: str) -> tuple[Path, Path]:
    if shutil.which("openssl") is None:
        pytest.skip("needs the openssl command to make a test certificate")
    cert, key = folder / "cert.pem", folder / "key.pem"
    command = ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert)]
    command += ["-days", "2", "-subj", "/CN=moodtape-test", "-addext", f"subjectAltName={names}"]
    subprocess.run(command, check=True, capture_output=True)
    return cert, key


@contextlib.contextmanager
def _tls_redis_with(cert: Path, key: Path) -> Iterator[int]:
    port = free_port()
    command = ["redis-server", "--port", "0", "--tls-port", str(port), "--bind", "127.0.0.1", "--save", ""]
    command += ["--tls-cert-file", str(cert), "--tls-key-file", str(key), "--tls-auth-clients", "no"]
    with listening(command, port):
        yield port


@pytest.fixture
def tls_redis(certificate: tuple[Path, Path]) -> Iterator[int]:
    with _tls_redis_with(*certificate) as port:
        yield port


def test_an_untrusted_tls_certificate_is_named_and_a_ca_in_the_url_is_trusted(
    tls_redis: int, certificate: tuple[Path, Path]
) -> None:
    said = _refusal(f"rediss://127.0.0.1:{tls_redis}/0")
    assert "certificate not trusted" in said and "ssl_ca_certs" in said, said
    trusting = connect(f"rediss://127.0.0.1:{tls_redis}/0?ssl_ca_certs={certificate[0]}")
    with redis_errors(trusting):
        trusting.set("moodtape:probe", "1")
    assert trusting.get("moodtape:probe") == b"1"


def test_a_plain_url_at_a_tls_port_hints_at_rediss(tls_redis: int, guarded: int) -> None:
    """Before: "not answering (ConnectionError)", as for a Redis that is down, though the TLS port
    resets the connection at its first command every time."""
    said = _refusal(f"redis://127.0.0.1:{tls_redis}/0")
    assert "not answering" in said and "if that port expects TLS, use rediss://" in said, said
    down = _refusal(f"redis://127.0.0.1:{free_port()}/0")  # nothing listens: refused, not cut
    assert "not answering" in down and "rediss://" not in down, down


def test_a_redis_stopped_after_answering_gives_no_tls_hint(tmp_path: Path) -> None:
    """Before: the hint fired for the most common outage. redis-py retries, so the pooled
    connection's "Connection closed by server" was the context of the final "Connection refused",
    and a plain Redis that was simply stopped read "if that port expects TLS, use rediss://"."""
    with redis_of_its_own(tmp_path / "redis") as server:
        client = connect(server.url)
        with redis_errors(client):
            client.ping()  # a pooled connection, open
        server.stop()
        with pytest.raises(SharedStateError) as down, redis_errors(client):
            client.ping()
    said = str(down.value)
    assert "not answering" in said and "rediss://" not in said, said


def test_a_command_refused_inside_a_script_is_named_as_the_acl_too(guarded: int) -> None:
    admin = redis.Redis(port=guarded, password=PASSWORD)
    admin.execute_command("ACL", "SETUSER", "scripted", "on", ">scriptedpw", "~*", "-@all", "+@connection", "+eval")
    client = connect(f"redis://scripted:scriptedpw@127.0.0.1:{guarded}/0")
    with pytest.raises(SharedStateError) as refused, redis_errors(client):
        client.eval("return redis.call('TIME')", 0)  # the shape of readiness's notes: Redis's clock in Lua
    said = str(refused.value)
    assert "refused a command" in said and "a script" in said and "ACL LOG" in said, said
    assert "The user executing the script" in refused.value.for_operators


def test_a_full_redis_is_logged_once_not_at_every_refused_write(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, served_log_filters: Callable[[], None]
) -> None:
    """The state writes a warning per refused write (a line per request while Redis is full); the
    server's log filter lets one through."""
    caplog.set_level(logging.WARNING, logger="moodtape.state.connection")
    with redis_of_its_own(tmp_path / "redis") as server:
        server.fill_to_maxmemory()
        client = connect(server.url)
        for n in range(20):
            with pytest.raises(SharedStateFullError), redis_errors(client):
                client.set(f"moodtape:probe:{n}", b"x" * 1000)
    assert sum("Redis is full" in record.getMessage() for record in caplog.records) == 1


def test_a_certificate_for_another_name_says_to_use_that_name_not_a_ca(tmp_path: Path) -> None:
    """Before: "certificate not trusted: IP address mismatch…: … name your own CA with ?ssl_ca_certs",
    for a URL that already named the CA; only the host name in the URL mends it."""
    cert, key = _certificate(tmp_path, "DNS:other.example")
    with _tls_redis_with(cert, key) as port:
        said = _refusal(f"rediss://127.0.0.1:{port}/0?ssl_ca_certs={cert}")
    assert "certificate for another name" in said and "host name the server's certificate is for" in said, said
    assert "ssl_ca_certs" not in said, said


def test_a_rediss_url_at_a_plain_port_is_named_while_the_breaker_is_open(
    guarded: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The TLS handshake times out and opens the breaker; before, every call while it was open (and
    readiness's ping) said "timed out or was slow to answer a moment ago; retry in a few seconds"."""
    client = connect(f"rediss://127.0.0.1:{guarded}/0")
    first = _refusal_of(client)
    assert "no TLS handshake" in first, first
    tried = connections_tried(monkeypatch)
    again = _refusal_of(client)
    assert tried == []  # the breaker answered, not another handshake
    assert again == first, again
    with pytest.raises(SharedStateError, match="no TLS handshake"):
        ping(client)


def test_a_settings_refusal_is_forgotten_once_redis_answers(guarded: int) -> None:
    """The remembered refusal (for the breaker's 503) lasts only until Redis takes a call again; one
    answered at once (a login refused) opened no breaker, so it is not remembered at all."""
    client = connect(f"redis://later:laterpw@127.0.0.1:{guarded}/0")
    assert "refused moodtape's login" in _refusal_of(client)
    assert connection._settings_trouble.get(client.connection_pool) is None
    connection._settings_trouble[client.connection_pool] = ("remembered", "remembered")  # as a TLS timeout leaves it
    admin = redis.Redis(port=guarded, password=PASSWORD)
    admin.execute_command("ACL", "SETUSER", "later", "on", ">laterpw", "~*", "+@all")  # mended on the server
    with redis_errors(client):
        client.set("moodtape:probe", "1")
    assert connection._settings_trouble.get(client.connection_pool) is None


def test_a_slow_redis_after_an_acl_refusal_is_not_blamed_on_the_acl(guarded: int) -> None:
    """An ACL refusal is answered at once and opens no breaker. Before, it was remembered anyway, so
    when the rate limit's slow calls (which share the breaker) opened it later, every 503 said "the
    ACL user … lacks a command" while Redis was only slow (the review's probe p_stale.py)."""
    client = connect(f"redis://narrow:narrowpw@127.0.0.1:{guarded}/0")
    assert "refused a command" in _refusal_of(client)  # narrow may not SET
    breaker = breaker_for(client)
    breaker.slow_s = 0.001
    for _ in range(4):  # slow but answered, back to back, as the rate limit's calls are
        with contextlib.suppress(BreakerOpen), breaker.call(timeout_opens=False):
            time.sleep(0.01)
        time.sleep(0.002)
    assert breaker.is_open
    said = _refusal_of(client)
    assert "answered slower than" in said and "ACL" not in said, said


def test_the_rate_limit_answered_forgets_a_remembered_refusal(guarded: int) -> None:
    """The rate limit shares the breaker but not :func:`redis_errors`: its answer says too that a
    breaker opened from then on is not opened by the refusal remembered before."""
    from moodtape.web.ratelimit import SCHEME_PREFIX, SharedOrLocalStorage

    url = f"redis://:{PASSWORD}@127.0.0.1:{guarded}/0"
    storage = SharedOrLocalStorage(SCHEME_PREFIX + url, socket_timeout=0.25)
    pool = connection.client_for(url).connection_pool  # type: ignore[union-attr]
    connection._settings_trouble[pool] = ("remembered", "remembered, for operators")
    assert storage.incr("moodtape-test-forget", 60) == 1
    assert connection._settings_trouble.get(pool) is None


def _refusal_of(client: redis.Redis) -> str:
    with pytest.raises(SharedStateError) as refused, redis_errors(client):
        client.set("moodtape:probe", "1")
    return str(refused.value)


@pytest.mark.parametrize(
    "url",
    [
        "redis://:Real@Pw:1/x%@127.0.0.1:6379/0",
        "redis://:ab?cd@127.0.0.1:6379/0",
        "redis://:ab#cd@127.0.0.1/0",
        # These three stopped `serve` with redis-py's traceback: "Port could not be cast to integer value as 'Pw'".
        "redis://:Pw?x=1@127.0.0.1:6379/0",
        "redis://u:Pw?x&y@127.0.0.1:6379/0",
        "redis://:Pw/x?1@127.0.0.1:6379/0",
        "redis://:12?x=1@127.0.0.1:6379/0",  # was taken: port 12 of localhost, password "" and a query
        "unix://:Pw/Ss@/tmp/r.sock",  # was the socket /Ss@/tmp/r.sock with the password "Pw"
    ],
)
def test_a_password_with_a_character_that_ends_the_host_is_refused_without_showing_it(url: str) -> None:
    """Before, ``redis://:Real@Pw:1/x%@host`` was read with host ``pw`` and port 1, and every message
    said "Redis at pw:1": a piece of the password."""
    with pytest.raises(SettingsError, match="percent-encode") as refused:
        connect(url)
    said = str(refused.value)
    assert not any(
        piece in said for piece in ("Real", "Pw", "pw:", "cd", "ab?", "ab#", "12?", ":12", "x=1", "x&y", "Ss")
    ), said


def test_a_url_redis_py_cannot_read_is_refused_in_the_settings_words() -> None:
    """A backstop for what the check misses: redis-py's own ValueError, which may quote a piece of
    the URL ("Port could not be cast to integer value as 'Pw'"), is told as the settings' line."""
    with pytest.raises(SettingsError) as refused:
        connect("redis://:Sec-9931@127.0.0.1:6379/0?socket_timeout=abc")
    said = str(refused.value)
    assert said.startswith("MOODTAPE_REDIS_URL='redis://***@127.0.0.1:6379/0") and "Invalid value" not in said, said
    assert "Sec-9931" not in said


@pytest.mark.parametrize(
    "url",
    [
        "redis://:Real%40Pw%3A1%2Fx%25@127.0.0.1:6379/0",
        "redis://:WrOng@pa:ss@127.0.0.1:6379/0",  # an @ as is: redis-py reads it right
        "rediss://127.0.0.1:6379/0?ssl_ca_certs=/etc/a@b/ca.pem",
        "unix:///run/redis@main.sock",
        "unix://moodtape:pw@/run/redis.sock",
        "rediss://127.0.0.1:6379?ssl_ca_certs=/etc/a@b/ca.pem",
    ],
)
def test_a_well_formed_url_is_still_taken(url: str) -> None:
    connect(url)  # connects on first use: nothing to reach here

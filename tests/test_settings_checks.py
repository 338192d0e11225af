"""Settings are parsed once and checked: a bad value names the variable, the value and what is allowed."""

from __future__ import annotations

from pathlib import Path

import pytest

from moodtape.config import SETTINGS, Settings
from moodtape.errors import MoodtapeError, SettingsError

BAD_VALUES = [
    ("MOODTAPE_MAX_PIXELS", "abc", "whole number"),
    ("MOODTAPE_MAX_PIXELS", "0", "from 1"),
    ("MOODTAPE_MAX_PIXELS", "9" * 400, "whole number"),
    ("MOODTAPE_PORT", "abc", "from 0 to 65535"),
    ("MOODTAPE_PORT", "70000", "from 0 to 65535"),
    ("MOODTAPE_THREADS", "-1", "from 1"),
    ("MOODTAPE_WORKERS", "1.5", "whole number"),
    ("MOODTAPE_CACHE_TTL", "nan", "number from 0"),
    ("MOODTAPE_HTTP_TIMEOUT", "inf", "number from"),
    ("MOODTAPE_RATE_LIMIT", "1e400", "number from 0"),
    ("MOODTAPE_OFFLINE", "ture", "true or false"),
    ("MOODTAPE_PREVIEWS", "maybe", "true or false"),
    ("YOUTUBE_SAFE_SEARCH", "loose", "none, moderate, strict"),
    ("MOODTAPE_MODEL_PRESET", "keras", "fer-library"),
    ("SPOTIFY_MARKET", "USA", "two-letter country code"),
    ("MOODTAPE_MODEL", "/no/such/model.onnx", "existing .onnx or .h5 file"),
    ("MOODTAPE_MAX_UPLOAD_BYTES", "10", "from 1024"),
    ("MOODTAPE_PROXY_HOPS", "99", "from 0 to 10"),
    ("MOODTAPE_REDIS_URL", "127.0.0.1:6379", "redis://host:6379/0"),  # a traceback at start before
    ("MOODTAPE_DATABASE_URL", "postgress://db.example/moodtape", "postgresql://"),  # a 400 on every request
    ("MOODTAPE_DATABASE_URL", "mysql://db.example/moodtape", "sqlite:///"),
]


@pytest.mark.parametrize(("name", "value", "allowed"), BAD_VALUES)
def test_a_bad_value_is_refused_naming_variable_value_and_what_is_allowed(name: str, value: str, allowed: str) -> None:
    with pytest.raises(SettingsError) as caught:
        Settings.load(overrides={name: value}, environ={}, dotenv=None)
    message = str(caught.value)
    assert isinstance(caught.value, MoodtapeError) and "\n" not in message
    assert name in message and allowed in message
    assert value[:20] in message and len(message) < 300


def test_every_default_is_allowed() -> None:
    settings = Settings({})
    assert settings.get_int("MOODTAPE_PORT") == 5000 and settings.get_float("MOODTAPE_HTTP_TIMEOUT") == 5.0
    assert settings.get_bool("MOODTAPE_PREVIEWS") is True and settings.get_bool("MOODTAPE_OFFLINE") is False


@pytest.mark.parametrize(
    ("name", "value", "shown"),
    [
        ("MOODTAPE_DATABASE_URL", "postgress://me:hunter2@db/m", "postgress://***@db/m"),
        ("MOODTAPE_REDIS_URL", ":hunter2@127.0.0.1:6379/0", "***@127.0.0.1:6379/0"),  # no scheme at all
        ("MOODTAPE_REDIS_URL", "default:hunter2@redis:6379", "***@redis:6379"),
        ("MOODTAPE_REDIS_URL", "http://:hun/ter2@redis:6379", "http://***@redis:6379"),
    ],
)
def test_a_mistyped_url_is_shown_without_its_password(name: str, value: str, shown: str) -> None:
    with pytest.raises(SettingsError) as caught:
        Settings.load(overrides={name: value}, environ={}, dotenv=None)
    assert "hunter2" not in str(caught.value) and "ter2" not in str(caught.value) and shown in str(caught.value)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("MOODTAPE_DATABASE_URL", "postgresql+psycopg://u@h/db"),
        ("MOODTAPE_DATABASE_URL", "sqlite:////tmp/x.db"),
        ("MOODTAPE_REDIS_URL", "rediss://:pw@h:6380/1"),
    ],
)
def test_the_documented_urls_are_accepted(name: str, value: str) -> None:
    assert Settings.load(overrides={name: value}, environ={}, dotenv=None).get(name) == value.strip()


@pytest.mark.parametrize(("text", "expected"), [("TRUE", True), (" yes ", True), ("0", False), ("off", False)])
def test_flags_accept_the_usual_words(text: str, expected: bool) -> None:
    assert Settings({"MOODTAPE_OFFLINE": text}).get_bool("MOODTAPE_OFFLINE") is expected


def test_settings_are_frozen() -> None:
    settings = Settings({})
    with pytest.raises(AttributeError):
        settings._values = {}  # type: ignore[misc]
    with pytest.raises(TypeError):
        settings._values["MOODTAPE_PORT"] = "1"  # type: ignore[index]


def test_a_secret_value_is_never_echoed() -> None:
    with pytest.raises(SettingsError) as caught:
        Settings({"YOUTUBE_API_KEY": "x" * 5000})
    assert "xxxx" not in str(caught.value) and "YOUTUBE_API_KEY" in str(caught.value)


def test_an_existing_model_file_is_accepted(tmp_path: Path) -> None:
    model = tmp_path / "m.onnx"
    model.write_bytes(b"onnx")
    assert Settings({"MOODTAPE_MODEL": str(model)}).get("MOODTAPE_MODEL") == str(model)


def test_a_bad_value_in_dotenv_is_refused_too(tmp_path: Path) -> None:
    dotenv = tmp_path / ".env"
    dotenv.write_text("MOODTAPE_PORT=fivethousand\n", encoding="utf-8")
    with pytest.raises(SettingsError, match="MOODTAPE_PORT='fivethousand'"):
        Settings.load(environ={}, dotenv=dotenv)


def test_numbers_and_flags_are_never_free_text() -> None:
    """A setting whose default is a number or a flag must be checked, or a typo would pass silently."""
    for setting in SETTINGS:
        looks_typed = setting.default.replace(".", "").isdigit() or setting.default in {"true", "false"}
        if looks_typed:
            assert type(setting.kind).__name__ != "Kind", setting.name


#: URLs whose client reads a piece of the password as the host: before, MOODTAPE_DATABASE_URL's
#: were taken and the log named a piece as the host; MOODTAPE_REDIS_URL's stopped `serve` with no
#: line of the settings' kind, or with redis-py's traceback quoting a piece, or went to another port.
#: The password pieces each must never show.
UNENCODED_PASSWORDS = [
    ("MOODTAPE_DATABASE_URL", "postgresql://mt:Pw@x1@127.0.0.1:5432/mtdb", ("Pw", "x1")),
    ("MOODTAPE_DATABASE_URL", "postgresql://mt:Pw/x1@Q7@127.0.0.1/mtdb", ("Pw", "x1", "Q7")),
    ("MOODTAPE_DATABASE_URL", "postgres://mt:Pw?x@1@db.example/mtdb", ("Pw", "?x")),
    ("MOODTAPE_DATABASE_URL", "postgresql+psycopg://mt:Pw#x1@Q7@db.example/mtdb", ("Pw", "x1", "Q7")),
    ("MOODTAPE_REDIS_URL", "redis://:Real@Pw:1/x%@127.0.0.1:6379/0", ("Real", "Pw", "x%")),
    ("MOODTAPE_REDIS_URL", "rediss://:ab?cd@127.0.0.1:6379/0", ("ab?", "cd")),
    ("MOODTAPE_REDIS_URL", "redis://:ab#cd@127.0.0.1/0", ("ab#", "cd")),
    ("MOODTAPE_REDIS_URL", "redis://:Pw?x=1@127.0.0.1:6379/0", ("Pw", "x=1")),
    ("MOODTAPE_REDIS_URL", "redis://u:Pw?x&y@127.0.0.1:6379/0", ("Pw", "x&y")),
    ("MOODTAPE_REDIS_URL", "redis://:Pw/x?1@127.0.0.1:6379/0", ("Pw", "x?1")),
    ("MOODTAPE_REDIS_URL", "redis://:12?x=1@127.0.0.1:6379/0", ("12?", "x=1")),
    ("MOODTAPE_REDIS_URL", "unix://:Pw/Ss@/tmp/r.sock", ("Pw", "Ss")),
]


@pytest.mark.parametrize(("name", "value", "pieces"), UNENCODED_PASSWORDS)
def test_a_url_password_with_a_character_that_ends_it_is_refused_at_start_without_showing_it(
    name: str, value: str, pieces: tuple[str, ...]
) -> None:
    with pytest.raises(SettingsError) as caught:
        Settings.load(overrides={name: value}, environ={}, dotenv=None)
    message = str(caught.value)
    assert message.startswith(f"{name}='") and "\n" not in message and "percent-encode" in message
    assert "%40 for @" in message and "%2F for /" in message and "%23 for #" in message
    assert not any(piece in message for piece in pieces), message
    host = value.rpartition("@")[2]
    assert f"***@{host}" in message  # where it points is still shown


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("MOODTAPE_DATABASE_URL", "postgresql://mt:Pw%40x1%2F%3F%23@127.0.0.1:5432/mtdb"),
        ("MOODTAPE_DATABASE_URL", "postgresql://mt@db.example/mtdb?sslrootcert=/etc/a@b/ca.pem"),
        ("MOODTAPE_DATABASE_URL", "sqlite:////srv/me@host/moodtape.db"),  # a path, no password in it
        ("MOODTAPE_REDIS_URL", "redis://:WrOng@pa:ss@127.0.0.1:6379/0"),  # an @ as is: redis-py reads it right
        ("MOODTAPE_REDIS_URL", "rediss://127.0.0.1:6379/0?ssl_ca_certs=/etc/a@b/ca.pem"),
        ("MOODTAPE_REDIS_URL", "unix:///run/redis@main.sock"),
        ("MOODTAPE_REDIS_URL", "unix://moodtape:pw@/run/redis.sock"),
        ("MOODTAPE_REDIS_URL", "rediss://127.0.0.1:6379?ssl_ca_certs=/etc/a@b/ca.pem"),
        # SQLAlchemy reads a PostgreSQL password up to its last "@": these were refused, yet they worked.
        ("MOODTAPE_DATABASE_URL", "postgresql://u:pa/ss@h/db"),
        ("MOODTAPE_DATABASE_URL", "postgresql://u:pa?ss@h:5432/db"),
        ("MOODTAPE_DATABASE_URL", "postgresql+psycopg://mt:Pw#x1@db.example/mtdb"),
        ("MOODTAPE_DATABASE_URL", "postgresql://mt:ab/cd?ef#gh@127.0.0.1:5432/mtdb"),
        ("MOODTAPE_DATABASE_URL", "postgresql://us@er:pw@h/db"),  # an @ in the user name: read right
        ("MOODTAPE_DATABASE_URL", "postgresql://u:pw@h/d@b"),  # and in the database name
    ],
)
def test_a_url_its_client_reads_right_is_taken(name: str, value: str) -> None:
    assert Settings.load(overrides={name: value}, environ={}, dotenv=None).get(name) == value


@pytest.mark.parametrize(("name", "value", "pieces"), UNENCODED_PASSWORDS)
def test_a_url_given_without_the_settings_gets_the_same_line(name: str, value: str, pieces: tuple[str, ...]) -> None:
    """The store and Redis, given such a URL by the Python API, refuse it with the line the settings give."""
    from moodtape.state.connection import connect
    from moodtape.store.database import engine_url

    with pytest.raises(SettingsError) as at_start:
        Settings.load(overrides={name: value}, environ={}, dotenv=None)
    with pytest.raises(SettingsError) as given:
        (engine_url if name == "MOODTAPE_DATABASE_URL" else connect)(value)
    assert str(given.value) == str(at_start.value)


#: URLs whose client (urlsplit, SQLAlchemy's make_url, redis-py) fails in words that quote a piece
#: of the password: (setting, URL, the pieces never to be shown).
CLIENT_WORDS_QUOTE_THE_PASSWORD = [
    ("MOODTAPE_DATABASE_URL", "postgresql://u:p@ss:w0rd@h/db", ("w0rd", "ss:w0rd")),
    ("MOODTAPE_DATABASE_URL", "postgresql://u:p@ss:99@h/db", ("99@h", "ss:99")),
    ("MOODTAPE_REDIS_URL", "redis://:[s3cret]@h:6379/0", ("s3cret",)),
    ("MOODTAPE_REDIS_URL", "redis://:s3cret]@h:6379/0", ("s3cret",)),
    ("MOODTAPE_REDIS_URL", "unix://:[s3cret]@/tmp/redis.sock", ("s3cret",)),
]


def _every_way_in(name: str, value: str) -> list[str]:
    """The lines a URL is refused with: at start, and given straight to the store or Redis client."""
    from moodtape.state.connection import connect
    from moodtape.store.database import engine_url

    lines = []
    for read in (
        lambda: Settings.load(overrides={name: value}, environ={}, dotenv=None),
        lambda: engine_url(value) if name == "MOODTAPE_DATABASE_URL" else connect(value),
    ):
        with pytest.raises(SettingsError) as caught:
            read()
        lines.append(str(caught.value))
    return lines


@pytest.mark.parametrize(("name", "value", "pieces"), CLIENT_WORDS_QUOTE_THE_PASSWORD)
def test_a_clients_own_words_never_reach_a_settings_message(name: str, value: str, pieces: tuple[str, ...]) -> None:
    for line in _every_way_in(name, value):
        assert line.startswith(f"{name}=") and "is not allowed: use" in line
        assert not any(piece in line for piece in pieces), line
        assert "invalid literal" not in line and "IPv4 or IPv6" not in line, line


def test_several_postgres_hosts_are_told_how_to_list_them() -> None:
    for line in _every_way_in("MOODTAPE_DATABASE_URL", "postgresql://u:p@h1:5432,h2:5432/db"):
        assert "?host=h1:5432&host=h2:5432" in line and "invalid literal" not in line, line


def test_a_bracket_in_a_postgres_password_sqlalchemy_reads_is_taken() -> None:
    from moodtape.store.database import engine_url

    value = "postgresql://u:[s3cret]@h/db"
    assert (
        Settings.load(overrides={"MOODTAPE_DATABASE_URL": value}, environ={}, dotenv=None).get("MOODTAPE_DATABASE_URL")
        == value
    )
    assert engine_url(value).password == "[s3cret]"


@pytest.mark.parametrize(
    "value",
    [
        "redis://h:6379/0?password=a@b",
        "redis://h:6379/0?client_name=a@b",
        "redis://h:6379/0?ssl_ca_certs=a@b.pem",
        "redis://:pw@h:6379/0?client_name=a@b",
    ],
)
def test_an_at_in_a_redis_text_option_is_taken(value: str) -> None:
    assert (
        Settings.load(overrides={"MOODTAPE_REDIS_URL": value}, environ={}, dotenv=None).get("MOODTAPE_REDIS_URL")
        == value
    )


@pytest.mark.parametrize("value", ["redis://:12?x=1@host", "redis://user:12?x@h", "redis://:12?password=x@host"])
def test_a_password_ended_by_its_question_mark_is_still_refused(value: str) -> None:
    with pytest.raises(SettingsError, match="%3F for \\?"):
        Settings.load(overrides={"MOODTAPE_REDIS_URL": value}, environ={}, dotenv=None)

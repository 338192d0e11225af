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

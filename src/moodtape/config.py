"""Settings: each declared once here (name, default, help), read from the environment or ``.env``.

``docs/settings.md`` has one table with every setting; ``tests/test_config.py`` keeps the two in
step. Secrets (API keys) come only from the environment or a git-ignored ``.env`` and are never
written to logs, pages or responses: :meth:`Settings.public` leaves them out.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final


@dataclass(frozen=True)
class Setting:
    """One setting: its environment variable, default (a string, as the environment gives) and help."""

    name: str
    default: str
    help: str
    secret: bool = False


SETTINGS: Final[tuple[Setting, ...]] = (
    # --- vision ---
    Setting("MOODTAPE_MODEL", "", "Emotion model file (.onnx or Keras .h5); empty means the bundled model."),
    Setting("MOODTAPE_MODEL_PRESET", "", "Preprocessing preset for --model: moodtape, fer-library, fer-tutorial."),
    Setting(
        "MOODTAPE_MAX_PIXELS", "40000000", "Largest image accepted, in pixels (a guard against decompression bombs)."
    ),
    Setting("MOODTAPE_THREADS", "2", "ONNX Runtime intra-op threads per process."),
    Setting("MOODTAPE_DETECTOR", "yunet", "Face detector: yunet (a small CNN) or haar (OpenCV's Haar cascade)."),
    Setting(
        "MOODTAPE_FRAMES",
        "device",
        "Where the page reads camera frames by default: device (in the browser, when it can) or server.",
    ),
    # --- recommendations and data ---
    Setting(
        "MOODTAPE_DATA_DIR",
        "",
        "Folder for user data (catalog additions, feedback, history); empty means the platform's user data folder.",
    ),
    Setting(
        "MOODTAPE_DATABASE_URL",
        "",
        "Store for feedback and history: sqlite:///path.db or postgresql://user:password@host:5432/db "
        "(needs moodtape[postgres]); empty means MOODTAPE_DATA_DIR/moodtape.db.",
    ),
    Setting(
        "MOODTAPE_HISTORY_DAYS",
        "30",
        "Days a session's history, feedback and corrections are kept before the store deletes them.",
    ),
    Setting("MOODTAPE_HISTORY_MAX_LISTS", "50", "Most lists kept per session; the oldest go first."),
    Setting("MOODTAPE_OFFLINE", "false", "true: never call live providers (the built-in catalog only)."),
    Setting("MOODTAPE_CACHE_TTL", "3600", "Seconds a live provider's answer is cached."),
    Setting("MOODTAPE_HTTP_TIMEOUT", "5", "Seconds before a live provider call gives up."),
    Setting("MOODTAPE_PREVIEWS", "true", "true: artwork and 30 s previews from Deezer and iTunes (keyless)."),
    # --- Spotify ---
    Setting("SPOTIFY_CLIENT_ID", "", "Spotify app client ID (Client Credentials flow).", secret=True),
    Setting("SPOTIFY_CLIENT_SECRET", "", "Spotify app client secret.", secret=True),
    Setting("SPOTIFY_MARKET", "US", "Spotify market (ISO 3166-1 alpha-2 country code) for searches."),
    # --- YouTube ---
    Setting("YOUTUBE_API_KEY", "", "YouTube Data API v3 key.", secret=True),
    Setting("YOUTUBE_REGION", "US", "YouTube regionCode for searches and charts."),
    Setting("YOUTUBE_DAILY_SEARCH_BUDGET", "90", "search.list calls moodtape may make per day (YouTube allows 100)."),
    Setting("YOUTUBE_SAFE_SEARCH", "moderate", "YouTube safeSearch: none, moderate or strict."),
    # --- web ---
    Setting("MOODTAPE_HOST", "127.0.0.1", "Address the web server listens on."),
    Setting("MOODTAPE_PORT", "5000", "Port the web server listens on."),
    Setting(
        "MOODTAPE_SECRET_KEY", "", "Flask secret key for sessions; empty means a random key per start.", secret=True
    ),
    Setting("MOODTAPE_MAX_UPLOAD_BYTES", "10485760", "Largest upload accepted, in bytes (larger gets 413)."),
    Setting("MOODTAPE_RATE_LIMIT", "200", "Requests per second one client address may send before getting 429."),
    Setting("MOODTAPE_WORKERS", "4", "Threads the WSGI server uses to answer requests."),
    Setting(
        "MOODTAPE_PROXY_HOPS",
        "0",
        "Reverse proxies in front of moodtape whose X-Forwarded-* headers are trusted (0: none, answer directly).",
    ),
    # --- several instances and operations (docs/deployment.md) ---
    Setting(
        "MOODTAPE_REDIS_URL",
        "",
        "Redis for state shared by instances (rate limits, provider cache, YouTube budget, streams, recent lists): "
        "redis://host:6379/0; empty keeps that state in each process.",
    ),
    Setting(
        "MOODTAPE_PROCESSES",
        "1",
        "Server processes for moodtape serve; more than 1 runs gunicorn (POSIX only), each process loading the model.",
    ),
    Setting(
        "MOODTAPE_SHUTDOWN_SECONDS",
        "10",
        "On SIGTERM or Ctrl+C, seconds that requests in flight get to finish before the server exits.",
    ),
    Setting(
        "MOODTAPE_METRICS",
        "local",
        "Prometheus /metrics: off, local (clients on loopback only) or open (anyone who can reach the server).",
    ),
    Setting(
        "MOODTAPE_METRICS_TOKEN",
        "",
        "When set, /metrics also answers requests carrying 'Authorization: Bearer <token>' from any address.",
        secret=True,
    ),
    Setting("MOODTAPE_LOG_FORMAT", "text", "Server log lines: text, or json (one object a line, with the request id)."),
)

_BY_NAME: Final[dict[str, Setting]] = {s.name: s for s in SETTINGS}
_TRUE = {"1", "true", "yes", "on"}


def read_dotenv(path: Path) -> dict[str, str]:
    """Parse a ``.env`` file (``NAME=value`` lines, ``#`` comments, optional quotes)."""
    from dotenv import dotenv_values

    return {k: v for k, v in dotenv_values(path).items() if v is not None}


class Settings:
    """Resolved settings: explicit overrides, then the environment, then ``.env``, then defaults."""

    def __init__(self, values: Mapping[str, str]) -> None:
        unknown = sorted(set(values) - set(_BY_NAME))
        if unknown:
            raise KeyError(f"unknown setting(s): {', '.join(unknown)}")
        self._values = {s.name: values.get(s.name, s.default) for s in SETTINGS}

    @classmethod
    def load(
        cls,
        overrides: Mapping[str, str] | None = None,
        environ: Mapping[str, str] | None = None,
        dotenv: Path | None = Path(".env"),
    ) -> Settings:
        """Read settings; a missing ``.env`` is fine."""
        environ = os.environ if environ is None else environ
        values: dict[str, str] = {}
        if dotenv is not None and dotenv.is_file():
            values.update({k: v for k, v in read_dotenv(dotenv).items() if k in _BY_NAME})
        values.update({k: v for k, v in environ.items() if k in _BY_NAME})
        values.update(overrides or {})
        return cls(values)

    def get(self, name: str) -> str:
        """The raw string value of ``name``."""
        return self._values[name]

    def get_int(self, name: str) -> int:
        value = self._values[name]
        try:
            return int(value)
        except ValueError:
            raise ValueError(f"{name} must be a whole number, got {value!r}") from None

    def get_float(self, name: str) -> float:
        value = self._values[name]
        try:
            return float(value)
        except ValueError:
            raise ValueError(f"{name} must be a number, got {value!r}") from None

    def get_bool(self, name: str) -> bool:
        return self._values[name].strip().lower() in _TRUE

    def public(self) -> dict[str, str]:
        """Every setting with secrets replaced by ``"set"``/``""``, safe to show or log."""
        return {s.name: ("set" if self._values[s.name] else "") if s.secret else self._values[s.name] for s in SETTINGS}

    def __repr__(self) -> str:
        return f"Settings({self.public()!r})"

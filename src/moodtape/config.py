"""Settings: each declared once here (name, default, help), read from the environment or ``.env``.

``docs/settings.md`` has one table with every setting; ``tests/test_config.py`` keeps the two in
step. Secrets (API keys) come only from the environment or a git-ignored ``.env`` and are never
written to logs, pages or responses: :meth:`Settings.public` leaves them out.
"""

from __future__ import annotations

import ipaddress
import math
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Final

from moodtape.errors import SettingsError
from moodtape.url_passwords import UNENCODED_PASSWORD, postgres_misread, redis_misread, url_scheme

_TRUE: Final = frozenset({"1", "true", "yes", "on"})
_FALSE: Final = frozenset({"0", "false", "no", "off", ""})


@dataclass(frozen=True)
class Kind:
    """How a setting's text becomes a value: plain text by default; subclasses check and convert."""

    #: What is allowed, as the error message says it.
    allowed: str = "text of at most 4096 characters"

    def parse(self, text: str) -> object:
        """The typed value of ``text``; raises ``ValueError`` when ``text`` is not allowed."""
        if len(text) > 4096 or "\x00" in text:
            raise ValueError(self.allowed)
        return text


@dataclass(frozen=True)
class Integer(Kind):
    low: int = 0
    high: int = 2**31 - 1
    allowed: str = ""

    def parse(self, text: str) -> object:
        cleaned = text.strip().replace("_", "")
        if not re.fullmatch(r"[+-]?[0-9]{1,19}", cleaned) or not self.low <= int(cleaned) <= self.high:
            raise ValueError(self.allowed or f"a whole number from {self.low} to {self.high}")
        return int(cleaned)


@dataclass(frozen=True)
class Number(Kind):
    """A finite decimal number in [low, high] (never NaN or infinity)."""

    low: float = 0.0
    high: float = 1e9
    allowed: str = ""

    def parse(self, text: str) -> object:
        try:
            value = float(text.strip()) if len(text) <= 64 else math.nan
        except ValueError:
            value = math.nan
        if not math.isfinite(value) or not self.low <= value <= self.high:
            raise ValueError(self.allowed or f"a number from {self.low:g} to {self.high:g}")
        return value


@dataclass(frozen=True)
class Flag(Kind):
    allowed: str = "true or false (also 1/0, yes/no, on/off)"

    def parse(self, text: str) -> object:
        word = text.strip().lower()
        if word not in _TRUE | _FALSE:
            raise ValueError(self.allowed)
        return word in _TRUE


@dataclass(frozen=True)
class Choice(Kind):
    """One of ``options`` (compared without case; the empty string only when listed)."""

    options: tuple[str, ...] = ()
    allowed: str = ""

    def parse(self, text: str) -> object:
        word = text.strip().lower()
        if word not in self.options:
            shown = ", ".join(option or "(empty)" for option in self.options)
            raise ValueError(self.allowed or f"one of: {shown}")
        return word


@dataclass(frozen=True)
class Pattern(Kind):
    """Text matching ``regex`` in full (after trimming spaces), upper-cased when ``upper``."""

    regex: str = ""
    allowed: str = ""
    upper: bool = False

    def parse(self, text: str) -> object:
        word = text.strip()
        if len(word) > 256 or not re.fullmatch(self.regex, word):
            raise ValueError(self.allowed)
        return word.upper() if self.upper else word


@dataclass(frozen=True)
class Url(Kind):
    """Empty, or a URL whose scheme (before any ``+driver``) is one of ``schemes``.

    Checked when the settings are read, so a typo (``postgress://``, ``127.0.0.1:6379`` without
    ``redis://``) stops the server at start with one line, not a traceback or a 400 on requests.
    """

    schemes: tuple[str, ...] = ()
    allowed: str = ""
    #: What to use instead when the URL's client would misread it (a password's piece taken for the
    #: host), or None when it reads it right; None: not checked.
    misread: Callable[[str], str | None] | None = None

    def parse(self, text: str) -> object:
        url = text.strip()
        if not url:
            return url
        scheme = url_scheme(url).partition("+")[0]
        if len(url) > 4096 or "\x00" in url or scheme not in self.schemes:
            raise ValueError(self.allowed)
        instead = self.misread(url) if self.misread is not None else None
        if instead is not None:
            raise ValueError(instead)
        return url

    @staticmethod
    def without_password(text: str) -> str:
        """``text`` with everything that may be a user or password (all before the last ``@``)
        replaced, for messages, with or without a ``scheme://`` in front; a password may hold any
        character, ``/`` and ``@`` included, so nothing short of the last ``@`` is trusted."""
        scheme, separator, rest = text.partition("://")
        if not separator:
            scheme, rest = "", text
        if "@" not in rest:
            return text
        return f"{scheme}{separator}***@{rest.rpartition('@')[2]}"


@dataclass(frozen=True)
class KeyList(Kind):
    """Keys separated by commas, each at least ``shortest`` characters (empty: none).

    The length check also catches a key that had a comma in it: split in two, its short halves
    would otherwise become keys of their own, easy to guess.
    """

    shortest: int = 16
    allowed: str = ""

    def parse(self, text: str) -> object:
        items = _items(text)
        if len(text) > 4096 or any(len(item) < self.shortest for item in items):
            raise ValueError(
                self.allowed
                or f"keys of at least {self.shortest} characters separated by commas (a key that has a "
                "comma in it cannot be listed)"
            )
        return tuple(items)


@dataclass(frozen=True)
class Networks(Kind):
    """Addresses or networks (CIDR) separated by commas, e.g. ``10.0.0.0/8, 127.0.0.1`` (empty: none)."""

    allowed: str = "IP addresses or networks such as 10.0.0.0/8 or 2001:db8::/32, separated by commas"

    def parse(self, text: str) -> object:
        try:
            if len(text) > 4096:
                raise ValueError(text)
            return tuple(ipaddress.ip_network(item, strict=False) for item in _items(text))
        except ValueError:
            raise ValueError(self.allowed) from None


@dataclass(frozen=True)
class ExistingFile(Kind):
    """Empty, or the path of a file that exists (checked once, when the settings are read)."""

    allowed: str = "empty (the bundled model) or the path of an existing .onnx or .h5 file"

    def parse(self, text: str) -> object:
        path = text.strip()
        if path and not Path(path).expanduser().is_file():
            raise ValueError(self.allowed)
        return str(Path(path).expanduser()) if path else ""


TEXT: Final = Kind()


@dataclass(frozen=True)
class Setting:
    """One setting: its environment variable, default (a string, as the environment gives), help and kind."""

    name: str
    default: str
    help: str
    secret: bool = False
    kind: Kind = TEXT


_COUNTRY: Final = Pattern(regex="[A-Za-z]{2}", allowed="a two-letter country code such as US or GB", upper=True)
_HOST: Final = Pattern(
    regex=r"[A-Za-z0-9.:\[\]_-]{0,253}", allowed="a host name or IP address such as 127.0.0.1 or 0.0.0.0"
)

SETTINGS: Final[tuple[Setting, ...]] = (
    # --- vision ---
    Setting(
        "MOODTAPE_MODEL",
        "",
        "Emotion model file (.onnx or Keras .h5); empty means the bundled model.",
        kind=ExistingFile(),
    ),
    Setting(
        "MOODTAPE_MODEL_PRESET",
        "",
        "Preprocessing preset for --model: moodtape, fer-library, fer-tutorial.",
        kind=Choice(options=("", "moodtape", "fer-library", "fer-tutorial")),
    ),
    Setting(
        "MOODTAPE_MAX_PIXELS",
        "40000000",
        "Largest image accepted, in pixels (a guard against decompression bombs); on the web a larger "
        "JPEG is read at a half, quarter or eighth of its size instead.",
        kind=Integer(low=1, high=1_000_000_000),
    ),
    Setting(
        "MOODTAPE_LARGE_PICTURES",
        "2",
        "Pictures over 4 megapixels worked on at once per process; more get a 503 with Retry-After "
        "instead of taking every request thread (keep it below MOODTAPE_WORKERS).",
        kind=Integer(low=1, high=256),
    ),
    Setting("MOODTAPE_THREADS", "2", "ONNX Runtime intra-op threads per process.", kind=Integer(low=1, high=256)),
    Setting(
        "MOODTAPE_DETECTOR",
        "yunet",
        "Face detector: yunet (a small CNN) or haar (OpenCV's Haar cascade).",
        kind=Choice(options=("yunet", "haar")),
    ),
    Setting(
        "MOODTAPE_FRAMES",
        "auto",
        "Where the page reads camera frames: device (in the browser, when it can), server, or auto "
        "(server when the page comes from this machine, else device).",
        kind=Choice(options=("auto", "device", "server")),
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
        kind=Url(
            schemes=("sqlite", "postgresql", "postgres"),
            allowed="sqlite:///path/to/moodtape.db or postgresql://user:password@host:5432/dbname",
            misread=postgres_misread,
        ),
    ),
    Setting(
        "MOODTAPE_HISTORY_DAYS",
        "30",
        "Days a session's history, feedback and corrections are kept before the store deletes them.",
        kind=Number(low=0, high=36_500),
    ),
    Setting(
        "MOODTAPE_HISTORY_MAX_LISTS",
        "50",
        "Most lists kept per session; the oldest go first.",
        kind=Integer(low=1, high=100_000),
    ),
    Setting(
        "MOODTAPE_HISTORY_MB_PER_ADDRESS",
        "64",
        "MiB of history (lists, feedback, history choices) one client address may save per day (UTC), whatever "
        "sessions it uses; past it, lists are shown but not kept, and feedback and turning history on get 429 "
        "history_budget_spent, until the next day (0: no bound).",
        kind=Number(low=0, high=1_000_000),
    ),
    Setting("MOODTAPE_OFFLINE", "false", "true: never call live providers (the built-in catalog only).", kind=Flag()),
    Setting(
        "MOODTAPE_CACHE_TTL", "3600", "Seconds a live provider's answer is cached.", kind=Number(low=0, high=31_536_000)
    ),
    Setting(
        "MOODTAPE_HTTP_TIMEOUT", "5", "Seconds before a live provider call gives up.", kind=Number(low=0.1, high=300)
    ),
    Setting(
        "MOODTAPE_PREVIEWS", "true", "true: artwork and 30 s previews from Deezer and iTunes (keyless).", kind=Flag()
    ),
    # --- Spotify ---
    Setting("SPOTIFY_CLIENT_ID", "", "Spotify app client ID (Client Credentials flow).", secret=True),
    Setting("SPOTIFY_CLIENT_SECRET", "", "Spotify app client secret.", secret=True),
    Setting("SPOTIFY_MARKET", "US", "Spotify market (ISO 3166-1 alpha-2 country code) for searches.", kind=_COUNTRY),
    # --- YouTube ---
    Setting("YOUTUBE_API_KEY", "", "YouTube Data API v3 key.", secret=True),
    Setting("YOUTUBE_REGION", "US", "YouTube regionCode for searches and charts.", kind=_COUNTRY),
    Setting(
        "YOUTUBE_DAILY_SEARCH_BUDGET",
        "90",
        "search.list calls moodtape may make per day (YouTube allows 100).",
        kind=Integer(low=0, high=10_000),
    ),
    Setting(
        "YOUTUBE_SAFE_SEARCH",
        "moderate",
        "YouTube safeSearch: none, moderate or strict.",
        kind=Choice(options=("none", "moderate", "strict")),
    ),
    # --- web ---
    Setting("MOODTAPE_HOST", "127.0.0.1", "Address the web server listens on.", kind=_HOST),
    Setting("MOODTAPE_PORT", "5000", "Port the web server listens on.", kind=Integer(low=0, high=65_535)),
    Setting(
        "MOODTAPE_SECRET_KEY",
        "",
        "Flask secret key for sessions; empty means one generated once and kept in MOODTAPE_DATA_DIR/secret_key. "
        "Several machines must all have the same one (each would generate its own, and visits crossing them "
        "start afresh).",
        secret=True,
    ),
    Setting(
        "MOODTAPE_SECRET_KEY_FALLBACKS",
        "",
        "Other secret keys accepted besides MOODTAPE_SECRET_KEY while a new key rolls out, separated by commas "
        "(each at least 16 characters): a visit signed with one keeps its session.",
        kind=KeyList(),
        secret=True,
    ),
    Setting(
        "MOODTAPE_MAX_UPLOAD_BYTES",
        "10485760",
        "Largest upload accepted, in bytes (larger gets 413).",
        kind=Integer(low=1024, high=1 << 30),
    ),
    Setting(
        "MOODTAPE_RATE_LIMIT",
        "200",
        "Requests per second one client address may send before getting 429.",
        kind=Number(low=0, high=1_000_000),
    ),
    Setting("MOODTAPE_WORKERS", "4", "Threads the WSGI server uses to answer requests.", kind=Integer(low=1, high=256)),
    Setting(
        "MOODTAPE_PROXY_HOPS",
        "0",
        "Reverse proxies in front of moodtape whose X-Forwarded-* headers are trusted (0: none, answer directly). "
        "Above 0, only the proxy may reach moodtape's port: a client connecting directly picks its own address.",
        kind=Integer(low=0, high=10),
    ),
    Setting(
        "MOODTAPE_TRUSTED_PROXIES",
        "",
        "With MOODTAPE_PROXY_HOPS above 0: the proxies' addresses or networks (10.0.0.0/8, 127.0.0.1, …); only a "
        "request whose connection comes from one of them has its X-Forwarded-* headers used. Empty: any peer's are.",
        kind=Networks(),
    ),
    # --- several instances and operations (docs/deployment.md) ---
    Setting(
        "MOODTAPE_REDIS_URL",
        "",
        "Redis for state shared by instances (rate limits, provider cache, YouTube budget, streams, recent lists): "
        "redis://host:6379/0; empty keeps that state in each process (serve --processes N shares recent lists "
        "and calibrations through the database, and the rate limit in shared memory). A Redis over about 50 ms "
        "a round trip away needs MOODTAPE_REDIS_SLOW_MS raised.",
        kind=Url(
            schemes=("redis", "rediss", "unix"),
            allowed="redis://host:6379/0, rediss://… or unix:///path",
            misread=redis_misread,
        ),
    ),
    Setting(
        "MOODTAPE_REDIS_SLOW_MS",
        "250",
        "Milliseconds a block of Redis calls (up to 4 round trips) may wait before it counts as slow: three slow "
        "in a row turn requests that need Redis away (503) for a second; also each rate-limit call's timeout. "
        "For a Redis R ms a round trip away, about 4 × R + 250 (a cross-zone Redis at 90 ms: 610).",
        kind=Integer(low=50, high=1000),
    ),
    Setting(
        "MOODTAPE_PROCESSES",
        "1",
        "Server processes for moodtape serve; more than 1 runs gunicorn (POSIX only), each process loading the model.",
        kind=Integer(low=1, high=256),
    ),
    Setting(
        "MOODTAPE_SHUTDOWN_SECONDS",
        "10",
        "On SIGTERM or Ctrl+C, seconds that requests in flight get to finish before the server exits.",
        kind=Integer(low=0, high=3600),
    ),
    Setting(
        "MOODTAPE_DRAIN_SECONDS",
        "0",
        "On SIGTERM, seconds to keep serving with /readyz answering 503 so a balancer stops sending new "
        "requests before the port closes (0: no drain; behind a balancer: its check interval × fall count, "
        "plus a second).",
        kind=Integer(low=0, high=3600),
    ),
    Setting(
        "MOODTAPE_METRICS",
        "local",
        "Prometheus /metrics: off, local (clients on loopback only) or open (anyone who can reach the server).",
        kind=Choice(options=("off", "local", "open")),
    ),
    Setting(
        "MOODTAPE_METRICS_TOKEN",
        "",
        "When set, /metrics also answers requests carrying 'Authorization: Bearer <token>' from any address.",
        secret=True,
    ),
    Setting(
        "MOODTAPE_LOG_FORMAT",
        "text",
        "Server log lines: text, or json (one object a line, with the request id).",
        kind=Choice(options=("text", "json")),
    ),
)

_BY_NAME: Final[dict[str, Setting]] = {s.name: s for s in SETTINGS}


def read_dotenv(path: Path) -> dict[str, str]:
    """Parse a ``.env`` file (``NAME=value`` lines, ``#`` comments, optional quotes)."""
    from dotenv import dotenv_values

    return {k: v for k, v in dotenv_values(path).items() if v is not None}


class Settings:
    """Resolved, checked settings: explicit overrides, then the environment, then ``.env``, then defaults.

    Every value is parsed once, here, by its setting's :class:`Kind`; a value that is not allowed raises
    :class:`SettingsError` naming the variable, the value and what is allowed, so a bad setting stops
    the CLI or the server at start instead of failing every later request. The object is frozen: the
    typed getters only look values up.
    """

    __slots__ = ("_parsed", "_values")
    _values: Mapping[str, str]
    _parsed: Mapping[str, object]

    def __init__(self, values: Mapping[str, str]) -> None:
        unknown = sorted(set(values) - set(_BY_NAME))
        if unknown:
            raise KeyError(f"unknown setting(s): {', '.join(unknown)}")
        raw = {s.name: values.get(s.name, s.default) for s in SETTINGS}
        parsed = {s.name: _parse(s, raw[s.name]) for s in SETTINGS}
        object.__setattr__(self, "_values", MappingProxyType(raw))
        object.__setattr__(self, "_parsed", MappingProxyType(parsed))

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("Settings are read-only; build a new object with Settings.load(overrides=...)")

    @classmethod
    def load(
        cls,
        overrides: Mapping[str, str] | None = None,
        environ: Mapping[str, str] | None = None,
        dotenv: Path | None = Path(".env"),
    ) -> Settings:
        """Read and check settings; a missing ``.env`` is fine.

        Raises:
            SettingsError: a value is not allowed (the message says which and what is).
        """
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
        """The whole-number value of ``name`` (checked against its bounds when the settings were read)."""
        value = self._typed(name, Integer())
        assert isinstance(value, int)
        return value

    def get_float(self, name: str) -> float:
        """The finite number value of ``name`` (checked against its bounds when the settings were read)."""
        value = self._typed(name, Number(low=-math.inf, high=math.inf))
        assert isinstance(value, int | float)
        return float(value)

    def get_bool(self, name: str) -> bool:
        """The true/false value of ``name``."""
        return bool(self._typed(name, Flag()))

    def get_list(self, name: str) -> tuple[str, ...]:
        """The comma-separated items of ``name``, trimmed, empty ones left out."""
        return tuple(_items(self._values[name]))

    def get_networks(self, name: str) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
        """The networks ``name`` lists (see :class:`Networks`)."""
        value = self._typed(name, Networks())
        assert isinstance(value, tuple)
        return value

    def secret_values(self) -> tuple[str, ...]:
        """Every secret's value, and each item of a comma-separated one, for redacting them from logs."""
        found = [self._values[s.name] for s in SETTINGS if s.secret]
        return tuple(dict.fromkeys([*found, *(item for value in found for item in _items(value))]))

    def _typed(self, name: str, fallback: Kind) -> object:
        # A setting declared as plain text is parsed on demand with the asked-for kind, so a
        # newly added setting without a kind still fails with a SettingsError, not a ValueError.
        if _BY_NAME[name].kind is TEXT:
            return _parse(Setting(name, "", "", kind=fallback), self._values[name])
        return self._parsed[name]

    def public(self) -> dict[str, str]:
        """Every setting with secrets replaced by ``"set"``/``""``, safe to show or log."""
        return {s.name: ("set" if self._values[s.name] else "") if s.secret else self._values[s.name] for s in SETTINGS}

    def __repr__(self) -> str:
        return f"Settings({self.public()!r})"


def _items(text: str) -> list[str]:
    return [item for item in (part.strip() for part in text.split(",")) if item]


def refuse_unencoded_password(name: str, url: str) -> None:
    """Raise what reading the settings raises for ``name=url`` when the URL's client would misread it.

    For a URL that reaches the store or Redis without the settings (the Python API, a test's
    ``Store(url)``): the same check and the same line as at start, never with the password.

    Raises:
        SettingsError: a piece of the password would be read as the host (see :data:`UNENCODED_PASSWORD`).
    """
    setting = _BY_NAME[name]
    misread = setting.kind.misread if isinstance(setting.kind, Url) else None
    instead = misread(url.strip()) if misread is not None else None
    if instead is not None:
        raise _refusal(setting, url, instead)


def unreadable_url(name: str, url: str) -> SettingsError:
    """The settings' line for a ``name=url`` its client could not read (never with the password, nor
    the client's own words, which may quote a piece of it)."""
    return _refusal(_BY_NAME[name], url, f"a URL its client can read, with {UNENCODED_PASSWORD}")


def _parse(setting: Setting, text: str) -> object:
    try:
        return setting.kind.parse(text)
    except ValueError as exc:
        raise _refusal(setting, text, str(exc)) from None


def _refusal(setting: Setting, text: str, allowed: str) -> SettingsError:
    """The one line naming the variable, its value (a URL without its password, a secret not at all)
    and what is allowed."""
    visible = Url.without_password(text) if isinstance(setting.kind, Url) else text
    shown = "(set, hidden)" if setting.secret else repr(visible if len(visible) <= 80 else visible[:77] + "...")
    return SettingsError(f"{setting.name}={shown} is not allowed: use {allowed}")

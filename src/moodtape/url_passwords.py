"""Whether a database or Redis URL's client would misread it: a piece of its password taken for the host.

A password written as is in a URL (not percent-encoded) can end early at a character the client's
parser treats as the end of the user part; the rest is then read as host and port, and shown in
every message that names where the client connects. The settings refuse such URLs at start
(``moodtape.config``), in words of our own: the parsers' own errors quote what they could not read,
which may be a piece of the password.
"""

from __future__ import annotations

import re
from typing import Final
from urllib.parse import SplitResult, parse_qsl, urlsplit


def url_scheme(url: str) -> str:
    """The lower-cased scheme of ``url`` (``""`` when none), read without ``urlsplit``: urlsplit
    raises for a ``[`` or ``]`` in a password, in words that quote a piece of it."""
    found = re.match(r"[A-Za-z][A-Za-z0-9+.-]*(?=:)", url)
    return found.group(0).lower() if found else ""


#: What a URL whose password ends early is told, after "is not allowed: use ".
UNENCODED_PASSWORD: Final = (
    "%40 for @, %2F for /, %3F for ? and %23 for # in its password (percent-encode them, and % itself as %25), "
    "else a piece of the password is read as the host"
)

#: What a ``postgresql://`` URL SQLAlchemy cannot read (a port that is no number) is told.
POSTGRES_UNREADABLE: Final = (
    "one host with a port that is a number (for several hosts: postgresql://user@/dbname"
    "?host=h1:5432&host=h2:5432), and " + UNENCODED_PASSWORD
)

#: What a Redis URL that Python cannot split (a ``[`` or ``]`` in its password) is told.
REDIS_UNREADABLE: Final = "%5B for [ and %5D for ] in its password, and " + UNENCODED_PASSWORD


def postgres_misread(url: str) -> str | None:
    """What to use instead when SQLAlchemy would read a piece of a ``postgresql://`` URL's password
    as the host, else None.

    SQLAlchemy, which reads the URL before libpq sees its parts, takes the password up to the first
    ``@`` and the host from there: ``postgresql://u:p@ss@h/db`` went to host ``ss@h``, and the log
    said "failed to resolve host 'ss@h'", a piece of the password. ``/``, ``?`` and ``#`` as is in a
    password it reads right (a role with password ``ab/cd?ef#gh`` connects with them unencoded on
    PostgreSQL 15), and so an ``@`` in a user name without a password (``us@er@h``), in a database
    name or in a query value (``?sslrootcert=/a@b.pem``).
    """
    scheme = url.partition("://")[0].lower().partition("+")[0]
    if scheme not in ("postgresql", "postgres"):  # sqlite:///a@b.db: a path
        return None
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = make_url(url)
    except ArgumentError:  # the store says what such a URL must look like
        return None
    except ValueError:  # int() of the port; its words quote what stood there, maybe the password
        return UNENCODED_PASSWORD if url.count("@") > 1 else POSTGRES_UNREADABLE
    return UNENCODED_PASSWORD if "@" in (parsed.host or "") else None


def redis_misread(url: str) -> str | None:
    """What to use instead when a ``/``, ``?`` or ``#`` as is in a Redis URL's password ends the
    host part early, else None.

    The rest of the password was then read as host and port: shown in every message ("Redis at
    pw:1"), or a traceback at start ("Port could not be cast to integer value as 'Pw'"), or, for
    ``redis://:12?x=1@host``, a connection to port 12 of localhost. Refused when the port is no
    number, or when an ``@`` follows the first ``/``, ``?`` or ``#`` before the next ``/`` (a query
    value, ``?ssl_ca_certs=/a@b.pem``, holds its ``@`` after a ``/``). An ``@``
    as is in a password redis-py reads right. A ``unix://`` URL's host part is empty or ends in
    ``@`` (``unix://:pw@/path``); anything else there is a password ended early by a ``/``.
    """
    scheme, _, rest = url.partition("://")
    scheme = scheme.lower()
    if scheme not in ("unix", "redis", "rediss"):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:  # "'s3cret' does not appear to be an IPv4 or IPv6 address": never shown
        return REDIS_UNREADABLE
    if scheme == "unix":
        return UNENCODED_PASSWORD if parts.netloc and not parts.netloc.endswith("@") else None
    try:
        _ = parts.port  # raises for a piece of a password where the port goes
    except ValueError:
        return UNENCODED_PASSWORD
    cut = re.search(r"[/?#]", rest)
    after_cut = rest[cut.end() :].split("/", 1)[0] if cut else ""
    if "@" in after_cut and not _at_only_in_a_text_option(parts):
        return UNENCODED_PASSWORD
    return None


#: redis-py's URL options whose values are free text, where an ``@`` as is belongs to the value.
_REDIS_TEXT_OPTIONS: Final = frozenset(
    {
        "password",
        "username",
        "client_name",
        "ssl_ca_certs",
        "ssl_ca_path",
        "ssl_certfile",
        "ssl_keyfile",
        "ssl_password",
    }
)


def _at_only_in_a_text_option(parts: SplitResult) -> bool:
    """Whether every ``@`` after the host part stands in the value of a text option of the query
    (``redis://h:6379/0?password=a@b``, ``?ssl_ca_certs=a@b.pem``), read so by redis-py, of a URL
    with a host and at most a database number for a path.

    A URL without a host (``redis://:12?x=1@host``) or with an option redis-py has no text for
    (``redis://user:12?x@h``) is a password ended early by its ``?``, so it stays refused.
    """
    if not parts.hostname or "@" in parts.path or "@" in parts.fragment or not re.fullmatch(r"/?\d*", parts.path):
        return False
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    return bool(pairs) and all(key in _REDIS_TEXT_OPTIONS or "@" not in key + value for key, value in pairs)

"""Security for the web app: response headers, CSRF tokens, log redaction (the rate limit: ``ratelimit.py``).

- **Headers.** A Content-Security-Policy without inline scripts or styles that allows only the
  player and artwork hosts the page uses; ``Referrer-Policy: strict-origin-when-cross-origin``
  because YouTube's embedded player needs the referrer (``no-referrer`` breaks it).
- **CSRF.** The token is an HMAC of the anonymous session id under the app's secret key, so any
  process that shares the key can check it without shared state. State-changing requests send it
  in ``X-CSRF-Token``; a browser on another site can neither read it nor set that header. A
  request that says it came from elsewhere is refused as well (the second check,
  :func:`foreign_request`): a foreign ``Origin``, a foreign ``Referer`` without ``Origin``, or
  ``Sec-Fetch-Site`` other than ``same-origin``.
- **Redaction.** A logging filter that blanks the configured secrets out of every log line.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
from collections.abc import Iterable, Mapping
from typing import Final
from urllib.parse import urlsplit

from werkzeug.datastructures import Headers
from werkzeug.sansio.utils import get_host

from moodtape.providers.http import redact

CONTENT_SECURITY_POLICY: Final[str] = "; ".join(
    (
        "default-src 'self'",
        # WebAssembly compilation for the on-device mode (ONNX Runtime Web); no eval of JavaScript.
        "script-src 'self' 'wasm-unsafe-eval'",
        "style-src 'self'",
        "img-src 'self' data: blob: https://*.dzcdn.net https://i.scdn.co https://*.mzstatic.com https://i.ytimg.com",
        "media-src 'self' https://*.dzcdn.net https://*.scdn.co https://*.itunes.apple.com https://*.mzstatic.com",
        "frame-src https://open.spotify.com https://widget.deezer.com https://www.youtube-nocookie.com",
        # The player hosts only for a no-cors reachability check when Play is pressed: a frame that
        # cannot load looks the same as one that did, so the page asks the host first (player.js).
        "connect-src 'self' https://open.spotify.com https://widget.deezer.com https://www.youtube-nocookie.com",
        "frame-ancestors 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "object-src 'none'",
    )
)

SECURITY_HEADERS: Final[dict[str, str]] = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "Permissions-Policy": "camera=(self), microphone=()",
    "X-Frame-Options": "DENY",
}

#: Sent only on HTTPS answers (directly or behind a trusted proxy that says so).
HSTS: Final[str] = "max-age=63072000"
#: What a secret becomes in a log line.
REDACTED: Final[str] = "[redacted]"

CSRF_HEADER: Final[str] = "X-CSRF-Token"


def csrf_token(secret_key: str, session_id: str) -> str:
    """The CSRF token for ``session_id``: hex HMAC-SHA256 under ``secret_key``."""
    return hmac.new(secret_key.encode(), f"csrf:{session_id}".encode(), hashlib.sha256).hexdigest()


def csrf_valid(secret_key: str, session_id: str, token: str | None) -> bool:
    """True when ``token`` is the session's token (compared in constant time).

    Compared as bytes: ``compare_digest`` raises ``TypeError`` for text with non-ASCII characters,
    which a header can hold (``X-CSRF-Token: ü`` was a 500).
    """
    if not token:
        return False
    expected = csrf_token(secret_key, session_id).encode()
    return hmac.compare_digest(expected, str(token).encode("utf-8", "surrogatepass"))


def own_url(scheme: str, host: str) -> str:
    """This server's own address, ``scheme://host/``, for ``Origin`` and ``Referer`` to be compared
    with; ``host`` is Werkzeug's ``request.host`` (the ``Host`` header, checked, default port dropped).

    Not Flask's ``request.host_url``: that is an IRI, which turns a punycode host
    (``xn--bcher-kva.example``) into ``bücher.example``, while a browser's ``Origin`` keeps the
    punycode, so on such a host every change the page sent was refused as another site's (403).
    """
    return f"{scheme}://{host}/"


def same_origin(origin: str | None, host_url: str) -> bool:
    """True when the request's ``Origin`` is absent or names this server's origin.

    ``host_url`` is this server's own address, :func:`own_url` (``scheme://host[:port]/``). Both
    are compared as origins (RFC 6454): scheme and host in lower case, the scheme's default port
    dropped, so ``http://LOCALHOST:80`` is ``http://localhost`` as Werkzeug's ``Host`` handling
    already makes it.
    """
    if not origin:
        return True
    return _normal_origin(origin) == _normal_origin(host_url)


_DEFAULT_PORTS: Final[dict[str, int]] = {"http": 80, "https": 443}


def _normal_origin(url: str) -> str | None:
    """``scheme://host[:port]`` of an absolute ``url`` in normal form; None when it is no such URL."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:  # an unclosed IPv6 bracket, a port that is no number
        return None
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if not scheme or not host:
        return None
    if ":" in host:
        host = f"[{host}]"
    if port is None or port == _DEFAULT_PORTS.get(scheme):
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{port}"


#: What ``Sec-Fetch-Site`` says of a request the page itself sent (``none``: the person typed or
#: bookmarked it); ``same-site`` is a sibling subdomain, which is another origin all the same.
_OWN_FETCH_SITES: Final[frozenset[str]] = frozenset({"same-origin", "none"})


def foreign_request(headers: Headers | Mapping[str, str], host_url: str) -> str | None:
    """Why a state-changing request came from another site, or None when nothing says it did.

    ``Origin`` first; without it (an old browser, a privacy extension), the origin of ``Referer``;
    and ``Sec-Fetch-Site``, which the browser sets itself and a page cannot forge. A request that
    carries none of them (``curl``, an API client) is judged by its CSRF token alone. Before, only
    ``Origin`` was looked at: a valid token sent with ``Referer: https://evil.example/`` or
    ``Sec-Fetch-Site: cross-site`` and no ``Origin`` changed state (200).
    """
    origin = headers.get("Origin")
    if origin is not None and not same_origin(origin, host_url):
        return "its Origin is another site"
    if not origin:
        referer_says = _referer_says(headers.get("Referer"), host_url)
        if referer_says:
            return referer_says
    fetch_sites = [part.strip() for part in headers.get("Sec-Fetch-Site", "").lower().split(",")]
    foreign_sites = [site for site in fetch_sites if site and site not in _OWN_FETCH_SITES]
    if foreign_sites:
        return f"the browser marked it Sec-Fetch-Site: {foreign_sites[0][:16]}"
    return None


#: Headers by which a proxy in front names the address a browser used (waitress's names for them):
#: with any of them, what this server's own origin is, is the app's to tell (``MOODTAPE_PROXY_HOPS``).
_FORWARDING: Final[tuple[str, ...]] = (
    "FORWARDED",
    "X_FORWARDED_HOST",
    "X_FORWARDED_PROTO",
    "X_FORWARDED_PORT",
    "X_FORWARDED_PREFIX",
)


def foreign_by_headers(headers: Mapping[str, str], scheme: str) -> bool:
    """Whether the request headers ``headers`` (waitress's names: ``SEC_FETCH_SITE``) alone show a
    request from another site, for the HTTP server to refuse before it asks for the body.

    Meant to say yes only where the app would refuse the same request as another site's:
    ``Sec-Fetch-Site`` always, and ``Origin`` or ``Referer`` against the app's own address
    (:func:`own_url` of the scheme and Werkzeug's reading of ``Host``) only when no proxy header
    could make that address another one. An ``Origin`` that differs from it in the scheme alone (a
    TLS proxy this server does not trust) is left to the app too, whose answer and log name the
    proxy settings to fix. Where this says no, :func:`foreign_request` still decides in the app.
    """
    sent = {"Sec-Fetch-Site": headers.get("SEC_FETCH_SITE", "")}
    host = headers.get("HOST")
    if host is None or any(name in headers for name in _FORWARDING):
        return foreign_request(sent, "") is not None  # no Origin nor Referer: the host is not looked at
    for name, key in (("Origin", "ORIGIN"), ("Referer", "REFERER")):
        if key in headers:
            sent[name] = headers[key]
    # As Werkzeug reads Host for the app (an invalid one, such as "here:", is ""), so both agree.
    own = own_url(scheme, get_host(scheme, host))
    if only_the_scheme_differs(sent.get("Origin"), own):
        return False
    return foreign_request(sent, own) is not None


def only_the_scheme_differs(origin: str | None, host_url: str) -> bool:
    """Whether ``origin`` names this very host and port, by another scheme than ``host_url``'s.

    What a TLS proxy this server does not trust (or count) looks like: the browser's ``Origin`` says
    ``https://``, the server sees ``http://`` and takes the page's own request for another site's.
    """
    try:
        theirs, ours = urlsplit((origin or "").strip()), urlsplit(host_url)
        same_place = (theirs.hostname, theirs.port) == (ours.hostname, ours.port)
    except ValueError:  # an unclosed IPv6 bracket, a port that is no number
        return False
    return bool(theirs.hostname) and same_place and theirs.scheme.lower() != ours.scheme.lower()


def _referer_says(referer: str | None, host_url: str) -> str | None:
    """Why ``Referer`` shows another site, or None.

    A partial URI (``/privacy``) is relative to this very request, so this site (RFC 9110 §10.1.3),
    and ``about:blank`` is what a browser sends for a typed or bookmarked address: both say nothing
    of another site, like no Referer at all.
    """
    value = (referer or "").strip()
    if value.startswith("//"):  # a network-path reference names a host all the same
        value = f"{urlsplit(host_url).scheme}:{value}"
    if not value or value.lower().startswith("about:") or not _ABSOLUTE_URL.match(value):
        return None
    own = _normal_origin(host_url)
    named = _normal_origin(value)
    if named is None:
        return "its Referer is not an address on this site"
    if named != own:
        return "its Referer is another site"
    return None


#: A URI with a scheme (RFC 3986 §3.1); anything else in ``Referer`` is a partial URI.
_ABSOLUTE_URL: Final[re.Pattern[str]] = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


class RedactSecrets(logging.Filter):
    """Replaces every configured secret in a log record's message and traceback by ``[redacted]``
    (with :func:`~moodtape.providers.http.redact`, which replaces the longest first)."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self._secrets: frozenset[str] = frozenset()
        self.add(secrets)

    def add(self, secrets: Iterable[str]) -> None:
        """Redacts ``secrets`` too (another app in this process logs through the same logger)."""
        # Very short values would blank out ordinary words; real keys are long.
        self._secrets |= {s for s in secrets if len(s) >= 4}

    def filter(self, record: logging.LogRecord) -> bool:
        if not self._secrets:
            return True
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text, self._secrets, REDACTED)
        record.msg, record.args = redact(record.getMessage(), self._secrets, REDACTED), None
        return True


def redact_secrets_in(logger: logging.Logger, secrets: Iterable[str]) -> None:
    """Blanks ``secrets`` out of ``logger``'s lines with one filter per logger.

    Flask's ``app.logger`` is one logger per process however many apps are made (tests make hundreds),
    so a filter added per app would pile up, each line passing through all of them.
    """
    for existing in logger.filters:
        if isinstance(existing, RedactSecrets):
            existing.add(secrets)
            return
    logger.addFilter(RedactSecrets(secrets))

"""The per-client rate limit, by Flask-Limiter: in this process by default, in Redis when shared.

``MOODTAPE_RATE_LIMIT`` requests a second per client address, counted over a sliding one-second
window (rates below 1/s become "1 per N seconds", so the first request always goes through). With
``MOODTAPE_REDIS_URL`` every instance counts in the same Redis keys, so a client gets the limit
once, not once per instance. Should Redis go away, Flask-Limiter counts in each process's memory
until it is back: the limit stays on, just per instance, rather than refusing everyone. Redis is
"away" for the limit once a call takes :data:`REDIS_TIMEOUT_S`: every request but health checks
and static files is counted, so a Redis answering each call in 0.9 s (under the 1 s the rest of
moodtape allows) made every page wait that long, and with four request threads the instance
served 0.3 pages and 0.5 ``/healthz`` a second. At 0.5 s, a Redis answering in 0.3 s still held
every page 0.3 s (2.2 pages and 7 ``/healthz`` a second); it is now 0.25 s. That is a socket
timeout: it bounds each wait for one answer (one round trip), and a request thread kept from its CPU
meanwhile does not trip it once the answer is in. The same figure as the breaker's bound
(``state/breaker.py``) but not the same measure: the breaker's is a whole block of calls, less
run-queue delay, and takes three slow blocks in a row, where one timeout here is enough.

The client address is ``request.remote_addr``: the socket's peer, or, with
``MOODTAPE_PROXY_HOPS`` > 0, the address the trusted proxies put in ``X-Forwarded-For`` (werkzeug's
``ProxyFix`` takes exactly that many hops, so a client cannot spoof its way past the limit by
sending its own header). An IPv6 address counts by its /64, as everywhere else in moodtape
(``web/owners.py``): a client usually holds a whole /64 and can send from any address in it, and
40 addresses of one /64 got 40 answers under a limit of 5. Health, readiness and metrics are never
limited: balancers and Prometheus poll them from one address. Nor are the page's static files (see ``EXEMPT_PREFIX``).
"""

from __future__ import annotations

import math
import time
from typing import Final

from flask import Flask, Response, request
from flask_limiter import Limiter, RequestLimit

from moodtape.metrics import RATE_LIMITED
from moodtape.web.errors import error_response
from moodtape.web.owners import client_of

#: Seconds one rate-limit call to Redis may take before the limit counts in this process instead
#: (Flask-Limiter asks Redis again after 1, 2, 4… 32 s): a healthy Redis answers in well under a
#: millisecond, and the count is worth less than the request's time.
REDIS_TIMEOUT_S: Final[float] = 0.25
EXEMPT_PATHS: Final[frozenset[str]] = frozenset({"/healthz", "/readyz", "/metrics"})
#: The page's own files: one visit loads about 30 of them at once (modules are preloaded together),
#: and they are small, versioned and cached for a year, so counting them would refuse a page load,
#: not an abuser. API calls and the model downloads stay limited.
EXEMPT_PREFIX: Final[str] = "/static/"


def limit_text(rate: float) -> str:
    """``rate`` requests a second as a Flask-Limiter limit, e.g. ``200 per 1 second``.

    Below 1/s the window grows so that it holds one request: 0.5/s is ``1 per 2 second``.
    """
    if rate <= 0:
        raise ValueError("rate must be positive")
    window = max(1, math.ceil(1 / rate))
    return f"{max(1, round(rate * window))} per {window} second"


def retry_after_header(wait: float) -> str:
    """``Retry-After`` takes whole seconds; never say 0, or clients retry at once."""
    return str(max(1, math.ceil(wait)))


def install_rate_limit(app: Flask, rate: float, redis_url: str = "") -> Limiter | None:
    """Limit every client address of ``app`` to ``rate`` requests a second; ``rate <= 0``: no limit."""
    if rate <= 0:
        return None
    options: dict[str, float] = {}
    if redis_url:
        options = {"socket_timeout": REDIS_TIMEOUT_S, "socket_connect_timeout": REDIS_TIMEOUT_S}
    return Limiter(
        _client_address,
        app=app,
        application_limits=[limit_text(rate)],
        application_limits_exempt_when=_exempt,
        strategy="sliding-window-counter",
        storage_uri=redis_url or "memory://",
        storage_options=options,  # type: ignore[arg-type]  # redis-py takes float seconds; the hint says int
        key_prefix="moodtape",
        headers_enabled=False,
        swallow_errors=True,
        in_memory_fallback_enabled=bool(redis_url),
        on_breach=_refuse,
    )


def _exempt() -> bool:
    return request.path in EXEMPT_PATHS or request.path.startswith(EXEMPT_PREFIX)


def _client_address() -> str:
    """The limit's key: the client's address, an IPv6 one as its /64."""
    return client_of(request.remote_addr or "unknown")


def _refuse(limit: RequestLimit) -> Response:
    RATE_LIMITED.inc()
    response = error_response(429, "rate_limited", "too many requests from this address; slow down and retry")
    response.headers["Retry-After"] = retry_after_header(limit.reset_at - time.time())
    return response

"""The Prometheus metrics moodtape keeps: requests, frames, model and detector time, providers, caches.

Defining a metric does no I/O, so importing this module is cheap. Under gunicorn the metrics of all
worker processes are added up through ``PROMETHEUS_MULTIPROC_DIR`` (set by ``moodtape serve
--processes N`` before the app is imported; see :mod:`moodtape.web.multiprocess`). The endpoint
that serves them, and who may read it, is in :mod:`moodtape.web.ops`.
"""

from __future__ import annotations

from typing import Final

from prometheus_client import Counter, Histogram

#: Seconds; from a cheap JSON answer (about 1 ms) to a slow live recommendation (seconds).
_REQUEST_BUCKETS: Final = (0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0)
#: Seconds; a face crop through the CNN takes about a millisecond, Haar over 640×480 about ten.
_VISION_BUCKETS: Final = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5)

REQUEST_SECONDS: Final = Histogram(
    "moodtape_request_seconds", "Time to answer a request, by endpoint.", ["endpoint"], buckets=_REQUEST_BUCKETS
)
REQUESTS: Final = Counter(
    "moodtape_requests_total", "Requests answered, by endpoint and status.", ["endpoint", "status"]
)
FRAMES: Final = Counter("moodtape_frames_analysed_total", "Pictures analysed: photo or stream frame.", ["kind"])
MODEL_SECONDS: Final = Histogram(
    "moodtape_model_seconds", "Emotion model time per batch of faces.", buckets=_VISION_BUCKETS
)
DETECTOR_SECONDS: Final = Histogram(
    "moodtape_detector_seconds", "Full-frame face detection time per picture.", buckets=_VISION_BUCKETS
)
PROVIDER_CALLS: Final = Counter("moodtape_provider_calls_total", "Calls to live services.", ["service"])
PROVIDER_ERRORS: Final = Counter("moodtape_provider_errors_total", "Failed calls to live services.", ["service"])
CACHE_LOOKUPS: Final = Counter(
    "moodtape_cache_lookups_total", "Provider cache lookups by result (hit or miss).", ["cache", "result"]
)
RATE_LIMITED: Final = Counter("moodtape_rate_limited_total", "Requests refused with 429 by the rate limit.")


def count_lookup(cache: str, hit: bool) -> None:
    """Count one cache lookup; the hit rate is hits / (hits + misses)."""
    CACHE_LOOKUPS.labels(cache=cache, result="hit" if hit else "miss").inc()

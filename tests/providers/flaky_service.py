"""A service with a bug, shared by the pause tests (test_breaker32_*, test_svc33_*): any query
beginning with "bad" gets a 500, every other one an answer, so a test mixes failures and answers
in the order it wants."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from moodtape.providers.http import ServiceClient

URL = "https://api.example.test/v1/search"


def server_bug(request: httpx.Request) -> httpx.Response:
    """A 500 for a query starting with "bad", else ``{"ok": true}``."""
    if request.url.params.get("q", "").startswith("bad"):
        return httpx.Response(500)
    return httpx.Response(200, json={"ok": True})


def youtube_client(client: httpx.Client, clock: Callable[[], float], sleeps: Callable[[float], None]) -> ServiceClient:
    """A ServiceClient named YouTube with a 5 s timeout, on a fake clock and sleep."""
    return ServiceClient(client, "YouTube", timeout=5, sleep=sleeps, clock=clock)

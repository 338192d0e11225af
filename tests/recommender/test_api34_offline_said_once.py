"""Offline previews through the Python API: the failure is logged once per process, not once per call.

Each engine (``moodtape.recommend(..., recommender=build_recommender())``) had its own record of
what it logged, so "Deezer is unreachable (offline?)." and the same of iTunes Search were
logged on every call, and with no logging set up Python printed them on stderr each time.
"""

from __future__ import annotations

import logging
import subprocess
import sys
import textwrap
from pathlib import Path

import httpx
import pytest
from recommend_fakes import FakeProvider

import moodtape
from moodtape.providers.previews import DeezerPreviews, ITunesPreviews
from moodtape.recommender.engine import Recommender


def _offline(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("[Errno -3] Temporary failure in name resolution", request=request)


def _engine(catalog: FakeProvider, transport: httpx.MockTransport) -> Recommender:
    """A fresh engine, as a program building one per call has: new enrichers, new service clients."""
    http = httpx.Client(transport=transport)
    return Recommender([], catalog, enrichers=[DeezerPreviews(http, sleep=lambda _: None), ITunesPreviews(http)])


def _provider_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name.startswith("moodtape") and r.levelno >= logging.WARNING]


def test_offline_previews_are_logged_once_however_many_engines_ask(
    catalog: FakeProvider, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="moodtape")
    transport = httpx.MockTransport(_offline)
    results = [moodtape.recommend("happy", n=3, seed=0, recommender=_engine(catalog, transport)) for _ in range(3)]
    assert _provider_warnings(caplog) == [
        "Deezer is unreachable (offline?).",
        "iTunes Search is unreachable (offline?).",
    ]
    # Each list still says why it has no previews: the result is where a program reads it.
    assert all(len(result.fallback_reasons) == 2 for result in results)
    assert all("Deezer is unreachable" in result.fallback_reasons[0] for result in results)


def test_a_failure_after_the_service_answered_is_logged_again(
    catalog: FakeProvider, caplog: pytest.LogCaptureFixture
) -> None:
    """Once per outage, not once per process for good: an operator learns of the next one too."""
    online = False

    def deezer(request: httpx.Request) -> httpx.Response:
        if not online:
            return _offline(request)
        return httpx.Response(200, json={"id": 1, "preview": "https://cdn.example/p.mp3"})

    caplog.set_level(logging.WARNING, logger="moodtape")
    transport = httpx.MockTransport(deezer)
    for online in (False, False, True, False):  # two calls offline, one that reaches Deezer, offline again
        result = moodtape.recommend("happy", n=1, seed=0, recommender=_deezer_only(catalog, transport))
        assert bool(result.fallback_reasons) is not online
    assert _provider_warnings(caplog) == ["Deezer is unreachable (offline?)."] * 2


def _deezer_only(catalog: FakeProvider, transport: httpx.MockTransport) -> Recommender:
    return Recommender([], catalog, enrichers=[DeezerPreviews(httpx.Client(transport=transport), sleep=lambda _: None)])


def test_a_program_without_logging_set_up_sees_one_line_per_service_on_stderr(tmp_path: Path) -> None:
    """What a script calling moodtape.recommend in a loop offline printed: 2 lines a call (6 for
    3 calls) through Python's last-resort handler; now 2 for the whole run."""
    code = textwrap.dedent(
        """
        import httpx, moodtape
        from moodtape.providers.previews import DeezerPreviews, ITunesPreviews
        from moodtape.providers.catalog import Catalog
        from moodtape.recommender.engine import Recommender

        def offline(request):
            raise httpx.ConnectError("no network", request=request)

        import sys
        from pathlib import Path

        for seed in range(3):
            http = httpx.Client(transport=httpx.MockTransport(offline))
            enrichers = [DeezerPreviews(http, sleep=lambda _: None), ITunesPreviews(http)]
            engine = Recommender([], Catalog(Path(sys.argv[1])), enrichers=enrichers)
            moodtape.recommend("happy", n=3, seed=seed, recommender=engine)
        """
    )
    command = [sys.executable, "-c", code, str(tmp_path)]  # the built-in catalog, no user's
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, check=True)
    assert result.stderr.splitlines() == [
        "Deezer is unreachable (offline?).",
        "iTunes Search is unreachable (offline?).",
    ]

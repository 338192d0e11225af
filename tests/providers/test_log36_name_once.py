"""A service's failure is logged with its name in front once: "Deezer: Deezer is unreachable
(offline?)." said it twice, in the server's log and in ``moodtape recommend``'s notes."""

from __future__ import annotations

import logging

import httpx
import pytest

from moodtape.errors import ProviderAuthError, ProviderUnreachableError
from moodtape.providers.http import FAILURES_LOGGED, ServiceClient


@pytest.fixture(autouse=True)
def _fresh_failure_log() -> None:
    FAILURES_LOGGED.answered("Deezer")  # news again, whatever an earlier test logged


def _warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [record.getMessage() for record in caplog.records if record.levelno == logging.WARNING]


def test_a_message_that_names_its_service_is_not_prefixed_again(caplog: pytest.LogCaptureFixture) -> None:
    client = ServiceClient(httpx.Client(), "Deezer", timeout=1.0)
    with caplog.at_level(logging.WARNING, logger="moodtape.providers"):
        client.fail(ProviderUnreachableError("Deezer is unreachable (offline?)."))
    assert _warnings(caplog) == ["Deezer is unreachable (offline?)."]


def test_a_message_without_the_name_still_gets_it(caplog: pytest.LogCaptureFixture) -> None:
    client = ServiceClient(httpx.Client(), "Deezer", timeout=1.0)
    with caplog.at_level(logging.WARNING, logger="moodtape.providers"):
        client.fail(ProviderAuthError("the key was refused; check it"))
    assert _warnings(caplog) == ["Deezer: the key was refused; check it"]

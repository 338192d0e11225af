"""Visitors behind a proxy whose ``X-Forwarded-For`` is not used share its address and one rate
limit (web/ratelimit.py): the limit stays as it is, and the operator's log says why and what to set.

Before, the only sign was the visitors' 429s: with ``MOODTAPE_PROXY_HOPS`` left at 0, 40 visitors
forwarded by one proxy got 5 answers between them under a limit of 5 a second, and the log said
nothing that named the proxy settings; nor did it with ``MOODTAPE_PROXY_HOPS`` set above the
number of proxies in front (werkzeug then keeps the proxy's address).
"""

from __future__ import annotations

import logging

import pytest
from webtools import AppFactory

from moodtape.web.ratelimit import SHARED_BY_A_PROXY_WARNINGS

PROXY = {"REMOTE_ADDR": "127.0.0.1"}
WARNING = "counted by its connection's address"


@pytest.fixture(autouse=True)
def fresh_summary() -> None:
    """Each test starts with no run of the once-a-minute summary under way."""
    SHARED_BY_A_PROXY_WARNINGS.close()


def _statuses(make_app: AppFactory, visitors: int, forwarded: bool, **settings: str) -> list[int]:
    """One request from each of ``visitors``, all through one proxy on loopback, at 5 a second."""
    client = make_app(MOODTAPE_RATE_LIMIT="5", **settings).test_client()
    return [
        client.get(
            "/api/openapi.yaml",
            environ_base=PROXY,
            headers={"X-Forwarded-For": f"198.51.100.{n}"} if forwarded else {},
        ).status_code
        for n in range(visitors)
    ]


def _warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [record.getMessage() for record in caplog.records if WARNING in record.getMessage()]


@pytest.mark.usefixtures("still_limiter_clock")
def test_visitors_sharing_an_unused_proxy_address_are_refused_and_the_log_names_the_settings(
    make_app: AppFactory, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="moodtape.web.ratelimit"):
        statuses = _statuses(make_app, 40, forwarded=True)
    assert statuses.count(200) == 5  # the limit is not loosened: the header is anyone's to write
    warnings = _warnings(caplog)
    assert len(warnings) == 1  # the first refusal; the other 34 are summed up once a minute
    assert "MOODTAPE_PROXY_HOPS" in warnings[0] and "MOODTAPE_TRUSTED_PROXIES" in warnings[0]
    # The header may be the client's own: the log must not send the operator to set the hops alone.
    assert "written by the client itself" in warnings[0]


@pytest.mark.usefixtures("still_limiter_clock")
def test_a_peer_outside_the_trusted_proxies_is_named_too(
    make_app: AppFactory, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="moodtape.web.ratelimit"):
        _statuses(make_app, 10, forwarded=True, MOODTAPE_PROXY_HOPS="1", MOODTAPE_TRUSTED_PROXIES="10.0.0.0/8")
    assert len(_warnings(caplog)) == 1


@pytest.mark.usefixtures("still_limiter_clock")
def test_more_hops_than_the_header_has_entries_is_named_too(
    make_app: AppFactory, caplog: pytest.LogCaptureFixture
) -> None:
    """ProxyFix runs (and notes the original address) but, short of entries, leaves the proxy's."""
    with caplog.at_level(logging.WARNING, logger="moodtape.web.ratelimit"):
        statuses = _statuses(
            make_app, 10, forwarded=True, MOODTAPE_PROXY_HOPS="2", MOODTAPE_TRUSTED_PROXIES="127.0.0.1"
        )
    assert statuses.count(200) == 5  # one entry for two hops: every visitor counted as the proxy
    assert len(_warnings(caplog)) == 1


@pytest.mark.usefixtures("still_limiter_clock")
def test_a_local_script_is_limited_like_any_client_without_a_word_of_proxies(
    make_app: AppFactory, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="moodtape.web.ratelimit"):
        statuses = _statuses(make_app, 10, forwarded=False)
    assert statuses.count(200) == 5  # loopback is not exempt: one local loop cannot flood the instance
    assert _warnings(caplog) == []


@pytest.mark.usefixtures("still_limiter_clock")
def test_a_trusted_proxy_forwards_each_visitor_and_nothing_is_logged(
    make_app: AppFactory, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="moodtape.web.ratelimit"):
        statuses = _statuses(
            make_app, 10, forwarded=True, MOODTAPE_PROXY_HOPS="1", MOODTAPE_TRUSTED_PROXIES="127.0.0.1"
        )
    assert statuses == [200] * 10
    assert _warnings(caplog) == []

"""The output watches (the 20 s stall, the reading rate) run on the monotonic clock.

waitress stamps its channels with the wall clock, and the watches used it too: a wall-clock step
(NTP correcting a drifting clock, a VM resumed after a pause) of 20 s or more made every answer that
had not moved since the previous look, a second earlier, look stalled for 20 s, and closed it.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from moodtape.web import eviction

BIG = 1 << 20


class Clocks:
    """A wall clock and a monotonic clock the test moves apart."""

    def __init__(self) -> None:
        self.wall = 1_800_000_000.0
        self.mono = 5_000.0

    def step(self, seconds: float, wall_jump: float = 0.0) -> None:
        self.mono += seconds
        self.wall += seconds + wall_jump


def a_server(channels: list[Any]) -> Any:
    """Just what :func:`eviction.evict_when_full` wraps and reads of a waitress server."""
    server = SimpleNamespace(
        active_channels=dict(enumerate(channels)),
        accepting=True,
        adj=SimpleNamespace(connection_limit=1000),
        readable=lambda: True,
        handle_accept=lambda: None,
        pull_trigger=lambda: None,
    )
    server._map = dict(server.active_channels)
    eviction.evict_when_full(server, body_budget=BIG * 100, per_client=None)
    return server


def a_reader(clocks: Clocks) -> SimpleNamespace:
    """A connection whose client is taking its answer, a little at a time."""
    return SimpleNamespace(
        will_close=False,
        requests=[],
        request=None,
        bytes_sent=0,
        total_outbufs_len=BIG,
        output_watch=None,
        creation_time=clocks.wall,
        last_activity=clocks.wall,
    )


@pytest.fixture
def clocks(monkeypatch: pytest.MonkeyPatch) -> Clocks:
    moved = Clocks()
    monkeypatch.setattr(eviction.time, "time", lambda: moved.wall)
    monkeypatch.setattr(eviction.time, "monotonic", lambda: moved.mono)
    return moved


@pytest.mark.parametrize("wall_jump", [60.0, 3600.0])
def test_a_wall_clock_step_does_not_close_an_answer_that_is_moving(clocks: Clocks, wall_jump: float) -> None:
    reader = a_reader(clocks)
    server = a_server([reader])
    server.readable()  # the first look: the answer begins to wait
    for _ in range(5):
        clocks.step(1.1)
        reader.bytes_sent += 4096
        server.readable()
    clocks.step(1.1, wall_jump)  # one second without a byte taken, and the wall clock steps
    server.readable()
    assert not reader.will_close


def test_an_answer_that_stops_moving_is_still_closed_after_the_stall_time(clocks: Clocks) -> None:
    reader = a_reader(clocks)
    server = a_server([reader])
    server.readable()
    elapsed = 0.0
    while elapsed < eviction.OUTPUT_STALL_S - 1:
        clocks.step(1.1)
        elapsed += 1.1
        server.readable()
        assert not reader.will_close
    clocks.step(2.0)
    server.readable()
    assert reader.will_close


def test_reading_rates_at_the_limit_are_timed_by_the_monotonic_clock(clocks: Clocks) -> None:
    """A reader taking 1,000 bytes a second is above the minimum rate however the wall clock moves."""
    reader = a_reader(clocks)
    server = a_server([reader])
    server.readable()
    for _ in range(int((eviction.RATE_GRACE_S + eviction.RATE_SPAN_S) / 1.1) + 3):
        clocks.step(1.1)
        reader.bytes_sent += 1100
        server.readable()
    rate = eviction.reading_rate(reader, clocks.mono)
    assert rate is not None and rate == pytest.approx(1000, rel=0.05)
    clocks.step(0.5, wall_jump=7200.0)  # the wall clock steps two hours ahead
    reader.last_activity = clocks.wall
    chosen = eviction.choose_victims([reader], limit=10, now=clocks.wall, tick=clocks.mono)
    assert chosen == []

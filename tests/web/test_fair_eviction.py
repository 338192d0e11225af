"""Bounded per-process state gives way fairly: a flood from one client evicts its own entries.

Before, each map (calibrations, session lists, webcam streams) evicted its least recently used
entry when full, so one address making 2,100 new sessions erased every visitor's calibration,
80 sessions of big lists pushed everyone's lists out, and 520 tiny frames reset every live stream.
"""

from __future__ import annotations

import random
from collections.abc import Hashable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from webtools import csrf_headers, post_calibration

from moodtape.session_state import LocalSessionMemory
from moodtape.web.app import services
from moodtape.web.lru import BoundedLRU
from moodtape.web.owners import client_owner
from moodtape.web.profiles import MemoryProfileStore
from moodtape.web.streams import StreamRegistry

VICTIM = "198.51.100.7"
FLOOD = "203.0.113.66"


class Writer:
    """Stands in for the request's client address."""

    def __init__(self) -> None:
        self.now: Hashable = None

    def __call__(self) -> Hashable:
        return self.now

    def put(self, cache: BoundedLRU[str, int], owner: Hashable, key: str, value: int) -> None:
        """``cache.put(key, value)`` as written by ``owner``."""
        self.now = owner
        cache.put(key, value)


def test_a_flood_from_one_owner_evicts_only_its_own_entries() -> None:
    writer = Writer()
    cache: BoundedLRU[str, int] = BoundedLRU(4, owner=writer)
    writer.now = "victim"
    cache.put("mine", 1)
    writer.now = "flood"
    for n in range(100):
        cache.put(f"flood-{n}", n)
    assert cache.get("mine") == 1
    assert len(cache) == 4 and cache.get("flood-99") == 99 and cache.get("flood-97") == 97


def test_among_owners_holding_as_much_the_least_recently_used_goes() -> None:
    writer = Writer()
    cache: BoundedLRU[str, int] = BoundedLRU(2, owner=writer)
    for owner in ("a", "b", "c"):
        writer.put(cache, owner, owner, 0)
    assert cache.get("a") is None and cache.get("b") == 0 and cache.get("c") == 0


def test_the_weight_bound_takes_from_the_heaviest_owner_the_count_bound_from_the_most_numerous() -> None:
    writer = Writer()
    cache: BoundedLRU[str, int] = BoundedLRU(5, weigh=lambda value: value, max_weight=100, owner=writer)
    writer.put(cache, "big", "big-1", 40)
    writer.put(cache, "small", "small-1", 1)
    writer.put(cache, "big", "big-2", 40)  # 81
    writer.put(cache, "other", "other-1", 30)  # 111 > 100: the heaviest owner ("big") gives up its oldest
    assert cache.get("big-1") is None and cache.get("small-1") == 1 and cache.get("other-1") == 30
    writer.now = "many"
    for n in range(10):  # light but numerous: the count bound takes from "many" itself
        cache.put(f"many-{n}", 0)
    assert cache.get("small-1") == 1 and cache.get("big-2") == 40 and cache.get("other-1") == 30


def test_the_entry_just_stored_stays_even_when_its_owner_is_the_heaviest() -> None:
    writer = Writer()
    cache: BoundedLRU[str, int] = BoundedLRU(10, weigh=lambda value: value, max_weight=10, owner=writer)
    writer.put(cache, "a", "small", 5)
    writer.put(cache, "b", "huge", 50)
    assert cache.get("huge") == 50 and cache.get("small") is None


@pytest.mark.parametrize(
    ("address", "owner"),
    [
        ("192.0.2.1", "192.0.2.1"),
        ("::ffff:192.0.2.1", "192.0.2.1"),
        ("2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:bbbb::9", "2001:db8:1:2::/64"),
    ],
)
def test_clients_are_counted_by_address_and_ipv6_by_its_64(app: Flask, address: str, owner: str) -> None:
    with app.test_request_context(environ_base={"REMOTE_ADDR": address}):
        assert client_owner() == owner
    assert client_owner() is None  # outside a request


def _as(app: Flask, address: str) -> object:
    return app.test_request_context(environ_base={"REMOTE_ADDR": address})


def _browser_at(app: Flask, address: str) -> FlaskClient:
    """A new visitor (its own cookie jar) whose requests come from ``address``."""
    browser = app.test_client()
    browser.environ_base["REMOTE_ADDR"] = address
    return browser


def test_a_flood_of_new_sessions_does_not_erase_a_visitors_calibration(app: Flask, astronaut_jpeg_bytes: bytes) -> None:
    """Through the API: the victim calibrates, one address then calibrates 12 new sessions."""
    with app.app_context():
        services().profiles = MemoryProfileStore(max_profiles=4)
    victim = _browser_at(app, VICTIM)
    post_calibration(victim, astronaut_jpeg_bytes)
    for _ in range(12):
        post_calibration(_browser_at(app, FLOOD), astronaut_jpeg_bytes)
    assert victim.get("/api/calibration").get_json()["calibrated"] is True


def test_a_visitors_lists_survive_a_flood_of_big_lists(app: Flask) -> None:
    """Through the API: room for about six 12-item lists; one address then makes forty."""
    with app.app_context():
        services().memory = LocalSessionMemory(max_bytes=6 * 30_000, owner=client_owner)
    victim = _browser_at(app, VICTIM)
    made = victim.post("/api/lists?emotion=sad&n=12", headers=csrf_headers(victim)).get_json()
    for n in range(40):
        flood = _browser_at(app, FLOOD)
        assert flood.post(f"/api/lists?emotion=sad&n=12&seed={n}", headers=csrf_headers(flood)).status_code == 201
    assert victim.get(f"/api/lists/{made['list_id']}").status_code == 200


def test_a_burst_of_new_streams_does_not_reset_a_visitors_stream(app: Flask) -> None:
    made: list[object] = []

    def factory() -> object:
        made.append(object())
        return made[-1]

    registry = StreamRegistry(factory, max_streams=4)  # type: ignore[arg-type]
    with _as(app, VICTIM):  # type: ignore[attr-defined]
        mine = registry.get("victim-session", "cam-1")
    for n in range(50):
        with _as(app, FLOOD):  # type: ignore[attr-defined]
            registry.get(f"flood-{n}", "cam-1")
    with _as(app, VICTIM):  # type: ignore[attr-defined]
        assert registry.get("victim-session", "cam-1") is mine


def test_the_bookkeeping_matches_the_entries_whatever_happens() -> None:
    """Random puts, reads, updates, pops and expiry by many owners, with both bounds."""
    rng = random.Random(7)
    now = [0.0]
    writer = Writer()
    cache: BoundedLRU[str, int] = BoundedLRU(
        12, max_idle=50, clock=lambda: now[0], weigh=lambda value: value, max_weight=200, owner=writer
    )
    for _ in range(3000):
        writer.now = rng.choice("abcdef")
        key = f"k{rng.randrange(40)}"
        action = rng.random()
        if action < 0.5:
            cache.put(key, rng.randrange(1, 60))
            assert cache.get(key) is not None, "the entry just stored stays"
        elif action < 0.65:
            cache.get(key)
        elif action < 0.8:
            cache.update(key, lambda old: (old or 0) % 50 + 1)
        elif action < 0.9:
            cache.pop(key)
        else:
            now[0] += rng.uniform(0, 20)
        entries = cache._entries  # the invariants, checked from the inside
        assert len(entries) <= 12 and (cache.weight <= 200 or len(entries) == 1)
        assert {o: sum(entries[k][2] for k in keys) for o, keys in cache._owned.items()} == cache._owner_weight
        assert sorted(k for keys in cache._owned.values() for k in keys) == sorted(entries)
        buckets: dict[int, set[Hashable]] = {}
        for o, keys in cache._owned.items():
            buckets.setdefault(len(keys), set()).add(o)
        assert {n: set(owners) for n, owners in cache._by_count.items()} == buckets
        assert cache._top_count == max(buckets, default=0)


def test_a_flood_of_removals_does_not_erase_a_visitors_removal(app: Flask, astronaut_jpeg_bytes: bytes) -> None:
    """Before: the removal counts had no owner, so one address removing in 12 new sessions (room
    for 4) erased the victim's count, and the victim's frame sent before their removal started
    their calibration again after it."""
    with app.app_context():
        services().profiles = MemoryProfileStore(max_removals=4)
    victim = _browser_at(app, VICTIM)
    token = csrf_headers(victim)
    frame = {"data": astronaut_jpeg_bytes, "content_type": "image/jpeg"}
    assert victim.post("/api/calibration?removed=0", headers=token, **frame).status_code == 200
    assert victim.delete("/api/calibration", headers=token).get_json() == {"deleted": True, "removed": 1}
    for _ in range(12):
        flood = _browser_at(app, FLOOD)
        assert flood.delete("/api/calibration", headers=csrf_headers(flood)).status_code == 200
    late = victim.post("/api/calibration?removed=0", headers=token, **frame)  # sent before the removal
    assert late.status_code == 409, "the removal was forgotten: the calibration started again"
    assert victim.get("/api/calibration").get_json()["removed"] == 1

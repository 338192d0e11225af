"""Short-lived session state: bounded per session and in total, expiring, and JSON for shared stores."""

from __future__ import annotations

import threading

import pytest
from tests.object_sizes import bytes_held

from moodtape.session_state import (
    ITEM_BYTES,
    MAX_FEEDBACK,
    MAX_LISTS,
    MAX_UNDO,
    LocalSessionMemory,
    SessionState,
    UndoStep,
)
from moodtape.store import Feedback, SavedList, new_id


def a_list(kind: str = "tracks") -> SavedList:
    return SavedList(
        new_id(), kind, "match", {"mood": {"emotion": "happy"}, "items": [{"key": "k", "title": "t"}]}, 1.5
    )


def test_lists_per_session_are_bounded_and_current_lists_survive_only_while_kept() -> None:
    state = SessionState()
    first = a_list()
    state = state.with_list(first, current=True)
    for _ in range(MAX_LISTS):
        state = state.with_list(a_list("videos"), current=True)
    assert len(state.lists) == MAX_LISTS and state.find(first.id) is None
    assert state.current_list("tracks") is None, "a current list that fell out is forgotten, not dangling"
    assert state.current_list("videos") is state.lists[-1]


def test_undo_and_feedback_are_bounded() -> None:
    state = SessionState().with_list(a_list(), current=True)
    list_id = state.lists[0].id
    state = state.with_undo(list_id, tuple(UndoStep(i, {"key": str(i)}, new_id()) for i in range(MAX_UNDO + 5)))
    assert len(state.undo[list_id]) == MAX_UNDO and state.undo[list_id][-1].position == MAX_UNDO + 4
    for i in range(MAX_FEEDBACK + 5):
        state = state.with_feedback(Feedback(f"k{i}", "a", "skip"))
    assert len(state.feedback) == MAX_FEEDBACK and state.feedback[-1].item_key == f"k{MAX_FEEDBACK + 4}"


def test_state_survives_a_json_round_trip() -> None:
    """What a shared implementation (e.g. Redis) stores per session."""
    saved = a_list()
    feedback = Feedback("k", "a", "dislike", "pop", 2.0, saved.id, 0)
    state = (
        SessionState()
        .with_list(saved, current=True)
        .with_undo(saved.id, (UndoStep(0, {"key": "old"}, feedback.id),))
        .with_feedback(feedback)
        .with_correction("angry", "neutral")
    )
    assert SessionState.from_json(state.to_json()) == state


def test_local_memory_is_bounded_in_sessions_and_expires() -> None:
    memory = LocalSessionMemory(max_sessions=3, idle_seconds=3600)
    for i in range(10):
        memory.update(f"s{i}", lambda state: state.with_correction("sad", "happy"))
    assert len(memory) == 3 and memory.get("s0") == SessionState()
    memory.delete("s9")
    assert memory.get("s9") == SessionState() and len(memory) == 2


def test_local_memory_expires_an_hour_after_the_last_change_like_the_shared_ones() -> None:
    """Reads do not renew a session: Redis and the database renew only on writes, and one process
    must not keep a list exportable that a cluster has already forgotten."""
    now = [0.0]
    memory = LocalSessionMemory(idle_seconds=3600, clock=lambda: now[0])
    memory.update("s1", lambda state: state.with_list(a_list(), current=True))
    now[0] = 3000
    assert memory.get("s1").lists, "still there within the hour"
    now[0] = 3700
    assert memory.get("s1") == SessionState(), "read at 3,000 s, changed last at 0 s: gone at 3,700 s"
    memory.update("s1", lambda state: state.with_correction("sad", "happy"))
    now[0] = 7000
    assert memory.get("s1").corrections == {"sad": "happy"}, "a change renews it"


def test_bounded_lru_that_does_not_renew_on_read_still_evicts_by_size() -> None:
    from moodtape.web.lru import BoundedLRU

    now = [0.0]
    cache: BoundedLRU[str, int] = BoundedLRU(2, max_idle=10, clock=lambda: now[0], renew_on_read=False)
    cache.put("a", 1)
    now[0] = 1
    cache.put("b", 2)
    assert cache.get("a") == 1  # read, but not renewed: still the oldest
    now[0] = 2
    cache.put("c", 3)
    assert cache.get("a") is None and cache.get("b") == 2
    now[0] = 10.5
    assert cache.get("b") == 2 and cache.get("c") == 3  # 9.5 s since b's write
    now[0] = 11.5
    assert cache.get("b") is None and cache.get("c") == 3


def test_updates_of_one_session_from_many_threads_are_not_lost() -> None:
    memory = LocalSessionMemory()

    def add(n: int) -> None:
        for i in range(50):
            memory.update("s", lambda state, i=i: state.with_feedback(Feedback(f"{n}-{i}", "a", "like")))

    threads = [threading.Thread(target=add, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(memory.get("s").feedback) == MAX_FEEDBACK  # 200 of 200: none lost


def a_long_list(items: int) -> SavedList:
    document = {"mood": {"emotion": "happy"}, "items": [{"key": f"k{i}", "title": "t" * 40} for i in range(items)]}
    return SavedList(new_id(), "tracks", "match", document, 1.5)


def test_local_memory_is_bounded_in_bytes_not_only_in_sessions() -> None:
    """Before: only the count was bounded, and a client keeping twenty 100-item lists in each of
    many sessions grew one process by 3.25 MB a session (13 GB at the 4,096-session bound)."""
    full = SessionState()
    for _ in range(MAX_LISTS):
        full = full.with_list(a_long_list(100), current=True)
    assert full.approximate_bytes() >= MAX_LISTS * 100 * ITEM_BYTES
    budget = 3 * full.approximate_bytes() + 10_000
    memory = LocalSessionMemory(max_bytes=budget)
    memory.update("small", lambda state: state.with_correction("sad", "happy"))
    for i in range(10):
        memory.update(f"big{i}", lambda _state: full)
    assert memory.approximate_bytes <= budget and len(memory) <= 4
    assert memory.get("big9") == full and memory.get("big0") == SessionState()  # least recently used went first
    memory.delete("big9")
    assert memory.approximate_bytes <= budget - full.approximate_bytes()


def test_the_weight_of_one_entry_larger_than_the_budget_is_kept_alone() -> None:
    from moodtape.web.lru import BoundedLRU

    cache: BoundedLRU[str, str] = BoundedLRU(10, weigh=len, max_weight=5)
    cache.put("a", "xx")
    cache.put("b", "xxx")
    assert cache.weight == 5 and cache.get("a") == "xx"
    cache.put("c", "x" * 8)  # alone over the budget: the others go, it stays
    assert cache.get("a") is None and cache.get("b") is None and cache.get("c") == "x" * 8 and cache.weight == 8
    cache.put("c", "x")  # replaced: its old weight is taken off
    assert cache.weight == 1
    assert cache.pop("c") == "x" and cache.weight == 0


@pytest.mark.parametrize("text", ["x" * 20, "x" * 496, "😀" * 496], ids=["short", "ascii-500", "emoji-500"])
def test_feedback_is_counted_at_least_at_what_it_takes_in_memory(text: str) -> None:
    """Before: every feedback event counted 400 bytes, whatever its strings; 200 events of 500 emoji
    took 1.3 MB and counted 81 KB, so the byte bound held sixteen times the memory it said."""
    events = tuple(
        Feedback(item_key=f"{text}{i}", artist=f"{text}a{i}", action="like", genre=f"{text}g", list_id="a" * 32)
        for i in range(MAX_FEEDBACK)
    )
    taken = bytes_held(events)  # the events' own bytes, whatever other threads allocate meanwhile
    counted = SessionState(feedback=events).approximate_bytes() - SessionState().approximate_bytes()
    assert taken <= counted <= 2 * taken

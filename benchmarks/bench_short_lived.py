"""What keeping a session's short-lived state in the store costs, against this process's memory.

    .venv/bin/python benchmarks/bench_short_lived.py [--sessions 200] [--rounds 5]

``moodtape serve --processes N`` without Redis keeps each session's lists, undo steps and
calibration in the store's ``short_lived`` table (SQLite in the data folder by default) so that
every process sees them. This measures, in a fresh SQLite file (offline, built-in catalog):

- one ``get`` and one ``update`` of a realistic session state (the lists on screen of a visit:
  ``--lists`` lists of 12 tracks, about what a page holds), in memory and in the store;
- whole requests through the app (Flask's test client, no network): make a list
  (``POST /api/lists``), dislike a row, undo it, export it: the same requests with the state in
  memory and in the store.

It prints the median and 95th percentile in milliseconds, per operation.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

from moodtape.config import Settings
from moodtape.emotions import EMOTIONS
from moodtape.recommender.api import build_recommender
from moodtape.recommender.mood import mood_from_emotion
from moodtape.session_state import LocalSessionMemory, SessionMemory, SessionState
from moodtape.sessions import SessionService
from moodtape.state.in_store import StoreSessionMemory
from moodtape.store import database_url
from moodtape.store.database import Database
from moodtape.web import create_app


def _settings(folder: Path) -> Settings:
    overrides = {"MOODTAPE_DATA_DIR": str(folder), "MOODTAPE_OFFLINE": "true", "MOODTAPE_RATE_LIMIT": "0"}
    return Settings.load(overrides=overrides, environ={}, dotenv=None)


def _timed(work: Callable[[], object], times: int) -> list[float]:
    spent = []
    for _ in range(times):
        started = time.perf_counter()
        work()
        spent.append((time.perf_counter() - started) * 1000)
    return spent


def _line(name: str, spent: list[float]) -> str:
    spent = sorted(spent)
    p95 = spent[min(len(spent) - 1, round(0.95 * (len(spent) - 1)))]
    return f"{name:<34} median {statistics.median(spent):7.3f} ms   p95 {p95:7.3f} ms   (n={len(spent)})"


def _a_visit(settings: Settings, lists: int) -> SessionState:
    """The short-lived state of a visit that was shown ``lists`` lists of 12 tracks."""
    engine = build_recommender(settings)
    memory = LocalSessionMemory()
    service = SessionService(engine, None, memory)
    for i in range(lists):
        service.recommend("visit", mood_from_emotion(EMOTIONS[i % len(EMOTIONS)]), n=12, seed=i)
    return memory.get("visit")


def _unchanged(memory: SessionMemory, session_id: str) -> SessionState:
    """A full update (read, change, write back) that changes nothing."""
    return memory.update(session_id, lambda state: state)


def _cycle(ids: list[str], operation: Callable[[str], object]) -> Callable[[], object]:
    """``operation`` on each id in turn, round and round."""
    order = iter(ids * 1000)
    return lambda: operation(next(order))


def memory_operations(settings: Settings, sessions: int, lists: int) -> None:
    state = _a_visit(settings, lists)
    print(f"a visit of {len(state.lists)} lists: {len(state.to_json()) / 1024:.1f} KB of JSON")
    memories: dict[str, SessionMemory] = {
        "memory": LocalSessionMemory(),
        "store (SQLite)": StoreSessionMemory(Database(database_url(settings))),
    }
    for name, memory in memories.items():
        ids = [f"s{i}" for i in range(sessions)]
        for session_id in ids:
            memory.update(session_id, lambda _old: state)
        print(_line(f"{name}: get", _timed(_cycle(ids, memory.get), sessions * 2)))
        print(_line(f"{name}: update", _timed(_cycle(ids, partial(_unchanged, memory)), sessions * 2)))


def requests(settings: Settings, rounds: int) -> None:
    for name in ("memory", "store (SQLite)"):
        app = create_app(settings)
        if name != "memory":
            app.extensions["moodtape"].share_state_in_store()
        app.extensions["moodtape"].recommender()  # the catalog loads once, outside the timing
        client = app.test_client()
        csrf = {"X-CSRF-Token": client.get("/api/config").get_json()["csrf_token"]}
        made: list[float] = []
        rest: list[float] = []
        for i in range(rounds * 10):
            started = time.perf_counter()
            shown = client.post(f"/api/lists?emotion=sad&n=12&seed={i}&fresh=true", headers=csrf).get_json()
            made.append((time.perf_counter() - started) * 1000)
            list_id = shown["list_id"]
            for method, url, body in (
                ("post", "/api/feedback", {"action": "dislike", "list": list_id, "position": 0}),
                ("post", f"/api/lists/{list_id}/undo", None),
                ("get", f"/api/export?list={list_id}&format=csv", None),
            ):
                started = time.perf_counter()
                reply = getattr(client, method)(url, json=body, headers=csrf)
                rest.append((time.perf_counter() - started) * 1000)
                assert reply.status_code == 200, reply.get_data(as_text=True)
        print(_line(f"{name}: POST /api/lists", made))
        print(_line(f"{name}: dislike, undo, export", rest))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=200)
    parser.add_argument("--lists", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=5)
    options = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="moodtape-short-lived-"))
    settings = _settings(folder)
    memory_operations(settings, options.sessions, options.lists)
    requests(_settings(folder / "app"), options.rounds)


if __name__ == "__main__":
    main()

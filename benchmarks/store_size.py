"""How much the store holds per session: bytes per kept list, and a session at the list cap.

    .venv/bin/python benchmarks/store_size.py [--lists 60] [--n 12]

Makes ``--lists`` lists of ``--n`` tracks from the built-in catalog for one session that keeps
history, in a fresh SQLite file (offline: no live providers), then prints the JSON size of one
list record and the database size after a WAL checkpoint. With the default cap
(``MOODTAPE_HISTORY_MAX_LISTS=50``) the file stops growing once the cap is reached.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import statistics
import tempfile
from pathlib import Path

from moodtape.config import Settings
from moodtape.emotions import EMOTIONS
from moodtape.recommender.api import build_recommender
from moodtape.recommender.mood import mood_from_emotion
from moodtape.session_state import LocalSessionMemory
from moodtape.sessions import SessionService


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lists", type=int, default=60)
    parser.add_argument("--n", type=int, default=12)
    options = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="moodtape-store-size-"))
    settings = Settings.load(
        overrides={"MOODTAPE_DATA_DIR": str(folder), "MOODTAPE_OFFLINE": "true"}, environ={}, dotenv=None
    )
    engine = build_recommender(settings)
    assert engine.store is not None
    service = SessionService(engine, engine.store, LocalSessionMemory())
    engine.store.set_consent("measure", True)
    sizes = []
    for i in range(options.lists):
        result = service.recommend("measure", mood_from_emotion(EMOTIONS[i % len(EMOTIONS)]), n=options.n, seed=i)
        sizes.append(len(json.dumps(result.to_dict())))
    kept = len(engine.store.lists("measure", limit=10_000))
    engine.store.close()
    database = folder / "moodtape.db"
    with sqlite3.connect(database) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    print(f"lists made: {options.lists}, kept: {kept} (cap {engine.store.max_lists})")
    print(f"JSON per {options.n}-item list: median {statistics.median(sizes):.0f} B, max {max(sizes)} B")
    print(f"SQLite file: {database.stat().st_size / 1024:.0f} KiB")


if __name__ == "__main__":
    main()

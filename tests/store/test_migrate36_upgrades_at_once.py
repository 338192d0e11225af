"""Two stores set up at the same moment in one process: Alembic's ``context`` and ``op`` are module
globals, and an upgrade that removed them while another ran made it fail ("setting the schema up
failed", ``KeyError: 'script'``), seen when the history store and a second database were set up by
two threads at once (session 36)."""

from __future__ import annotations

import threading
from pathlib import Path

from moodtape.store import Store

PAIRS = 8


def test_stores_set_up_by_threads_at_once_all_reach_the_schema(tmp_path: Path) -> None:
    stores = [Store(f"sqlite:///{tmp_path / f'store-{index}.db'}") for index in range(PAIRS * 2)]
    start = threading.Barrier(len(stores))
    failures: list[BaseException] = []

    def set_up(store: Store) -> None:
        start.wait()
        try:
            store.ping()
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=set_up, args=(store,)) for store in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert failures == []

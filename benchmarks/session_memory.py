"""What one list item costs in a process's session state, for ``session_state.ITEM_BYTES``.

The in-process session memory is bounded in bytes by an estimate (items kept × ``ITEM_BYTES``),
never by serialising the state; this measures the real cost with ``tracemalloc`` so the estimate
stays honest. Ten fresh lists of 100 items, then ten of 12, in one session of the real app (the
offline catalog), and the memory they added divided by the items kept:

    .venv/bin/python -m benchmarks.session_memory

Prints bytes per item for each list length, and what the estimate says for the same lists.
"""

from __future__ import annotations

import gc
import tempfile
import tracemalloc

from moodtape.config import Settings
from moodtape.session_state import ITEM_BYTES, LIST_BYTES
from moodtape.web import create_app

LISTS = 10


def main() -> None:
    app = create_app(Settings({"MOODTAPE_DATA_DIR": tempfile.mkdtemp(), "MOODTAPE_OFFLINE": "true"}))
    client = app.test_client()
    token = {"X-CSRF-Token": client.get("/api/config").get_json()["csrf_token"]}
    client.post("/api/lists?emotion=happy&n=12&fresh=true", headers=token)  # caches warm, session made
    memory = app.extensions["moodtape"].memory
    session = client.get_cookie("moodtape_session").value.partition(".")[0]
    for n in (100, 12):
        gc.collect()
        tracemalloc.start()
        before = tracemalloc.take_snapshot()
        for seed in range(LISTS):
            reply = client.post(f"/api/lists?emotion=happy&n={n}&fresh=true&seed={1000 * n + seed}", headers=token)
            assert reply.status_code in (200, 201), reply.get_json()
        gc.collect()
        grown = sum(stat.size_diff for stat in tracemalloc.take_snapshot().compare_to(before, "filename"))
        tracemalloc.stop()
        state = memory.get(session)
        items = sum(len(saved.document["items"]) for saved in state.lists[-LISTS:])
        estimate = LISTS * LIST_BYTES + items * ITEM_BYTES
        print(
            f"{LISTS} lists of {n}: {grown:,} bytes for {items} items = {grown / items:,.0f} bytes an item; "
            f"estimated {estimate:,} ({estimate / grown:.2f}× what was measured)"
        )


if __name__ == "__main__":
    main()

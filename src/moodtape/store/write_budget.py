"""How much history one client address may write a day, counted in the store that keeps it.

History is bounded per session (``max_lists`` lists, ``max_feedback`` feedbacks), but sessions
are free: a client that drops its cookie gets a new one, so one address could start session after
session and fill the store at the rate limit's pace, kept for the whole retention period. Every
write that adds to the history therefore adds its size to the writing client's count for the day,
in the same transaction, and a write that would take the count past the allowance is refused with
:class:`~moodtape.errors.HistoryBudgetError` and rolls back with its count: nothing of it is kept,
nothing the session had is lost. A list so refused is still answered and shown, for the visit
only (:data:`NOT_KEPT_FIELD`; sessions.py): everyone behind one school or office address shares
the budget. Feedback and turning history on get HTTP 429 (``Retry-After`` the rest of the day);
turning history off counts nothing and is never refused.

The count is one row per (client, UTC day) in ``write_budget``, raised by an upsert that returns
the new total (``INSERT … ON CONFLICT DO UPDATE … RETURNING``). PostgreSQL holds the row until
the transaction ends and SQLite writes one transaction at a time, so every instance and process
using the database counts in the same row, once, and two writes racing for the last bytes cannot
both get in. No Redis is needed: the history lives in this database, so its count does too.

What counts: a list's JSON (what the store writes, ``json.dumps``), a feedback's texts, and
:data:`ROW_BYTES` per row for its ids, times and index entries; turning history on counts as its
row and room for the corrections it lets a session keep (one per emotion). Writes count, not what
stays: a session at its list cap still pays for each new list. The client is a keyed digest of
the address (the web app's ``client_pseudonym``), never the address; outside a request (CLI,
Python API) there is no client and nothing is counted. During a key rotation with fallback keys,
instances signing with the old key and those with the new one count an address apart (up to
twice the allowance that day).

Locks: every write takes the session's row (``sessions``) before this count's row, so that two
writes of one session on PostgreSQL never wait for each other in a circle.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Final

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from moodtape.emotions import EMOTIONS
from moodtape.errors import HistoryBudgetError
from moodtape.store.database import dialect_insert
from moodtape.store.records import Feedback, SavedList
from moodtape.store.schema import write_budget

#: The default allowance: 64 MiB of history per address per day, about 8,400 lists of 12 tracks
#: (7,988 B counted each: median of 175 lists from the built-in catalog, 7 emotions × 5 strategies ×
#: 5 seeds), or 168 people behind one address each filling a whole 50-list history in a day.
DEFAULT_BYTES_PER_DAY: Final[int] = 64 * 1024 * 1024
#: What a row costs besides its JSON or text: ids, times and index entries.
ROW_BYTES: Final[int] = 256
#: The history choice: its row, and room for the corrections a session keeps (one per emotion).
CHOICE_BYTES: Final[int] = ROW_BYTES * (1 + len(EMOTIONS))
DAY_S: Final[int] = 86_400

#: The list document's field (in the visit only, never stored) that says a list was made over the
#: budget: answered and shown as usual, not kept. Its value is :data:`NOT_KEPT_NOTE`.
NOT_KEPT_FIELD: Final[str] = "not_kept"
#: What the page says about such a list; the same words all day, so the page says them once.
NOT_KEPT_NOTE: Final[str] = (
    "Not kept in your history: this address has saved as much history today as the server keeps from "
    "one address in a day. The list works as usual for this visit; lists are kept again from midnight UTC."
)

#: Who is writing: a client's digest, or None (nothing is counted).
Writer = Callable[[], str | None]


def nobody() -> str | None:
    """The writer outside the web app: no client, so no budget applies."""
    return None


def list_cost(saved: SavedList) -> int:
    """Bytes a kept list counts for: its JSON document as the store writes it, and its row."""
    return ROW_BYTES + len(json.dumps(dict(saved.document)))


def feedback_cost(feedback: Feedback) -> int:
    """Bytes a kept feedback counts for: its texts (UTF-8) and its row."""
    texts = (feedback.item_key, feedback.artist, feedback.genre or "")
    return ROW_BYTES + sum(len(text.encode("utf-8", "surrogatepass")) for text in texts)


def spend(connection: Connection, client: str | None, cost: int, allowance: int, now: float) -> None:
    """Add ``cost`` bytes to ``client``'s count for the day of ``now``, inside the caller's transaction.

    No client, or an ``allowance`` of 0, counts nothing.

    Raises:
        HistoryBudgetError: the count would pass ``allowance``; the caller's transaction rolls
            back, this count with it.
    """
    if client is None or allowance <= 0 or cost <= 0:
        return
    day = int(now // DAY_S)
    table = write_budget
    insert = dialect_insert(connection)(table).values(client=client, day=day, spent=cost)
    upsert = insert.on_conflict_do_update(
        index_elements=[table.c.client, table.c.day], set_={"spent": table.c.spent + insert.excluded.spent}
    ).returning(table.c.spent)
    spent = int(connection.execute(upsert).scalar_one())
    if spent > allowance:
        raise HistoryBudgetError(_refusal(allowance, (day + 1) * DAY_S - now), retry_after=_seconds(day, now))


def forget_days_before(connection: Connection, day: int, batch: int) -> int:
    """Delete at most ``batch`` counts of days before ``day``; returns how many went."""
    table = write_budget
    due = sa.select(table.c.client, table.c.day).where(table.c.day < day).limit(batch)
    pair = sa.tuple_(table.c.client, table.c.day)
    deleted: int = connection.execute(sa.delete(table).where(pair.in_(due))).rowcount
    return deleted


def today(now: float) -> int:
    """The UTC day of ``now``, in days since the epoch (the ``day`` column)."""
    return int(now // DAY_S)


def _seconds(day: int, now: float) -> int:
    return max(1, math.ceil((day + 1) * DAY_S - now))


def _refusal(allowance: int, left_s: float) -> str:
    hours, minutes = divmod(max(1, math.ceil(left_s / 60)), 60)
    wait = f"{hours} h {minutes} min" if hours else f"{minutes} min"
    return (
        f"this address has saved as much history today as the server keeps from one address in a day "
        f"({allowance / 1024 / 1024:.3g} MiB), so this was not saved and nothing you had changed; saving works "
        f'again in {wait}, or turn "Keep my history" off to go on without saving'
    )

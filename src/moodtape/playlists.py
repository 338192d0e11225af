"""Saved lists that keep their word: the list on screen stays put until the person asks for another.

- :meth:`Playlists.show` returns the session's current list of that kind when the request has not
  really changed (same strategy, length and seed, a mood within :data:`MOOD_STEP` of the list's
  with the same emotion), so switching Music → Videos → Music brings the same list back; a new
  list is made when the mood, strategy or kind really changes, or when ``fresh`` asks for one.
- :meth:`Playlists.dislike` replaces one row, not the whole list, and remembers how to undo it;
  :meth:`Playlists.undo` puts the row back and forgets the dislike.
- :meth:`Playlists.get` reopens any list the session was shown (export, history).

Items are the serialiser's dictionaries: this module never looks inside an item beyond its
``key``, ``artist`` and ``genre``/``category`` (what feedback needs).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from moodtape.errors import DataError, NotFoundError
from moodtape.recommender.engine import check_request
from moodtape.recommender.strategies import resolve_strategy
from moodtape.session_state import SessionState, UndoStep
from moodtape.sessions import SessionService
from moodtape.store import Feedback, SavedList
from moodtape.types import Mood

#: Distance on the valence–arousal plane (each in [-1, 1]) below which a mood has not "really" changed.
MOOD_STEP: Final[float] = 0.25


@dataclass(frozen=True)
class Ask:
    """What a list is asked for: the mood, the strategy (None: the mood's default), kind, length, seed."""

    mood: Mood
    strategy: str | None = None
    kind: str = "tracks"
    n: int = 12
    seed: int | None = None

    @property
    def request(self) -> dict[str, Any]:
        return {"strategy": self.strategy, "n": self.n, "seed": self.seed}


def same_request(saved: SavedList, ask: Ask) -> bool:
    """True when ``ask`` would not really change ``saved``: the page may keep showing it."""
    mood = saved.mood
    return (
        saved.kind == ask.kind
        and saved.request == ask.request
        and mood.emotion == ask.mood.emotion
        and math.dist((mood.valence, mood.arousal), (ask.mood.valence, ask.mood.arousal)) <= MOOD_STEP
    )


class Playlists:
    """Saved-list operations for a session, over :class:`SessionService`."""

    def __init__(self, sessions: SessionService) -> None:
        self.sessions = sessions

    def show(self, session_id: str, ask: Ask, *, fresh: bool = False) -> tuple[SavedList, bool]:
        """The list to show for ``ask``: the current one when nothing really changed, else a new one.

        Returns the list and whether it is new. Everything is validated before anything is recorded.
        """
        check_request(ask.kind, ask.n)
        mood = self.sessions.corrected(ask.mood, session_id)
        resolve_strategy(ask.strategy, mood)
        current = self.sessions.memory.get(session_id).current_list(ask.kind)
        asked = Ask(mood, ask.strategy, ask.kind, ask.n, ask.seed)
        if current is not None and not fresh and same_request(current, asked):
            # Showing it again makes it current again (it may have been shown before another kind).
            self.sessions.memory.update(session_id, lambda state: state.with_list(current, current=True))
            return current, False
        result = self.sessions.recommender.recommend(
            mood,
            strategy=ask.strategy,
            kind=ask.kind,
            n=ask.n,
            seed=ask.seed,
            preferences=self.sessions.preferences(session_id),
        )
        return self.sessions.record(session_id, result, ask.request)[1], True

    def current(self, session_id: str, ask: Ask) -> SavedList | None:
        """The list on screen for ``ask``, if the session has one; reads only."""
        current = self.sessions.memory.get(session_id).current_list(ask.kind)
        if current is None:
            return None
        mood = self.sessions.corrected(ask.mood, session_id)
        return current if same_request(current, Ask(mood, ask.strategy, ask.kind, ask.n, ask.seed)) else None

    def get(self, session_id: str, list_id: str) -> SavedList:
        """A list the session was shown.

        Raises:
            NotFoundError: not this session's, expired, or deleted.
        """
        found = self.sessions.find_list(session_id, list_id)
        if found is None:
            raise NotFoundError("no such list in this session: it may have expired or been deleted; make a new one")
        return found

    def undo_steps(self, session_id: str, list_id: str) -> int:
        return len(self.sessions.memory.get(session_id).undo.get(list_id, ()))

    # --- feedback on one row ---

    def feedback(self, session_id: str, list_id: str, position: int, action: str) -> tuple[SavedList, bool]:
        """Like, skip or dislike row ``position`` (0-based) of a list; a dislike replaces that row.

        Returns the list as it now is and whether a row was replaced.
        """
        saved = self.get(session_id, list_id)
        items = saved.items
        if isinstance(position, bool) or not isinstance(position, int) or not 0 <= position < len(items):
            raise DataError(f"position must be a whole number from 0 to {len(items) - 1} (the row on the list)")
        item = items[position]
        genre = item.get("genre") or item.get("category")
        feedback = Feedback(
            str(item.get("key")),
            str(item.get("artist") or "").casefold().strip(),
            action,
            str(genre).casefold().strip() if genre else None,
            list_id=list_id,
            position=position,
        )
        self.sessions.add_feedback(session_id, feedback)
        if action != "dislike":
            return saved, False
        replacement = self._replacement(session_id, saved, position)
        if replacement is None:
            return saved, False
        changed = saved.with_item(position, replacement)
        step = UndoStep(position, item, feedback.id)
        self._keep(session_id, changed, lambda steps: (*steps, step))
        return changed, True

    def undo(self, session_id: str, list_id: str) -> SavedList:
        """Undo the list's latest dislike: its row comes back and the dislike is forgotten."""
        saved = self.get(session_id, list_id)
        steps = self.sessions.memory.get(session_id).undo.get(list_id, ())
        if not steps:
            raise DataError("nothing to undo on this list")
        step = steps[-1]
        restored = saved.with_item(step.position, step.item)
        self._keep(session_id, restored, lambda old: old[:-1])
        self.sessions.remove_feedback(session_id, step.feedback_id)
        return restored

    def _replacement(self, session_id: str, saved: SavedList, position: int) -> dict[str, Any] | None:
        """The best item for the row's place on the path that is not on the list and not disliked."""
        preferences = self.sessions.preferences(session_id)
        on_list = saved.keys
        result = self.sessions.recommender.recommend(
            saved.mood,
            strategy=saved.strategy,
            kind=saved.kind,
            n=len(saved.items),
            seed=saved.request.get("seed"),
            preferences=preferences,
        )
        ranked = result.to_list()
        fresh = [entry for entry in ranked if entry.get("key") not in on_list | preferences.disliked]
        if not fresh:
            return None
        # Prefer what the ranking put in the same slot on the path, else the best one left.
        same = ranked[position] if position < len(ranked) else None
        chosen = same if same in fresh else fresh[0]
        return {**chosen, "position": position, "list_id": saved.id}

    def _keep(
        self, session_id: str, changed: SavedList, steps: Callable[[tuple[UndoStep, ...]], tuple[UndoStep, ...]]
    ) -> None:
        def change(state: SessionState) -> SessionState:
            updated = state.with_list(changed, current=state.current.get(changed.kind) == changed.id)
            return updated.with_undo(changed.id, steps(state.undo.get(changed.id, ())))

        self.sessions.memory.update(session_id, change)
        store = self.sessions.store
        if store is not None:
            store.update_list(session_id, changed)  # a no-op for lists not kept in history

"""The imperative shell around the pure recommender: read a session's state, rank, then record.

:meth:`moodtape.recommender.engine.Recommender.recommend` ranks and returns; it neither reads nor
writes the store. :class:`SessionService` is the small service the web API, the public
``moodtape.recommend(…, session_id=…)`` and the CLI go through when a session is involved:

1. validate the request (nothing is stored for a request that would fail);
2. read what the session taught us (feedback → :class:`Preferences`, "not my mood" corrections);
3. call the pure recommender;
4. record what was shown (a saved list) and, for "not my mood", the correction.

Where things are kept: every list, feedback and correction goes to the session's short-lived
state (:mod:`moodtape.session_state`, an hour after last use), which is enough for export, undo
and restoring a list. It goes to the store (history, kept ``MOODTAPE_HISTORY_DAYS``) only when
the person chose to keep history (:meth:`SessionService.set_consent`); until they choose, nothing
about the session is written to the database. Saved-list operations (reuse, dislike-replace,
undo) live in :mod:`moodtape.playlists`.

This is the "functional core, imperative shell" split that STYLE.md asks for.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any, Final

from moodtape.errors import DataError, HistoryBudgetError, StoreUnavailableError
from moodtape.recommender.engine import Recommender, check_request
from moodtape.recommender.mood import mood_from_emotion
from moodtape.recommender.ranking import Item, Preferences, artist_of, genre_of
from moodtape.recommender.result import Recommendation
from moodtape.recommender.strategies import resolve_strategy
from moodtape.recommender.taste import MAX_EVENTS, Taste, features_from_json
from moodtape.session_state import LocalSessionMemory, SessionMemory, SessionState
from moodtape.store import ACTIONS, Feedback, SavedList, Store, check_session_id, new_id
from moodtape.store.records import Visit
from moodtape.store.write_budget import NOT_KEPT_FIELD, NOT_KEPT_NOTE
from moodtape.types import Mood

#: (artist, genre) affinity change per feedback action.
ACTION_WEIGHTS: Final[dict[str, tuple[float, float]]] = {
    "like": (1.0, 0.5),
    "skip": (-0.5, -0.25),
    "dislike": (-1.5, -0.75),
    "play": (0.5, 0.25),  # a full play: half a like
}

_default_memory: LocalSessionMemory | None = None
_default_memory_lock = threading.Lock()


def default_memory() -> SessionMemory:
    """The process-wide short-lived session state, made on first use."""
    global _default_memory
    with _default_memory_lock:
        if _default_memory is None:
            _default_memory = LocalSessionMemory()
        return _default_memory


def list_document(result: Recommendation, request: Mapping[str, Any]) -> dict[str, Any]:
    """The record of a list as shown: the serialiser's JSON plus what was asked for."""
    return {**result.to_dict(), "fallback_reasons": list(result.fallback_reasons), "request": dict(request)}


class SessionService:
    """Lists, feedback and corrections for anonymous sessions, over a pure recommender and a store.

    Args:
        recommender: the pure engine.
        store: where history is kept for sessions that chose it; None keeps none.
        memory: short-lived session state; None uses the process-wide one.
    """

    def __init__(self, recommender: Recommender, store: Store | None, memory: SessionMemory | None = None) -> None:
        self.recommender = recommender
        self.store = store
        # Not `memory or …`: an empty memory has len() 0 and would be swapped for the shared one.
        self.memory = memory if memory is not None else default_memory()

    @classmethod
    def of(cls, recommender: Recommender, memory: SessionMemory | None = None) -> SessionService:
        """The service over ``recommender`` and the store it was built with."""
        return cls(recommender, recommender.store, memory)

    # --- the history choice ---

    def consent(self, session_id: str) -> bool | None:
        """Whether the session keeps history: True, False, or None when it has not chosen (off)."""
        check_session_id(session_id)
        return None if self.store is None else self.store.consent(session_id)

    def keeps_history(self, session_id: str | None) -> bool:
        return session_id is not None and self.consent(session_id) is True

    def set_consent(self, session_id: str, keep_history: bool) -> None:
        """Record the choice; turning history on keeps this visit's lists, feedback and corrections too."""
        store = self._require_store()
        check_session_id(session_id)
        was_on = store.consent(session_id) is True
        visit = None
        if keep_history and not was_on:
            state = self.memory.get(session_id)
            visit = Visit(tuple(map(_as_kept, state.lists)), state.feedback, state.corrections)
        # One transaction: a visit the client's daily budget refuses leaves the choice as it was.
        store.set_consent(session_id, keep_history, visit=visit)
        if visit is not None:  # lists made over an earlier day's budget are kept now: they say so
            self.memory.update(session_id, lambda state: replace(state, lists=tuple(map(_as_kept, state.lists))))

    def forget(self, session_id: str) -> int:
        """Delete everything about the session, kept or short-lived; returns how many lists went.

        The kept history goes first, in its one transaction, and the short-lived state only after
        it: a database that cannot be reached then fails the call with nothing deleted, where the
        short-lived lists (Redis) used to be gone already while the history stayed. Deleting a
        session's rows again finds none, so a call that failed after the database's part can
        simply be made again.
        """
        check_session_id(session_id)
        shown = {saved.id for saved in self.memory.get(session_id).lists}
        stored: set[str] = set()
        if self.store is not None:
            stored = {saved.id for saved in self.store.lists(session_id, limit=self.store.max_lists)}
            self.store.delete_session(session_id)
        self.memory.delete(session_id)
        return len(shown | stored)

    # --- lists ---

    def recommend(
        self,
        session_id: str | None,
        mood: Mood,
        strategy: str | None = None,
        kind: str = "tracks",
        n: int = 20,
        seed: int | None = None,
        genres: Sequence[str] = (),
    ) -> Recommendation:
        """A new list for ``mood`` that follows the session's feedback and corrections, recorded."""
        if session_id is not None:
            check_session_id(session_id)
        mood = self.corrected(mood, session_id)
        result = self.recommender.recommend(
            mood, strategy=strategy, kind=kind, n=n, seed=seed, preferences=self.preferences(session_id), genres=genres
        )
        return self.record(session_id, result, {"strategy": strategy, "n": n, "seed": seed})[0]

    def record(
        self, session_id: str | None, result: Recommendation, request: Mapping[str, Any]
    ) -> tuple[Recommendation, SavedList]:
        """Keep the list as shown, as the session's current list of its kind.

        Returns the list with its ``list_id`` and its record (the same JSON the API shows).
        """
        result = replace(result, list_id=new_id())
        saved = SavedList(
            result.list_id or "",
            result.kind,
            result.strategy,
            list_document(result, request),
            self._list_time(session_id),
        )
        if session_id is None:
            return result, saved
        # History first: a database that is down fails the request before the visit changes, so
        # the client's retry makes the list again and it reaches the history (the other order
        # left it current in the visit but never kept).
        kept = self.store is not None and self.keeps_history(session_id)
        if kept:
            saved = self._keep_list(session_id, saved)
        shown = saved
        self.memory.update(session_id, lambda state: state.with_list(shown, current=True))
        if not kept and self.store is not None and self.keeps_history(session_id):
            # History was turned on (on another instance) after the check above, and that keeps the
            # visit's lists as it finds them, perhaps before this one was in: keep it here too.
            saved = self._keep_list(session_id, saved)
            if saved is not shown and NOT_KEPT_FIELD in saved.document:
                self.memory.update(session_id, lambda state: state.with_list(saved, current=True))
        return result, saved

    def _list_time(self, session_id: str | None) -> float:
        """When a list is made, by the store's clock (the database's, shared by every instance).

        A list of a visit that keeps no history was dated by the clock of the machine that made it:
        with one instance 2 min ahead, its lists were shown 2 min in the future and above the newer
        lists of the others, and kept in that order when history was turned on. A list of no
        session is never sorted among others: it does not wait for the store's first reading.
        """
        if self.store is None or session_id is None:
            return time.time()
        return self.store.time()

    def _keep_list(self, session_id: str, saved: SavedList) -> SavedList:
        """``saved`` kept in history (with its time) while the session keeps it; over the client's
        daily budget, marked not kept (:data:`NOT_KEPT_FIELD`) instead of refused.

        Everyone behind one school or office address shares that budget: a 429 left all of them
        without lists for the rest of the day once one script had spent it. The list is answered
        and kept for the visit as any list is; only history misses it, and the answer says so.
        """
        store = self._require_store()
        try:
            return store.save_list(session_id, saved, if_kept=True)  # decided again as it writes
        except HistoryBudgetError:
            return replace(saved, document={**saved.document, NOT_KEPT_FIELD: NOT_KEPT_NOTE})

    def find_list(self, session_id: str, list_id: str) -> SavedList | None:
        """A list this session was shown: from this visit, or from its kept history."""
        check_session_id(session_id)
        found = self.memory.get(session_id).find(list_id)
        if found is None and self.store is not None:
            found = self.store.get_list(session_id, list_id)
        return found

    def history(self, session_id: str) -> list[tuple[SavedList, bool]]:
        """The session's lists, newest first, each with whether it is kept in history."""
        check_session_id(session_id)
        stored = self.store.lists(session_id) if self.store is not None else []
        kept = {saved.id for saved in stored}
        visit = [(saved, False) for saved in self.memory.get(session_id).lists if saved.id not in kept]
        both = [(saved, True) for saved in stored] + visit
        return sorted(both, key=lambda pair: pair[0].created_at, reverse=True)

    # --- feedback ---

    def feedback(self, session_id: str, item: Item, action: str) -> None:
        """Record a like, skip or dislike on ``item``; the session's next lists follow it."""
        self.feedback_by_key(session_id, item.key, artist_of(item), action, genre_of(item))

    def feedback_by_key(
        self, session_id: str, item_key: str, artist: str, action: str, genre: str | None = None
    ) -> Feedback:
        """The same from the JSON of a shown item (its ``key``, ``artist`` and ``genre``/``category``)."""
        feedback = Feedback(item_key, artist.casefold().strip(), action, genre.casefold().strip() if genre else None)
        return self.add_feedback(session_id, feedback)

    def add_feedback(self, session_id: str, feedback: Feedback) -> Feedback:
        self._record_feedback(session_id, feedback, once=False)
        return feedback

    def add_feedback_once(self, session_id: str, feedback: Feedback) -> bool:
        """Record ``feedback`` unless the visit holds the same event already (same list, row, item and
        action); True when it was recorded.

        A client that names the item retries safely: its repeated like counts once. The check and
        the append are one atomic update of the session state, so two copies arriving at once (two
        processes, a retry racing the first) still count once.
        """
        return self._record_feedback(session_id, feedback, once=True)

    def _record_feedback(self, session_id: str, feedback: Feedback, *, once: bool) -> bool:
        self._require_store()
        check_session_id(session_id)
        keep = self.keeps_history(session_id)  # before any change: a database that is down changes nothing
        recorded: list[bool] = []

        def change(state: SessionState) -> SessionState:
            recorded.clear()  # a shared memory may run this more than once
            if once and any(_same_event(seen, feedback) for seen in state.feedback):
                return state
            recorded.append(True)
            return state.with_feedback(feedback)

        self.memory.update(session_id, change)
        if not recorded:
            return False
        try:
            # Asked again when it was off: turned on meanwhile, it kept the visit as it found it (see record).
            if self.store is not None and (keep or self.keeps_history(session_id)):
                self.store.add_feedback(session_id, feedback, if_kept=True)
        except (StoreUnavailableError, HistoryBudgetError):
            # All or nothing: a 503 (or a 429, the client's daily budget spent) must not leave the
            # feedback in the visit, or the client's retry would count it twice and an undo would
            # forget only one of the two.
            self.memory.update(session_id, lambda state: state.without_feedback(feedback.id))
            raise
        return True

    def remove_feedback(self, session_id: str, feedback_id: str) -> None:
        self.memory.update(session_id, lambda state: state.without_feedback(feedback_id))
        self.forget_kept_feedback(session_id, feedback_id)

    def forget_kept_feedback(self, session_id: str, feedback_id: str) -> None:
        """Remove the history's copy of one feedback event (none kept: nothing to do); safe to repeat."""
        if self.store is not None:
            self.store.remove_feedback(session_id, feedback_id)

    def keep_feedback_again(self, session_id: str, feedback_id: str) -> None:
        """Write the history's copy of a feedback event the visit still holds, after
        :meth:`forget_kept_feedback` removed it for an undo that did not happen."""
        event = next((f for f in self.memory.get(session_id).feedback if f.id == feedback_id), None)
        if event is not None and self.store is not None and self.keeps_history(session_id):
            self.store.add_feedback(session_id, event, if_kept=True)

    def taste(self, session_id: str | None) -> Taste:
        """The session's :class:`Taste`, learned from its feedback (see :meth:`preferences`)."""
        taste = self.preferences(session_id).taste
        return taste if taste is not None else Taste()

    def preferences(self, session_id: str | None) -> Preferences:
        """Affinities and avoid-lists learned from the session's feedback and the lists it was shown."""
        if session_id is None or self.store is None:
            return Preferences()
        state = self.memory.get(session_id)
        events = {f.id: f for f in state.feedback}
        lists = list(state.lists)
        if self.keeps_history(session_id):
            events.update({f.id: f for f in self.store.feedback(session_id)})
            # The kept lists (bounded by the store's cap) go first, so this visit's newer copies win below.
            lists = self.store.lists(session_id, limit=self.store.max_lists) + lists
        seen = {key for saved in lists for key in saved.keys}
        artists: dict[str, float] = defaultdict(float)
        genres: dict[str, float] = defaultdict(float)
        disliked: set[str] = set()
        for entry in sorted(events.values(), key=lambda f: f.created_at):
            artist_weight, genre_weight = ACTION_WEIGHTS[entry.action]
            artists[entry.artist] += artist_weight
            if entry.genre:
                genres[entry.genre] += genre_weight
            if entry.action == "dislike":
                disliked.add(entry.item_key)
        newest = sorted(events.values(), key=lambda f: f.created_at)[-MAX_EVENTS:]
        return Preferences(
            dict(artists),
            dict(genres),
            frozenset(seen),
            frozenset(disliked),
            taste=_taste(newest, rated_items(lists)),
        )

    # --- "not my mood" ---

    def not_my_mood(
        self,
        session_id: str,
        detected: str,
        corrected: str,
        strategy: str | None = None,
        kind: str = "tracks",
        n: int = 20,
        seed: int | None = None,
    ) -> Recommendation:
        """The person says they are ``corrected``, not ``detected``: make the new list, then remember it.

        Every input is validated and the list made before anything is stored, so a refused request
        writes nothing. The new list uses the corrected emotion's default strategy unless
        ``strategy`` is given.
        """
        self._require_store()
        check_session_id(session_id)
        detected_emotion = mood_from_emotion(detected).emotion or detected
        corrected_mood = mood_from_emotion(corrected)
        check_request(kind, n)
        mood = Mood(corrected_mood.valence, corrected_mood.arousal, corrected_mood.emotion, source="corrected")
        resolve_strategy(strategy, mood)
        result = self.recommender.recommend(
            mood, strategy=strategy, kind=kind, n=n, seed=seed, preferences=self.preferences(session_id)
        )
        self.set_correction(session_id, detected_emotion, corrected_mood.emotion or corrected)
        return self.record(session_id, result, {"strategy": strategy, "n": n, "seed": seed})[0]

    def set_correction(self, session_id: str, detected: str, corrected: str) -> None:
        self.memory.update(session_id, lambda state: state.with_correction(detected, corrected))
        if self.store is not None and self.keeps_history(session_id):
            self.store.set_correction(session_id, detected, corrected, if_kept=True)

    def correction(self, session_id: str, detected: str) -> str | None:
        """The person's correction for ``detected`` in this session, or None."""
        found = self.memory.get(session_id).corrections.get(detected)
        if found is None and self.store is not None and self.keeps_history(session_id):
            found = self.store.correction(session_id, detected)
        return found

    def corrected(self, mood: Mood, session_id: str | None) -> Mood:
        """A face mood replaced by the person's own correction for that emotion, if they gave one."""
        if session_id is None or self.store is None or mood.emotion is None or mood.source not in ("face", "group"):
            return mood
        corrected = self.correction(session_id, mood.emotion)
        if corrected is None:
            return mood
        point = mood_from_emotion(corrected)
        return Mood(point.valence, point.arousal, point.emotion, source="corrected")

    def _require_store(self) -> Store:
        if self.store is None:
            raise DataError("feedback needs a store: create the Recommender with store=Store(...)")
        return self.store


def _same_event(seen: Feedback, new: Feedback) -> bool:
    """Whether ``new`` repeats ``seen``: the same action on the same item in the same row of a list."""
    return (seen.list_id, seen.position, seen.item_key, seen.action) == (
        new.list_id,
        new.position,
        new.item_key,
        new.action,
    )


__all__ = ["ACTIONS", "ACTION_WEIGHTS", "SessionService", "default_memory", "list_document"]


def rated_items(lists: Sequence[SavedList]) -> dict[str, dict[str, Any]]:
    """Item JSON by key from ``lists`` (later lists win): the rows shown and the rows a dislike replaced.

    Feedback keeps only an item's key, artist and genre; joining it with the lists it was given on
    (this visit's, and the kept history's when the person chose history) gives the taste model
    every feature (energy, era, acousticness) on a later visit too.
    """
    found: dict[str, dict[str, Any]] = {}
    for saved in lists:
        for item in (*saved.document.get("replaced", ()), *saved.document.get("items", ())):
            found[str(item.get("key"))] = dict(item)
    return found


def _as_kept(saved: SavedList) -> SavedList:
    """``saved`` without the mark of a list the daily budget kept out of history (to be kept now)."""
    if NOT_KEPT_FIELD not in saved.document:
        return saved
    return replace(saved, document={k: v for k, v in saved.document.items() if k != NOT_KEPT_FIELD})


def _taste(feedback: list[Feedback], shown: dict[str, dict[str, Any]]) -> Taste:
    """A :class:`Taste` learned from ``feedback`` (oldest first, at most :data:`MAX_EVENTS`).

    Items on the session's lists give every feature (energy, era, acousticness) through their
    JSON; for an item on no list any more only the artist and genre the feedback row keeps are known.
    """
    taste = Taste()
    for entry in feedback:
        item = shown.get(entry.item_key) or {"artist": entry.artist, "genre": entry.genre}
        taste = taste.learn(features_from_json(item), entry.action, str(item.get("title") or ""))
    return taste

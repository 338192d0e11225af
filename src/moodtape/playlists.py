"""Saved lists that keep their word: the list on screen stays put until the person asks for another.

- :meth:`Playlists.show` returns the session's current list of that kind when the request has not
  really changed (same strategy, length and seed, a mood within :data:`MOOD_STEP` of the list's
  with the same emotion), so switching Music → Videos → Music brings the same list back; a new
  list is made when the mood, strategy or kind really changes, or when ``fresh`` asks for one.
- :meth:`Playlists.dislike` replaces one row, not the whole list, and remembers how to undo it;
  :meth:`Playlists.undo` puts the row back and forgets the dislike. An undo may name the dislike it
  takes back (its id, :meth:`Playlists.undo_trail`): a retry then never undoes a later dislike,
  even one of the same song.
- :meth:`Playlists.get` reopens any list the session was shown (export, history).
- :meth:`Playlists.row_feedback` may be told which item the sender saw on the row (its key): a
  retried or replayed dislike then changes nothing the second time, instead of disliking the
  song that replaced it, and a repeated like counts once.

Items are the serialiser's dictionaries: this module never looks inside an item beyond its
``key``, ``artist`` and ``genre``/``category`` (what feedback needs).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, NamedTuple

from moodtape.errors import ConflictError, DataError, NotFoundError, NothingToUndoError, StaleRowError
from moodtape.recommender.engine import MAX_ITEMS, check_request
from moodtape.recommender.reasons import reason_for_row, without_comparisons
from moodtape.recommender.strategies import resolve_strategy
from moodtape.session_state import SessionState, UndoStep
from moodtape.sessions import SessionService
from moodtape.store import Feedback, SavedList
from moodtape.types import Mood

#: Distance on the valence–arousal plane (each in [-1, 1]) below which a mood has not "really" changed.
MOOD_STEP: Final[float] = 0.25
#: Times a dislike is ranked again when another change to the same list got there first.
MAX_ATTEMPTS: Final[int] = 5
#: Disliked items a list remembers (``document["replaced"]``), so feedback on them keeps their features.
MAX_REPLACED: Final[int] = 30
#: Dislikes a list remembers as undone (``document["undone"]``, their ids), so that a retried undo
#: naming one is told apart from one naming a dislike that can no longer be undone.
MAX_UNDONE: Final[int] = 30
#: The fields it keeps of each: the identity, the title ("because you liked …") and the taste features.
REMEMBERED: Final[tuple[str, ...]] = (
    "key",
    "kind",
    "title",
    "artist",
    "genre",
    "category",
    "energy",
    "decade",
    "acousticness",
)


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


class RowFeedback(NamedTuple):
    """What feedback on a row did: the list as it now is, whether the row was replaced (a dislike),
    and whether nothing changed because the same feedback was given already (a retry)."""

    saved: SavedList
    replaced: bool
    already: bool = False
    #: The dislike's own id when it replaced the row (``dislike_id`` in the API): read from the
    #: operation, not from the undo trail afterwards, where another tab's dislike may be latest by then.
    dislike_id: str | None = None


class Undone(NamedTuple):
    """What an undo did: the list as it now is, and whether nothing changed because the dislike it
    named was undone already (a retry)."""

    saved: SavedList
    already: bool = False


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
        return len(self.undo_trail(session_id, list_id))

    def undo_trail(self, session_id: str, list_id: str) -> tuple[UndoStep, ...]:
        """The list's dislikes that can be undone, oldest first; an undo takes back the last, whose
        ``feedback_id`` it may name (``dislike_id`` in the API)."""
        return self.sessions.memory.get(session_id).undo.get(list_id, ())

    # --- feedback on one row ---

    def feedback(self, session_id: str, list_id: str, position: int, action: str) -> tuple[SavedList, bool]:
        """:meth:`row_feedback` without ``item_key``: the list as it now is, and whether a row was replaced."""
        answer = self.row_feedback(session_id, list_id, position, action)
        return answer.saved, answer.replaced

    def row_feedback(
        self, session_id: str, list_id: str, position: int, action: str, item_key: str | None = None
    ) -> RowFeedback:
        """Like, skip or dislike row ``position`` (0-based) of a list; a dislike replaces that row.

        ``item_key`` names the item the sender saw on the row. Without it the row's item now is
        meant, whichever it is. With it: a row that no longer holds that item because the item was
        disliked and replaced on this list is a retry of that dislike, answered ``already`` with
        nothing changed; a row that no longer holds it for another reason is a stale list
        (:class:`StaleRowError`, nothing changed); and the same feedback on the same row and item
        counts once (but two plays are two plays).

        Raises:
            StaleRowError: ``item_key`` given and the row holds another item.
        """
        saved = self.get(session_id, list_id)
        items = saved.items
        if isinstance(position, bool) or not isinstance(position, int) or not 0 <= position < len(items):
            raise DataError(f"position must be a whole number from 0 to {len(items) - 1} (the row on the list)")
        item = items[position]
        if item_key is not None and item.get("key") != item_key:
            return self._kept(session_id, _retried_or_stale(saved, item_key, action))
        genre = item.get("genre") or item.get("category")
        feedback = Feedback(
            str(item.get("key")),
            str(item.get("artist") or "").casefold().strip(),
            action,
            str(genre).casefold().strip() if genre else None,
            list_id=list_id,
            position=position,
        )
        if item_key is None or action == "play":
            # Two full plays of a song are two plays, not a retry: only judgements are given once.
            self.sessions.add_feedback(session_id, feedback)
        elif not self.sessions.add_feedback_once(session_id, feedback):
            # Given already: a dislike that found no other song, or one still being applied (if
            # that first copy then fails, this dislike was not counted: see docs/store.md).
            return RowFeedback(saved, replaced=False, already=True)
        if action != "dislike":
            return RowFeedback(saved, replaced=False)
        step = UndoStep(position, item, feedback.id)
        try:
            answer = self._replace_row(session_id, saved, step, strict=item_key is not None)
        except Exception:
            # A dislike whose row could not be replaced (409 "send it again", a store that stopped
            # answering) must not stay counted: the retry records it anew, and undo could not reach it.
            self.sessions.remove_feedback(session_id, feedback.id)
            raise
        # Once the row is replaced the dislike stands, with its undo step, even when the kept copy
        # cannot follow (an error is answered): the retry, answered already, writes that copy then.
        return self._kept(session_id, answer) if answer.replaced else answer

    def undo(self, session_id: str, list_id: str, item_key: str | None = None, dislike_id: str | None = None) -> Undone:
        """Undo the list's latest dislike: its row comes back and the dislike is forgotten.

        ``dislike_id`` names the dislike to take back (the latest step's ``feedback_id``, as the list
        showed it). The latest dislike is undone only when it is that one; one among older steps is a
        stale list (:class:`StaleRowError`); one the list remembers undoing was undone before (a
        retry), answered ``already`` with nothing changed, even when the same song was disliked again
        since (knowing it by the song alone, that retry undid the second dislike). Any other id (a
        dislike that fell off the list's last :data:`~moodtape.session_state.MAX_UNDO`, or one the
        list never had) changes nothing: a :class:`StaleRowError`, or with ``item_key`` the answer
        the item alone gets.

        ``item_key`` names the disliked item the sender wants back (its key). Without either, the
        latest dislike is undone, whichever it is, so a retry after a lost answer undid a second one.
        With the item alone: an item that is back on the list already is a retry, answered
        ``already`` with nothing changed (its kept copy written again, in case the first copy's write
        failed); an item that is not the latest dislike, nor back, is a stale list. With both, the
        latest dislike must be of that item too.

        The kept copy of the dislike is removed first: a database that fails there leaves everything
        as it was (failing after the row came back left the song back but still disliked). Then read,
        restore and pop happen in one atomic update of the session state, and only for the step whose
        kept copy was removed: two undos at once undo two dislikes, never the same one twice, and a
        dislike landing in between is not undone in its place (its step is now the latest: the
        removed copy is put back and the undo tries again on the new latest step).
        """
        self.get(session_id, list_id)  # 404 for a list the session was never shown
        for _ in range(MAX_ATTEMPTS):
            steps = self.undo_trail(session_id, list_id)
            if dislike_id is not None and (not steps or steps[-1].feedback_id != dislike_id):
                return self._named_dislike_not_latest(session_id, list_id, dislike_id, steps, item_key)
            if item_key is not None and (not steps or steps[-1].item.get("key") != item_key):
                if dislike_id is not None:
                    raise _stale_undo(list_id)  # the named dislike is the latest, but of another song
                return self._undone_before(session_id, list_id, item_key, steps)
            if not steps:
                break
            chosen = steps[-1].feedback_id
            self.sessions.forget_kept_feedback(session_id, chosen)
            undone, waiting = self._undo_step(session_id, list_id, chosen)
            if undone is not None:
                restored, step = undone
                self.sessions.remove_feedback(session_id, step.feedback_id)
                self._keep_in_history(session_id, restored)
                return Undone(restored)
            if waiting:
                # A newer dislike came on top: the chosen one stands, with its kept copy. (Taken by
                # another undo instead, a double press, it is gone for good: nothing to put back.)
                self.sessions.keep_feedback_again(session_id, chosen)
        else:
            raise ConflictError("this list kept changing while the undo was applied; send it again")
        raise NothingToUndoError("nothing to undo on this list: it has no dislike left to take back")

    def _undone_before(self, session_id: str, list_id: str, item_key: str, steps: tuple[UndoStep, ...]) -> Undone:
        """The answer to an undo naming ``item_key`` when that item is not the list's latest dislike:
        ``already`` when it is back on the list (undone before), else :class:`StaleRowError`."""
        current = self.get(session_id, list_id)
        waiting = any(step.item.get("key") == item_key for step in steps)
        if not waiting and any(item.get("key") == item_key for item in current.items):
            self._keep_in_history(session_id, current)
            return Undone(current, already=True)
        raise _stale_undo(list_id)

    def _named_dislike_not_latest(
        self, session_id: str, list_id: str, dislike_id: str, steps: tuple[UndoStep, ...], item_key: str | None
    ) -> Undone:
        """The answer to an undo naming a dislike that is not the list's latest: :class:`StaleRowError`
        when it waits under newer ones; ``already`` when the list remembers undoing it (the kept copy
        written again, in case the first copy's write failed). Any other id was not undone here, so
        ``already`` would be false: the item's own answer when one is named, else a 409 saying that
        this dislike can no longer be undone (the trail keeps only the latest few)."""
        if any(step.feedback_id == dislike_id for step in steps):
            raise _stale_undo(list_id)
        current = self.get(session_id, list_id)
        if dislike_id in current.document.get("undone", ()):
            self._keep_in_history(session_id, current)
            return Undone(current, already=True)
        if item_key is not None:  # undone before this list remembered undone ids, or long ago
            return self._undone_before(session_id, list_id, item_key, steps)
        raise StaleRowError(
            "that dislike can no longer be undone (a list keeps only its latest dislikes to undo), so "
            f"nothing was undone; read the list again (GET /api/lists/{list_id})"
        )

    def _undo_step(
        self, session_id: str, list_id: str, feedback_id: str
    ) -> tuple[tuple[SavedList, UndoStep] | None, bool]:
        """Put back the row of the list's latest dislike if that dislike is ``feedback_id``: the list
        restored and the step, else ``None``, and whether ``feedback_id`` is still waiting among the
        list's steps (under a newer one) rather than undone by someone else."""
        undone: list[tuple[SavedList, UndoStep]] = []
        waiting: list[bool] = []

        def change(state: SessionState) -> SessionState:
            undone.clear()  # a shared memory may run this more than once
            waiting.clear()
            current = state.find(list_id)
            steps = state.undo.get(list_id, ())
            if current is None or not steps or steps[-1].feedback_id != feedback_id:
                if any(step.feedback_id == feedback_id for step in steps):
                    waiting.append(True)
                return state
            step = steps[-1]
            replaced = [x for x in current.document.get("replaced", ()) if x.get("key") != step.item.get("key")]
            undone_ids = [*current.document.get("undone", ()), step.feedback_id][-MAX_UNDONE:]
            restored = replace_document(
                current.with_item(step.position, step.item), replaced=replaced, undone=undone_ids
            )
            undone.append((restored, step))
            return _with_changed(state, restored).with_undo(list_id, steps[:-1])

        self.sessions.memory.update(session_id, change)
        return (undone[0] if undone else None), bool(waiting)

    def _replace_row(self, session_id: str, saved: SavedList, step: UndoStep, *, strict: bool) -> RowFeedback:
        """Replace the disliked row, without losing a change another request made meanwhile.

        Ranking takes far too long to run inside the session state's atomic update (and a shared
        memory may run an update twice), so this is optimistic: rank against the list as read,
        then apply the new row only if the list is still at that revision; if another request
        changed it first (a second dislike on the same list), read it again and rank again. The
        row's item is checked against each revision it is applied to, so the check and the
        replacement are one atomic step: a row that changed meanwhile is never replaced.
        ``strict``: the sender named the item, and a row that changed to something else while
        the item was not disliked is a stale list (:class:`StaleRowError`).
        """
        base = self._adopt(session_id, saved)
        for _ in range(MAX_ATTEMPTS):
            if base.items[step.position].get("key") != step.item.get("key"):
                # The row was replaced already: the same dislike sent twice. Count it once, so
                # that undoing the first brings the song back for good.
                self.sessions.remove_feedback(session_id, step.feedback_id)
                if strict:
                    return _retried_or_stale(base, str(step.item.get("key")), "dislike")
                return RowFeedback(base, replaced=False, already=True)
            replacement = self._replacement(session_id, base, step.position)
            if replacement is None:
                return RowFeedback(base, replaced=False)
            replaced = [*base.document.get("replaced", ()), _rated(step.item)][-MAX_REPLACED:]
            items = _told_afresh(base, step.position, replacement)
            changed = replace_document(base.with_items(items), replaced=replaced)
            if self._apply_if_unchanged(session_id, base, changed, step):
                return RowFeedback(changed, replaced=True, dislike_id=step.feedback_id)  # the caller keeps it
            base = self.get(session_id, saved.id)
        raise ConflictError("this list kept changing while the dislike was applied; send it again")

    def _adopt(self, session_id: str, saved: SavedList) -> SavedList:
        """The list as the session state holds it, copying it there first if only history had it.

        The session state is where concurrent changes meet (its updates are atomic), so every
        change to a list starts from the copy kept there.
        """
        adopted = self.sessions.memory.update(
            session_id, lambda state: state if state.find(saved.id) else state.with_list(saved, current=False)
        ).find(saved.id)
        return adopted or saved

    def _apply_if_unchanged(self, session_id: str, base: SavedList, changed: SavedList, step: UndoStep) -> bool:
        applied: list[bool] = []

        def change(state: SessionState) -> SessionState:
            applied.clear()  # a shared memory may run this more than once
            current = state.find(base.id)
            if current is None or current.revision != base.revision:
                return state
            applied.append(True)
            return _with_changed(state, changed).with_undo(changed.id, (*state.undo.get(changed.id, ()), step))

        self.sessions.memory.update(session_id, change)
        return bool(applied)

    def _kept(self, session_id: str, answer: RowFeedback) -> RowFeedback:
        """``answer``, its list written to history first: after a replacement, and again for a retried
        dislike answered ``already``, whose first copy may have replaced the row but failed to write it
        (the store stopped answering). A revision history holds already is not written twice."""
        self._keep_in_history(session_id, answer.saved)
        return answer

    def _keep_in_history(self, session_id: str, changed: SavedList) -> None:
        """The kept copy follows a change only while history is on: turning it off stops recording,
        so a list kept earlier stays as it was then (and its stored feedback agrees with it)."""
        store = self.sessions.store
        if store is not None:
            # A no-op for lists not kept in history, older revisions, or history turned off (decided
            # inside update_list's own transaction, so no separate consent read is needed).
            store.update_list(session_id, changed, if_kept=True)

    def _replacement(self, session_id: str, saved: SavedList, position: int) -> dict[str, Any] | None:
        """The best item for the row's place on the path that the list may hold.

        Not on the list, not disliked, and not by an artist (or channel) already on another row:
        the ranking's own rule for a list. The same slot of a fresh ranking of the list's length is
        preferred; when that ranking has nothing left, a longer one is searched.
        """
        preferences = self.sessions.preferences(session_id)
        excluded = saved.keys | preferences.disliked
        items = saved.items
        artists = {_artist(item) for i, item in enumerate(items) if i != position}
        for length in dict.fromkeys((len(items), min(MAX_ITEMS, 3 * len(items)))):
            ranked = self.sessions.recommender.recommend(
                saved.mood,
                strategy=saved.strategy,
                kind=saved.kind,
                n=length,
                seed=saved.request.get("seed"),
                preferences=preferences,
            ).to_list()
            fresh = [entry for entry in ranked if entry.get("key") not in excluded and _artist(entry) not in artists]
            if fresh:
                same = ranked[position] if length == len(items) and position < len(ranked) else None
                chosen = same if same in fresh else fresh[0]
                others = [str(item.get("reason") or "") for i, item in enumerate(items) if i != position]
                said = without_comparisons(str(chosen.get("reason") or ""), saved.mood.emotion)
                line = reason_for_row(said, others, position, len(items))
                return {**chosen, "reason": line, "position": position, "list_id": saved.id}
        return None


def _told_afresh(saved: SavedList, position: int, replacement: dict[str, Any]) -> list[dict[str, Any]]:
    """The list's rows with ``replacement`` at ``position``, and the row after it saying nothing of
    the one before: its "a shade livelier than the last" was said of the disliked song."""
    items = saved.items
    items[position] = replacement
    following = position + 1
    if following < len(items):
        before = str(items[following].get("reason") or "")
        said = without_comparisons(before, saved.mood.emotion)
        if said != before:
            others = [str(item.get("reason") or "") for i, item in enumerate(items) if i != following]
            items[following] = {**items[following], "reason": reason_for_row(said, others, following, len(items))}
    return items


def _retried_or_stale(saved: SavedList, item_key: str, action: str) -> RowFeedback:
    """The answer to feedback naming an item that its row no longer holds.

    A dislike of an item this list replaced is the retry of a dislike that landed (its answer was
    lost, or a second tab sends it again): nothing more to do. Anything else was sent from an
    older copy of the list, and acting on the row would act on a song its sender never saw. The
    list remembers only its newest :data:`MAX_REPLACED` disliked songs: the retry of an older
    dislike is answered as stale, which is safe (nothing changes).
    """
    if action == "dislike" and item_key in {str(entry.get("key")) for entry in saved.document.get("replaced", ())}:
        return RowFeedback(saved, replaced=False, already=True)
    raise StaleRowError(
        "this list was changed elsewhere (in another tab or window) and that song is no longer in its "
        "place, so nothing was rated: load the list again to see it as it is now"
    )


def _stale_undo(list_id: str) -> StaleRowError:
    return StaleRowError(
        "this list changed since it was read: the song named is not its latest dislike, so nothing "
        f"was undone; read the list again (GET /api/lists/{list_id})"
    )


def _rated(item: Mapping[str, Any]) -> dict[str, Any]:
    """What a list remembers of a row a dislike replaced: what the taste model reads, no more."""
    return {name: item.get(name) for name in REMEMBERED if item.get(name) is not None}


def _artist(item: dict[str, Any]) -> str:
    """The artist (or channel) as the ranking compares them."""
    return str(item.get("artist") or "").casefold().strip()


def replace_document(saved: SavedList, **fields: Any) -> SavedList:
    """A copy of ``saved`` with these document fields set (its revision unchanged)."""
    return dataclasses.replace(saved, document={**saved.document, **fields})


def _with_changed(state: SessionState, changed: SavedList) -> SessionState:
    """The state with ``changed`` in place of its older copy, still current if it was."""
    return state.with_list(changed, current=state.current.get(changed.kind) == changed.id)

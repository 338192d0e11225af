"""The list endpoints under ``/api``: saved lists, feedback, export, history and the history choice.

GET endpoints change no state: ``GET /api/recommendations`` shows the session's current list when
the request matches it and otherwise ranks a list it does not keep. A list the page will act on
is made by ``POST /api/lists`` (CSRF token needed, so a cross-site link or a cookieless client
adds nothing), which returns the current list again while the request has not really changed.
Documented in ``web/openapi.yaml``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Final

from flask import Blueprint, Response, jsonify, request
from werkzeug.exceptions import UnsupportedMediaType

from moodtape.emotions import EMOTIONS
from moodtape.errors import DataError, MoodtapeError, shown
from moodtape.playlists import Ask
from moodtape.recommender.engine import KINDS, MAX_ITEMS
from moodtape.recommender.export import Playlist, to_csv, to_m3u8, to_xspf
from moodtape.recommender.ranking import Preferences
from moodtape.recommender.result import Recommendation
from moodtape.recommender.strategies import STRATEGIES
from moodtape.store import ACTIONS, SavedList
from moodtape.web.app import services
from moodtape.web.bounded_json import loads_bounded
from moodtape.web.params import ListRequest, flag, parse_list_request
from moodtape.web.profiles import carry_removals, remove_calibration
from moodtape.web.refusals import NOT_JSON, SMALL_JSON_BYTES, SMALL_JSON_TOO_LARGE
from moodtape.web.session import (
    current_csrf_token,
    is_new_session,
    is_retired,
    new_session_id,
    renew_session,
    require_csrf,
    retired_cookie_session,
    session_id,
    used_cookie_session,
)
from moodtape.web.session_turns import session_turn
from moodtape.web.shapes import history_json, list_json, mood_json, recommendation_json

blueprint = Blueprint("lists", __name__, url_prefix="/api")
log = logging.getLogger("moodtape.web")

#: format → (renderer, file extension, media type).
EXPORTS: Final = {
    "m3u8": (to_m3u8, "m3u8", "audio/x-mpegurl"),
    "xspf": (to_xspf, "xspf", "application/xspf+xml"),
    "csv": (to_csv, "csv", "text/csv"),
}
_MAX_TEXT: Final[int] = 500
_LIST_ID_CHARS: Final[frozenset[str]] = frozenset("0123456789abcdef")


class JsonBodyTooLargeError(MoodtapeError):
    """A feedback, undo, consent or deletion body over :data:`~moodtape.web.refusals.SMALL_JSON_BYTES`:
    413, as for any body too large to take (RFC 9110 §15.5.14), so that a client tells it from a
    malformed body (400)."""

    status = 413
    code = "too_large"


def _ask(wanted: ListRequest) -> Ask:
    return Ask(wanted.mood, wanted.strategy, wanted.kind, wanted.n, wanted.seed)


@blueprint.get("/recommendations")
def recommendations() -> Response:
    """The session's current list for this request when there is one, else a list that is not kept."""
    wanted = parse_list_request(request.args)
    current = _current_list(wanted)
    if current is not None:
        return jsonify(_saved_json(current))
    return jsonify(recommendation_json(_unsaved_list(wanted)))


def _current_list(wanted: ListRequest) -> SavedList | None:
    """The session's current list for the request; a request without a session cookie has none,
    so it reads no shared state (a Redis outage then does not reach new visitors)."""
    if is_new_session():
        return None
    return services().playlists().current(session_id(), _ask(wanted))


def _unsaved_list(wanted: ListRequest) -> Recommendation:
    """A list for the request that is not kept, following the session's feedback and corrections.

    A request without a session cookie has taught nothing yet, so it does not read the store at all.
    """
    sessions = services().sessions()
    known = not is_new_session()
    return sessions.recommender.recommend(
        sessions.corrected(wanted.mood, session_id()) if known else wanted.mood,
        strategy=wanted.strategy,
        kind=wanted.kind,
        n=wanted.n,
        seed=wanted.seed,
        preferences=sessions.preferences(session_id()) if known else Preferences(),
    )


@blueprint.post("/lists")
def make_list() -> Response:
    """The list to show (query as for recommendations): the current one, or a new one when it really changed."""
    require_csrf()
    wanted = parse_list_request(request.args)
    fresh = flag(request.args, "fresh") or False
    with session_turn(services().turn_marks, session_id()):  # a copy sent meanwhile waits, then finds this list
        saved, made = services().playlists().show(session_id(), _ask(wanted), fresh=fresh)
    response = jsonify(_saved_json(saved))
    response.status_code = 201 if made else 200
    return response


@blueprint.get("/lists/<list_id>")
def get_list(list_id: str) -> Response:
    """Reopen a list this session was shown (this visit, or kept history)."""
    return jsonify(_saved_json(services().playlists().get(session_id(), _list_id(list_id))))


@blueprint.post("/lists/<list_id>/undo")
def undo(list_id: str) -> Response:
    """Undo the latest dislike on the list: the row comes back and the dislike is forgotten.

    ``dislike_id`` (optional, in a JSON body) names the dislike to take back, as the list gave it: a
    retry then never undoes a later dislike, even of the same song (``already``: true, nothing
    changed), and one that is not the list's latest is a 409 ``stale_row``. ``item`` (optional) names
    the disliked item to bring back, as ``key`` in the list, with the same answers, judged by the song
    alone (a retry after the same song was disliked again undoes that dislike). Without either (no
    body) the latest dislike is undone, whichever it is.
    """
    require_csrf()
    item, dislike = _undo_names()
    answer = services().playlists().undo(session_id(), _list_id(list_id), item, dislike)
    shown = _saved_json(answer.saved)
    # Only when true, as the list's own `kept`: otherwise the answer is the list as GET gives it.
    return jsonify({**shown, "already": True} if answer.already else shown)


@blueprint.get("/export")
def export() -> Response:
    """``list=ID``: exactly that list; otherwise the current list for the request, or one not kept."""
    fmt = request.args.get("format", "m3u8")
    if fmt not in EXPORTS:
        raise DataError(f"unknown format {shown(fmt)}; choose one of: {', '.join(EXPORTS)}")
    list_id = request.args.get("list")
    playlists = services().playlists()
    playlist: Playlist | None
    if list_id:
        playlist = playlists.get(session_id(), _list_id(list_id))
    else:
        wanted = parse_list_request(request.args)
        playlist = _current_list(wanted)
        if playlist is None:
            playlist = _unsaved_list(wanted)
    render, extension, media_type = EXPORTS[fmt]
    response = Response(render(playlist), mimetype=media_type)
    response.headers["Content-Disposition"] = f'attachment; filename="moodtape-{playlist.strategy}.{extension}"'
    return response


@blueprint.post("/feedback")
def feedback() -> Response:
    """Like, skip or dislike a row of a list (a dislike replaces that row), or "not my mood".

    ``item`` (optional) names the item the sender saw on the row, as ``key`` in the list: a retry
    then never acts on the song that replaced it (``already``: true, nothing changed), and a list
    older than the server's is a 409 ``stale_row``. Without it the row is named by position alone.
    """
    require_csrf()
    body = _json_body()
    action = _text(body, "action")
    _check_feedback_fields(body)
    if action == "not_my_mood":
        return _not_my_mood(body)
    if action not in ACTIONS:
        raise DataError(f"unknown action {action!r}; choose one of: {', '.join((*ACTIONS, 'not_my_mood'))}")
    if body.get("list") is not None:
        playlists = services().playlists()
        item: str | None = body.get("item")  # checked with the other fields: absent, or non-blank text
        answer = playlists.row_feedback(
            session_id(), _list_id(body.get("list")), _position(body.get("position")), action, item
        )
        shown = _saved_json(answer.saved, answer.dislike_id)
        return jsonify(ok=True, replaced=answer.replaced, already=answer.already, list=shown)
    # Without a list: the item named by its key, artist and genre (the API of moodtape 0.1).
    genre = _optional_text(body, "genre") or _optional_text(body, "category")
    services().sessions().feedback_by_key(session_id(), _text(body, "key"), _text(body, "artist"), action, genre)
    return jsonify(ok=True)


def _not_my_mood(body: dict[str, Any]) -> Response:
    sessions = services().sessions()
    kind = _optional_text(body, "kind") or "tracks"
    result = sessions.not_my_mood(
        session_id(),
        _text(body, "detected"),
        _text(body, "corrected"),
        strategy=_optional_text(body, "strategy"),
        kind=kind,
        n=_count(body.get("n")),
    )
    saved = sessions.find_list(session_id(), result.list_id or "")
    shown = list_json(saved) if saved is not None else recommendation_json(result)
    return jsonify(ok=True, mood=mood_json(result.mood), recommendations=shown)


@blueprint.get("/history")
def history() -> Response:
    """This session's lists, newest first (``kept``: in history; else only for this visit)."""
    sessions = services().sessions()
    return jsonify(items=history_json(sessions.history(session_id())), history=sessions.consent(session_id()))


@blueprint.delete("/history")
def delete_history() -> Response:
    """Forget this session (lists, feedback, corrections, calibration, webcam streams' smoothing, the
    history choice) and go on in a new one, whose CSRF token the answer carries; needs ``confirm``.

    ``deleted`` counts what this request removed. Two copies at once (a double click, two tabs, a
    retry sent before the answer came) take turns, on every instance (``web/session_turns.py``): the
    second finds nothing left and says ``deleted: 0``, where both counted the same lists (``1`` and
    ``1`` for one list) until session 39. A copy that arrives once the first has ended the session
    carries the ended session's cookie and token: it is answered the same way, with a new session of
    its own, where it was a 403 that left the client no token to go on with.
    """
    old = _session_to_delete()
    confirmed = _confirmation()
    if not confirmed:
        raise DataError(
            f'deleting cannot be undone: send confirm=true (or {{"confirm": true}}) to {_what_would_go(old)}'
        )
    with session_turn(services().turn_marks, old):
        deleted, fresh = _end_session(old)
    renew_session(fresh)
    return jsonify(deleted=deleted, csrf_token=current_csrf_token())


def _session_to_delete() -> str:
    """The session a deletion ends, once its CSRF token is checked: this request's, or the one its
    cookie named when an earlier copy of this deletion had already ended it (the token proves the
    copy is that session's client; it can only end what is ended, and gets an empty session)."""
    ended = retired_cookie_session()
    require_csrf(ended)
    return ended if ended is not None else session_id()


def _end_session(old: str) -> tuple[int, str]:
    """Retire ``old``, forget everything of it and start its successor: lists deleted, the new id."""
    # Retired first: a request of the old session still in flight checks this after its write. It
    # is also the deletion's first write to the shared state, so a Redis that is away fails here,
    # before the database or anything else is touched; _forget then deletes from the database first.
    retired = services().retired
    ended_before = is_retired(old)  # by the copy that had the turn before this one
    retired.retire(old)
    try:
        deleted, removed = _forget(old)
        # A new session from here on: the old cookie, wherever a copy of it is, names an empty one.
        # It starts at the old one's removal count, so a calibration's late frames are dropped there
        # too; the answer carries the new cookie only once that count is kept.
        fresh = new_session_id()
        carry_removals(services().profiles, fresh, removed)
    except MoodtapeError:
        # Nothing may stay retired that the person's retry (same cookie, same token) cannot finish:
        # not what was not deleted, which would stay out of their reach, nor a session whose
        # successor never started, whose retry would be refused with no new cookie to go on with.
        # A session an earlier copy ended stays ended: that copy's answer already moved the client on.
        if not ended_before:
            retired.restore(old)
        raise
    return deleted, fresh


def _what_would_go(session: str) -> str:
    """What deleting everything of ``session`` removes, as the 400 before the confirmation says it:
    its lists (their feedback and corrections with them), its calibration and its history choice,
    each only where there is one. It said "delete 0 list(s), feedback and corrections" and never
    named the calibration that went too."""
    lists = len(services().sessions().history(session))
    calibration = services().profiles.get(session)
    examples = 0 if calibration is None else sum(tally.count for tally in calibration.tallies.values())
    parts = [f"{_counted(lists, 'list')} (with their feedback and corrections)"] if lists else []
    if examples:
        parts.append(f"your face calibration ({_counted(examples, 'example')})")
    elif calibration is not None and calibration.others:
        parts.append("your face calibration")  # examples read by another model (during a rollout)
    if services().sessions().consent(session) is not None:
        parts.append("your history choice")
    if not parts:
        return "end this session (it holds no lists or calibration yet)"
    said = ", ".join(parts[:-1]) + " and " + parts[-1] if len(parts) > 1 else parts[0]
    return f"delete {said}, and end this session"


def _counted(count: int, noun: str) -> str:
    """``"1 list"``, ``"3 lists"``."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _forget(session: str) -> tuple[int, int]:
    """Forget everything of ``session``: how many lists went, and its calibration's removal count now.

    The history (the database) goes before the calibration and the webcam smoothing (Redis, the
    store's short-lived table, or this process): with the database away the call fails before
    anything is removed, and the person's retry finds it all still there. The calibration went first
    until session 38, so a 503 left a session without its calibration but with its history.
    """
    deleted = services().sessions().forget(session)
    removed = remove_calibration(services().profiles, session)[1]
    services().streams.forget(session)
    return deleted, removed


@blueprint.after_request
def _forget_late_writes(response: Response) -> Response:
    """A state-changing request whose session was deleted while it ran forgets that session again.

    Its write (a list, the history choice, feedback, an undo) may have landed after the deletion's
    forget, under the old id; the id was retired before that forget, so this check, made after the
    write, sees it whichever finished last (web/retired.py). A camera frame's smoothing of a deleted
    session is dropped by the stream's epoch, so frames pay no second read; a calibration frame
    makes this same check itself (web/calibration_api.py).
    """
    session = used_cookie_session()
    if request.method in ("GET", "HEAD", "OPTIONS") or session is None or not is_retired(session):
        return response
    try:
        _forget(session)
    except MoodtapeError as exc:  # the store or Redis went away meanwhile: the marker still hides it
        log.warning("could not forget a deleted session's late write: %s", exc)
    return response


def _confirmation() -> bool:
    """``confirm`` from the query or the JSON body; a malformed one, or two that disagree, is a 400.

    Deleting cannot be undone, so nothing is guessed: ``confirm=false`` in the query is never
    overridden by the body, and a body that is not ``{"confirm": true|false}`` is refused.
    """
    in_query = flag(request.args, "confirm")
    in_body: bool | None = None
    if request.content_length or request.get_data(cache=True):
        body = _json_body()
        if "confirm" in body and not isinstance(body["confirm"], bool):
            raise DataError('confirm must be true or false, as in {"confirm": true}')
        in_body = body.get("confirm")
    if in_query is not None and in_body is not None and in_query != in_body:
        raise DataError("confirm is true in one place and false in the other: send it once")
    return bool(in_query if in_query is not None else in_body)


@blueprint.get("/history/consent")
def get_consent() -> Response:
    """Whether this session keeps history (null: not chosen, so off), and the limits that apply."""
    return _consent_json()


@blueprint.put("/history/consent")
def put_consent() -> Response:
    """Choose whether to keep history: ``{"history": true}`` or ``{"history": false}``."""
    require_csrf()
    choice = _json_body().get("history")
    if not isinstance(choice, bool):
        raise DataError('send {"history": true} to keep history or {"history": false} not to')
    services().sessions().set_consent(session_id(), choice)
    return _consent_json()


def _consent_json() -> Response:
    settings = services().settings
    return jsonify(
        history=services().sessions().consent(session_id()),
        retention_days=settings.get_float("MOODTAPE_HISTORY_DAYS"),
        max_lists=settings.get_int("MOODTAPE_HISTORY_MAX_LISTS"),
    )


# --- parsing ---


def _json_body(*, optional: bool = False) -> dict[str, Any]:
    """The JSON object sent, bounded in size and depth; anything else is a 400 (413: too large, 415:
    not sent as JSON).

    ``optional``: no body at all is an empty object (an undo may send one or not). The bound and the
    words of the 413 and 415 are web/refusals.py's, whose server refuses the same bodies before
    they are sent to a client that waits for ``100 Continue``.
    """
    too_large = JsonBodyTooLargeError(SMALL_JSON_TOO_LARGE)
    if (request.content_length or 0) > SMALL_JSON_BYTES:
        raise too_large
    raw = request.get_data(cache=True)
    if optional and not raw:
        return {}
    if len(raw) > SMALL_JSON_BYTES:
        raise too_large
    if raw and not request.is_json:  # application/json or a +json type, as the API documents
        raise UnsupportedMediaType(NOT_JSON)
    # Bounded: depth, number sizes, no NaN, no lone surrogates (which SQLite cannot store).
    body = loads_bounded(raw, max_chars=SMALL_JSON_BYTES, what="the JSON body") if raw else None
    if not isinstance(body, dict):
        raise DataError("send a JSON object with Content-Type: application/json")
    return body


def _saved_json(saved: SavedList, dislike_id: str | None = None) -> dict[str, Any]:
    """A saved list as the page shows it, with ``dislike_id``: the dislike an undo would take back
    now (absent when ``undo`` is 0), for the undo to name. After a dislike, that dislike's own id
    (``dislike_id``): the trail read now may end with another tab's dislike, made meanwhile, whose
    row this answer's list does not show."""
    steps = services().playlists().undo_trail(session_id(), saved.id)
    shown = list_json(saved, len(steps))
    latest = dislike_id or (steps[-1].feedback_id if steps else None)
    return shown if latest is None else {**shown, "dislike_id": latest}


def _undo_names() -> tuple[str | None, str | None]:
    """The ``item`` and ``dislike_id`` an undo names in its JSON body; None for each not named."""
    body = _json_body(optional=True)
    item = _text(body, "item") if "item" in body else None
    if "dislike_id" not in body:
        return item, None
    if not isinstance(body["dislike_id"], str) or not _is_hex_id(body["dislike_id"]):
        raise DataError("dislike_id must be a dislike's id: 32 hexadecimal digits, as dislike_id in a list")
    return item, body["dislike_id"]


def _is_hex_id(value: str) -> bool:
    return len(value) == 32 and set(value) <= _LIST_ID_CHARS


def _check_feedback_fields(body: dict[str, Any]) -> None:
    """Every documented field that is present must be valid, whichever of them the action reads.

    A field the chosen action ignores (``corrected`` on a like) is still the client's mistake, and
    saying so beats storing a request that does not mean what its sender thought.
    """
    for name, check in _FEEDBACK_FIELDS.items():
        if name in body:
            check(body, name)


def _one_of(choices: tuple[str, ...], *, nullable: bool = False) -> Callable[[dict[str, Any], str], object]:
    def check(body: dict[str, Any], name: str) -> object:
        value = body[name]
        if value is None and nullable:
            return None
        if value not in choices:
            extra = " (or null)" if nullable else ""
            raise DataError(f"{name} must be one of: {', '.join(choices)}{extra}; got {shown(value)}")
        return value

    return check


def _checked(name: str, value: str) -> str:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate such as "\ud800"
        raise DataError(f"{name} must be valid Unicode text") from None
    return value


def _text(body: dict[str, Any], name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value.strip() or len(value) > _MAX_TEXT:
        raise DataError(f"{name} must be non-empty text (at most {_MAX_TEXT} characters)")
    return _checked(name, value)


def _optional_text(body: dict[str, Any], name: str) -> str | None:
    value = body.get(name)
    if value is None or value == "":
        return None
    if not isinstance(value, str) or len(value) > _MAX_TEXT:
        raise DataError(f"{name} must be text (at most {_MAX_TEXT} characters) or null")
    return _checked(name, value)


def _whole(value: object) -> int | None:
    """``value`` as a whole number, or None. JSON Schema counts 28.0 as the integer 28, so do we."""
    if isinstance(value, bool):
        return None
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    return value if isinstance(value, int) else None


def _count(value: object, *, default: int | None = 12) -> int:
    """``n``: a whole number from 1 to MAX_ITEMS; absent (None) means ``default``, unless that is None."""
    if value is None and default is not None:
        return default
    n = _whole(value)
    if n is None or not 1 <= n <= MAX_ITEMS:
        raise DataError(f"n must be a whole number from 1 to {MAX_ITEMS}")
    return n


def _position(value: object) -> int:
    position = _whole(value)
    if position is None or position < 0:
        raise DataError("position must be a whole number of 0 or more (the row on the list, from 0)")
    return position


def _list_id(value: object) -> str:
    if not isinstance(value, str) or not _is_hex_id(value):
        raise DataError("list must be a list id: 32 hexadecimal digits, as list_id in a list")
    return value


#: The documented fields of a feedback body, each with its check (they raise DataError).
_FEEDBACK_FIELDS: Final[dict[str, Callable[[dict[str, Any], str], object]]] = {
    "list": lambda body, name: _list_id(body[name]),
    "position": lambda body, name: _position(body[name]),
    "key": _text,
    "item": _text,  # with list: the key of the item the sender saw on the row
    "artist": _text,
    "genre": _optional_text,
    "category": _optional_text,
    "detected": _one_of(EMOTIONS),
    "corrected": _one_of(EMOTIONS),
    "strategy": _one_of(STRATEGIES, nullable=True),
    "kind": _one_of(KINDS),
    "n": lambda body, name: _count(body[name], default=None),  # given, so null is not "absent"
}

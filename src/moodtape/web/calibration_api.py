"""``/api/calibration``: calibrate to this visitor's face from live frames, kept with the session.

``POST`` adds one frame as an example of an emotion (the frame is analysed in memory and dropped;
only the face's probabilities and embedding are kept, see :mod:`moodtape.web.profiles`), ``GET``
says how far the calibration is, ``DELETE`` forgets it. ``/api/analyze`` reads every face of the
session through its profile once a neutral example is in.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from flask import Blueprint, Response, g, jsonify, request
from werkzeug.datastructures import MultiDict

from moodtape.emotions import EMOTIONS
from moodtape.errors import DataError, StoreUnavailableError, shown
from moodtape.state.connection import SharedStateError
from moodtape.vision.calibrate import read_example
from moodtape.vision.calibration import Profile, expressions_not_learnt_note, neutral_reads_as, not_resting
from moodtape.web.app import services
from moodtape.web.params import check_query, count
from moodtape.web.profiles import (
    Calibration,
    CalibrationRemovedError,
    ProfileStore,
    add_unless_removed,
    removals,
    remove_calibration,
)
from moodtape.web.session import is_retired, require_csrf, session_id, used_cookie_session
from moodtape.web.uploads import gray_picture, read_upload

blueprint = Blueprint("calibration", __name__, url_prefix="/api")
log = logging.getLogger("moodtape.web")

#: The parameters of a frame, in the query or (clients written elsewhere) in the body.
_PARAMETERS: Final = ("emotion", "removed")
_EMPTY = {"calibrated": False, "examples": {}, "expressions": False, "removed": 0}


def session_profile(*, best_effort: bool = False) -> Profile | None:
    """This session's profile when it fits the loaded model; None otherwise.

    A session that came without a cookie has none, and is not looked up. With ``best_effort``
    (analysing a photo), a shared state that is down means "no profile" rather than a 503: the
    answer says ``calibrated: false``, which is true of it, and a photo needs nothing else shared.
    That state is Redis, or the store for ``serve --processes N`` without Redis (whose outage was
    a 503 for every photo of a visitor with a cookie).
    """
    if g.get("new_session", False):
        return None
    try:
        calibration = services().profiles.get(session_id())
    except (SharedStateError, StoreUnavailableError) as exc:
        if not best_effort:
            raise
        log.warning("analysed without the session's calibration: %s", exc)
        return None
    if calibration is None or calibration.profile is None:
        return None
    if calibration.model_id != services().analyzer().classifier.model_id:
        return None  # the server switched models: the old calibration no longer applies
    return calibration.profile


@blueprint.post("/calibration")
def add_example() -> Response:
    """One frame as an example of ``?emotion=`` (default neutral; or the body's field, see
    :func:`_agreed`); answers the calibration's status."""
    require_csrf()
    query = _read_parameters(request.args)  # a wrong query is refused before any decoding work
    profiles, analyzer = services().profiles, services().analyzer()
    # The removal count the client saw when it sent the frame (the page gives it), else the count
    # as the frame arrives, read before the body: a removal while the frame travels or is analysed drops it.
    removed_on_arrival = query.removed if query.removed is not None else removals(profiles, session_id())
    upload = read_upload(request, _PARAMETERS)
    frame = _agreed(query, _read_parameters(_checked(upload.fields)))
    emotion = frame.emotion or "neutral"
    removed_before = frame.removed if frame.removed is not None else removed_on_arrival
    max_pixels = services().settings.get_int("MOODTAPE_MAX_PIXELS")
    with gray_picture(upload.picture, max_pixels, services().large_pictures) as gray:
        example = read_example(analyzer, gray, "the frame", gray=gray)
    updated = add_unless_removed(profiles, session_id(), analyzer, emotion, example, removed_before)
    _drop_if_deleted_meanwhile(profiles)
    notes = [f"{example.faces} faces in the frame; used the largest"] if example.faces > 1 else []
    # A smile during "look neutral" is kept (a person may rest that way) but said, so the page can ask again.
    expression = not_resting(example.probabilities) if emotion == "neutral" else None
    resting_as = _neutral_reads_as(updated)
    if resting_as is not None and updated.profile is not None:
        # Only where the fit itself dropped expressions: a model without embeddings never learns them.
        dropped = expressions_not_learnt_note(resting_as)
        notes.extend(note for note in updated.profile.notes if note == dropped)
    return jsonify(
        **updated.status(),
        notes=notes,
        not_resting=expression,
        neutral_reads_as=resting_as,
        # Whether the model can learn expressions at all (the field's meaning since session 32, kept
        # for pages and clients that read it so), and whether this calibration learns them as it
        # stands: not while the neutral examples read as a smile or an open mouth. The page tells
        # these apart by the fields (a smiling resting face is no reason where the model never learns
        # them), not by a note's words.
        learns_expressions=analyzer.classifier.has_embedding,
        learning_expressions_now=analyzer.classifier.has_embedding and resting_as is None,
    )


def _neutral_reads_as(calibration: Calibration) -> str | None:
    """What the session's neutral examples, read together, show instead of a resting face (None
    without them): the profile's own reading, so that while it is set no expressions are learnt.

    The page words its warning from it, so that it follows the fit's rule and never one of its own.
    """
    tally = calibration.tallies.get("neutral")
    return None if tally is None else neutral_reads_as(tally.mean_example().probabilities[None])


def _drop_if_deleted_meanwhile(profiles: ProfileStore) -> None:
    """Remove the example again, and answer 409, when "Delete everything" ended the session while
    this frame was read (on any instance).

    The removal count cannot tell then: a frame that resolved its session just before the deletion
    retired it, but read the count just after the deletion removed the calibration, compares the
    new count and is kept under the ended id (1 of 300 frames sent within ±4 ms of a deletion on
    the other instance). The deletion retires the id before it removes, so this check, made after
    the write, sees it whichever finished last: one read of the shared state per calibration frame.
    """
    session = used_cookie_session()
    if session is None or not is_retired(session):
        return
    remove_calibration(profiles, session)
    raise CalibrationRemovedError(
        "everything of this session was deleted while the frame was read, so it was not kept; "
        "calibrate again in the new session"
    )


@dataclass(frozen=True)
class _Parameters:
    """A frame's ``emotion`` (lower case) and ``removed`` as one place gave them; None: not given there."""

    emotion: str | None
    removed: int | None


def _read_parameters(given: Mapping[str, str]) -> _Parameters:
    """``emotion`` and ``removed`` from the query or the body; a :class:`DataError` for a wrong one."""
    emotion = given.get("emotion")
    if emotion is not None:
        emotion = emotion.strip().lower()
        if emotion not in EMOTIONS:
            raise DataError(f"unknown emotion {shown(emotion)}; use one of: {', '.join(EMOTIONS)}")
    return _Parameters(emotion, count(given, "removed"))


def _checked(in_body: dict[str, str]) -> dict[str, str]:
    """The body's fields, refused when empty or holding a NUL as the query's would be."""
    check_query(MultiDict(in_body))
    return in_body


def _agreed(query: _Parameters, body: _Parameters) -> _Parameters:
    """The query's parameters, with those a client sent in the body beside the frame.

    Clients written elsewhere send ``{"image": "…", "emotion": "happy"}`` or a form field: ignored,
    their smile was learnt as the resting face, and a frame sent before a removal was kept. Said
    both ways, the values are compared as read (``HAPPY`` is ``happy``, ``00`` is ``0``); two
    different ones are a 400: which one the client meant cannot be told.
    """
    for name in _PARAMETERS:
        in_query, in_body = getattr(query, name), getattr(body, name)
        if in_query is not None and in_body is not None and in_query != in_body:
            raise DataError(
                f"{name} is {shown(in_query, 32)} in the query and {shown(in_body, 32)} in the body: give it once"
            )
    return _Parameters(
        query.emotion if query.emotion is not None else body.emotion,
        query.removed if query.removed is not None else body.removed,
    )


@blueprint.get("/calibration")
def status() -> Response:
    """Whether this session is calibrated, and with how many examples of each emotion."""
    calibration = services().profiles.get(session_id())
    if calibration is None:
        return jsonify(_EMPTY)
    if calibration.model_id != services().analyzer().classifier.model_id:
        # Made with another model (another instance's, mid-rollout): not applied here, so not "calibrated".
        return jsonify({**_EMPTY, "removed": calibration.removed})
    return jsonify(calibration.status())


@blueprint.delete("/calibration")
def remove() -> Response:
    """Forget this session's calibration."""
    require_csrf()
    deleted, removed = remove_calibration(services().profiles, session_id())
    return jsonify(deleted=deleted, removed=removed)

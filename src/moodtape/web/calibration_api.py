"""``/api/calibration``: calibrate to this visitor's face from live frames, kept with the session.

``POST`` adds one frame as an example of an emotion (the frame is analysed in memory and dropped;
only the face's probabilities and embedding are kept, see :mod:`moodtape.web.profiles`), ``GET``
says how far the calibration is, ``DELETE`` forgets it. ``/api/analyze`` reads every face of the
session through its profile once a neutral example is in.
"""

from __future__ import annotations

import logging

from flask import Blueprint, Response, g, jsonify, request

from moodtape.emotions import EMOTIONS
from moodtape.errors import DataError, shown
from moodtape.state.connection import SharedStateError
from moodtape.vision.calibrate import read_example
from moodtape.vision.calibration import Profile, not_resting
from moodtape.web.app import services
from moodtape.web.params import count
from moodtape.web.profiles import add_unless_removed, removals, remove_calibration
from moodtape.web.session import require_csrf, session_id
from moodtape.web.uploads import gray_upload

blueprint = Blueprint("calibration", __name__, url_prefix="/api")
log = logging.getLogger("moodtape.web")

_EMPTY = {"calibrated": False, "examples": {}, "expressions": False, "removed": 0}


def session_profile(*, best_effort: bool = False) -> Profile | None:
    """This session's profile when it fits the loaded model; None otherwise.

    A session that came without a cookie has none, and is not looked up. With ``best_effort``
    (analysing a photo), a shared state that is down means "no profile" rather than a 503: the
    answer says ``calibrated: false``, which is true of it, and a photo needs nothing else shared.
    """
    if g.get("new_session", False):
        return None
    try:
        calibration = services().profiles.get(session_id())
    except SharedStateError as exc:
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
    """One frame as an example of ``?emotion=`` (default neutral); answers the calibration's status."""
    require_csrf()
    emotion = (request.args.get("emotion") or "neutral").strip().lower()
    if emotion not in EMOTIONS:
        raise DataError(f"unknown emotion {shown(emotion)}; use one of: {', '.join(EMOTIONS)}")
    profiles, analyzer = services().profiles, services().analyzer()
    # The removal count the client saw when it sent the frame (the page says), else the one now:
    # a removal after it drops the frame.
    known = count(request.args, "removed")
    removed_before = known if known is not None else removals(profiles, session_id())
    max_pixels = services().settings.get_int("MOODTAPE_MAX_PIXELS")
    with gray_upload(request, max_pixels, services().large_pictures) as gray:
        example = read_example(analyzer, gray, "the frame", gray=gray)
    updated = add_unless_removed(profiles, session_id(), analyzer, emotion, example, removed_before)
    notes = [f"{example.faces} faces in the frame; used the largest"] if example.faces > 1 else []
    # A smile during "look neutral" is kept (a person may rest that way) but said, so the page can ask again.
    expression = not_resting(example.probabilities) if emotion == "neutral" else None
    return jsonify(**updated.status(), notes=notes, not_resting=expression)


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

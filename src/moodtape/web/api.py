"""The JSON API under ``/api``: thin handlers that parse, call moodtape, and shape the answer.

Documented in ``web/openapi.yaml`` (served at ``/api/openapi.yaml``). Analysis changes no state;
lists, feedback and history live in ``lists_api``. Unknown query parameters and JSON fields are
ignored (one rule for the whole API, see ``bounded_json``); a known parameter sent in the body
beside the picture is read as if it were in the query (as ``/api/calibration`` reads its own).
"""

from __future__ import annotations

import time
from importlib import resources

from flask import Blueprint, Response, current_app, jsonify, request
from werkzeug.datastructures import MultiDict

from moodtape.emotions import EMOTIONS
from moodtape.errors import DataError, shown
from moodtape.metrics import FRAMES
from moodtape.recommender.mood import EMOTION_POINTS, group_mood
from moodtape.recommender.strategies import DEFAULT_STRATEGY, STRATEGIES
from moodtape.types import Face, Mood
from moodtape.web.app import services
from moodtape.web.calibration_api import session_profile
from moodtape.web.params import check_query
from moodtape.web.session import current_csrf_token, refuse_other_sites, session_id
from moodtape.web.shapes import faces_json, mood_json
from moodtape.web.streams import check_stream_id
from moodtape.web.uploads import gray_picture, read_upload

blueprint = Blueprint("api", __name__, url_prefix="/api")


@blueprint.get("/config")
def config() -> Response:
    """What the page needs to know: labels and their mood-plane points, strategies, live sources, limits, CSRF token."""
    settings = services().settings
    names = {getattr(p, "name", "") for p in services().recommender().providers}
    return jsonify(
        emotions=list(EMOTIONS),
        emotion_points={label: list(EMOTION_POINTS[label]) for label in EMOTIONS},
        strategies=list(STRATEGIES),
        default_strategies=dict(DEFAULT_STRATEGY),
        live={"spotify": "spotify" in names, "youtube": "youtube" in names},
        limits={
            "max_upload_bytes": current_app.config["MAX_CONTENT_LENGTH"],
            "max_pixels": settings.get_int("MOODTAPE_MAX_PIXELS"),
        },
        csrf_token=current_csrf_token(),
    )


@blueprint.post("/analyze")
def analyze() -> Response:
    """Faces, emotions and the mood of one picture (with ``stream``: smoothed, the main person's), in memory only."""
    started = time.perf_counter()
    refuse_other_sites()  # no token is asked for here, but a page elsewhere may not post frames
    in_query = request.args.get("stream") or None
    if in_query is not None:
        check_stream_id(in_query)  # before the body is even read
    upload = read_upload(request, ("stream",))
    stream = _one_stream(in_query, upload.fields.get("stream"))
    max_pixels = services().settings.get_int("MOODTAPE_MAX_PIXELS")
    with gray_picture(upload.picture, max_pixels, services().large_pictures) as gray:
        analyzer = services().analyzer()
        # The visitor's calibration, if any (web/calibration_api.py); a photo does without it when
        # the shared state is down, a stream needs that state anyway.
        profile = session_profile(best_effort=stream is None)
        FRAMES.labels(kind="photo" if stream is None else "stream").inc()
        if stream is None:
            faces = analyzer.analyze_gray(gray, profile=profile)
        else:
            faces = services().streams.process(session_id(), stream, gray, profile)
        height, width = gray.shape
    mood = picture_mood(faces, stream)
    return jsonify(
        faces=faces_json(faces),
        image={"width": int(width), "height": int(height)},
        mood=None if mood is None else mood_json(mood),
        stream=stream,
        calibrated=profile is not None,
        elapsed_ms=round((time.perf_counter() - started) * 1000, 1),
    )


def picture_mood(faces: list[Face], stream: str | None) -> Mood | None:
    """A photo's mood: all its faces, weighted by size; a stream's: its main person's face alone.

    A stream's frames come with the main person first (``moodtape.vision.main_person``), held from
    their track through a frame that misses them but finds a bystander (``held_first``). The mood of
    all faces let a happy bystander at the side at 0.8× the user's size change the live mood on
    32 % of the frames they were in; the main person's face alone, on none. Their face counts in
    full even when uncertain (the ÷4 of an uncertain face only weighs it against others): the mood
    is theirs however sure the model is, and the page marks their face "not sure".
    """
    if not faces:
        return None
    return group_mood(faces if stream is None else faces[:1])


def _one_stream(in_query: str | None, in_body: str | None) -> str | None:
    """The stream a frame belongs to: the query's ``stream``, or the body's field of that name.

    Clients written elsewhere send ``{"image": "…", "stream": "cam1"}`` or a form field: ignored,
    each of their frames was analysed alone, unsmoothed, while the answer said ``stream: null``.
    The body's value is checked as the query's is (not empty, no NUL, an id of the documented
    form) before any decoding work; given both ways, two different ids are a 400, as which stream
    the client meant cannot be told.
    """
    if in_body is None:
        return in_query
    check_query(MultiDict({"stream": in_body}))
    check_stream_id(in_body)
    if in_query is not None and in_query != in_body:
        raise DataError(
            f"stream is {shown(in_query, 32)} in the query and {shown(in_body, 32)} in the body: give it once"
        )
    return in_body


@blueprint.get("/openapi.yaml")
def openapi() -> Response:
    """The OpenAPI 3.1 description of this API."""
    text = resources.files("moodtape.web").joinpath("openapi.yaml").read_text(encoding="utf-8")
    return Response(text, mimetype="application/yaml")

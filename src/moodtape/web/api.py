"""The JSON API under ``/api``: thin handlers that parse, call moodtape, and shape the answer.

Documented in ``web/openapi.yaml`` (served at ``/api/openapi.yaml``). Analysis changes
no state; a list from ``/api/recommendations`` is recorded in the session's history; feedback and
history deletion need the CSRF token. Unknown query parameters and JSON fields are ignored.
"""

from __future__ import annotations

import time
from importlib import resources
from typing import Any, Final

from flask import Blueprint, Response, current_app, jsonify, request

from moodtape.emotions import EMOTIONS
from moodtape.errors import DataError, ImageError, UnsupportedImageError
from moodtape.recommender.export import to_csv, to_m3u8, to_xspf
from moodtape.recommender.mood import EMOTION_POINTS, group_mood
from moodtape.recommender.result import Recommendation
from moodtape.recommender.strategies import DEFAULT_STRATEGY, STRATEGIES
from moodtape.store import ACTIONS
from moodtape.vision.images import decode_image
from moodtape.web.app import services
from moodtape.web.bounded_json import loads_bounded
from moodtape.web.params import ListRequest, parse_list_request
from moodtape.web.session import current_csrf_token, require_csrf, session_id
from moodtape.web.shapes import faces_json, history_json, mood_json, recommendation_json
from moodtape.web.streams import check_stream_id
from moodtape.web.uploads import read_image_bytes

blueprint = Blueprint("api", __name__, url_prefix="/api")

#: format → (renderer, file extension, media type).
EXPORTS: Final = {
    "m3u8": (to_m3u8, "m3u8", "audio/x-mpegurl"),
    "xspf": (to_xspf, "xspf", "application/xspf+xml"),
    "csv": (to_csv, "csv", "text/csv"),
}
_MAX_TEXT = 500
#: A feedback body is a handful of short fields.
MAX_JSON_BODY: Final[int] = 16_384


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
    """Faces, emotions and the (smoothed, with ``stream``) mood of one picture, in memory only."""
    started = time.perf_counter()
    stream = request.args.get("stream") or None
    if stream is not None:
        check_stream_id(stream)  # before any decoding work
    data = read_image_bytes(request)
    try:
        gray = decode_image(data, gray=True, max_pixels=services().settings.get_int("MOODTAPE_MAX_PIXELS"))
    except UnsupportedImageError:
        # The leading bytes said "image", so the rest is damaged rather than of the wrong type.
        raise ImageError("the picture is damaged and cannot be read") from None
    analyzer = services().analyzer()
    if stream is None:
        faces = analyzer.analyze_gray(gray)
    else:
        faces = services().streams.get(session_id(), stream).process(gray, time.monotonic())
    height, width = gray.shape
    return jsonify(
        faces=faces_json(faces),
        image={"width": int(width), "height": int(height)},
        mood=mood_json(group_mood(faces)) if faces else None,
        stream=stream,
        elapsed_ms=round((time.perf_counter() - started) * 1000, 1),
    )


@blueprint.get("/recommendations")
def recommendations() -> Response:
    """A list for a mood; it is recorded in the session's history."""
    return jsonify(recommendation_json(_recommend(parse_list_request(request.args))))


@blueprint.get("/export")
def export() -> Response:
    """The list for the same parameters as a playlist file (the one the page showed, when known)."""
    fmt = request.args.get("format", "m3u8")
    if fmt not in EXPORTS:
        raise DataError(f"unknown format {fmt!r}; choose one of: {', '.join(EXPORTS)}")
    wanted = parse_list_request(request.args)
    result = services().recent.get((session_id(), wanted.cache_key)) or _recommend(wanted)
    render, extension, media_type = EXPORTS[fmt]
    response = Response(render(result), mimetype=media_type)
    response.headers["Content-Disposition"] = f'attachment; filename="moodtape-{result.strategy}.{extension}"'
    return response


@blueprint.post("/feedback")
def feedback() -> Response:
    """Like, skip, dislike (re-ranks this session's next lists) or not-my-mood (a correction)."""
    require_csrf()
    body = _json_body()
    action = _text(body, "action")
    engine = services().recommender()
    if action == "not_my_mood":
        result = engine.not_my_mood(
            session_id(),
            _text(body, "detected"),
            _text(body, "corrected"),
            strategy=_optional_text(body, "strategy"),
            kind=_optional_text(body, "kind") or "tracks",
            n=_count(body.get("n")),
        )
        return jsonify(ok=True, mood=mood_json(result.mood), recommendations=recommendation_json(result))
    if action not in ACTIONS:
        raise DataError(f"unknown action {action!r}; choose one of: {', '.join((*ACTIONS, 'not_my_mood'))}")
    genre = _optional_text(body, "genre") or _optional_text(body, "category")
    engine.feedback_by_key(session_id(), _text(body, "key"), _text(body, "artist"), action, genre)
    return jsonify(ok=True)


@blueprint.get("/history")
def history() -> Response:
    """This session's lists, newest first."""
    store = services().recommender().store
    return jsonify(items=history_json(store.history(session_id())) if store is not None else [])


@blueprint.delete("/history")
def delete_history() -> Response:
    """Forget this session: history, feedback and corrections."""
    require_csrf()
    store = services().recommender().store
    return jsonify(deleted=store.delete_session(session_id()) if store is not None else 0)


@blueprint.get("/openapi.yaml")
def openapi() -> Response:
    """The OpenAPI 3.1 description of this API."""
    text = resources.files("moodtape.web").joinpath("openapi.yaml").read_text(encoding="utf-8")
    return Response(text, mimetype="application/yaml")


def _recommend(wanted: ListRequest) -> Recommendation:
    result = (
        services()
        .recommender()
        .recommend(
            wanted.mood,
            strategy=wanted.strategy,
            kind=wanted.kind,
            n=wanted.n,
            seed=wanted.seed,
            session_id=session_id(),
        )
    )
    services().recent.put((session_id(), wanted.cache_key), result)
    return result


def _json_body() -> dict[str, Any]:
    if request.mimetype != "application/json":
        raise DataError("send a JSON object with Content-Type: application/json")
    body = loads_bounded(request.get_data(cache=True), max_chars=MAX_JSON_BODY, what="the JSON body")
    if not isinstance(body, dict):
        raise DataError("send a JSON object with Content-Type: application/json")
    return body


def _text(body: dict[str, Any], name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value.strip() or len(value) > _MAX_TEXT:
        raise DataError(f"{name} must be non-empty text (at most {_MAX_TEXT} characters)")
    return value


def _optional_text(body: dict[str, Any], name: str) -> str | None:
    value = body.get(name)
    if value is None or value == "":
        return None
    if not isinstance(value, str) or len(value) > _MAX_TEXT:
        raise DataError(f"{name} must be text (at most {_MAX_TEXT} characters) or null")
    return value


def _count(value: object) -> int:
    if value is None:
        return 12
    if isinstance(value, bool) or not isinstance(value, int):
        raise DataError("n must be a whole number from 1 to 100")
    return value

"""On-device mode: what a browser needs to read faces itself, so live frames never leave it.

The page runs face detection (YuNet) and our emotion model with ONNX Runtime Web (WebAssembly,
vendored by ``make`` into the git-ignored ``static/vendor/ort/``). This module serves the pieces
the server path already has, so both paths compute the same thing:

- ``GET /api/ondevice`` — the default path (``MOODTAPE_FRAMES``) and every number the browser must
  use: the model's input size, pixel scaling, label order, temperature and "uncertain" threshold,
  the crop framing, YuNet's settings and FER-framing constants, the stream smoothing and
  main-person constants, the mood anchors and weights, and whether the runtime files are installed
  (when not, the page keeps the server path);
- ``GET /api/ondevice/profile`` — this session's calibration profile as JSON (its baseline and
  prototypes, a few KB, no image data), or null. The browser applies it to its own probabilities
  and embeddings; the alternative, sending those to the server for every frame, would leak a face
  descriptor per frame for no gain, since the profile maths is ten lines (``ondevice/calibration.js``);
- ``GET /ondevice/<name>.onnx`` — the two model files, immutable per content digest.
"""

from __future__ import annotations

import functools
import hashlib
import re
from pathlib import Path
from typing import Any, Final

from flask import Blueprint, Response, current_app, jsonify, request

from moodtape.emotions import EMOTIONS
from moodtape.errors import NotFoundError
from moodtape.recommender.mood import EMOTION_POINTS, UNCERTAIN_FACE_WEIGHT
from moodtape.vision import main_person, yunet
from moodtape.vision.exposure import MIN_SPAN, PERCENTILES
from moodtape.vision.models import bundled_model_bytes
from moodtape.vision.stream import DEFAULT_TIME_CONSTANT, MATCH_IOU
from moodtape.web.app import services
from moodtape.web.calibration_api import session_profile
from moodtape.web.delivery import IMMUTABLE, PreconditionsFirstResponse

blueprint = Blueprint("ondevice", __name__)

#: The ONNX Runtime Web files the page loads (single-threaded WebAssembly, no WebGPU), relative to static/.
RUNTIME_DIR: Final = "vendor/ort"
RUNTIME_FILES: Final = ("ort.wasm.min.mjs", "ort-wasm-simd-threaded.mjs", "ort-wasm-simd-threaded.wasm")
#: Seconds a face track survives unseen, as in ``FaceSmoother``.
MAX_AGE: Final = 1.0


def runtime_installed(static_folder: str | Path) -> bool:
    """True when every ONNX Runtime Web file is in ``static/vendor/ort`` (``make`` puts them there)."""
    folder = Path(static_folder) / RUNTIME_DIR
    return all((folder / name).is_file() for name in RUNTIME_FILES)


def _model_bytes(name: str) -> bytes:
    if name == "emotion":
        return bundled_model_bytes()
    if name == "yunet":
        return yunet.yunet_path().read_bytes()
    # The name is the client's: not quoted back at all (a cut, escaped quote of it still carried the
    # client's text, markup and all, into the answer), as the server's own refusals never echo it.
    raise NotFoundError("no on-device model of that name: the models are emotion.onnx and yunet.onnx")


@functools.cache
def _model_sha256(name: str) -> str:
    """A packaged model's SHA-256, computed once per process: its bytes do not change while it runs
    (hashing both files on every request cost 14 ms of CPU)."""
    return hashlib.sha256(_model_bytes(name)).hexdigest()


def model_version(name: str) -> str:
    """The ``v`` of model ``name``'s URL: its SHA-256's first 12 hex digits."""
    return _model_sha256(name)[:12]


@blueprint.get("/api/ondevice")
def config() -> Response:
    """The numbers the browser's pipeline needs to match the server's (see the module docstring)."""
    from moodtape.web.versions_here import note_now_and_then

    note_now_and_then()  # the models' URLs named below: other instances must know who serves them
    analyzer = services().analyzer()
    classifier, framing = analyzer.classifier, analyzer.framing
    preset, spec = classifier.preset, classifier.spec
    settings = yunet.YuNetSettings()
    static_folder = current_app.static_folder
    assert static_folder is not None  # Flask's default; create_app never removes it
    available = (
        runtime_installed(static_folder)
        # The browser runs the bundled model; a server started with another model keeps the server path.
        and classifier.model_id == _model_sha256("emotion")
        and spec.channels == 1
    )
    default = services().settings.get("MOODTAPE_FRAMES").strip().lower()
    body: dict[str, Any] = {
        "available": available,
        # The page's default path (MOODTAPE_FRAMES); ``?frames=`` in the page's address overrides it.
        "default": default if default in ("auto", "server") else "device",
        "runtime": f"{RUNTIME_DIR}/",
        "models": {name: f"/ondevice/{name}.onnx?v={model_version(name)}" for name in ("emotion", "yunet")},
        "classifier": {
            "model_id": classifier.model_id,
            "input": {"height": spec.height, "width": spec.width, "layout": spec.layout},
            "scale": preset.scale,
            "offset": preset.offset,
            # vision/exposure.py: the percentiles that become black and white, or null for no stretch.
            "stretch": {"low": PERCENTILES[0], "high": PERCENTILES[1], "min_span": MIN_SPAN}
            if preset.stretch
            else None,
            "order": [preset.labels.index(label) for label in EMOTIONS],
            "output": classifier.output,
            "temperature": classifier.temperature,
            "uncertain_below": classifier.uncertain_below,
            "has_embedding": classifier.has_embedding,
        },
        "framing": {"scale": framing.scale, "shift": framing.shift},
        "detector": {
            "min_face": settings.min_face,
            "min_face_detect": settings.min_face_detect,
            "score_threshold": settings.score_threshold,
            "nms_threshold": settings.nms_threshold,
            "overlap": settings.overlap,
            "max_detect_side": settings.max_detect_side,
            "photos": settings.photos,
            "min_detect_side": settings.min_detect_side,
            "photo_face_share": settings.photo_face_share,
            "photo_face_threshold": settings.photo_face_threshold,
            "whole_photo_side": settings.whole_photo_side,
            "centre_below_eyes": yunet.CENTRE_BELOW_EYES,
            "side_per_eye_mouth": yunet.SIDE_PER_EYE_MOUTH,
        },
        "smoothing": {"time_constant": DEFAULT_TIME_CONSTANT, "max_age": MAX_AGE, "match_iou": MATCH_IOU},
        "main_person": {
            "off_centre_weight": main_person.OFF_CENTRE_WEIGHT,
            "clearly_more": main_person.CLEARLY_MORE,
            "takeover_seconds": main_person.TAKEOVER_SECONDS,
            "prominence_time_constant": main_person.PROMINENCE_TIME_CONSTANT,
            "lapse_seconds": main_person.LAPSE_SECONDS,
        },
        "mood": {
            "labels": list(EMOTIONS),
            "points": {label: list(EMOTION_POINTS[label]) for label in EMOTIONS},
            "uncertain_face_weight": UNCERTAIN_FACE_WEIGHT,
        },
    }
    return jsonify(body)


@blueprint.get("/api/ondevice/profile")
def profile() -> Response:
    """This session's calibration profile (``Profile.to_dict``), or null when it has none."""
    found = session_profile()
    return jsonify(profile=found.to_dict() if found is not None else None)


@blueprint.get("/ondevice/<name>.onnx")
def model(name: str) -> Response:
    """A model file; the ``v`` query (its digest) changes with its bytes, so it may be cached for a year.

    Only under its current digest: without ``v``, or with another one, the bytes are today's and
    are revalidated (``no-cache``), as static files under an old digest are (web/delivery.py); a
    year-long copy kept under such an address outlived the model it held. The ETag (the file's
    SHA-256) is what revalidates: a cache sending it back in ``If-None-Match`` gets a 304, not the
    file's megabytes again.

    A byte range (``Range: bytes=0-1023``) is a 206 of those bytes, as for static files: a download
    that broke off resumes where it stopped (``If-Range`` with the ETag keeps it from splicing two
    versions; another ETag, or a weak one, gets the whole file). A range that begins past the end is
    a 416; a suffix longer than the file (``bytes=-99999999``) is the whole file as a 206. A 304 for
    a current ``If-None-Match`` comes before any range (web/delivery.py, PreconditionsFirstResponse).
    Before, ``Range`` was ignored and every resumed download began again at byte 0.

    A ``v`` that another live instance serves (a fleet mid-upgrade: the page's config named that
    instance's model) is a 404 here, for the balancer to retry there (web/versions_here.py).
    """
    from moodtape.web.versions_here import not_here

    digest = _model_sha256(name)
    asked = request.args.getlist("v")
    if len(asked) == 1 and asked != [digest[:12]] and re.fullmatch(r"[0-9a-f]{12}", asked[0]):
        refused = not_here(name, asked[0], digest[:12])
        if refused is not None:
            return refused
    data = _model_bytes(name)
    response = PreconditionsFirstResponse(data, mimetype="application/octet-stream")
    response.set_etag(digest)
    # Exactly one v, the current one: ``?v=<current>&v=<other>`` names two versions, and was kept for a year.
    response.headers["Cache-Control"] = IMMUTABLE if request.args.getlist("v") == [digest[:12]] else "no-cache"
    # A 304 for a cache that sends the ETag back (it changes response), else a 206/416 for a range.
    response.make_conditional(request, accept_ranges=True, complete_length=len(data))
    return response

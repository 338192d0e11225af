"""The page at ``/``, the privacy statement and model card pages, and the health check at ``/healthz``."""

from __future__ import annotations

from importlib import resources

from flask import Blueprint, Response, abort, jsonify, render_template

from moodtape.web.app import services
from moodtape.web.session import current_csrf_token
from moodtape.web.uploads import accepted_upload_types

blueprint = Blueprint("views", __name__)


@blueprint.get("/")
def index() -> str:
    """The single page; it reads the CSRF token from ``<meta name="csrf-token">``."""
    return render_template("index.html", csrf_token=current_csrf_token(), photo_types=accepted_upload_types())


@blueprint.get("/privacy")
def privacy() -> str:
    """What moodtape does with a face, a photo and a list, in plain words."""
    return render_template("privacy.html")


@blueprint.get("/model-card")
def model_card() -> str:
    """The emotion model's card (source, data, accuracy, limits), as shipped beside the model."""
    card = resources.files("moodtape.vision.models").joinpath("MODEL_CARD.md")
    if not card.is_file():
        abort(404)
    return render_template("model_card.html", card=card.read_text(encoding="utf-8"))


@blueprint.get("/healthz")
def healthz() -> Response:
    """Up, which model, whether it is loaded yet, and how big the catalog is."""
    state = services()
    catalog = state.recommender().catalog
    return jsonify(
        status="ok",
        model=state.model_name,
        model_ready=state.model_ready,
        catalog={"tracks": getattr(catalog, "track_count", None), "videos": getattr(catalog, "video_count", None)},
    )

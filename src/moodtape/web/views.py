"""The page at ``/`` and the health check at ``/healthz``."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, render_template

from moodtape.web.app import services
from moodtape.web.session import current_csrf_token

blueprint = Blueprint("views", __name__)


@blueprint.get("/")
def index() -> str:
    """The single page; it reads the CSRF token from ``<meta name="csrf-token">``."""
    return render_template("index.html", csrf_token=current_csrf_token())


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

"""moodtape's web app: ``create_app(settings)`` builds it, ``moodtape serve`` runs it."""

from __future__ import annotations

from moodtape.web.app import create_app

__all__ = ["create_app"]

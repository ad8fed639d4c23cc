"""The hub's JSON API under /api/v1, documented by flask-smorest at /openapi.json."""

from __future__ import annotations

from flask_smorest import Api

from server.api import conflicts, enroll, health, sync

__all__ = ["register_blueprints"]


def register_blueprints(api: Api) -> None:
    """Register every API blueprint: the one place the API's surface is listed."""
    for module in (health, enroll, sync, conflicts):
        api.register_blueprint(module.blp, url_prefix="/api/v1")

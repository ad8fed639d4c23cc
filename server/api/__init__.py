"""The hub's JSON API under /api/v1, documented by flask-smorest at /openapi.json."""

from __future__ import annotations

from flask_smorest import Api

from schemas.protocol import API_PREFIX
from server.api import attachments, conflicts, enroll, health, receipts, sync

__all__ = ["register_blueprints"]


def register_blueprints(api: Api) -> None:
    """Register every API blueprint: the one place the API's surface is listed."""
    for module in (health, enroll, sync, receipts, conflicts, attachments):
        api.register_blueprint(module.blp, url_prefix=API_PREFIX)

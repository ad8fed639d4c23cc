"""`GET /api/v1/health`: is the hub up, and which protocol does it speak."""

from __future__ import annotations

from marshmallow import fields

from schemas.messages import Schema
from schemas.protocol import HEALTH_ROUTE, PROTOCOL_VERSION, SCHEMA_VERSION
from server.jsonprovider import Blueprint

blp = Blueprint("health", __name__, description="Kesehatan hub")


class HealthSchema(Schema):
    status = fields.String(required=True)
    protocol = fields.Integer(required=True)
    schema_version = fields.Integer(required=True)


@blp.route(HEALTH_ROUTE)
@blp.response(200, HealthSchema)
def health():
    """The hub answers; used by laptops before a sync and by monitoring."""
    return {"status": "ok", "protocol": PROTOCOL_VERSION, "schema_version": SCHEMA_VERSION}

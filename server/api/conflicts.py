"""`GET /api/v1/conflicts` and `POST /api/v1/conflicts/<id>/resolve`: the review queue.

For supervisors and admins (a pendamping's token gets 403, from the service), within
their wilayah.
"""

from __future__ import annotations

from typing import Any

from marshmallow import RAISE, fields, validate

from schemas.messages import Schema
from schemas.protocol import CONFLICTS_ROUTE, MAX_SEQ
from server.auth import current_device, require_device
from server.conflicts import CHOICES, ConflictService
from server.errors import documents
from server.jsonprovider import Blueprint
from server.state import hub_state

blp = Blueprint("conflicts", __name__, description="Antrean konflik")


class ConflictListArgs(Schema):
    class Meta:
        unknown = RAISE

    status = fields.String(load_default="open", validate=validate.OneOf(("open", "all")))
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=1000))
    after = fields.Integer(load_default=0, validate=validate.Range(min=0, max=MAX_SEQ))


#: every choice of every kind, in the order :data:`server.conflicts.CHOICES` names them
_ALL_CHOICES = tuple(dict.fromkeys(c for choices in CHOICES.values() for c in choices))


class ResolveArgs(Schema):
    class Meta:
        unknown = RAISE

    choice = fields.String(
        required=True,
        validate=validate.OneOf(_ALL_CHOICES),
    )
    value = fields.Raw(allow_none=True)
    survivor = fields.String(validate=validate.Length(max=40))


class ConflictSchema(Schema):
    conflict_id = fields.Integer()
    kind = fields.String()
    entity = fields.String()
    record_id = fields.String()
    other_record_id = fields.String(allow_none=True)
    kelurahan = fields.String()
    field = fields.String()
    kept = fields.Dict()
    lost = fields.Dict()
    seq = fields.Integer()
    created_at = fields.String()
    resolved_at = fields.String(allow_none=True)
    resolved_by = fields.String(allow_none=True)
    resolution = fields.Raw(allow_none=True)


def _service() -> ConflictService:
    return hub_state().conflicts


@blp.route(CONFLICTS_ROUTE)
@require_device
@blp.arguments(ConflictListArgs(), location="query")
@blp.response(200, ConflictSchema(many=True))
@documents(403)
def list_conflicts(args: dict[str, Any]) -> list[dict[str, Any]]:
    """Conflicts on records in the caller's wilayah, oldest first (open ones by default)."""
    return _service().list_for(
        current_device().user, args["status"] == "open", args["limit"], args["after"]
    )


@blp.route(CONFLICTS_ROUTE + "/<int:conflict_id>/resolve", methods=["POST"])
@require_device
@blp.arguments(ResolveArgs())
@blp.response(200, ConflictSchema)
@documents(403, 404, 409)
def resolve(body: dict[str, Any], conflict_id: int) -> dict[str, Any]:
    """Settle a conflict; what it writes reaches every laptop through pull."""
    device = current_device()
    return _service().resolve_as(
        device.user,
        conflict_id,
        body["choice"],
        body.get("value"),
        body.get("survivor"),
        device_id=device.device_id,
    )

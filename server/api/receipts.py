"""`POST /api/v1/sync/receipts`: the stored receipts of changes this device already made.

A laptop whose changes reached the hub another way (a USB bundle, docs/bundles.md) asks
here before pushing them again, and learns their outcome for a few bytes each.
"""

from __future__ import annotations

from flask import Response
from marshmallow import RAISE, validate
from marshmallow import fields as ma

from schemas.fields import UuidText
from schemas.messages import Schema
from schemas.protocol import RECEIPTS_MAX_IDS, RECEIPTS_ROUTE
from schemas.sync import ReceiptSchema
from server.auth import current_device, require_device
from server.jsonprovider import Blueprint
from server.state import hub_state

__all__ = ["ReceiptsRequestSchema", "ReceiptsResponseSchema", "blp"]

blp = Blueprint("receipts", __name__, description="Tanda terima")


class ReceiptsRequestSchema(Schema):
    class Meta:
        unknown = RAISE

    change_ids = ma.List(UuidText(), required=True, validate=validate.Length(max=RECEIPTS_MAX_IDS))


class ReceiptsResponseSchema(Schema):
    class Meta:
        unknown = RAISE

    receipts = ma.List(ma.Nested(ReceiptSchema), required=True)


@blp.route(RECEIPTS_ROUTE, methods=["POST"])
@require_device
@blp.arguments(ReceiptsRequestSchema())
@blp.response(200, ReceiptsResponseSchema)
def receipts(body):
    """The original receipt of each asked change that the hub holds from this device, in
    the order asked; a change the hub does not know, or another device's, is left out."""
    asked = list(dict.fromkeys(body["change_ids"]))
    storage = hub_state().storage
    stored = storage.receipts_of_device(current_device().device_id, asked)
    found = [stored[change_id] for change_id in asked if change_id in stored]
    return Response('{"receipts":[' + ",".join(found) + "]}", mimetype="application/json")

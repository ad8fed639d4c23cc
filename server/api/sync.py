"""`POST /api/v1/sync/push` and `GET /api/v1/sync/pull`: DESIGN.md §4.

The views parse, call the sync service once, and return; the pull page is assembled from
stored JSON text (schemas/pull_page.py) so records are never decoded and re-encoded on
the way out.
"""

from __future__ import annotations

from flask import Response, request

from schemas.jsonsafe import compact_json
from schemas.protocol import PULL_ROUTE, PUSH_ROUTE
from schemas.pull_page import page_json
from schemas.sync import (
    PullArgsSchema,
    PullPageSchema,
    PushRequestSchema,
    PushResponseSchema,
    batch_check,
    compact_receipts,
)
from server.auth import current_device, require_device
from server.errors import documents
from server.jsonprovider import Blueprint
from server.reports import device_report
from server.state import hub_state

blp = Blueprint("sync", __name__, description="Sinkronisasi")


def _service():
    return hub_state().sync


@blp.route(PUSH_ROUTE, methods=["POST"])
@require_device
@blp.arguments(PushRequestSchema())
@blp.response(200, PushResponseSchema)
@documents(503)
def push(body):
    """Apply a batch of changes; one receipt per change, in order.

    A resent batch (same `change_id`s) gets the original receipts and writes nothing;
    `duplicates` counts the changes that were seen before.
    """
    changes = body["changes"]
    outcome = _service().push(
        current_device(),
        changes,
        device_report(request.headers),
        quiet=body["receipts"] == "compact",
        turn=hub_state().write_gate.turn,  # waits its turn to write, or 503 with the wait
    )
    if body["receipts"] == "compact":
        ids = [c.get("change_id") if isinstance(c, dict) else None for c in changes]
        payload = {
            "compact": compact_receipts(outcome.receipts),
            "check": batch_check(ids),
            "duplicates": outcome.duplicates,
        }
    else:
        payload = {"receipts": outcome.receipts, "duplicates": outcome.duplicates}
    if outcome.receipts and outcome.received_at:
        payload["received_at"] = outcome.received_at
    return Response(compact_json(payload), mimetype="application/json")


@blp.route(PULL_ROUTE)
@require_device
@blp.arguments(PullArgsSchema(), location="query")
@blp.response(200, PullPageSchema)
def pull(args):
    """Records in the device's wilayah whose seq is above `since`, oldest first."""
    service = _service()
    page, conflicts = service.pull(current_device(), args["since"], args["limit"])
    service.note_pull(current_device(), device_report(request.headers))
    body = page_json(page.records_json, conflicts, page.exits, page.next, page.more)
    return Response(body, mimetype="application/json")

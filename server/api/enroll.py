"""`POST /api/v1/enroll`: a laptop trades a one-time code for its device token."""

from __future__ import annotations

from flask import current_app

from schemas.sync import EnrollRequestSchema, EnrollResponseSchema
from server.enrolment import redeem_code
from server.errors import ApiError
from server.jsonprovider import Blueprint
from server.storage import NotFound

blp = Blueprint("enroll", __name__, description="Pendaftaran perangkat")


@blp.route("/enroll", methods=["POST"])
@blp.arguments(EnrollRequestSchema)
@blp.response(201, EnrollResponseSchema)
def enroll(body):
    """Enrol a laptop with a code from `pendamping-hub enroll-code`; the token is shown once."""
    storage = current_app.extensions["pendamping"].storage
    try:
        device, token = redeem_code(storage, body["code"], body["device_name"])
    except NotFound:
        raise ApiError(
            403,
            "enroll_code_invalid",
            "Kode pendaftaran tidak dikenal, sudah dipakai, atau kedaluwarsa.",
            {"code": ["Kode tidak berlaku."]},
        ) from None
    return {
        "device_id": device.device_id,
        "token": token,
        "user": device.user.name,
        "role": device.user.role,
        "wilayah": list(device.user.wilayah),
    }

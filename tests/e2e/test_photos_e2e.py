"""A photo over a real socket: the laptop's HttpTransport against the hub served by waitress.

Proves what the in-process tests cannot: that tus headers, HEAD answers, bodiless 201/204
and the tus checksum status 460 pass through requests, urllib3 and waitress intact.
"""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

import pytest
import requests

from client_sync.engine import SyncResult, push_outbox
from client_sync.hub import HubClient
from client_sync.photos import attach, list_photos, upload_pending
from client_sync.transport import HttpTransport
from server.attachments import upload_id_for
from tests.conftest import beneficiary

pytestmark = pytest.mark.e2e


def test_a_photo_uploads_in_chunks_over_http_and_arrives_whole(laptops, live_hub, tmp_path):
    siti = laptops.enroll("siti", transport_factory=lambda _url: HttpTransport(live_hub))
    bid = siti.store.add("beneficiary", beneficiary())
    photo = tmp_path / "rumah.jpg"
    photo.write_bytes(b"\xff\xd8\xff\xe0" + hashlib.shake_256(b"rumah").digest(1_000_000))
    digest = attach(siti.store, "beneficiary", bid, photo, "rumah")
    transport = HttpTransport(live_hub)
    push_outbox(siti.store, HubClient(transport, siti.store.identity.token), SyncResult())

    try:
        summary = upload_pending(
            siti.store, HubClient(transport, siti.store.identity.token), chunk_bytes=300_000
        )
    finally:
        transport.close()

    assert (summary.sent, summary.bytes_sent, summary.refused) == (1, 1_000_004, 0)
    assert list_photos(siti.store)[0]["state"] == "uploaded"
    hub_blob = Path(laptops.app.config["DATA_DIR"]) / "attachments" / "blobs" / digest
    assert hashlib.sha256(hub_blob.read_bytes()).hexdigest() == digest


def test_a_finished_upload_leaves_nothing_in_uploads_and_still_answers_head(
    laptops, live_hub, tmp_path
):
    attachments = Path(laptops.app.config["DATA_DIR"]) / "attachments"
    sent: list[str] = []
    for name in ("siti", "budi"):  # budi sends the photo the hub already holds
        laptop = laptops.enroll(name, transport_factory=lambda _url: HttpTransport(live_hub))
        bid = laptop.store.add("beneficiary", beneficiary())
        photo = tmp_path / "rumah.jpg"
        photo.write_bytes(b"\xff\xd8\xff\xe0" + hashlib.shake_256(b"rumah").digest(700_000))
        digest = attach(laptop.store, "beneficiary", bid, photo, "rumah")
        transport = HttpTransport(live_hub)
        hub = HubClient(transport, laptop.store.identity.token)
        try:
            push_outbox(laptop.store, hub, SyncResult())
            summary = upload_pending(laptop.store, hub, chunk_bytes=250_000)
        finally:
            transport.close()
        assert (summary.sent, summary.refused) == (1, 0)
        sent.append(laptop.store.identity.token)
        device_id = laptop.store.identity.device_id

        assert sorted(p.name for p in (attachments / "uploads").iterdir()) == []
        assert sorted(p.name for p in (attachments / "blobs").iterdir()) == [
            digest,
            f"{digest}.json",
        ]
        head = requests.head(
            f"{live_hub}/api/v1/attachments/{upload_id_for(device_id, digest)}",
            headers={"Authorization": f"Bearer {sent[-1]}", "Tus-Resumable": "1.0.0"},
            timeout=10,
        )
        assert head.status_code == 200
        assert head.headers["Upload-Offset"] == head.headers["Upload-Length"] == "700004"
    other = requests.head(  # siti's upload is not budi's to ask about
        f"{live_hub}/api/v1/attachments/{upload_id_for(device_id, digest)}",
        headers={"Authorization": f"Bearer {sent[0]}", "Tus-Resumable": "1.0.0"},
        timeout=10,
    )
    assert other.status_code == 404


def test_the_checksum_status_460_and_head_answers_cross_waitress(laptops, live_hub):
    siti = laptops.enroll("siti")
    token = siti.store.identity.token
    data = b"\xff\xd8\xff\xe0" + bytes(2000)
    tus = {"Authorization": f"Bearer {token}", "Tus-Resumable": "1.0.0"}
    created = requests.post(
        f"{live_hub}/api/v1/attachments",
        headers={
            **tus,
            "Upload-Length": str(len(data)),
            "Upload-Metadata": "sha256 " + _b64(hashlib.sha256(data).hexdigest())
            + ",media_type " + _b64("image/jpeg"),
        },
        timeout=10,
    )  # fmt: skip
    url = live_hub + created.headers["Location"]

    head = requests.head(url, headers=tus, timeout=10)
    spoiled = requests.patch(
        url,
        data=data[:-1] + b"\x01",
        headers={**tus, "Content-Type": "application/offset+octet-stream", "Upload-Offset": "0"},
        timeout=10,
    )

    assert created.status_code == 201
    assert (head.status_code, head.headers["Upload-Offset"]) == (200, "0")
    assert spoiled.status_code == 460
    assert spoiled.json()["error"] == "checksum_mismatch"
    assert requests.head(url, headers=tus, timeout=10).status_code == 404


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()
